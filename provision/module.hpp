// Modules: what one task does on one host. Each module is a plan, not an
// actor (after pyinfra): from its arguments it builds a POSIX shell script
// that probes the node ("is it already so?") and, unless in check mode,
// applies the change in the same script, printing what it found. The
// decision is made on the node, so a task that changes nothing costs one
// round trip. Modules that must move large files or wait for a reboot
// return further steps; controller-side modules (debug, set_fact, assert,
// fail, meta) finish without any step.
//
// Every value that goes into a script is shell-quoted; file contents travel
// on the script's stdin, never inside the script text.
//
// Arguments use Ansible's names, aliases and meanings. ModuleSpec
// describes them so that the playbook loader checks names, types, choices
// and required arguments before anything runs.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "provision/expr.hpp"
#include "provision/transport.hpp"

namespace aicloud::provision {

enum class ArgType { str, boolean, integer, number, list, dict, path, mode, raw };

struct ArgSpec {
  std::string name;
  ArgType type = ArgType::str;
  bool required = false;
  std::vector<std::string> aliases;
  std::vector<std::string> choices;   // for str: the allowed values
  json default_value;                 // null: no default
  bool internal = false;              // "_proc_sys"-style test hooks, not documented for users
};

struct ModuleSpec {
  std::string name;                          // canonical: "copy"
  std::vector<std::string> aliases;          // "ansible.builtin.copy", "apt", ...
  std::string summary;
  std::vector<ArgSpec> args;
  bool free_form = false;                    // `shell: echo hi` -> _raw_params
  bool any_keys = false;                     // set_fact: every key is a value
  std::vector<std::vector<std::string>> required_one_of;
  std::vector<std::vector<std::string>> mutually_exclusive;
  // Further static checks on literal args; returns problems as
  // (argument name or "", message).
  std::function<void(const json& args, std::vector<std::pair<std::string, std::string>>& problems)> check;

  const ArgSpec* find(const std::string& name) const;  // by name or alias
};

// Converts a value to an argument type (Ansible's rules: "yes"/"no" are
// booleans, "a,b" is a list, 0644 a mode). Returns nullopt and sets *why
// when it cannot.
std::optional<json> coerce_arg(const ArgSpec& spec, const json& value, std::string* why);

// Typed access to a task's arguments after rendering and coercion.
class Args {
 public:
  Args() = default;
  explicit Args(json values) : m_values(std::move(values)) {}
  bool has(const std::string& name) const;  // present and not null
  std::string str(const std::string& name, const std::string& dflt = "") const;
  bool boolean(const std::string& name, bool dflt = false) const;
  std::int64_t integer(const std::string& name, std::int64_t dflt = 0) const;
  double number(const std::string& name, double dflt = 0) const;
  std::vector<std::string> list(const std::string& name) const;
  const json& raw(const std::string& name) const;
  const json& all() const { return m_values; }

 private:
  json m_values = json::object();
};

// Where the files named by copy/template `src` come from: the playbook's
// folder (and its files/ and templates/ subfolders, as Ansible searches),
// or the files embedded in the binary for shipped playbooks.
class FileSource {
 public:
  virtual ~FileSource() = default;
  // The bytes of a file; throws ExprEvalError naming what was searched.
  virtual std::string read(const std::string& path, const std::string& kind) const = 0;
  // A local path that can be streamed (large files), or "" when the file
  // only exists in memory.
  virtual std::string local_path(const std::string& path, const std::string& kind) const = 0;
};

// One round trip to the node.
struct Step {
  std::string script;                 // POSIX sh; run as /bin/sh -c
  std::string stdin_data;             // file contents and the like
  std::string stdin_path;             // or: stream this local file
  std::optional<double> timeout_s;
  bool reconnect = false;             // reboot: wait for the node instead of exec
  double reconnect_timeout_s = 600;
  double connect_timeout_s = 10;
};

// A unified diff of one file or setting, for --diff.
struct FileDiff {
  std::string header;                 // "/etc/sysctl.d/90-aicloudctl.conf"
  std::string text;                   // unified diff text (may be empty when binary)
};

// The result of a task on one host, before changed_when/failed_when.
struct Outcome {
  bool changed = false;
  bool failed = false;
  bool skipped = false;
  bool unreachable = false;
  std::optional<int> rc;
  std::string stdout_text;
  std::string stderr_text;
  std::string msg;
  json extra = json::object();        // module fields of the registered result (dest, checksum, stat...)
  json facts = json::object();        // vars to set on the host (set_fact, facts)
  std::vector<FileDiff> diffs;
  std::string meta;                   // meta: flush_handlers, end_host, end_play, noop
};

// Either another step to run, or the finished outcome.
struct Next {
  std::optional<Step> step;
  Outcome outcome;

  static Next run(Step s) {
    Next n;
    n.step = std::move(s);
    return n;
  }
  static Next done(Outcome o) {
    Next n;
    n.outcome = std::move(o);
    return n;
  }
};

// Everything a module needs to plan its work on one host.
struct ModuleCall {
  Args args;                          // rendered and coerced
  const Scope* scope = nullptr;       // the host's vars (template, debug, assert)
  const FileSource* files = nullptr;
  bool check = false;                 // probe only, change nothing
  bool diff = false;                  // report file and setting deltas
  std::string host;                   // inventory_hostname
  std::string host_key_sha256;        // the session's key before the task (reboot)
  std::string nonce;                  // random per run: marks protocol lines in command output
  int verbosity = 0;
};

class Module {
 public:
  virtual ~Module() = default;
  virtual const ModuleSpec& spec() const = 0;
  // The first step, or the outcome when nothing has to run on the node.
  virtual Next start(const ModuleCall& call) const = 0;
  // Called after each step with the results of all steps so far.
  virtual Next resume(const ModuleCall& call, const std::vector<ExecResult>& done) const = 0;
};

// The module registry: canonical names and every alias (FQCNs too).
const Module* find_module(const std::string& name);
const std::vector<const Module*>& all_modules();
// Every name a task may use as its action, for did-you-mean hints.
std::vector<std::string> module_names();

// Parses the `key=value ...` lines that module scripts print (values up to
// the end of the line). Lines without '=' are ignored.
std::map<std::string, std::string> parse_report(const std::string& stdout_text);

}  // namespace aicloud::provision
