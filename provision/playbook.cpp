// The playbook loader. YAML is read with yaml-cpp and converted with
// YAML 1.1 scalar rules, as PyYAML (and so Ansible) reads it: yes/no/on/off
// are booleans, quoted scalars are strings. Numbers with a leading zero
// (0644) stay text, so that `mode: 0644` means what it says.
//
// Validation collects diagnostics instead of stopping at the first one, so
// a tech fixes a playbook in one pass. Each task's action is looked up in
// the module registry; its arguments are checked against the module's
// spec (names and aliases, types of literal values, choices, required and
// exclusive arguments, the module's own checks); every condition and every
// `{{ }}` is parsed.
#include "provision/playbook.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/duration.hpp"
#include "common/embedded.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"
#include "provision/template.hpp"

namespace aicloud {
const std::vector<EmbeddedFile>& shipped_playbooks();
}

namespace aicloud::provision {

namespace {

constexpr std::size_t k_max_diagnostics = 200;

const std::vector<std::string> k_task_keywords = {
    "name", "when", "register", "changed_when", "failed_when", "retries", "delay", "until", "notify", "tags",
    "ignore_errors", "become", "become_user", "become_method", "vars", "loop", "with_items", "with_list",
    "loop_control", "listen", "no_log", "check_mode", "diff", "environment", "timeout", "args", "block",
    "ignore_unreachable", "any_errors_fatal", "collections", "debugger"};

const std::vector<std::string> k_block_keywords = {
    "name", "block", "when", "tags", "become", "become_user", "become_method", "vars", "ignore_errors",
    "environment", "check_mode", "no_log", "notify", "any_errors_fatal", "rescue", "always", "diff", "timeout"};

const std::vector<std::string> k_play_keywords = {
    "name", "hosts", "become", "become_user", "become_method", "remote_user", "vars", "vars_files", "tasks",
    "pre_tasks", "post_tasks", "handlers", "strategy", "serial", "gather_facts", "tags", "any_errors_fatal",
    "max_fail_percentage", "force_handlers", "connection", "environment", "ignore_errors", "collections",
    "order", "check_mode", "diff", "no_log"};

// Ansible keywords that aicloudctl knows but does not implement: refused
// with a clear message rather than silently ignored.
const std::map<std::string, std::string> k_unsupported = {
    {"delegate_to", "delegation is not supported: run a separate play on that host"},
    {"delegate_facts", "delegation is not supported"},
    {"run_once", "run_once is not supported: limit a play to one host instead"},
    {"local_action", "local_action is not supported"},
    {"action", "the old 'action:' form is not supported: write the module name as the key"},
    {"async", "async tasks are not supported"},
    {"poll", "async tasks are not supported"},
    {"throttle", "throttle is not supported: use serial on the play"},
    {"with_dict", "use loop with '| dict2items' instead of with_dict"},
    {"with_fileglob", "with_fileglob is not supported"},
    {"with_together", "with_together is not supported"},
    {"with_nested", "with_nested is not supported"},
    {"with_sequence", "use loop with range() instead of with_sequence"},
    {"with_subelements", "with_subelements is not supported"},
    {"with_first_found", "with_first_found is not supported"},
    {"with_lines", "with_lines is not supported"},
    {"with_indexed_items", "use loop with loop_control.index_var instead"},
    {"include_tasks", "include_tasks is not supported: put the tasks in the playbook"},
    {"import_tasks", "import_tasks is not supported: put the tasks in the playbook"},
    {"include_role", "roles are not supported"},
    {"import_role", "roles are not supported"},
    {"include_vars", "include_vars is not supported: use vars_files on the play"},
    {"include", "include is not supported"},
    {"roles", "roles are not supported: put the tasks in the playbook"},
    {"vars_prompt", "vars_prompt is not supported: pass values with -e NAME=VALUE"},
    {"module_defaults", "module_defaults is not supported"},
    {"import_playbook", "import_playbook is not supported: run the playbooks one after the other"},
    {"port", "set the SSH port in the inventory"},
};

const std::vector<std::string> k_free_form_options = {"chdir", "creates", "removes", "executable", "stdin",
                                                      "stdin_add_newline", "strip_empty_ends", "warn"};

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

// ---------------------------------------------------------------------------
// YAML to JSON with YAML 1.1 scalar rules
// ---------------------------------------------------------------------------

bool is_plain_int(const std::string& s) {
  std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i >= s.size()) return false;
  if (s.size() - i > 1 && s[i] == '0') return false;  // leading zero: kept as text
  for (; i < s.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i])) && s[i] != '_') return false;
  return true;
}

bool is_plain_float(const std::string& s) {
  std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  bool digits = false, dot = false, exp = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (std::isdigit(static_cast<unsigned char>(c))) digits = true;
    else if (c == '.' && !dot && !exp) dot = true;
    else if ((c == 'e' || c == 'E') && digits && !exp) {
      exp = true;
      if (i + 1 < s.size() && (s[i + 1] == '+' || s[i + 1] == '-')) ++i;
    } else if (c != '_') return false;
  }
  return digits && (dot || exp);
}

json plain_scalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  static const std::set<std::string> t = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
  static const std::set<std::string> f = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
  if (t.count(s)) return true;
  if (f.count(s)) return false;
  if (is_plain_int(s)) {
    std::string d;
    for (char c : s)
      if (c != '_') d += c;
    errno = 0;
    long long v = std::strtoll(d.c_str(), nullptr, 10);
    if (errno == 0) return static_cast<std::int64_t>(v);
    return s;
  }
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 16);
    if (errno == 0 && end && *end == '\0') return static_cast<std::int64_t>(v);
  }
  if (is_plain_float(s)) return std::strtod(s.c_str(), nullptr);
  if (s == ".inf" || s == ".Inf" || s == "+.inf") return std::numeric_limits<double>::infinity();
  if (s == "-.inf" || s == "-.Inf") return -std::numeric_limits<double>::infinity();
  return s;
}

// ---------------------------------------------------------------------------
// The loader
// ---------------------------------------------------------------------------

class Loader {
 public:
  Loader(const std::string& text, std::string path, std::string base_dir, bool builtin)
      : m_text(text), m_path(std::move(path)), m_base(std::move(base_dir)), m_builtin(builtin) {}

  // A vars document (vars_files, -e @FILE, -e '{...}'): a mapping, read
  // with the same scalar rules as playbooks.
  json vars_document() {
    YAML::Node doc;
    try {
      doc = YAML::Load(m_text);
    } catch (const YAML::Exception& e) {
      throw InputError(where_mark(e.mark), "invalid YAML: " + e.msg);
    }
    if (!doc || doc.IsNull()) return json::object();
    if (!doc.IsMap()) throw InputError(SourceLocation{m_path, 1, 1}, "expected a mapping of names to values");
    json v = to_json(doc);
    if (!m_diags.empty()) throw InputError(m_diags);
    return v;
  }

  Playbook load() {
    Playbook pb;
    pb.path = m_path;
    pb.base_dir = m_base;
    pb.builtin = m_builtin;
    YAML::Node root;
    try {
      root = YAML::Load(m_text);
    } catch (const YAML::Exception& e) {
      throw InputError(where_mark(e.mark), "invalid YAML: " + e.msg);
    }
    if (!root || root.IsNull()) {
      error(SourceLocation{m_path, 1, 1}, "the playbook is empty: expected a list of plays");
    } else if (!root.IsSequence()) {
      error(at(root), "a playbook is a list of plays (each starting with '- hosts: ...')");
    } else {
      for (const auto& item : root) {
        if (!item.IsMap()) {
          error(at(item), "a play must be a mapping with 'hosts' and 'tasks'");
          continue;
        }
        pb.plays.push_back(play(item));
      }
    }
    if (!m_diags.empty()) {
      std::stable_sort(m_diags.begin(), m_diags.end(), [](const Diagnostic& a, const Diagnostic& b) {
        if (a.where.file != b.where.file) return a.where.file < b.where.file;
        if (a.where.line != b.where.line) return a.where.line < b.where.line;
        return a.where.column < b.where.column;
      });
      throw InputError(m_diags);
    }
    return pb;
  }

 private:
  // -- locations and diagnostics --------------------------------------------

  SourceLocation where_mark(const YAML::Mark& m) const {
    if (m.is_null()) return SourceLocation{m_path, 0, 0};
    return SourceLocation{m_path, m.line + 1, m.column + 1};
  }
  SourceLocation at(const YAML::Node& n) const { return where_mark(n.Mark()); }

  // The place of byte `offset` inside a scalar's value.
  SourceLocation at_offset(const YAML::Node& n, std::size_t offset) const {
    SourceLocation w = at(n);
    if (w.line == 0 || !n.IsScalar()) return w;
    const std::string& v = n.Scalar();
    std::size_t pos = static_cast<std::size_t>(std::max(0, n.Mark().pos));
    char first = pos < m_text.size() ? m_text[pos] : ' ';
    offset = std::min(offset, v.size());
    std::size_t nls = static_cast<std::size_t>(std::count(v.begin(), v.begin() + static_cast<long>(offset), '\n'));
    if (first == '|' || first == '>') {
      w.line += 1 + static_cast<int>(nls);
      auto last = v.rfind('\n', offset == 0 ? 0 : offset - 1);
      std::size_t col = (offset == 0 || last == std::string::npos) ? offset : offset - last - 1;
      w.column += 2 + static_cast<int>(col);
      return w;
    }
    int quote = (first == '"' || first == '\'') ? 1 : 0;
    if (nls == 0) {
      w.column += quote + static_cast<int>(offset);
    } else {
      w.line += static_cast<int>(nls);
      auto last = v.rfind('\n', offset - 1);
      w.column = 1 + static_cast<int>(offset - last - 1);
    }
    return w;
  }

  void error(const SourceLocation& w, const std::string& msg) {
    if (m_diags.size() < k_max_diagnostics) m_diags.push_back({w, msg});
  }

  std::string hint(const std::string& word, const std::vector<std::string>& options) const {
    auto g = did_you_mean(word, options);
    return g ? " (did you mean '" + *g + "'?)" : "";
  }

  // -- values ---------------------------------------------------------------

  json to_json(const YAML::Node& n, int depth = 0) {
    if (depth > 64) {
      error(at(n), "nested too deeply");
      return nullptr;
    }
    switch (n.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined: return nullptr;
      case YAML::NodeType::Scalar: return scalar(n);
      case YAML::NodeType::Sequence: {
        json out = json::array();
        for (const auto& x : n) out.push_back(to_json(x, depth + 1));
        return out;
      }
      case YAML::NodeType::Map: {
        json out = json::object();
        for (const auto& kv : n) {
          if (!kv.first.IsScalar()) {
            error(at(kv.first), "mapping keys must be plain words");
            continue;
          }
          std::string k = kv.first.Scalar();
          if (out.contains(k)) error(at(kv.first), "duplicate key '" + k + "'");
          out[k] = to_json(kv.second, depth + 1);
        }
        return out;
      }
    }
    return nullptr;
  }

  json scalar(const YAML::Node& n) {
    const std::string& tag = n.Tag();
    const std::string& s = n.Scalar();
    if (tag == "!unsafe") {
      // Ansible's !unsafe: never templated.
      if (Template::is_plain(s)) return s;
      if (s.find("endraw") != std::string::npos) {
        error(at(n), "an !unsafe value containing 'endraw' is not supported");
        return s;
      }
      return "{% raw %}" + s + "{% endraw %}";
    }
    if (tag == "!vault") {
      error(at(n), "vault-encrypted values are not supported: pass secrets with -e or files");
      return s;
    }
    if (tag == "!" || tag == "tag:yaml.org,2002:str") return s;
    if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" || tag == "tag:yaml.org,2002:bool")
      return plain_scalar(s);
    return plain_scalar(s);
  }

  std::optional<bool> boolean(const YAML::Node& n, const std::string& what) {
    json v = to_json(n);
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_string()) {
      std::string l = to_lower(v.get<std::string>());
      if (l == "yes" || l == "true" || l == "on" || l == "1") return true;
      if (l == "no" || l == "false" || l == "off" || l == "0") return false;
    }
    if (v.is_number_integer() && (v == 0 || v == 1)) return v == 1;
    error(at(n), "'" + what + "' must be a boolean (true/false, yes/no)");
    return std::nullopt;
  }

  // A bool, or a template string evaluated when the task runs.
  json bool_or_template(const YAML::Node& n, const std::string& what) {
    json v = to_json(n);
    if (v.is_string() && !Template::is_plain(v.get<std::string>())) {
      check_template(n, v.get<std::string>());
      return v;
    }
    auto b = boolean(n, what);
    return b ? json(*b) : json(false);
  }

  std::string string(const YAML::Node& n, const std::string& what) {
    if (!n.IsScalar()) {
      error(at(n), "'" + what + "' must be a string");
      return "";
    }
    return n.Scalar();
  }

  std::vector<std::string> string_list(const YAML::Node& n, const std::string& what, bool comma_split) {
    std::vector<std::string> out;
    if (n.IsScalar()) {
      if (comma_split) {
        for (const auto& p : split(n.Scalar(), ',', false)) {
          std::string t(trim(p));
          if (!t.empty()) out.push_back(t);
        }
      } else {
        out.push_back(n.Scalar());
      }
    } else if (n.IsSequence()) {
      for (const auto& x : n) {
        if (!x.IsScalar()) {
          error(at(x), "'" + what + "' must be a list of strings");
          continue;
        }
        out.push_back(x.Scalar());
      }
    } else if (!n.IsNull()) {
      error(at(n), "'" + what + "' must be a string or a list of strings");
    }
    return out;
  }

  json mapping(const YAML::Node& n, const std::string& what) {
    if (n.IsNull()) return json::object();
    if (!n.IsMap()) {
      error(at(n), "'" + what + "' must be a mapping of names to values");
      return json::object();
    }
    json v = to_json(n);
    check_templates_in(n, v);
    return v;
  }

  void check_template(const YAML::Node& n, const std::string& s) {
    if (Template::is_plain(s)) return;
    try {
      Template::parse(s);
    } catch (const ExprSyntaxError& e) {
      error(at_offset(n, e.offset()), std::string("template does not parse: ") + e.what());
    }
  }

  // Checks every string of a YAML subtree that holds template syntax.
  void check_templates_in(const YAML::Node& n, const json&) { check_templates_rec(n, 0); }
  void check_templates_rec(const YAML::Node& n, int depth) {
    if (depth > 64) return;
    if (n.IsScalar()) {
      if (n.Tag() != "!unsafe") check_template(n, n.Scalar());
    } else if (n.IsSequence()) {
      for (const auto& x : n) check_templates_rec(x, depth + 1);
    } else if (n.IsMap()) {
      for (const auto& kv : n) check_templates_rec(kv.second, depth + 1);
    }
  }

  // A condition: a bare expression, optionally wrapped in one {{ }}.
  void conditions(const YAML::Node& n, const std::string& what, std::vector<Condition>& out) {
    if (n.IsSequence()) {
      for (const auto& x : n) conditions(x, what, out);
      return;
    }
    if (!n.IsScalar()) {
      error(at(n), "'" + what + "' must be an expression or a list of expressions");
      return;
    }
    json v = scalar(n);
    std::string text = v.is_boolean() ? (v.get<bool>() ? "true" : "false") : n.Scalar();
    std::string_view t = text;
    std::size_t shift = 0;
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) {
      t.remove_prefix(1);
      ++shift;
    }
    t = trim(t);
    if (starts_with(t, "{{") && ends_with(t, "}}") && t.find("{{", 2) == std::string_view::npos) {
      t = t.substr(2, t.size() - 4);
      shift += 2;
      while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) {
        t.remove_prefix(1);
        ++shift;
      }
      t = trim(t);
    }
    if (trim(t).empty()) {
      error(at(n), "'" + what + "' is empty");
      return;
    }
    try {
      out.push_back({Expr::parse(t), at(n)});
    } catch (const ExprSyntaxError& e) {
      error(at_offset(n, shift + e.offset()), "condition does not parse: " + std::string(e.what()));
    }
  }

  // -- plays ----------------------------------------------------------------

  Play play(const YAML::Node& n) {
    Play p;
    p.where = at(n);
    YAML::Node tasks(YAML::NodeType::Undefined), pre(YAML::NodeType::Undefined), post(YAML::NodeType::Undefined),
        handlers(YAML::NodeType::Undefined);
    bool have_hosts = false;
    for (const auto& kv : n) {
      std::string key = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      if (key == "name") p.name = string(v, key);
      else if (key == "hosts") {
        have_hosts = true;
        p.hosts_where = at(v);
        auto hs = string_list(v, key, false);
        p.hosts = join(hs, ",");
        if (trim(p.hosts).empty()) error(at(v), "'hosts' is empty");
      } else if (key == "become") {
        p.become = boolean(v, key);
      } else if (key == "become_user") p.become_user = string(v, key);
      else if (key == "become_method") {
        if (string(v, key) != "sudo") error(at(v), "only become_method: sudo is supported");
      } else if (key == "remote_user") p.remote_user = string(v, key);
      else if (key == "vars") {
        json vars = mapping(v, key);
        for (auto it = vars.begin(); it != vars.end(); ++it) p.vars[it.key()] = it.value();
      } else if (key == "vars_files") vars_files(v, p);
      else if (key == "tasks") tasks.reset(v);
      else if (key == "pre_tasks") pre.reset(v);
      else if (key == "post_tasks") post.reset(v);
      else if (key == "handlers") handlers.reset(v);
      else if (key == "strategy") {
        std::string s = string(v, key);
        if (s == "linear") p.strategy = Strategy::linear;
        else if (s == "free" || s == "host_pinned") p.strategy = Strategy::free;
        else error(at(v), "strategy must be 'free' or 'linear', not '" + s + "'");
      } else if (key == "serial") serial(v, p);
      else if (key == "gather_facts") {
        auto b = boolean(v, key);
        if (b) p.gather_facts = *b;
      } else if (key == "tags") p.tags = string_list(v, key, true);
      else if (key == "any_errors_fatal") {
        auto b = boolean(v, key);
        if (b) p.any_errors_fatal = *b;
      } else if (key == "max_fail_percentage") {
        json x = to_json(v);
        if (x.is_number() && x.get<double>() >= 0 && x.get<double>() <= 100) p.max_fail_percentage = x.get<double>();
        else error(at(v), "max_fail_percentage must be a number from 0 to 100");
      } else if (key == "force_handlers") {
        auto b = boolean(v, key);
        if (b) p.force_handlers = *b;
      } else if (key == "connection") {
        std::string c = string(v, key);
        if (c == "smart" || c == "ssh" || c == "paramiko") p.connection = "ssh";
        else if (c == "local") p.connection = "local";
        else error(at(v), "connection must be 'ssh' or 'local', not '" + c + "'");
      } else if (key == "environment") p.environment = mapping(v, key);
      else if (key == "ignore_errors") p.ignore_errors = bool_or_template(v, key);
      else if (key == "collections" || key == "diff" || key == "no_log") {
        // accepted: module names are looked up by their full name anyway
      } else if (key == "order") {
        if (string(v, key) != "inventory") error(at(v), "only order: inventory is supported");
      } else if (key == "check_mode") {
        error(at(v), "check_mode on a play is not supported: use --check");
      } else if (k_unsupported.count(key)) {
        error(at(kv.first), "'" + key + "': " + k_unsupported.at(key));
      } else {
        error(at(kv.first), "unknown play keyword '" + key + "'" + hint(key, k_play_keywords));
      }
    }
    if (!have_hosts) error(p.where, "a play needs 'hosts' (for example 'hosts: all')");
    // Handlers first, so that notify can be checked against them.
    if (handlers) {
      if (!handlers.IsSequence() && !handlers.IsNull()) error(at(handlers), "'handlers' must be a list of tasks");
      else if (handlers.IsSequence()) task_list(handlers, p.handlers, true, Inherited{});
    }
    auto section = [&](const YAML::Node& s, const char* what) {
      if (!s) return;
      if (s.IsNull()) return;
      if (!s.IsSequence()) {
        error(at(s), std::string("'") + what + "' must be a list of tasks");
        return;
      }
      if (!p.tasks.empty() && !p.handlers.empty()) p.tasks.push_back(flush_task(at(s)));
      task_list(s, p.tasks, false, Inherited{});
    };
    section(pre, "pre_tasks");
    section(tasks, "tasks");
    section(post, "post_tasks");
    check_notify(p);
    return p;
  }

  Task flush_task(const SourceLocation& w) {
    Task t;
    t.where = w;
    t.action = "meta";
    t.module = find_module("meta");
    t.args = {{"_raw_params", "flush_handlers"}};
    t.name = "flush handlers";
    t.implicit = true;
    return t;
  }

  void vars_files(const YAML::Node& v, Play& p) {
    for (const auto& f : string_list(v, "vars_files", false)) {
      if (!Template::is_plain(f)) {
        error(at(v), "templated vars_files are not supported: '" + f + "'");
        continue;
      }
      std::string path = f;
      if (!starts_with(path, "/") && !m_base.empty()) path = m_base + "/" + path;
      std::string text;
      if (m_builtin && !starts_with(f, "/")) {
        bool found = false;
        for (const auto& e : shipped_playbooks())
          if (std::string(e.path) == "playbooks/" + f) {
            text = e.content;
            found = true;
          }
        if (!found) {
          error(at(v), "vars file not found: " + f);
          continue;
        }
      } else {
        try {
          text = read_text_file(path);
        } catch (const InputError& e) {
          error(at(v), std::string("vars file: ") + e.what());
          continue;
        }
      }
      try {
        json vars = parse_vars_yaml(text, path);
        for (auto it = vars.begin(); it != vars.end(); ++it) p.vars[it.key()] = it.value();
      } catch (const InputError& e) {
        for (const auto& d : e.diagnostics()) error(d.where, d.message);
      }
    }
  }

  void serial(const YAML::Node& v, Play& p) {
    auto one = [&](const YAML::Node& x) {
      json j = to_json(x);
      std::string s = j.is_number_integer() ? std::to_string(j.get<std::int64_t>()) : j.is_string() ? j.get<std::string>() : "";
      bool ok = !s.empty();
      std::string digits = ends_with(s, "%") ? s.substr(0, s.size() - 1) : s;
      for (char c : digits)
        if (!std::isdigit(static_cast<unsigned char>(c))) ok = false;
      if (digits.empty() || (ok && std::stoll(digits.substr(0, 9)) <= 0)) ok = false;
      if (!ok) {
        error(at(x), "serial must be a positive number of hosts or a percentage like '30%'");
        return;
      }
      p.serial.push_back(s);
    };
    if (v.IsSequence())
      for (const auto& x : v) one(x);
    else
      one(v);
  }

  // -- tasks ----------------------------------------------------------------

  // What a block passes down to its tasks.
  struct Inherited {
    std::vector<Condition> when;
    std::vector<std::string> tags;
    std::optional<bool> become;
    std::string become_user;
    json vars = json::object();
    json ignore_errors;  // null: not set
    json environment = json::object();
    std::optional<bool> check_mode;
    bool no_log = false;
    std::vector<std::string> notify;
    std::optional<double> timeout_s;
  };

  void task_list(const YAML::Node& list, std::vector<Task>& out, bool handlers, const Inherited& inh) {
    for (const auto& item : list) {
      if (!item.IsMap()) {
        error(at(item), "a task must be a mapping (for example '- name: ...' followed by a module)");
        continue;
      }
      if (item["block"]) {
        block(item, out, handlers, inh);
        continue;
      }
      out.push_back(task(item, handlers, inh));
    }
  }

  void block(const YAML::Node& n, std::vector<Task>& out, bool handlers, const Inherited& parent) {
    Inherited inh = parent;
    YAML::Node body(YAML::NodeType::Undefined);
    for (const auto& kv : n) {
      std::string key = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      if (key == "block") body.reset(v);
      else if (key == "name") {
      } else if (key == "when") conditions(v, key, inh.when);
      else if (key == "tags") {
        for (auto& t : string_list(v, key, true)) inh.tags.push_back(t);
      } else if (key == "become") inh.become = boolean(v, key);
      else if (key == "become_user") inh.become_user = string(v, key);
      else if (key == "become_method") {
        if (string(v, key) != "sudo") error(at(v), "only become_method: sudo is supported");
      } else if (key == "vars") {
        json vars = mapping(v, key);
        for (auto it = vars.begin(); it != vars.end(); ++it) inh.vars[it.key()] = it.value();
      } else if (key == "ignore_errors") inh.ignore_errors = bool_or_template(v, key);
      else if (key == "environment") {
        json e = mapping(v, key);
        for (auto it = e.begin(); it != e.end(); ++it) inh.environment[it.key()] = it.value();
      } else if (key == "check_mode") inh.check_mode = boolean(v, key);
      else if (key == "no_log") {
        auto b = boolean(v, key);
        inh.no_log = b.value_or(false);
      } else if (key == "notify") {
        for (auto& t : string_list(v, key, false)) inh.notify.push_back(t);
      } else if (key == "timeout") inh.timeout_s = seconds(v, key);
      else if (key == "rescue" || key == "always") {
        error(at(kv.first), "'" + key + "' blocks are not supported yet: use ignore_errors and failed_when");
      } else if (key == "any_errors_fatal" || key == "diff") {
      } else if (k_unsupported.count(key)) {
        error(at(kv.first), "'" + key + "': " + k_unsupported.at(key));
      } else {
        error(at(kv.first), "unknown block keyword '" + key + "'" + hint(key, k_block_keywords));
      }
    }
    if (!body.IsSequence()) {
      error(at(body), "'block' must be a list of tasks");
      return;
    }
    task_list(body, out, handlers, inh);
  }

  std::optional<double> seconds(const YAML::Node& v, const std::string& what) {
    json j = to_json(v);
    if (j.is_number() && j.get<double>() > 0) return j.get<double>();
    if (j.is_string()) {
      auto d = parse_duration(j.get<std::string>());
      if (d && d->count() > 0) return d->count();
    }
    error(at(v), "'" + what + "' must be a positive number of seconds (or a duration like 90s, 10m)");
    return std::nullopt;
  }

  json number_or_template(const YAML::Node& v, const std::string& what, bool integer) {
    json j = to_json(v);
    if (j.is_string() && !Template::is_plain(j.get<std::string>())) {
      check_template(v, j.get<std::string>());
      return j;
    }
    if (integer ? j.is_number_integer() : j.is_number()) {
      if (j.get<double>() < 0) error(at(v), "'" + what + "' must not be negative");
      return j;
    }
    error(at(v), "'" + what + "' must be " + (integer ? "an integer" : "a number"));
    return nullptr;
  }

  Task task(const YAML::Node& n, bool handler, const Inherited& inh) {
    Task t;
    t.where = at(n);
    t.when = inh.when;
    t.tags = inh.tags;
    t.become = inh.become;
    t.become_user = inh.become_user;
    t.vars = inh.vars;
    if (!inh.ignore_errors.is_null()) t.ignore_errors = inh.ignore_errors;
    t.environment = inh.environment;
    t.check_mode = inh.check_mode;
    t.no_log = inh.no_log;
    t.notify = inh.notify;
    t.timeout_s = inh.timeout_s;
    YAML::Node action_node(YAML::NodeType::Undefined), action_key(YAML::NodeType::Undefined),
        args_node(YAML::NodeType::Undefined);
    bool have_action = false;
    std::vector<std::string> unknown;
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) {
        error(at(kv.first), "task keys must be plain words");
        continue;
      }
      std::string key = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      if (key == "name") t.name = string(v, key);
      else if (key == "when") conditions(v, key, t.when);
      else if (key == "changed_when") conditions(v, key, t.changed_when);
      else if (key == "failed_when") conditions(v, key, t.failed_when);
      else if (key == "until") conditions(v, key, t.until);
      else if (key == "register") {
        t.register_var = string(v, key);
        if (!valid_name(t.register_var)) error(at(v), "'" + t.register_var + "' is not a valid variable name for register");
      } else if (key == "retries") t.retries = number_or_template(v, key, true);
      else if (key == "delay") t.delay = number_or_template(v, key, false);
      else if (key == "notify") {
        for (auto& x : string_list(v, key, false)) t.notify.push_back(x);
      } else if (key == "tags") {
        for (auto& x : string_list(v, key, true)) t.tags.push_back(x);
      } else if (key == "ignore_errors") t.ignore_errors = bool_or_template(v, key);
      else if (key == "become") t.become = boolean(v, key);
      else if (key == "become_user") t.become_user = string(v, key);
      else if (key == "become_method") {
        if (string(v, key) != "sudo") error(at(v), "only become_method: sudo is supported");
      } else if (key == "vars") {
        json vars = mapping(v, key);
        for (auto it = vars.begin(); it != vars.end(); ++it) t.vars[it.key()] = it.value();
      } else if (key == "loop" || key == "with_items" || key == "with_list") {
        if (!t.loop.is_null()) error(at(kv.first), "a task can have only one loop");
        t.loop = to_json(v);
        t.loop_flatten = key == "with_items";
        if (t.loop.is_string()) {
          if (Template::is_plain(t.loop.get<std::string>()))
            t.loop = json::array({t.loop});
          else
            check_template(v, t.loop.get<std::string>());
        } else if (t.loop.is_array()) {
          check_templates_in(v, t.loop);
        } else {
          error(at(v), "'" + key + "' must be a list or a '{{ }}' expression that gives one");
          t.loop = nullptr;
        }
      } else if (key == "loop_control") loop_control(v, t);
      else if (key == "listen") {
        if (!handler) error(at(kv.first), "'listen' is only for handlers");
        t.listen = string_list(v, key, false);
      } else if (key == "no_log") {
        auto b = boolean(v, key);
        t.no_log = b.value_or(false);
      } else if (key == "check_mode") t.check_mode = boolean(v, key);
      else if (key == "environment") {
        json e = mapping(v, key);
        for (auto it = e.begin(); it != e.end(); ++it) t.environment[it.key()] = it.value();
      } else if (key == "timeout") t.timeout_s = seconds(v, key);
      else if (key == "args") args_node.reset(v);
      else if (key == "diff" || key == "ignore_unreachable" || key == "any_errors_fatal" || key == "collections" ||
               key == "debugger") {
        // accepted; no effect beyond Ansible's defaults
      } else if (find_module(key)) {
        if (have_action) {
          error(at(kv.first), "a task can run one module, but this one has '" + action_key.Scalar() + "' and '" + key + "'");
          continue;
        }
        action_key.reset(kv.first);
        action_node.reset(v);
        have_action = true;
        t.action = key;
        t.module = find_module(key);
      } else if (k_unsupported.count(key)) {
        error(at(kv.first), "'" + key + "': " + k_unsupported.at(key));
      } else {
        unknown.push_back(key);
        std::vector<std::string> options = module_names();
        options.insert(options.end(), k_task_keywords.begin(), k_task_keywords.end());
        error(at(kv.first), "unknown module or task keyword '" + key + "'" + hint(key, options));
      }
    }
    if (!t.module) {
      if (unknown.empty()) error(t.where, "the task has no module to run (for example 'command: ...' or 'copy: ...')");
      return t;
    }
    module_args(t, action_key, action_node, args_node);
    if (t.module->spec().name == "template") check_template_file(t, action_key);
    if (!t.register_var.empty() && !t.loop.is_null() && t.loop_var == t.register_var)
      error(t.where, "register and loop_var use the same name '" + t.register_var + "'");
    return t;
  }

  // A template source named literally is parsed now, so that a broken
  // template stops the run before it starts, with its own FILE:LINE:COL.
  void check_template_file(const Task& t, const YAML::Node& key) {
    if (!t.args.contains("src") || !t.args["src"].is_string()) return;
    std::string src = t.args["src"].get<std::string>();
    if (!Template::is_plain(src)) return;
    PlaybookFiles files(m_base, m_builtin);
    std::string text;
    try {
      text = files.read(src, "templates");
    } catch (const ExprEvalError& e) {
      error(at(key), std::string("template: ") + e.what());
      return;
    }
    try {
      Template::parse(text);
    } catch (const ExprSyntaxError& e) {
      std::size_t off = std::min(e.offset(), text.size());
      int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(off), '\n'));
      auto nl = text.rfind('\n', off == 0 ? 0 : off - 1);
      int col = 1 + static_cast<int>(off == 0 || nl == std::string::npos ? off : off - nl - 1);
      std::string shown = m_builtin ? "playbooks/templates/" + src : files.local_path(src, "templates");
      error(SourceLocation{shown.empty() ? src : shown, line, col}, std::string("template does not parse: ") + e.what());
    }
  }

  static bool valid_name(const std::string& s) {
    if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
  }

  void loop_control(const YAML::Node& v, Task& t) {
    if (!v.IsMap()) {
      error(at(v), "'loop_control' must be a mapping");
      return;
    }
    for (const auto& kv : v) {
      std::string k = kv.first.Scalar();
      if (k == "loop_var") {
        t.loop_var = string(kv.second, k);
        if (!valid_name(t.loop_var)) error(at(kv.second), "'" + t.loop_var + "' is not a valid variable name");
      } else if (k == "index_var") {
        t.index_var = string(kv.second, k);
        if (!valid_name(t.index_var)) error(at(kv.second), "'" + t.index_var + "' is not a valid variable name");
      } else if (k == "label") {
        t.loop_label = string(kv.second, k);
        check_template(kv.second, t.loop_label);
      } else if (k == "pause" || k == "extended") {
        error(at(kv.first), "loop_control." + k + " is not supported");
      } else {
        error(at(kv.first), "unknown loop_control key '" + k + "'" + hint(k, {"loop_var", "index_var", "label"}));
      }
    }
  }

  // Reads the module's arguments from its mapping, its one-line form and
  // `args:`, then checks them against the module's spec.
  void module_args(Task& t, const YAML::Node& key, const YAML::Node& v, const YAML::Node& args_node) {
    const ModuleSpec& spec = t.module->spec();
    json raw = json::object();
    std::map<std::string, SourceLocation> where;
    auto add = [&](const std::string& k, json value, const SourceLocation& w) {
      raw[k] = std::move(value);
      where[k] = w;
    };
    if (args_node) {
      if (!args_node.IsMap()) {
        error(at(args_node), "'args' must be a mapping");
      } else {
        for (const auto& kv : args_node) add(kv.first.Scalar(), to_json(kv.second), at(kv.second));
        check_templates_in(args_node, raw);
      }
    }
    if (v.IsMap()) {
      std::set<std::string> seen;
      for (const auto& kv : v) {
        if (!kv.first.IsScalar()) {
          error(at(kv.first), "argument names must be plain words");
          continue;
        }
        std::string k = kv.first.Scalar();
        if (!seen.insert(k).second) error(at(kv.first), "duplicate argument '" + k + "'");
        add(k, to_json(kv.second), at(kv.second));
        check_templates_rec(kv.second, 0);
      }
    } else if (v.IsScalar()) {
      one_line(t, spec, v, raw, where);
    } else if (v.IsSequence()) {
      error(at(v), "the arguments of '" + t.action + "' must be a mapping or a one-line 'key=value ...' string");
    }
    // Names: canonical, no duplicates through aliases, no unknown ones.
    json args = json::object();
    std::vector<std::string> known;
    for (const auto& a : spec.args) {
      if (a.internal) continue;
      known.push_back(a.name);
      known.insert(known.end(), a.aliases.begin(), a.aliases.end());
    }
    std::map<std::string, std::string> given_as;
    for (auto it = raw.begin(); it != raw.end(); ++it) {
      const std::string& k = it.key();
      SourceLocation w = where.count(k) ? where[k] : at(key);
      if (spec.any_keys && !spec.find(k)) {
        args[k] = it.value();
        continue;
      }
      const ArgSpec* a = spec.find(k);
      if (!a) {
        std::string msg = "unsupported argument '" + k + "' for module '" + spec.name + "'" + hint(k, known);
        if (k == "_raw_params") msg = "module '" + spec.name + "' takes key=value arguments, not a free-form command";
        error(w, msg);
        continue;
      }
      if (given_as.count(a->name)) {
        error(w, "'" + k + "' and '" + given_as[a->name] + "' are the same argument of '" + spec.name + "'");
        continue;
      }
      given_as[a->name] = k;
      const json& value = it.value();
      if (!contains_template(value)) {
        std::string why;
        if (!coerce_arg(*a, value, &why)) error(w, why);
      }
      args[a->name] = value;
    }
    for (const auto& a : spec.args) {
      if (a.required && !args.contains(a.name)) {
        if (a.name == "_raw_params")
          error(at(key), "'" + t.action + "' needs a command line (for example '" + t.action + ": uptime')");
        else
          error(at(key), "missing required argument '" + a.name + "' for module '" + spec.name + "'");
      }
    }
    for (const auto& group : spec.required_one_of) {
      bool any = std::any_of(group.begin(), group.end(), [&](const std::string& g) { return args.contains(g); });
      if (!any) {
        std::vector<std::string> shown;
        for (const auto& g : group) shown.push_back(g == "_raw_params" ? "a command line" : g);
        error(at(key), "'" + spec.name + "' needs one of: " + join(shown, ", "));
      }
    }
    for (const auto& group : spec.mutually_exclusive) {
      std::vector<std::string> present;
      for (const auto& g : group)
        if (args.contains(g)) present.push_back(g == "_raw_params" ? "a command line" : g);
      if (present.size() > 1) error(at(key), "'" + spec.name + "' takes only one of: " + join(present, ", "));
    }
    if (spec.check) {
      std::vector<std::pair<std::string, std::string>> problems;
      spec.check(args, problems);
      for (const auto& [arg, msg] : problems) {
        SourceLocation w = at(key);
        for (const auto& [as, canonical] : given_as)
          if (as == arg || canonical == arg) w = where.count(canonical) ? where[canonical] : w;
        if (where.count(arg)) w = where[arg];
        error(w, spec.name + ": " + msg);
      }
    }
    t.args = std::move(args);
  }

  void one_line(Task& t, const ModuleSpec& spec, const YAML::Node& v, json& raw, std::map<std::string, SourceLocation>& where) {
    json value = scalar(v);
    if (value.is_null()) return;
    std::string text = v.Scalar();
    check_template(v, text);
    auto words = split_key_values(text);
    if (!words) {
      error(at(v), "the arguments of '" + t.action + "' have an unclosed quote or '{{'");
      return;
    }
    if (spec.free_form) {
      // Everything that is not a known option stays the command line, as written.
      std::vector<std::string> rest;
      std::vector<std::pair<std::string, std::string>> opts;
      for (const auto& w : *words) {
        bool option = !w.key.empty() && contains(k_free_form_options, w.key);
        if (option && spec.find(w.key))
          opts.emplace_back(w.key, w.value);
        else if (option && w.key == "warn") {
          // removed in Ansible 2.14; accepted and ignored
        } else
          rest.push_back(w.raw);
      }
      std::string cmd = opts.empty() ? std::string(trim(text)) : join(rest, " ");
      if (!cmd.empty()) {
        raw["_raw_params"] = cmd;
        where["_raw_params"] = at(v);
      }
      for (const auto& [k, val] : opts) {
        raw[k] = val;
        where[k] = at(v);
      }
      return;
    }
    for (const auto& w : *words) {
      const std::string& k = w.key;
      const std::string& val = w.value;
      if (k.empty()) {
        error(at(v), "'" + w.raw + "' is not a key=value argument of '" + spec.name + "'");
        continue;
      }
      if (spec.name == "set_fact") {
        std::string l = to_lower(val);
        if (l == "true" || l == "yes") raw[k] = true;
        else if (l == "false" || l == "no") raw[k] = false;
        else raw[k] = val;
      } else {
        raw[k] = val;
      }
      where[k] = at(v);
    }
  }

  void check_notify(const Play& p) {
    std::vector<std::string> names;
    for (const auto& h : p.handlers) {
      if (!h.name.empty()) names.push_back(h.name);
      names.insert(names.end(), h.listen.begin(), h.listen.end());
    }
    auto check = [&](const std::vector<Task>& tasks) {
      for (const auto& t : tasks)
        for (const auto& n : t.notify) {
          if (!Template::is_plain(n)) continue;
          if (!contains(names, n))
            error(t.where, "notify: no handler named '" + n + "' in this play" + hint(n, names));
        }
    };
    check(p.tasks);
    check(p.handlers);
  }

  const std::string& m_text;
  std::string m_path;
  std::string m_base;
  bool m_builtin;
  std::vector<Diagnostic> m_diags;
};

const EmbeddedFile* find_embedded(const std::string& rel) {
  for (const auto& e : shipped_playbooks())
    if (rel == e.path) return &e;
  return nullptr;
}

}  // namespace

std::size_t Playbook::task_count() const {
  std::size_t n = 0;
  for (const auto& p : plays)
    for (const auto& t : p.tasks)
      if (!t.implicit) ++n;
  return n;
}

namespace {

// Python's unicode-escape for the sequences Ansible decodes.
std::string decode_escapes(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '\\' || i + 1 >= s.size()) {
      out += c;
      continue;
    }
    char e = s[i + 1];
    auto hex = [&](std::size_t n) -> long {
      if (i + 2 + n > s.size()) return -1;
      long v = 0;
      for (std::size_t k = 0; k < n; ++k) {
        char h = s[i + 2 + k];
        int d = std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
      }
      return v;
    };
    auto utf8 = [&](long cp) {
      if (cp < 0x80) out += static_cast<char>(cp);
      else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      }
    };
    switch (e) {
      case '\\': out += '\\'; ++i; continue;
      case '\'': out += '\''; ++i; continue;
      case '"': out += '"'; ++i; continue;
      case 'a': out += '\a'; ++i; continue;
      case 'b': out += '\b'; ++i; continue;
      case 'f': out += '\f'; ++i; continue;
      case 'n': out += '\n'; ++i; continue;
      case 'r': out += '\r'; ++i; continue;
      case 't': out += '\t'; ++i; continue;
      case 'v': out += '\v'; ++i; continue;
      case 'x':
      case 'u':
      case 'U': {
        std::size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        long v = hex(n);
        if (v >= 0 && v <= 0x10FFFF) {
          utf8(v);
          i += 1 + n;
          continue;
        }
        break;
      }
      default: break;
    }
    out += c;
  }
  return out;
}

std::string unquote(const std::string& v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) return v.substr(1, v.size() - 2);
  return v;
}

}  // namespace

std::optional<std::vector<KeyValue>> split_key_values(std::string_view text) {
  std::vector<KeyValue> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i >= text.size()) break;
    std::size_t start = i;
    char quote = 0;
    int jinja = 0;
    while (i < text.size()) {
      char c = text[i];
      if (quote) {
        if (c == '\\' && i + 1 < text.size()) {
          i += 2;
          continue;
        }
        if (c == quote) quote = 0;
        ++i;
        continue;
      }
      if (c == '{' && i + 1 < text.size() && (text[i + 1] == '{' || text[i + 1] == '%')) {
        ++jinja;
        i += 2;
        continue;
      }
      if (jinja > 0 && (c == '}' || c == '%') && i + 1 < text.size() && text[i + 1] == '}') {
        --jinja;
        i += 2;
        continue;
      }
      if (jinja > 0) {
        ++i;
        continue;
      }
      if (std::isspace(static_cast<unsigned char>(c))) break;
      if (c == '"' || c == '\'') quote = c;
      ++i;
    }
    if (quote || jinja > 0) return std::nullopt;
    KeyValue kv;
    kv.raw = std::string(text.substr(start, i - start));
    std::string decoded = decode_escapes(kv.raw);
    std::size_t eq = std::string::npos;
    for (std::size_t p = 1; p < decoded.size(); ++p)
      if (decoded[p] == '=' && decoded[p - 1] != '\\') {
        eq = p;
        break;
      }
    bool is_kv = eq != std::string::npos;
    if (is_kv) {
      std::string k = decoded.substr(0, eq);
      is_kv = std::all_of(k.begin(), k.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
      if (is_kv) {
        kv.key = k;
        kv.value = unquote(decoded.substr(eq + 1));
      }
    }
    if (!is_kv) kv.value = unquote(decoded);
    out.push_back(std::move(kv));
  }
  return out;
}

json parse_vars_yaml(const std::string& text, const std::string& path) {
  Loader l(text, path, "", false);
  return l.vars_document();
}

Playbook parse_playbook(const std::string& text, const std::string& path, const std::string& base_dir, bool builtin) {
  Loader l(text, path, base_dir, builtin);
  return l.load();
}

std::vector<std::string> shipped_playbook_names() {
  std::vector<std::string> out;
  for (const auto& e : shipped_playbooks()) {
    std::string p = e.path;
    if (!starts_with(p, "playbooks/") || p.find('/', 10) != std::string::npos) continue;
    if (ends_with(p, ".yaml")) out.push_back(p.substr(10, p.size() - 15));
    else if (ends_with(p, ".yml")) out.push_back(p.substr(10, p.size() - 14));
  }
  return out;
}

Playbook load_playbook(const std::string& name) {
  if (file_exists(name)) {
    std::error_code ec;
    if (std::filesystem::is_directory(name, ec)) throw InputError(SourceLocation{name, 0, 0}, "is a folder, not a playbook");
    std::string text = read_text_file(name);
    std::string dir = dirname_of(name);
    return parse_playbook(text, name, dir, false);
  }
  std::string base = name;
  if (starts_with(base, "playbooks/")) base = base.substr(10);
  for (const char* ext : {"", ".yaml", ".yml"}) {
    const EmbeddedFile* e = find_embedded("playbooks/" + base + ext);
    if (e && (ends_with(e->path, ".yaml") || ends_with(e->path, ".yml")))
      return parse_playbook(e->content, std::string(e->path) + " (built in)", "", true);
  }
  std::string msg = "no such playbook file, and no shipped playbook of that name";
  auto names = shipped_playbook_names();
  auto g = did_you_mean(base, names);
  if (g) msg += " (did you mean '" + *g + "'?)";
  else if (!names.empty()) msg += " (shipped: " + join(names, ", ") + ")";
  throw InputError(SourceLocation{name, 0, 0}, msg);
}

// ---------------------------------------------------------------------------
// Files for copy/template src
// ---------------------------------------------------------------------------

std::string PlaybookFiles::local_path(const std::string& path, const std::string& kind) const {
  if (starts_with(path, "/")) return file_exists(path) ? path : "";
  if (m_builtin) return "";
  std::string base = m_base.empty() ? "." : m_base;
  for (const std::string& cand : {base + "/" + kind + "/" + path, base + "/" + path})
    if (file_exists(cand)) return cand;
  return "";
}

std::string PlaybookFiles::read(const std::string& path, const std::string& kind) const {
  if (m_builtin && !starts_with(path, "/")) {
    for (const std::string& cand : {"playbooks/" + kind + "/" + path, "playbooks/" + path}) {
      const EmbeddedFile* e = find_embedded(cand);
      if (e) return e->content;
    }
    throw ExprEvalError("no file '" + path + "' among the shipped playbooks' " + kind);
  }
  std::string local = local_path(path, kind);
  if (local.empty()) {
    std::string base = m_base.empty() ? "." : m_base;
    throw ExprEvalError("could not find '" + path + "' (looked in " + base + "/" + kind + "/ and " + base + "/)");
  }
  std::ifstream in(local, std::ios::binary);
  if (!in) throw ExprEvalError("cannot read " + local);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace aicloud::provision
