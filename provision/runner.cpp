// The play runner. Each host has a HostState (its transport, facts,
// registered results, notified handlers, recap); a task on a host is
// executed by execute(), which evaluates the task's keywords around the
// module's steps. Strategies only decide which host runs which task when:
// `free` gives each worker a host and lets it run the whole play, `linear`
// runs one task on every host (a worker pool of `forks`) before the next.
//
// Variables a task sees, from lowest to highest precedence (Ansible's
// order): groups/hostvars, play magic (ansible_play_hosts), host magic
// (inventory_hostname, hardware, rack), inventory vars, facts, play vars
// (vars_files over vars), task vars, registered results and set_fact,
// loop variables, extra vars (-e).
#include "provision/runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "common/exit_codes.hpp"
#include "common/files.hpp"
#include "common/interrupt.hpp"
#include "common/strings.hpp"
#include "common/version.hpp"
#include "provision/shell.hpp"
#include "provision/template.hpp"

namespace aicloud::provision {

std::string Recap::status() const {
  if (unreachable) return "unreachable";
  if (failed) return "failed";
  if (changed) return "changed";
  return "ok";
}

int RunResult::exit_code() const {
  bool any_failed = false, any_unreachable = false;
  for (const auto& entry : recap) {
    const Recap& r = entry.second;
    any_failed |= r.failed > 0;
    any_unreachable |= r.unreachable > 0;
  }
  return combine_exit(any_failed, any_unreachable, interrupted);
}

// ---------------------------------------------------------------------------
// Host patterns
// ---------------------------------------------------------------------------

namespace {

std::vector<std::string> split_pattern(const std::string& pattern) {
  // ':' and ',' separate terms, except inside [...] (ranges like n[01:50]).
  std::vector<std::string> terms;
  std::string cur;
  int depth = 0;
  for (char c : pattern) {
    if (c == '[') ++depth;
    if (c == ']' && depth > 0) --depth;
    if ((c == ':' || c == ',') && depth == 0) {
      if (!trim(cur).empty()) terms.emplace_back(trim(cur));
      cur.clear();
      continue;
    }
    cur += c;
  }
  if (!trim(cur).empty()) terms.emplace_back(trim(cur));
  return terms;
}

}  // namespace

std::vector<std::string> resolve_host_pattern(const std::string& pattern, const std::vector<RunHost>& hosts,
                                              const HostSelector& selector) {
  std::vector<std::string> all;
  std::map<std::string, std::set<std::string>> groups;
  for (const auto& h : hosts) {
    all.push_back(h.name);
    for (const auto& g : h.groups) groups[g].insert(h.name);
  }
  std::set<std::string> host_names(all.begin(), all.end());
  auto term_hosts = [&](const std::string& t) -> std::set<std::string> {
    if (t == "all" || t == "*") return host_names;
    if (groups.count(t)) return groups[t];
    if (host_names.count(t)) return {t};
    if ((t == "localhost" || t == "127.0.0.1") && hosts.size() == 1 && (hosts[0].name == "localhost")) return {"localhost"};
    if (!selector) return {};
    auto v = selector(t);
    return std::set<std::string>(v.begin(), v.end());
  };
  std::set<std::string> sel;
  for (const auto& term : split_pattern(pattern)) {
    if (starts_with(term, "&")) {
      auto s = term_hosts(std::string(trim(term.substr(1))));
      std::set<std::string> keep;
      for (const auto& h : sel)
        if (s.count(h)) keep.insert(h);
      sel = std::move(keep);
    } else if (starts_with(term, "!")) {
      for (const auto& h : term_hosts(std::string(trim(term.substr(1))))) sel.erase(h);
    } else {
      auto s = term_hosts(term);
      sel.insert(s.begin(), s.end());
    }
  }
  std::vector<std::string> out;
  for (const auto& h : all)
    if (sel.count(h)) out.push_back(h);
  return out;
}

// ---------------------------------------------------------------------------
// Extra vars
// ---------------------------------------------------------------------------

json parse_extra_vars(const std::vector<std::string>& values) {
  json out = json::object();
  for (const auto& raw : values) {
    std::string v(trim(raw));
    if (v.empty()) continue;
    std::string text;
    std::string name = "-e";
    if (starts_with(v, "@")) {
      name = v.substr(1);
      text = read_text_file(name);
    } else if (starts_with(v, "{")) {
      text = v;
    } else {
      auto kv = split_key_values(v);
      if (!kv) throw UsageError("-e " + v + ": unclosed quote");
      for (const auto& w : *kv) {
        if (w.key.empty()) throw UsageError("-e " + v + ": expected NAME=VALUE, a JSON/YAML mapping, or @FILE");
        out[w.key] = w.value;
      }
      continue;
    }
    json m = parse_vars_yaml(text, name);
    for (auto it = m.begin(); it != m.end(); ++it) out[it.key()] = it.value();
  }
  return out;
}

// ---------------------------------------------------------------------------
// The runner
// ---------------------------------------------------------------------------

namespace {

using Clock = std::chrono::steady_clock;

void parallel_for(std::size_t n, int forks, const std::function<void(std::size_t)>& fn) {
  if (n == 0) return;
  std::size_t threads = std::min<std::size_t>(n, static_cast<std::size_t>(std::max(1, forks)));
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    while (true) {
      std::size_t i = next++;
      if (i >= n || interrupted()) break;
      fn(i);
    }
  };
  if (threads == 1) {
    work();
    return;
  }
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < threads; ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
}

bool sleep_interruptible(double seconds) {
  auto until = Clock::now() + std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
  while (Clock::now() < until) {
    if (interrupted()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<long long>(
        100, std::max<long long>(1, std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count()))));
  }
  return true;
}

json split_lines(const std::string& s) {
  json out = json::array();
  std::size_t start = 0;
  while (start < s.size()) {
    auto nl = s.find('\n', start);
    std::string line = s.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

bool tag_selected(const std::vector<std::string>& task_tags, const RunOptions& o) {
  auto has = [&](const std::string& t) { return std::find(task_tags.begin(), task_tags.end(), t) != task_tags.end(); };
  auto requested = [&](const std::string& t) { return std::find(o.tags.begin(), o.tags.end(), t) != o.tags.end(); };
  for (const auto& s : o.skip_tags)
    if (has(s) || (s == "tagged" && !task_tags.empty()) || (s == "untagged" && task_tags.empty())) return false;
  if (has("never")) {
    bool explicit_tag = false;
    for (const auto& t : task_tags)
      if (t != "never" && requested(t)) explicit_tag = true;
    if (!explicit_tag && !requested("never")) return false;
  }
  if (o.tags.empty() || requested("all")) return true;
  if (has("always")) return true;
  if (requested("tagged") && !task_tags.empty()) return true;
  if (requested("untagged") && task_tags.empty()) return true;
  for (const auto& t : task_tags)
    if (requested(t)) return true;
  return false;
}

struct HostState {
  const RunHost* host = nullptr;
  json magic = json::object();
  json facts = json::object();
  json runtime = json::object();
  bool facts_gathered = false;
  bool failed = false;
  bool unreachable = false;
  bool ended = false;                 // meta: end_host, for the current play
  std::vector<bool> notified;         // per handler of the current play
  Recap recap;
  bool ran = false;                   // ran at least one task: shown in the recap
  HostTransport* transport = nullptr;
  std::string transport_key;
  bool dead() const { return failed || unreachable; }
};

struct ItemResult {
  Outcome out;
  json result;
  int attempts = 1;
  bool when_false = false;
  std::string false_condition;
};

class Runner {
 public:
  Runner(const Playbook& pb, const std::vector<RunHost>& hosts, const HostSelector& sel, TransportFactory& tf,
         const RunOptions& opts, RunObserver* obs)
      : m_pb(pb), m_hosts(hosts), m_selector(sel), m_factory(tf), m_opts(opts), m_obs(obs), m_files(pb) {
    if (m_opts.nonce.empty()) m_opts.nonce = random_nonce();
    build_global_magic();
  }

  RunResult run() {
    auto t0 = Clock::now();
    // Resolve every play's hosts first: a bad pattern stops the run before anything runs.
    std::vector<std::vector<std::string>> selected;
    for (const auto& play : m_pb.plays) {
      std::vector<std::string> hs;
      try {
        hs = resolve_host_pattern(play.hosts, m_hosts, m_selector);
      } catch (const InputError& e) {
        std::vector<Diagnostic> ds;
        for (const auto& d : e.diagnostics()) ds.push_back({play.hosts_where, "hosts: " + d.message});
        throw InputError(ds);
      }
      if (m_opts.limit) {
        std::set<std::string> lim(m_opts.limit->begin(), m_opts.limit->end());
        hs.erase(std::remove_if(hs.begin(), hs.end(), [&](const std::string& h) { return !lim.count(h); }), hs.end());
      }
      selected.push_back(hs);
    }
    for (std::size_t i = 0; i < m_pb.plays.size(); ++i) {
      if (interrupted()) break;
      run_play(m_pb.plays[i], selected[i]);
    }
    m_result.interrupted = interrupted();
    for (const auto& h : m_hosts)
      if (m_states.count(h.name) && m_states[h.name].ran) {
        m_result.hosts.push_back(h.name);
        m_result.recap[h.name] = m_states[h.name].recap;
      }
    m_result.duration_s = std::chrono::duration<double>(Clock::now() - t0).count();
    return std::move(m_result);
  }

 private:
  // -- vars ------------------------------------------------------------------

  void build_global_magic() {
    json groups = json::object();
    json all = json::array();
    json hostvars = json::object();
    json ungrouped = json::array();
    for (const auto& h : m_hosts) {
      all.push_back(h.name);
      if (h.groups.empty()) ungrouped.push_back(h.name);
      for (const auto& g : h.groups) {
        if (!groups.contains(g)) groups[g] = json::array();
        groups[g].push_back(h.name);
      }
      json hv = h.vars.is_object() ? h.vars : json::object();
      for (auto it = h.magic.begin(); it != h.magic.end(); ++it)
        if (!hv.contains(it.key())) hv[it.key()] = it.value();
      hv["inventory_hostname"] = h.name;
      hv["ansible_host"] = h.address.empty() ? h.name : h.address;
      hostvars[h.name] = hv;
    }
    groups["all"] = all;
    groups["ungrouped"] = ungrouped;
    m_global = {{"groups", groups},
                {"hostvars", hostvars},
                {"playbook_dir", m_opts.playbook_dir},
                {"ansible_check_mode", m_opts.check},
                {"ansible_diff_mode", m_opts.diff},
                {"ansible_verbosity", m_opts.verbosity},
                {"ansible_forks", m_opts.forks},
                {"ansible_version", {{"full", "2.14.0"}, {"major", 2}, {"minor", 14}, {"revision", 0}, {"string", "2.14.0"}}},
                {"aicloudctl_version", tool_version()},
                {"aicloudctl_binary", m_opts.controller_binary},
                {"omit", "__omit_place_holder__aicloudctl"}};
  }

  HostState& state(const std::string& name) {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_states.find(name);
    if (it != m_states.end()) return it->second;
    HostState& s = m_states[name];
    for (const auto& h : m_hosts)
      if (h.name == name) s.host = &h;
    s.magic = s.host->magic.is_object() ? s.host->magic : json::object();
    s.magic["inventory_hostname"] = name;
    s.magic["inventory_hostname_short"] = name.substr(0, name.find('.'));
    s.magic["ansible_host"] = s.host->address.empty() ? name : s.host->address;
    s.magic["group_names"] = s.host->groups;
    return s;
  }

  Scope scope_for(HostState& h, const Play& play, const json& task_vars, const json* locals) {
    Scope s;
    s.push(&m_global, false);
    s.push(&m_play_magic, false);
    s.push(&h.magic, false);
    s.push(&h.host->vars, true);
    s.push(&h.facts, false);
    s.push(&play.vars, true);
    s.push(&task_vars, true);
    s.push(&h.runtime, false);
    if (locals) s.push(locals, false);
    s.push(&m_opts.extra_vars, true);
    return s;
  }

  // -- transports ------------------------------------------------------------

  HostTransport* transport(HostState& h, const Play& play, std::string* error) {
    std::string user = play.remote_user.empty() ? h.host->user : play.remote_user;
    std::string key = (play.connection == "local" ? "local:" : "ssh:") + user;
    if (h.transport && h.transport_key == key) return h.transport;
    std::lock_guard<std::mutex> lock(m_transport_mutex);
    auto& slot = m_transports[h.host->name + "\n" + key];
    if (!slot) {
      RunHost rh = *h.host;
      rh.user = user;
      std::unique_ptr<HostTransport> t;
      if (play.connection == "local") {
        LocalTransportFactory local;
        t = local.open(rh, error);
      } else {
        // Opening may take a while (SSH connect): do not hold the lock.
        m_transport_mutex.unlock();
        t = m_factory.open(rh, error);
        m_transport_mutex.lock();
      }
      if (!t) return nullptr;
      slot = std::move(t);
    }
    h.transport = slot.get();
    h.transport_key = key;
    return h.transport;
  }

  // -- one task on one host --------------------------------------------------

  json prepare_args(const Task& t, const Scope& scope) {
    json rendered = render_json(t.args, scope);
    const ModuleSpec& spec = t.module->spec();
    json out = json::object();
    for (const auto& a : spec.args)
      if (!a.default_value.is_null()) out[a.name] = a.default_value;
    const std::string omit = m_global["omit"].get<std::string>();
    for (auto it = rendered.begin(); it != rendered.end(); ++it) {
      if (it.value().is_string() && it.value().get<std::string>() == omit) continue;  // `| default(omit)`
      const ArgSpec* a = spec.find(it.key());
      if (!a) {
        out[it.key()] = it.value();
        continue;
      }
      if (it.value().is_null()) continue;
      std::string why;
      auto c = coerce_arg(*a, it.value(), &why);
      if (!c) throw ExprEvalError(why);
      out[a->name] = *c;
    }
    for (const auto& a : spec.args)
      if (a.required && !out.contains(a.name))
        throw ExprEvalError("missing required argument '" + a.name + "' (it rendered to nothing)");
    return out;
  }

  std::string env_prefix(const Play& play, const Task& t, const Scope& scope) {
    json env = play.environment;
    for (auto it = t.environment.begin(); it != t.environment.end(); ++it) env[it.key()] = it.value();
    if (env.empty()) return "";
    json r = render_json(env, scope);
    std::string out;
    for (auto it = r.begin(); it != r.end(); ++it) {
      const std::string& k = it.key();
      bool ok = !k.empty() && (std::isalpha(static_cast<unsigned char>(k[0])) || k[0] == '_') &&
                std::all_of(k.begin(), k.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
      if (!ok) throw ExprEvalError("environment: '" + k + "' is not a valid variable name");
      out += "export " + k + "=" + q(it.value().is_string() ? it.value().get<std::string>() : to_display_string(it.value())) + "\n";
    }
    return out;
  }

  // Runs the module's steps; never throws.
  Outcome run_module(HostState& h, const Play& play, const Task& t, const json& args, Scope& scope, bool check) {
    Outcome out;
    try {
      ModuleCall call;
      call.args = Args(args);
      call.scope = &scope;
      call.files = &m_files;
      call.check = check;
      call.diff = m_opts.diff;
      call.host = h.host->name;
      call.nonce = m_opts.nonce;
      call.verbosity = m_opts.verbosity;
      Next n = t.module->start(call);
      std::vector<ExecResult> done;
      std::string prefix;
      if (n.step) {
        prefix = env_prefix(play, t, scope);
        std::string err;
        HostTransport* tr = transport(h, play, &err);
        if (!tr) {
          out.unreachable = true;
          out.failed = true;
          out.msg = err.empty() ? "cannot connect" : err;
          return out;
        }
        call.host_key_sha256 = tr->host_key_sha256();
      }
      bool become = t.become.value_or(play.become.value_or(h.host->become));
      std::string become_user = !t.become_user.empty() ? t.become_user : play.become_user;
      while (n.step) {
        if (interrupted()) {
          out.failed = true;
          out.msg = "interrupted";
          return out;
        }
        const Step& st = *n.step;
        ExecResult r;
        if (st.reconnect) {
          r = h.transport->reconnect(st.reconnect_timeout_s, st.connect_timeout_s);
        } else {
          ExecRequest req;
          req.script = prefix + st.script;
          req.stdin_data = st.stdin_data;
          req.stdin_path = st.stdin_path;
          req.become = become;
          req.become_user = become ? become_user : "";
          req.timeout_s = t.timeout_s ? t.timeout_s : st.timeout_s;
          r = h.transport->exec(req);
        }
        done.push_back(std::move(r));
        if (done.back().unreachable && !st.reconnect) {
          out.unreachable = true;
          out.failed = true;
          out.msg = done.back().error.empty() ? "the host became unreachable" : done.back().error;
          return out;
        }
        n = t.module->resume(call, done);
      }
      return n.outcome;
    } catch (const ExprEvalError& e) {
      out.failed = true;
      out.msg = e.what();
    } catch (const ExprSyntaxError& e) {
      out.failed = true;
      out.msg = std::string("template error: ") + e.what();
    } catch (const std::exception& e) {
      out.failed = true;
      out.msg = std::string("internal error: ") + e.what();
    }
    return out;
  }

  static json make_result(const Outcome& o, int attempts, bool until_used) {
    json r = o.extra.is_object() ? o.extra : json::object();
    r["changed"] = o.changed;
    r["failed"] = o.failed;
    if (o.skipped) r["skipped"] = true;
    if (o.unreachable) r["unreachable"] = true;
    if (o.rc) r["rc"] = *o.rc;
    r["stdout"] = o.stdout_text;
    r["stderr"] = o.stderr_text;
    r["stdout_lines"] = split_lines(o.stdout_text);
    r["stderr_lines"] = split_lines(o.stderr_text);
    r["msg"] = o.msg;
    if (until_used || attempts > 1) r["attempts"] = attempts;
    return r;
  }

  bool all_hold(const std::vector<Condition>& conds, Scope& scope, std::string* failed_text) {
    for (const auto& c : conds) {
      if (!c.expr.eval_bool(scope)) {
        if (failed_text) *failed_text = c.expr.text();
        return false;
      }
    }
    return true;
  }

  int int_value(const json& v, const Scope& scope, int dflt, const char* what) {
    if (v.is_null()) return dflt;
    json r = render_json(v, scope);
    if (r.is_number()) return static_cast<int>(std::clamp<double>(r.get<double>(), 0, 1e6));
    if (r.is_string()) {
      char* end = nullptr;
      std::string s(trim(r.get<std::string>()));
      double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end && *end == '\0') return static_cast<int>(std::clamp<double>(d, 0, 1e6));
    }
    throw ExprEvalError(std::string(what) + " must be a number, not '" + to_display_string(r) + "'");
  }

  double num_value(const json& v, const Scope& scope, double dflt, const char* what) {
    if (v.is_null()) return dflt;
    json r = render_json(v, scope);
    if (r.is_number()) return std::clamp<double>(r.get<double>(), 0, 86400);
    if (r.is_string()) {
      char* end = nullptr;
      std::string s(trim(r.get<std::string>()));
      double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end && *end == '\0') return std::clamp<double>(d, 0, 86400);
    }
    throw ExprEvalError(std::string(what) + " must be a number, not '" + to_display_string(r) + "'");
  }

  // One execution of the task (one loop item), with retries/until and
  // changed_when/failed_when applied.
  ItemResult run_item(HostState& h, const Play& play, const Task& t, Scope& scope) {
    ItemResult ir;
    try {
      std::string cond;
      if (!all_hold(t.when, scope, &cond)) {
        ir.when_false = true;
        ir.false_condition = cond;
        ir.out.skipped = true;
        ir.result = {{"changed", false}, {"skipped", true}, {"skip_reason", "Conditional result was False"},
                     {"false_condition", cond}};
        return ir;
      }
    } catch (const ExprEvalError& e) {
      ir.out.failed = true;
      ir.out.msg = "error while evaluating the condition (when): " + std::string(e.what());
      ir.result = make_result(ir.out, 1, false);
      return ir;
    }
    bool check = t.check_mode.value_or(m_opts.check);
    bool until_used = !t.until.empty();
    int retries = 0;
    double delay = 5;
    try {
      retries = int_value(t.retries, scope, until_used ? 3 : 0, "retries");
      delay = num_value(t.delay, scope, 5, "delay");
    } catch (const std::exception& e) {
      ir.out.failed = true;
      ir.out.msg = e.what();
      ir.result = make_result(ir.out, 1, false);
      return ir;
    }
    int max_attempts = retries + 1;
    for (int attempt = 1;; ++attempt) {
      ir.attempts = attempt;
      json args;
      try {
        args = prepare_args(t, scope);
        ir.out = run_module(h, play, t, args, scope, check);
      } catch (const std::exception& e) {
        ir.out = Outcome{};
        ir.out.failed = true;
        ir.out.msg = e.what();
      }
      ir.result = make_result(ir.out, attempt, until_used);
      if (ir.out.unreachable) return ir;
      bool until_ok = true;
      try {
        if (!t.register_var.empty()) scope.set_local(t.register_var, ir.result);
        if (!ir.out.skipped) {
          if (!t.changed_when.empty()) {
            ir.out.changed = all_hold(t.changed_when, scope, nullptr);
            ir.result["changed"] = ir.out.changed;
          }
          if (!t.failed_when.empty()) {
            ir.out.failed = all_hold(t.failed_when, scope, nullptr);
            ir.result["failed"] = ir.out.failed;
            if (ir.out.failed && ir.out.msg.empty()) ir.out.msg = "failed_when held";
            ir.result["msg"] = ir.out.msg;
          }
          if (!t.register_var.empty()) scope.set_local(t.register_var, ir.result);
          if (until_used) until_ok = all_hold(t.until, scope, nullptr);
        }
      } catch (const ExprEvalError& e) {
        ir.out.failed = true;
        ir.out.msg = std::string("error while evaluating a condition: ") + e.what();
        ir.result["failed"] = true;
        ir.result["msg"] = ir.out.msg;
        return ir;
      }
      bool again = until_used ? !until_ok : (retries > 0 && ir.out.failed);
      if (!again) break;
      if (attempt >= max_attempts) {
        if (until_used) {
          ir.out.failed = true;
          if (ir.out.msg.empty()) ir.out.msg = "retries exhausted after " + std::to_string(attempt) + " attempts";
          ir.result["failed"] = true;
          ir.result["msg"] = ir.out.msg;
        }
        break;
      }
      if (!sleep_interruptible(delay)) break;
    }
    return ir;
  }

  void record(HostState& h, TaskRecord& rec, HostTaskResult r, bool count) {
    h.ran = true;
    if (count) {
      if (r.status == "unreachable") {
        h.recap.unreachable++;
        h.unreachable = true;
      } else if (r.status == "failed") {
        if (r.ignored) h.recap.ignored++;
        else {
          h.recap.failed++;
          h.failed = true;
        }
      } else if (r.status == "skipped") {
        h.recap.skipped++;
      } else {
        h.recap.ok++;
        if (r.status == "changed") h.recap.changed++;
      }
    }
    std::lock_guard<std::mutex> lock(m_mutex);
    rec.results[h.host->name] = std::move(r);
  }

  // Runs one task (with its loop) on one host, records it, applies
  // register/facts/notify. Returns the meta action, if any.
  std::string execute(HostState& h, const Play& play, const Task& t, TaskRecord* rec) {
    auto t0 = Clock::now();
    json locals = json::object();
    Scope scope = scope_for(h, play, t.vars, &locals);
    HostTaskResult r;
    r.no_log = t.no_log;
    std::vector<ItemResult> items;
    json loop_items;
    bool loop_error = false;
    Outcome agg;
    if (!t.loop.is_null()) {
      try {
        loop_items = render_json(t.loop, scope);
        if (loop_items.is_string() && Template::is_plain(loop_items.get<std::string>()) && t.loop_flatten)
          loop_items = json::array({loop_items});
        if (!loop_items.is_array()) throw ExprEvalError("the loop is not a list: " + to_display_string(loop_items));
        if (t.loop_flatten) {
          json flat = json::array();
          for (const auto& x : loop_items) {
            if (x.is_array())
              for (const auto& y : x) flat.push_back(y);
            else
              flat.push_back(x);
          }
          loop_items = std::move(flat);
        }
      } catch (const std::exception& e) {
        loop_error = true;
        agg.failed = true;
        agg.msg = std::string("loop: ") + e.what();
      }
      if (!loop_error) {
        json results = json::array();
        std::size_t idx = 0;
        for (const auto& item : loop_items) {
          if (interrupted()) break;
          locals[t.loop_var] = item;
          locals["ansible_loop_var"] = t.loop_var;
          if (!t.index_var.empty()) locals[t.index_var] = idx;
          ItemResult ir = run_item(h, play, t, scope);
          ir.result[t.loop_var] = item;
          ir.result["ansible_loop_var"] = t.loop_var;
          results.push_back(ir.result);
          items.push_back(std::move(ir));
          ++idx;
          if (items.back().out.unreachable) break;
        }
        bool any_changed = false, any_failed = false, all_skipped = !items.empty(), any_unreachable = false;
        json item_status = json::array();
        for (const auto& ir : items) {
          any_changed |= ir.out.changed && !ir.out.failed;
          any_failed |= ir.out.failed;
          all_skipped &= ir.out.skipped;
          any_unreachable |= ir.out.unreachable;
          std::string label;
          if (!t.loop_label.empty()) {
            try {
              Scope ls = scope;
              ls.set_local(t.loop_var, ir.result[t.loop_var]);
              label = to_display_string(Template::parse(t.loop_label).render_value(ls));
            } catch (const std::exception&) {
              label = to_display_string(ir.result[t.loop_var]);
            }
          } else {
            label = to_display_string(ir.result[t.loop_var]);
          }
          std::string st = ir.out.unreachable ? "unreachable" : ir.out.failed ? "failed" : ir.out.skipped ? "skipped"
                           : ir.out.changed ? "changed" : "ok";
          json is = {{"item", label}, {"status", st}};
          if (ir.out.rc) is["rc"] = *ir.out.rc;
          if (!ir.out.msg.empty()) is["msg"] = ir.out.msg;
          item_status.push_back(is);
        }
        agg.changed = any_changed;
        agg.failed = any_failed;
        agg.skipped = all_skipped || items.empty();
        agg.unreachable = any_unreachable;
        agg.msg = any_failed ? "One or more items failed" : "All items completed";
        if (items.empty()) agg.msg = "No items in the list";
        for (const auto& ir : items) {
          if (ir.out.failed && !ir.out.msg.empty()) {
            agg.msg = ir.out.msg;
            agg.rc = ir.out.rc;
            agg.stderr_text = ir.out.stderr_text;
            break;
          }
        }
        for (const auto& ir : items)
          for (const auto& d : ir.out.diffs) agg.diffs.push_back(d);
        json reg = {{"changed", agg.changed}, {"failed", agg.failed}, {"msg", agg.msg}, {"results", results}};
        if (agg.skipped) reg["skipped"] = true;
        if (!t.register_var.empty()) h.runtime[t.register_var] = reg;
        r.items = item_status;
        if (t.module->spec().name == "debug") {
          json outs = json::array();
          for (const auto& ir : items)
            if (!ir.out.skipped) outs.push_back(ir.out.extra.contains("msg") ? ir.out.extra["msg"] : ir.out.extra);
          if (!outs.empty()) r.output = outs;
        }
        // facts from set_fact in a loop: the last item wins, as in Ansible
        for (const auto& ir : items) apply_facts(h, t, ir.out);
      }
      if (loop_error && !t.register_var.empty()) h.runtime[t.register_var] = make_result(agg, 1, false);
    } else {
      ItemResult ir = run_item(h, play, t, scope);
      agg = ir.out;
      r.attempts = ir.attempts;
      if (!t.register_var.empty()) h.runtime[t.register_var] = ir.result;
      if (!ir.out.failed && !ir.out.skipped) apply_facts(h, t, ir.out);
      if (t.module->spec().name == "debug" && !ir.out.skipped) {
        r.output = ir.out.extra.contains("msg") ? ir.out.extra["msg"] : ir.out.extra;
      }
      items.push_back(std::move(ir));
    }
    // Status and ignore_errors.
    bool ignored = false;
    if (agg.failed && !agg.unreachable) {
      json ie = t.ignore_errors;
      if (ie.is_boolean() && !ie.get<bool>() && !play.ignore_errors.is_null()) ie = play.ignore_errors;
      try {
        json v = render_json(ie, scope);
        ignored = v.is_boolean() ? v.get<bool>() : ansible_bool_text(v);
      } catch (const std::exception&) {
        ignored = false;
      }
    }
    r.status = agg.unreachable ? "unreachable" : agg.failed ? "failed" : agg.skipped ? "skipped" : agg.changed ? "changed" : "ok";
    r.ignored = ignored;
    r.rc = agg.rc;
    r.stdout_text = agg.stdout_text;
    r.stderr_text = agg.stderr_text;
    r.msg = agg.msg;
    r.diffs = agg.diffs;
    r.duration_s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::string meta = agg.failed ? "" : agg.meta;
    if (r.status == "changed") notify(h, play, t, scope);
    if (rec) record(h, *rec, std::move(r), true);
    else if (r.status == "unreachable") h.unreachable = true;
    else if (r.status == "failed" && !ignored) h.failed = true;
    if (meta == "clear_facts") {
      h.facts = json::object();
      h.facts_gathered = false;
    }
    if (meta == "end_host") h.ended = true;
    return meta;
  }

  static bool ansible_bool_text(const json& v) {
    if (!v.is_string()) return truthy(v);
    std::string s = to_lower(trim(v.get<std::string>()));
    return s == "true" || s == "yes" || s == "on" || s == "1";
  }

  void apply_facts(HostState& h, const Task& t, const Outcome& o) {
    if (o.facts.empty()) return;
    if (t.module->spec().name == "facts") {
      for (auto it = o.facts.begin(); it != o.facts.end(); ++it) h.facts[it.key()] = it.value();
      h.facts_gathered = true;
    } else {
      for (auto it = o.facts.begin(); it != o.facts.end(); ++it) h.runtime[it.key()] = it.value();
    }
  }

  void notify(HostState& h, const Play& play, const Task& t, const Scope& scope) {
    for (const auto& n : t.notify) {
      std::string name = n;
      if (!Template::is_plain(n)) {
        try {
          name = to_display_string(Template::parse(n).render_value(scope));
        } catch (const std::exception&) {
          continue;
        }
      }
      for (std::size_t i = 0; i < play.handlers.size(); ++i) {
        const Task& hd = play.handlers[i];
        if (hd.name == name || std::find(hd.listen.begin(), hd.listen.end(), name) != hd.listen.end())
          if (i < h.notified.size()) h.notified[i] = true;
      }
    }
  }

  // -- plays -----------------------------------------------------------------

  struct PlayRun {
    const Play* play = nullptr;
    PlayRecord* rec = nullptr;
    std::vector<const Task*> tasks;        // runnable (tag-selected) tasks, facts first
    std::vector<int> record_index;         // task -> index in rec->tasks (-1: not recorded)
    std::vector<int> handler_record;       // handler -> index in rec->tasks (-1: not yet)
    std::atomic<bool> abort{false};
    std::size_t batch_size = 0;
    std::atomic<std::size_t> batch_failed{0};
  };

  TaskRecord& handler_record(PlayRun& pr, std::size_t i) {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (pr.handler_record[i] < 0) {
      const Task& hd = pr.play->handlers[i];
      TaskRecord tr;
      tr.name = hd.display_name();
      tr.action = hd.action;
      tr.where = hd.where;
      tr.handler = true;
      pr.rec->tasks.push_back(tr);
      pr.handler_record[i] = static_cast<int>(pr.rec->tasks.size()) - 1;
    }
    return pr.rec->tasks[static_cast<std::size_t>(pr.handler_record[i])];
  }

  bool can_run(const HostState& h, const PlayRun& pr) const {
    return !h.dead() && !h.ended && !pr.abort.load() && !interrupted();
  }

  void after_task(HostState& h, PlayRun& pr, bool was_dead) {
    if (!was_dead && h.dead()) {
      std::size_t failed = ++pr.batch_failed;
      if (pr.play->any_errors_fatal) pr.abort = true;
      if (pr.play->max_fail_percentage && pr.batch_size > 0 &&
          100.0 * static_cast<double>(failed) / static_cast<double>(pr.batch_size) > *pr.play->max_fail_percentage)
        pr.abort = true;
    }
  }

  // Runs the notified handlers of one host, in definition order.
  void flush_host(HostState& h, PlayRun& pr) {
    for (std::size_t i = 0; i < pr.play->handlers.size(); ++i) {
      if (i >= h.notified.size() || !h.notified[i]) continue;
      h.notified[i] = false;
      if ((h.dead() && !pr.play->force_handlers) || h.unreachable || interrupted()) continue;
      TaskRecord& rec = handler_record(pr, i);
      bool was_dead = h.dead();
      execute(h, *pr.play, pr.play->handlers[i], &rec);
      after_task(h, pr, was_dead);
    }
  }

  void progress(const std::string& label, std::size_t done, std::size_t total) {
    if (!m_obs) return;
    std::lock_guard<std::mutex> lock(m_obs_mutex);
    m_obs->progress(label, done, total);
  }

  void run_task_on(HostState& h, PlayRun& pr, std::size_t ti) {
    const Task& t = *pr.tasks[ti];
    if (!can_run(h, pr)) return;
    if (t.module && t.module->spec().name == "facts" && t.implicit && h.facts_gathered) {
      // Facts are gathered once per host per run (a reboot or clear_facts resets that).
      HostTaskResult r;
      r.status = "ok";
      r.msg = "facts already gathered";
      record(h, pr.rec->tasks[static_cast<std::size_t>(pr.record_index[ti])], std::move(r), true);
      return;
    }
    bool was_dead = h.dead();
    TaskRecord* rec = pr.record_index[ti] >= 0 ? &pr.rec->tasks[static_cast<std::size_t>(pr.record_index[ti])] : nullptr;
    std::string meta = execute(h, *pr.play, t, rec);
    if (t.module && t.module->spec().name == "reboot") h.facts_gathered = false;
    after_task(h, pr, was_dead);
    if (meta == "flush_handlers" && pr.play->strategy == Strategy::free) flush_host(h, pr);
    if (meta == "end_play") pr.abort = true;
  }

  void run_batch(PlayRun& pr, const std::vector<std::string>& batch) {
    pr.batch_size = batch.size();
    pr.batch_failed = 0;
    std::vector<HostState*> hs;
    for (const auto& name : batch) {
      HostState& h = state(name);
      h.ended = false;
      h.notified.assign(pr.play->handlers.size(), false);
      hs.push_back(&h);
    }
    json play_hosts = json::array(), play_batch = json::array();
    for (const auto& n : pr.rec->hosts) play_hosts.push_back(n);
    for (const auto& n : batch) play_batch.push_back(n);
    m_play_magic = {{"ansible_play_hosts", play_hosts},
                    {"ansible_play_hosts_all", play_hosts},
                    {"play_hosts", play_batch},
                    {"ansible_play_batch", play_batch},
                    {"ansible_play_name", pr.play->name}};
    std::size_t total = hs.size() * pr.tasks.size();
    std::atomic<std::size_t> done{0};
    if (pr.play->strategy == Strategy::free) {
      parallel_for(hs.size(), m_opts.forks, [&](std::size_t i) {
        HostState& h = *hs[i];
        for (std::size_t ti = 0; ti < pr.tasks.size(); ++ti) {
          run_task_on(h, pr, ti);
          progress(pr.play->name, ++done, total);
        }
        if (!interrupted()) flush_host(h, pr);
      });
      std::lock_guard<std::mutex> lock(m_obs_mutex);
      if (m_obs)
        for (std::size_t ti = 0; ti < pr.tasks.size(); ++ti)
          if (pr.record_index[ti] >= 0) m_obs->task_finished(*pr.rec, pr.rec->tasks[static_cast<std::size_t>(pr.record_index[ti])]);
      if (m_obs)
        for (int idx : pr.handler_record)
          if (idx >= 0) m_obs->task_finished(*pr.rec, pr.rec->tasks[static_cast<std::size_t>(idx)]);
      return;
    }
    // linear
    std::vector<int> reported_handlers;
    for (std::size_t ti = 0; ti < pr.tasks.size(); ++ti) {
      if (pr.abort || interrupted()) break;
      std::vector<HostState*> active;
      for (auto* h : hs)
        if (can_run(*h, pr)) active.push_back(h);
      if (active.empty()) break;
      parallel_for(active.size(), m_opts.forks, [&](std::size_t i) {
        run_task_on(*active[i], pr, ti);
        progress(pr.tasks[ti]->display_name(), ++done, total);
      });
      if (pr.record_index[ti] >= 0 && m_obs) {
        std::lock_guard<std::mutex> lock(m_obs_mutex);
        m_obs->task_finished(*pr.rec, pr.rec->tasks[static_cast<std::size_t>(pr.record_index[ti])]);
      }
      const Task& t = *pr.tasks[ti];
      if (t.module && t.module->spec().name == "meta" && t.args.value("_raw_params", "") == "flush_handlers")
        flush_linear(pr, hs);
    }
    if (!interrupted()) flush_linear(pr, hs);
  }

  void flush_linear(PlayRun& pr, std::vector<HostState*>& hs) {
    for (std::size_t i = 0; i < pr.play->handlers.size(); ++i) {
      std::vector<HostState*> which;
      for (auto* h : hs) {
        if (i < h->notified.size() && h->notified[i]) {
          h->notified[i] = false;
          if (h->unreachable || (h->dead() && !pr.play->force_handlers)) continue;
          which.push_back(h);
        }
      }
      if (which.empty()) continue;
      TaskRecord& rec = handler_record(pr, i);
      parallel_for(which.size(), m_opts.forks, [&](std::size_t k) {
        bool was_dead = which[k]->dead();
        execute(*which[k], *pr.play, pr.play->handlers[i], &rec);
        after_task(*which[k], pr, was_dead);
      });
      if (m_obs) {
        std::lock_guard<std::mutex> lock(m_obs_mutex);
        m_obs->task_finished(*pr.rec, rec);
      }
    }
  }

  std::vector<std::vector<std::string>> batches(const Play& play, const std::vector<std::string>& hosts) {
    std::vector<std::vector<std::string>> out;
    if (play.serial.empty()) {
      out.push_back(hosts);
      return out;
    }
    std::size_t i = 0, k = 0;
    while (i < hosts.size()) {
      const std::string& spec = play.serial[std::min(k, play.serial.size() - 1)];
      std::size_t n;
      if (ends_with(spec, "%")) {
        double pct = std::strtod(spec.c_str(), nullptr);
        n = static_cast<std::size_t>(static_cast<double>(hosts.size()) * pct / 100.0);
      } else {
        n = static_cast<std::size_t>(std::strtoull(spec.c_str(), nullptr, 10));
      }
      n = std::max<std::size_t>(1, n);
      std::vector<std::string> b(hosts.begin() + static_cast<long>(i), hosts.begin() + static_cast<long>(std::min(hosts.size(), i + n)));
      out.push_back(b);
      i += n;
      ++k;
    }
    return out;
  }

  void run_play(const Play& play, std::vector<std::string> hosts) {
    m_result.plays.emplace_back();
    PlayRecord& rec = m_result.plays.back();
    rec.name = play.name;
    rec.pattern = play.hosts;
    rec.strategy = play.strategy;
    // Hosts that failed or became unreachable in an earlier play sit this one out.
    std::vector<std::string> live;
    for (const auto& h : hosts) {
      HostState& s = state(h);
      if (!s.dead()) live.push_back(h);
    }
    if (live.size() < hosts.size()) rec.notes.push_back(std::to_string(hosts.size() - live.size()) + " host(s) skipped: failed earlier");
    rec.hosts = live;
    PlayRun pr;
    pr.play = &play;
    pr.rec = &rec;
    Task facts_task;
    if (play.gather_facts) {
      facts_task.name = "Gathering Facts";
      facts_task.action = "gather_facts";
      facts_task.module = find_module("facts");
      facts_task.implicit = true;
      facts_task.where = play.where;
      pr.tasks.push_back(&facts_task);
    }
    for (const auto& t : play.tasks) {
      std::vector<std::string> tags = t.tags;
      tags.insert(tags.end(), play.tags.begin(), play.tags.end());
      bool is_meta = t.module && t.module->spec().name == "meta";
      if (!is_meta && !tag_selected(tags, m_opts)) continue;
      pr.tasks.push_back(&t);
    }
    for (const Task* t : pr.tasks) {
      bool is_meta = t->module && t->module->spec().name == "meta";
      if (is_meta) {
        pr.record_index.push_back(-1);
        continue;
      }
      TaskRecord tr;
      tr.name = t->display_name();
      tr.action = t->action;
      tr.where = t->where;
      rec.tasks.push_back(tr);
      pr.record_index.push_back(static_cast<int>(rec.tasks.size()) - 1);
    }
    rec.tasks.reserve(rec.tasks.size() + play.handlers.size());  // handler records must not move the others
    pr.handler_record.assign(play.handlers.size(), -1);
    if (m_obs) {
      std::lock_guard<std::mutex> lock(m_obs_mutex);
      m_obs->play_started(rec);
    }
    if (live.empty()) {
      rec.notes.push_back("no hosts matched '" + play.hosts + "'");
      return;
    }
    for (const auto& b : batches(play, live)) {
      if (interrupted()) break;
      if (pr.abort) {
        rec.notes.push_back("play aborted (any_errors_fatal or max_fail_percentage): " + std::to_string(b.size()) + " host(s) not started");
        continue;
      }
      run_batch(pr, b);
      bool all_dead = std::all_of(b.begin(), b.end(), [&](const std::string& n) { return state(n).dead(); });
      if (all_dead && !play.serial.empty()) {
        pr.abort = true;
      }
    }
    if (pr.abort && !play.any_errors_fatal && !play.max_fail_percentage && play.serial.size() > 0)
      rec.notes.push_back("every host of a serial batch failed: the remaining batches were not started");
  }

  const Playbook& m_pb;
  const std::vector<RunHost>& m_hosts;
  const HostSelector& m_selector;
  TransportFactory& m_factory;
  RunOptions m_opts;
  RunObserver* m_obs;
  PlaybookFiles m_files;
  json m_global;
  json m_play_magic = json::object();
  std::mutex m_mutex;
  std::mutex m_obs_mutex;
  std::mutex m_transport_mutex;
  std::map<std::string, HostState> m_states;
  std::map<std::string, std::unique_ptr<HostTransport>> m_transports;
  RunResult m_result;
};

}  // namespace

RunResult run_playbook(const Playbook& playbook, const std::vector<RunHost>& hosts, const HostSelector& selector,
                       TransportFactory& transports, const RunOptions& options, RunObserver* observer) {
  Runner r(playbook, hosts, selector, transports, options, observer);
  return r.run();
}

}  // namespace aicloud::provision
