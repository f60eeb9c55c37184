// Playbooks: the YAML format (close to Ansible's) and its loader. Loading
// is validation: every problem (bad YAML, unknown module or keyword with a
// did-you-mean, missing or unknown arguments, wrong types, a condition or
// `{{ }}` that does not parse, a notify with no handler) is collected with
// FILE:LINE:COL and thrown as one InputError before anything runs.
//
// Shipped playbooks (playbooks/*.yaml) are compiled into the binary and
// found by name: `aicloudctl provision gpu-node-prep`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "provision/expr.hpp"
#include "provision/module.hpp"

namespace aicloud::provision {

struct Condition {
  Expr expr;
  SourceLocation where;
};

struct Task {
  std::string name;                    // may hold {{ }}; shown as written when empty: the action
  SourceLocation where;
  std::string action;                  // as written: "ansible.builtin.copy"
  const Module* module = nullptr;
  json args = json::object();          // canonical argument names; values may hold {{ }}
  std::vector<Condition> when;         // all must hold (AND)
  std::vector<Condition> changed_when; // AND; replaces the module's `changed`
  std::vector<Condition> failed_when;  // AND; replaces the module's `failed`
  std::vector<Condition> until;        // AND; retry until true
  std::string register_var;
  json retries;                        // null, int or template string
  json delay;                          // null, number or template string (default 5 s)
  std::vector<std::string> notify;
  std::vector<std::string> tags;
  json ignore_errors = false;          // bool or template string
  std::optional<bool> become;
  std::string become_user;
  json vars = json::object();
  json loop;                           // null (no loop), a list, or a template string
  bool loop_flatten = false;           // with_items flattens one level
  std::string loop_var = "item";
  std::string index_var;
  std::string loop_label;
  std::vector<std::string> listen;     // handlers: topics
  bool no_log = false;
  std::optional<bool> check_mode;      // false: run for real even with --check
  json environment = json::object();
  std::optional<double> timeout_s;
  bool implicit = false;               // inserted by the loader (flush between sections)

  std::string display_name() const { return name.empty() ? action : name; }
};

enum class Strategy { free, linear };

struct Play {
  std::string name;
  SourceLocation where;
  std::string hosts;                   // Ansible pattern or aicloudctl selector
  SourceLocation hosts_where;
  std::optional<bool> become;
  std::string become_user;
  std::string remote_user;
  json vars = json::object();          // vars, then vars_files over them
  std::vector<Task> tasks;             // pre_tasks, tasks, post_tasks (with handler flushes between)
  std::vector<Task> handlers;
  Strategy strategy = Strategy::free;
  std::vector<std::string> serial;     // batch sizes: "5", "30%"; empty: all hosts at once
  bool gather_facts = true;
  std::vector<std::string> tags;
  bool any_errors_fatal = false;
  std::optional<double> max_fail_percentage;
  bool force_handlers = false;
  std::string connection;              // "", "local" or "ssh"
  json environment = json::object();
  json ignore_errors = false;          // default for the play's tasks
};

struct Playbook {
  std::string path;                    // as shown in messages: a file, or "playbooks/x.yaml (built in)"
  std::string base_dir;                // where copy/template look for src; empty for built-ins
  bool builtin = false;
  std::vector<Play> plays;

  std::size_t task_count() const;
};

// Parses and validates playbook text. `path` names it in diagnostics;
// `base_dir` is where relative `vars_files` and template sources are
// looked up (also for checking templates before the run). Throws
// InputError with every problem found.
Playbook parse_playbook(const std::string& text, const std::string& path, const std::string& base_dir,
                        bool builtin = false);

// Reads a vars document (vars_files, -e @FILE, -e '{...}') with the same
// YAML rules as playbooks. Throws InputError unless it is a mapping.
json parse_vars_yaml(const std::string& text, const std::string& path);

// Loads a playbook from a file, or a shipped one by name ("gpu-node-prep",
// "gpu-node-prep.yaml", "playbooks/gpu-node-prep.yaml" when that file does
// not exist). Throws InputError (missing, unreadable, invalid).
Playbook load_playbook(const std::string& name_or_path);

// The names of the shipped playbooks ("gpu-node-prep", ...).
std::vector<std::string> shipped_playbook_names();

// Reads files named by copy/template `src` for a playbook: absolute paths
// from disk; relative ones from the playbook's folder (DIR/files/, DIR/
// templates/, DIR/), or from the embedded playbooks/ tree for built-ins.
class PlaybookFiles : public FileSource {
 public:
  explicit PlaybookFiles(const Playbook& pb) : m_base(pb.base_dir), m_builtin(pb.builtin) {}
  PlaybookFiles(std::string base_dir, bool builtin) : m_base(std::move(base_dir)), m_builtin(builtin) {}
  std::string read(const std::string& path, const std::string& kind) const override;
  std::string local_path(const std::string& path, const std::string& kind) const override;

 private:
  std::string m_base;
  bool m_builtin;
};

// Splits Ansible's one-line `key=value key2="a b"` argument form as
// Ansible's parse_kv does: words are separated by spaces outside quotes and
// `{{ }}`; escapes (\n, \t, \", \xHH...) are decoded; a value's outer
// quotes are removed. `raw` is the word as written (free-form commands keep
// it). Words without '=' have an empty key. nullopt when a quote or `{{`
// is not closed.
struct KeyValue {
  std::string key;
  std::string value;
  std::string raw;
};
std::optional<std::vector<KeyValue>> split_key_values(std::string_view text);

}  // namespace aicloud::provision
