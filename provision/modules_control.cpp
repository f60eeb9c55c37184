// Controller-side modules that real playbooks use between node tasks:
// debug, set_fact, assert, fail and meta. They run no script; their
// arguments were already rendered with the host's vars by the runner.
#include "common/strings.hpp"
#include "provision/module_util.hpp"
#include "provision/template.hpp"

namespace aicloud::provision::detail {

namespace {

bool valid_var_name(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

// Parses an expression that may be wrapped in a lone "{{ }}".
Expr parse_condition(const std::string& text) {
  std::string_view t = trim(text);
  if (starts_with(t, "{{") && ends_with(t, "}}") && t.find("{{", 2) == std::string_view::npos)
    t = trim(t.substr(2, t.size() - 4));
  return Expr::parse(t);
}

class ControllerModule : public BasicModule {
 public:
  using BasicModule::BasicModule;
  Next resume(const ModuleCall&, const std::vector<ExecResult>&) const override {
    Outcome out;
    out.failed = true;
    out.msg = "internal: controller module resumed";
    return Next::done(out);
  }
};

class DebugModule : public ControllerModule {
 public:
  DebugModule() : ControllerModule(make_spec()) {}

  Next start(const ModuleCall& call) const override {
    const Args& a = call.args;
    Outcome out;
    if (a.integer("verbosity", 0) > call.verbosity) {
      out.skipped = true;
      out.msg = "verbosity threshold not met";
      return Next::done(out);
    }
    if (a.has("var")) {
      std::string var = a.str("var");
      json value;
      try {
        value = parse_condition(var).eval(*call.scope);
      } catch (const ExprEvalError&) {
        value = "VARIABLE IS NOT DEFINED!";
      } catch (const ExprSyntaxError& e) {
        throw ExprEvalError(std::string("var: ") + e.what());
      }
      out.extra[var] = value;
      out.msg = var + ": " + (value.is_string() ? value.get<std::string>() : value.dump(2));
    } else {
      json msg = a.has("msg") ? a.raw("msg") : json("Hello world!");
      out.extra["msg"] = msg;
      out.msg = msg.is_string() ? msg.get<std::string>() : msg.dump(2);
    }
    return Next::done(out);
  }

 private:
  static ModuleSpec make_spec() {
    ModuleSpec s;
    s.name = "debug";
    s.aliases = {"ansible.builtin.debug", "ansible.legacy.debug"};
    s.summary = "Print a message or a variable";
    s.args = {{"msg", ArgType::raw}, {"var", ArgType::str}, {"verbosity", ArgType::integer, false, {}, {}, 0}};
    s.mutually_exclusive = {{"msg", "var"}};
    return s;
  }
};

class SetFactModule : public ControllerModule {
 public:
  SetFactModule() : ControllerModule(make_spec()) {}

  Next start(const ModuleCall& call) const override {
    Outcome out;
    for (auto it = call.args.all().begin(); it != call.args.all().end(); ++it) {
      if (it.key() == "cacheable") continue;
      out.facts[it.key()] = it.value();
    }
    out.extra["ansible_facts"] = out.facts;
    return Next::done(out);
  }

 private:
  static ModuleSpec make_spec() {
    ModuleSpec s;
    s.name = "set_fact";
    s.aliases = {"ansible.builtin.set_fact", "ansible.legacy.set_fact"};
    s.summary = "Set host variables for the rest of the run";
    s.any_keys = true;
    s.args = {{"cacheable", ArgType::boolean}};
    s.check = [](const json& args, std::vector<std::pair<std::string, std::string>>& problems) {
      bool any = false;
      for (auto it = args.begin(); it != args.end(); ++it) {
        if (it.key() == "cacheable") continue;
        any = true;
        if (!valid_var_name(it.key())) problems.emplace_back(it.key(), "'" + it.key() + "' is not a valid variable name");
      }
      if (!any) problems.emplace_back("", "set_fact needs at least one name: value");
    };
    return s;
  }
};

class AssertModule : public ControllerModule {
 public:
  AssertModule() : ControllerModule(make_spec()) {}

  Next start(const ModuleCall& call) const override {
    const Args& a = call.args;
    Outcome out;
    const json& that = a.raw("that");
    std::vector<json> conds;
    if (that.is_array())
      conds.assign(that.begin(), that.end());
    else
      conds.push_back(that);
    for (const auto& c : conds) {
      bool ok;
      std::string text;
      if (c.is_string()) {
        text = c.get<std::string>();
        try {
          ok = parse_condition(text).eval_bool(*call.scope);
        } catch (const ExprSyntaxError& e) {
          throw ExprEvalError("that: " + text + ": " + e.what());
        }
      } else {
        text = to_display_string(c);
        ok = truthy(c);
      }
      if (!ok) {
        out.failed = true;
        out.extra["assertion"] = text;
        out.extra["evaluated_to"] = false;
        json fm = a.has("fail_msg") ? a.raw("fail_msg") : json("Assertion failed");
        out.msg = fm.is_string() ? fm.get<std::string>() : fm.dump();
        if (!a.has("fail_msg")) out.msg += ": " + text;
        return Next::done(out);
      }
    }
    json sm = a.has("success_msg") ? a.raw("success_msg") : json("All assertions passed");
    out.msg = sm.is_string() ? sm.get<std::string>() : sm.dump();
    return Next::done(out);
  }

 private:
  static ModuleSpec make_spec() {
    ModuleSpec s;
    s.name = "assert";
    s.aliases = {"ansible.builtin.assert", "ansible.legacy.assert"};
    s.summary = "Fail the host unless every condition holds";
    s.args = {{"that", ArgType::raw, true},
              {"fail_msg", ArgType::raw, false, {"msg"}},
              {"success_msg", ArgType::raw},
              {"quiet", ArgType::boolean, false, {}, {}, false}};
    s.check = [](const json& args, std::vector<std::pair<std::string, std::string>>& problems) {
      if (!args.contains("that")) return;
      json that = args["that"];
      if (!that.is_array()) that = json::array({that});
      for (const auto& c : that) {
        if (!c.is_string()) continue;
        std::string text = c.get<std::string>();
        std::string_view t = trim(text);
        // A condition built with {{ }} around parts is checked when it runs.
        if (t.find("{{") != std::string_view::npos &&
            !(starts_with(t, "{{") && ends_with(t, "}}") && t.find("{{", 2) == std::string_view::npos))
          continue;
        try {
          parse_condition(text);
        } catch (const ExprSyntaxError& e) {
          problems.emplace_back("that", "condition '" + text + "' does not parse: " + e.what());
        }
      }
    };
    return s;
  }
};

class FailModule : public ControllerModule {
 public:
  FailModule() : ControllerModule(make_spec()) {}
  Next start(const ModuleCall& call) const override {
    Outcome out;
    out.failed = true;
    json m = call.args.has("msg") ? call.args.raw("msg") : json("Failed as requested from task");
    out.msg = m.is_string() ? m.get<std::string>() : m.dump();
    return Next::done(out);
  }

 private:
  static ModuleSpec make_spec() {
    ModuleSpec s;
    s.name = "fail";
    s.aliases = {"ansible.builtin.fail", "ansible.legacy.fail"};
    s.summary = "Fail the host with a message";
    s.args = {{"msg", ArgType::raw}};
    return s;
  }
};

class MetaModule : public ControllerModule {
 public:
  MetaModule() : ControllerModule(make_spec()) {}
  Next start(const ModuleCall& call) const override {
    Outcome out;
    out.meta = call.args.str("_raw_params");
    return Next::done(out);
  }

 private:
  static ModuleSpec make_spec() {
    ModuleSpec s;
    s.name = "meta";
    s.aliases = {"ansible.builtin.meta", "ansible.legacy.meta"};
    s.summary = "Runner actions: flush_handlers, end_host, end_play, clear_facts, noop";
    s.free_form = true;
    s.args = {{"_raw_params", ArgType::str, true, {}, {"clear_facts", "end_host", "end_play", "flush_handlers", "noop", "reset_connection"}}};
    return s;
  }
};

}  // namespace

std::vector<std::unique_ptr<Module>> make_control_modules() {
  std::vector<std::unique_ptr<Module>> out;
  out.push_back(std::make_unique<DebugModule>());
  out.push_back(std::make_unique<SetFactModule>());
  out.push_back(std::make_unique<AssertModule>());
  out.push_back(std::make_unique<FailModule>());
  out.push_back(std::make_unique<MetaModule>());
  return out;
}

}  // namespace aicloud::provision::detail
