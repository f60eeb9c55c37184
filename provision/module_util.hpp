// Private helpers shared by the module implementations (modules_*.cpp):
// a base class holding the spec, the standard reading of a script's
// report, and the factories that the registry calls. Not for use outside
// provision/.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "provision/module.hpp"

namespace aicloud::provision::detail {

class BasicModule : public Module {
 public:
  explicit BasicModule(ModuleSpec spec) : m_spec(std::move(spec)) {}
  const ModuleSpec& spec() const override { return m_spec; }
  // Default: one step whose report decides the outcome.
  Next resume(const ModuleCall& call, const std::vector<ExecResult>& done) const override;

 protected:
  ModuleSpec m_spec;
};

// An outcome for a step that did not run (unreachable, timed out, signal).
// Returns true and fills `out` when the step did not complete normally.
bool step_failed(const ExecResult& r, Outcome& out);

// The usual reading of a state module's output: `key=value` lines with
// changed=1, failed=1 and msg=...; a non-zero exit without failed=1 is a
// failure with stderr as the message.
Outcome outcome_from_report(const ExecResult& r);

// Adds a unified diff of a file to the outcome when `before` (base64 from
// the node's report key) and `after` differ.
void add_diff(Outcome& out, const std::string& header, const std::string& before, const std::string& after);

// A spec for the usual attributes of files (mode, owner, group).
std::vector<ArgSpec> file_attr_args();
// Canonical mode for a script ("" when not given); throws ExprEvalError.
std::string mode_arg(const Args& args, const std::string& name = "mode");

// Factories, one per module family.
std::vector<std::unique_ptr<Module>> make_file_modules();
std::vector<std::unique_ptr<Module>> make_command_modules();
std::vector<std::unique_ptr<Module>> make_system_modules();
std::vector<std::unique_ptr<Module>> make_control_modules();
std::unique_ptr<Module> make_facts_module();

}  // namespace aicloud::provision::detail
