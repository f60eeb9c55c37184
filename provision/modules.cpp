// The module registry and what every module shares: argument coercion
// with Ansible's rules, typed argument access, and the reading of the
// `key=value` report that module scripts print.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "common/strings.hpp"
#include "provision/diff.hpp"
#include "provision/module_util.hpp"
#include "provision/shell.hpp"

namespace aicloud::provision {

const ArgSpec* ModuleSpec::find(const std::string& n) const {
  for (const auto& a : args) {
    if (a.name == n) return &a;
    for (const auto& al : a.aliases)
      if (al == n) return &a;
  }
  return nullptr;
}

namespace {

std::optional<bool> parse_bool_text(std::string s) {
  s = to_lower(trim(s));
  if (s == "yes" || s == "on" || s == "1" || s == "true" || s == "y" || s == "t") return true;
  if (s == "no" || s == "off" || s == "0" || s == "false" || s == "n" || s == "f") return false;
  return std::nullopt;
}

const char* type_word(ArgType t) {
  switch (t) {
    case ArgType::str: return "a string";
    case ArgType::boolean: return "a boolean (yes/no, true/false)";
    case ArgType::integer: return "an integer";
    case ArgType::number: return "a number";
    case ArgType::list: return "a list";
    case ArgType::dict: return "a mapping";
    case ArgType::path: return "a path";
    case ArgType::mode: return "a file mode (0644 or u=rw,g=r,o=r)";
    case ArgType::raw: return "a value";
  }
  return "a value";
}

}  // namespace

std::optional<json> coerce_arg(const ArgSpec& spec, const json& v, std::string* why) {
  auto bad = [&](const std::string& extra = "") -> std::optional<json> {
    if (why) *why = "'" + spec.name + "' must be " + type_word(spec.type) + (extra.empty() ? "" : " (" + extra + ")");
    return std::nullopt;
  };
  if (v.is_null()) return v;
  switch (spec.type) {
    case ArgType::raw: return v;
    case ArgType::str:
    case ArgType::path: {
      std::string s;
      if (v.is_string()) s = v.get<std::string>();
      else if (v.is_number() || v.is_boolean()) s = to_display_string(v);
      else return bad("got " + std::string(v.is_array() ? "a list" : "a mapping"));
      if (!spec.choices.empty() && std::find(spec.choices.begin(), spec.choices.end(), s) == spec.choices.end()) {
        auto g = did_you_mean(s, spec.choices);
        if (why)
          *why = "'" + spec.name + "' must be one of " + join(spec.choices, ", ") + ", not '" + s + "'" +
                 (g ? " (did you mean '" + *g + "'?)" : "");
        return std::nullopt;
      }
      if (spec.type == ArgType::path && s.find('\0') != std::string::npos) return bad("contains a NUL byte");
      return s;
    }
    case ArgType::boolean: {
      if (v.is_boolean()) return v;
      if (v.is_number_integer()) {
        auto i = v.get<std::int64_t>();
        if (i == 0 || i == 1) return i == 1;
      }
      if (v.is_string()) {
        auto b = parse_bool_text(v.get<std::string>());
        if (b) return *b;
      }
      return bad("got '" + to_display_string(v) + "'");
    }
    case ArgType::integer: {
      if (v.is_number_integer()) return v;
      if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() && std::fabs(v.get<double>()) < 9e18)
        return static_cast<std::int64_t>(v.get<double>());
      if (v.is_string()) {
        std::string s(trim(v.get<std::string>()));
        char* end = nullptr;
        errno = 0;
        long long i = std::strtoll(s.c_str(), &end, 10);
        if (!s.empty() && errno == 0 && end && *end == '\0') return static_cast<std::int64_t>(i);
      }
      return bad("got '" + to_display_string(v) + "'");
    }
    case ArgType::number: {
      if (v.is_number()) return v;
      if (v.is_string()) {
        std::string s(trim(v.get<std::string>()));
        char* end = nullptr;
        errno = 0;
        double d = std::strtod(s.c_str(), &end);
        if (!s.empty() && errno == 0 && end && *end == '\0' && std::isfinite(d)) return d;
      }
      return bad("got '" + to_display_string(v) + "'");
    }
    case ArgType::list: {
      if (v.is_array()) return v;
      if (v.is_string()) {
        json out = json::array();
        for (const auto& part : split(v.get<std::string>(), ',', false)) {
          std::string t(trim(part));
          if (!t.empty()) out.push_back(t);
        }
        return out;
      }
      if (v.is_number() || v.is_boolean()) return json::array({to_display_string(v)});
      return bad("got a mapping");
    }
    case ArgType::dict: {
      if (v.is_object()) return v;
      if (v.is_string()) {
        // "a=1 b=2" as Ansible accepts for dicts
        json out = json::object();
        auto words = shlex_split(v.get<std::string>());
        if (!words) return bad("unbalanced quotes");
        for (const auto& w : *words) {
          auto eq = w.find('=');
          if (eq == std::string::npos || eq == 0) return bad("expected key=value words");
          out[w.substr(0, eq)] = w.substr(eq + 1);
        }
        return out;
      }
      return bad("got " + to_display_string(v));
    }
    case ArgType::mode: {
      std::string s;
      if (v.is_string()) s = v.get<std::string>();
      else if (v.is_number_integer()) s = std::to_string(v.get<std::int64_t>());
      else return bad();
      if (s == "preserve") return s;
      std::string reason;
      auto m = canonical_mode(s, &reason);
      if (!m) {
        if (why) *why = "'" + spec.name + "': " + reason;
        return std::nullopt;
      }
      return s;
    }
  }
  return v;
}

bool Args::has(const std::string& n) const {
  auto it = m_values.find(n);
  return it != m_values.end() && !it->is_null();
}

const json& Args::raw(const std::string& n) const {
  static const json null_value;
  auto it = m_values.find(n);
  return it == m_values.end() ? null_value : *it;
}

std::string Args::str(const std::string& n, const std::string& dflt) const {
  const json& v = raw(n);
  if (v.is_null()) return dflt;
  if (v.is_string()) return v.get<std::string>();
  return to_display_string(v);
}

bool Args::boolean(const std::string& n, bool dflt) const {
  const json& v = raw(n);
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) {
    auto b = parse_bool_text(v.get<std::string>());
    if (b) return *b;
  }
  return dflt;
}

std::int64_t Args::integer(const std::string& n, std::int64_t dflt) const {
  const json& v = raw(n);
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number()) return static_cast<std::int64_t>(v.get<double>());
  return dflt;
}

double Args::number(const std::string& n, double dflt) const {
  const json& v = raw(n);
  if (v.is_number()) return v.get<double>();
  return dflt;
}

std::vector<std::string> Args::list(const std::string& n) const {
  std::vector<std::string> out;
  const json& v = raw(n);
  if (v.is_array()) {
    for (const auto& x : v) out.push_back(x.is_string() ? x.get<std::string>() : to_display_string(x));
  } else if (!v.is_null()) {
    out.push_back(v.is_string() ? v.get<std::string>() : to_display_string(v));
  }
  return out;
}

std::map<std::string, std::string> parse_report(const std::string& text) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    std::string_view line(text.data() + start, (nl == std::string::npos ? text.size() : nl) - start);
    auto eq = line.find('=');
    if (eq != std::string_view::npos && eq > 0) {
      bool key_ok = std::all_of(line.begin(), line.begin() + static_cast<long>(eq), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
      });
      if (key_ok) out[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
    }
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

namespace detail {

bool step_failed(const ExecResult& r, Outcome& out) {
  if (r.unreachable) {
    out.unreachable = true;
    out.failed = true;
    out.msg = r.error.empty() ? "the host became unreachable" : r.error;
    return true;
  }
  if (!r.error.empty() && !r.exited && !r.timed_out && r.signal == 0) {
    out.failed = true;
    out.msg = r.error;
    return true;
  }
  if (r.timed_out) {
    out.failed = true;
    out.msg = "timed out after " + std::to_string(static_cast<long>(r.duration_s)) + " s";
    out.stdout_text = r.stdout_text;
    out.stderr_text = r.stderr_text;
    return true;
  }
  if (r.signal != 0) {
    out.failed = true;
    out.msg = "killed by signal " + std::to_string(r.signal);
    out.stdout_text = r.stdout_text;
    out.stderr_text = r.stderr_text;
    return true;
  }
  return false;
}

Outcome outcome_from_report(const ExecResult& r) {
  Outcome out;
  if (step_failed(r, out)) return out;
  auto rep = parse_report(r.stdout_text);
  out.rc = r.exit_code;
  out.stderr_text = r.stderr_text;
  out.changed = rep["changed"] == "1";
  if (rep.count("msg")) out.msg = rep["msg"];
  if (r.exit_code != 0 || rep["failed"] == "1") {
    out.failed = true;
    out.changed = false;
    if (out.msg.empty()) {
      std::string err(trim(r.stderr_text));
      out.msg = err.empty() ? "the module script exited with status " + std::to_string(r.exit_code) : err;
    }
  }
  return out;
}

void add_diff(Outcome& out, const std::string& header, const std::string& before, const std::string& after) {
  std::string d = unified_diff(before, after, header + " (before)", header + " (after)");
  if (!d.empty()) out.diffs.push_back({header, d});
}

std::vector<ArgSpec> file_attr_args() {
  return {
      {"mode", ArgType::mode},
      {"owner", ArgType::str},
      {"group", ArgType::str},
  };
}

std::string mode_arg(const Args& args, const std::string& name) {
  if (!args.has(name)) return "";
  std::string why;
  auto m = canonical_mode(args.str(name), &why);
  if (!m) throw ExprEvalError(why);
  return *m;
}

Next BasicModule::resume(const ModuleCall&, const std::vector<ExecResult>& done) const {
  return Next::done(outcome_from_report(done.back()));
}

}  // namespace detail

namespace {

struct Registry {
  std::vector<std::unique_ptr<Module>> owned;
  std::vector<const Module*> list;
  std::map<std::string, const Module*> by_name;

  Registry() {
    auto add_all = [&](std::vector<std::unique_ptr<Module>> ms) {
      for (auto& m : ms) owned.push_back(std::move(m));
    };
    add_all(detail::make_command_modules());
    add_all(detail::make_file_modules());
    add_all(detail::make_system_modules());
    add_all(detail::make_control_modules());
    owned.push_back(detail::make_facts_module());
    for (const auto& m : owned) {
      list.push_back(m.get());
      by_name[m->spec().name] = m.get();
      for (const auto& a : m->spec().aliases) by_name[a] = m.get();
    }
  }
};

const Registry& registry() {
  static const Registry r;
  return r;
}

}  // namespace

const Module* find_module(const std::string& name) {
  const auto& r = registry();
  auto it = r.by_name.find(name);
  return it == r.by_name.end() ? nullptr : it->second;
}

const std::vector<const Module*>& all_modules() { return registry().list; }

std::vector<std::string> module_names() {
  std::vector<std::string> out;
  for (const auto& [n, m] : registry().by_name) {
    (void)m;
    out.push_back(n);
  }
  return out;
}

}  // namespace aicloud::provision
