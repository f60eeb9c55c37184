// Command modules: command, shell, raw (run something; `changed` unless
// creates/removes say it is already done), wait_for (a node-side loop
// until a port, a file or a command is ready) and reboot (tell the node to
// reboot, wait for it through the transport, check that it really booted
// again and still presents the same host key).
//
// command runs its argv with every word quoted (no shell features, as in
// Ansible); shell runs its text with /bin/sh -c. The creates/removes test
// and chdir happen in the same script, so a skipped command costs one round
// trip and the decision is the node's. The only lines this code adds to the
// command's stdout are marker lines carrying a per-run nonce, printed
// before the command starts.
#include <algorithm>
#include <cmath>

#include "common/strings.hpp"
#include "provision/module_util.hpp"
#include "provision/shell.hpp"

namespace aicloud::provision::detail {

namespace {

std::string rstrip_newlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// command, shell and raw share everything but how the command is run.
class CommandModule : public BasicModule {
 public:
  enum class Kind { command, shell, raw };

  explicit CommandModule(Kind kind) : BasicModule(make_spec(kind)), m_kind(kind) {}

  Next start(const ModuleCall& call) const override {
    const Args& a = call.args;
    std::string marker = "@@aicloud:" + call.nonce;
    std::string s = "CHECK=" + std::string(call.check ? "1" : "0") + "\n";
    std::string run;
    if (m_kind == Kind::command) {
      std::vector<std::string> argv;
      if (a.has("argv")) {
        argv = a.list("argv");
      } else {
        std::string line = a.has("cmd") ? a.str("cmd") : a.str("_raw_params");
        auto words = shlex_split(line);
        if (!words) throw ExprEvalError("the command line has an unclosed quote: " + line);
        argv = *words;
      }
      if (argv.empty()) throw ExprEvalError("no command given");
      run = "exec " + shell_join(argv) + "\n";
    } else {
      std::string text = a.has("cmd") ? a.str("cmd") : a.str("_raw_params");
      if (trim(text).empty()) throw ExprEvalError("no command given");
      std::string exe = a.str("executable", "/bin/sh");
      run = "exec " + q(exe) + " -c " + q(text) + "\n";
    }
    if (m_kind != Kind::raw) {
      s += sh_var("creates", a.str("creates")) + sh_var("removes", a.str("removes")) + sh_var("chdir", a.str("chdir")) +
           sh_var("m", marker);
      s += R"SH(aic_exists() {
  _p=$1; _ifs=$IFS; IFS=''; set +f
  for _f in $_p; do if [ -e "$_f" ] || [ -L "$_f" ]; then IFS=$_ifs; return 0; fi; done
  IFS=$_ifs; return 1
}
if [ -n "$creates" ] && aic_exists "$creates"; then printf '%s:skip:creates\n' "$m"; exit 0; fi
if [ -n "$removes" ] && ! aic_exists "$removes"; then printf '%s:skip:removes\n' "$m"; exit 0; fi
if [ -n "$chdir" ]; then cd -- "$chdir" 2>/dev/null || { printf '%s:chdir\n' "$m"; exit 1; }; fi
if [ "$CHECK" = 1 ]; then printf '%s:check\n' "$m"; exit 0; fi
)SH";
    } else {
      s += sh_var("m", marker);
      s += "if [ \"$CHECK\" = 1 ]; then printf '%s:check\\n' \"$m\"; exit 0; fi\n";
    }
    s += run;
    Step st;
    st.script = s;
    if (a.has("stdin")) {
      st.stdin_data = a.str("stdin");
      if (a.boolean("stdin_add_newline", true)) st.stdin_data += "\n";
    }
    return Next::run(st);
  }

  Next resume(const ModuleCall& call, const std::vector<ExecResult>& done) const override {
    const ExecResult& r = done.back();
    Outcome out;
    const Args& a = call.args;
    json cmd = a.has("argv") ? a.raw("argv") : json(a.has("cmd") ? a.str("cmd") : a.str("_raw_params"));
    out.extra["cmd"] = cmd;
    if (step_failed(r, out)) {
      out.rc = r.exited ? std::optional<int>(r.exit_code) : std::nullopt;
      return Next::done(out);
    }
    std::string marker = "@@aicloud:" + call.nonce + ":";
    if (starts_with(r.stdout_text, marker)) {
      std::string what = rstrip_newlines(r.stdout_text.substr(marker.size()));
      std::string shoulda = call.check ? "Would" : "Did";
      out.rc = 0;
      if (what == "skip:creates") {
        out.msg = shoulda + " not run command since '" + a.str("creates") + "' exists";
        out.stdout_text = "skipped, since " + a.str("creates") + " exists";
      } else if (what == "skip:removes") {
        out.msg = shoulda + " not run command since '" + a.str("removes") + "' does not exist";
        out.stdout_text = "skipped, since " + a.str("removes") + " does not exist";
      } else if (what == "chdir") {
        out.failed = true;
        out.rc.reset();
        out.msg = "Unable to change directory before execution: " + a.str("chdir");
      } else if (what == "check") {
        // Ansible: with creates/removes the command "would run" (changed);
        // without them check mode cannot tell, so the task is skipped.
        out.msg = "Command would have run if not in check mode";
        if (a.has("creates") || a.has("removes"))
          out.changed = true;
        else
          out.skipped = true;
      }
      return Next::done(out);
    }
    out.rc = r.exit_code;
    bool strip = a.boolean("strip_empty_ends", true);
    out.stdout_text = strip ? rstrip_newlines(r.stdout_text) : r.stdout_text;
    out.stderr_text = strip ? rstrip_newlines(r.stderr_text) : r.stderr_text;
    out.changed = true;
    out.extra["delta_s"] = r.duration_s;
    if (r.exit_code != 0) {
      out.failed = true;
      out.msg = r.exit_code == 127 && m_kind == Kind::command ? "command not found (exit 127)" : "non-zero return code";
    }
    return Next::done(out);
  }

 private:
  static ModuleSpec make_spec(Kind kind) {
    ModuleSpec s;
    s.free_form = true;
    if (kind == Kind::raw) {
      s.name = "raw";
      s.aliases = {"ansible.builtin.raw", "ansible.legacy.raw"};
      s.summary = "Run a command line with /bin/sh, no creates/removes";
      s.args = {{"_raw_params", ArgType::str, true}, {"executable", ArgType::path}};
      return s;
    }
    s.args = {{"_raw_params", ArgType::str},
              {"cmd", ArgType::str},
              {"creates", ArgType::path},
              {"removes", ArgType::path},
              {"chdir", ArgType::path},
              {"stdin", ArgType::str},
              {"stdin_add_newline", ArgType::boolean, false, {}, {}, true},
              {"strip_empty_ends", ArgType::boolean, false, {}, {}, true}};
    if (kind == Kind::command) {
      s.name = "command";
      s.aliases = {"ansible.builtin.command", "ansible.legacy.command"};
      s.summary = "Run a program with arguments (no shell); changed unless creates/removes say it is done";
      s.args.push_back({"argv", ArgType::list});
      s.required_one_of = {{"_raw_params", "cmd", "argv"}};
      s.mutually_exclusive = {{"_raw_params", "argv"}, {"cmd", "argv"}};
    } else {
      s.name = "shell";
      s.aliases = {"ansible.builtin.shell", "ansible.legacy.shell"};
      s.summary = "Run a command line with /bin/sh; changed unless creates/removes say it is done";
      s.args.push_back({"executable", ArgType::path});
      s.required_one_of = {{"_raw_params", "cmd"}};
    }
    return s;
  }

  Kind m_kind;
};

bool is_local_host(const std::string& h) {
  return h.empty() || h == "127.0.0.1" || h == "localhost" || h == "::1" || h == "0.0.0.0" || h == "::";
}

class WaitForModule : public BasicModule {
 public:
  WaitForModule() : BasicModule(make_spec()) {}

  Next start(const ModuleCall& call) const override {
    const Args& a = call.args;
    if (call.check) {
      // As Ansible: waiting is not simulated (what it waits for may be
      // what earlier tasks would have done).
      Outcome out;
      out.skipped = true;
      out.msg = "skipped in check mode (wait_for does not wait for what earlier tasks did not do)";
      return Next::done(out);
    }
    std::string host = a.str("host", "127.0.0.1");
    std::string state = a.str("state", "started");
    double timeout = a.number("timeout", 300), delay = a.number("delay", 0), sleep_s = a.number("sleep", 1);
    std::string regex;
    if (a.has("search_regex")) {
      std::string why;
      auto t = python_regex_to_ere(a.str("search_regex"), &why);
      if (!t) throw ExprEvalError("search_regex: " + why);
      regex = t->ere;
    }
    std::string what, cond;
    if (a.has("port")) {
      what = host + ":" + std::to_string(a.integer("port"));
      cond = state == "stopped" ? "! aic_port_open" : "aic_port_open";
    } else if (a.has("path")) {
      what = "file " + a.str("path");
      if (state == "absent" || state == "stopped")
        cond = "! { [ -e \"$path\" ] || [ -L \"$path\" ]; }";
      else if (!regex.empty())
        cond = "{ [ -r \"$path\" ] && grep -E -q -e \"$regex\" -- \"$path\"; }";
      else
        cond = "{ [ -e \"$path\" ]; }";
    } else if (a.has("cmd")) {
      what = "command " + a.str("cmd");
      cond = "{ sh -c \"$cmd\" >/dev/null 2>&1 </dev/null; }";
    } else {
      what = std::to_string(static_cast<long>(timeout)) + " seconds";
      cond = "false";
    }
    std::string msg = a.has("msg") ? a.str("msg") : "Timeout when waiting for " + what;
    std::string s = script_prelude(false);
    s += sh_var("host", host) + sh_var("port", a.has("port") ? std::to_string(a.integer("port")) : "") +
         sh_var("path", a.str("path")) + sh_var("regex", regex) + sh_var("cmd", a.str("cmd")) + sh_var("msg", msg);
    char nums[160];
    std::snprintf(nums, sizeof nums, "timeout=%ld delay=%ld pause=%g local=%d sleeponly=%d\n", static_cast<long>(timeout),
                  static_cast<long>(delay), std::max(0.1, sleep_s), is_local_host(host) ? 1 : 0,
                  (!a.has("port") && !a.has("path") && !a.has("cmd")) ? 1 : 0);
    s += nums;
    s += R"SH(aic_port_open() {
  if [ "$local" = 1 ]; then
    hex=$(printf '%04X' "$port")
    for f in /proc/net/tcp /proc/net/tcp6; do
      [ -r "$f" ] && awk -v h=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == h { found = 1 } END { exit !found }' "$f" && return 0
    done
    return 1
  fi
  if command -v nc >/dev/null 2>&1; then nc -z -w 2 "$host" "$port" >/dev/null 2>&1; return $?; fi
  if command -v bash >/dev/null 2>&1; then timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" >/dev/null 2>&1; return $?; fi
  aic_fail "waiting for a port on another host needs nc or bash on the node"
}
[ "$delay" -gt 0 ] && sleep "$delay"
start=$(date +%s)
if [ "$sleeponly" = 1 ]; then sleep "$timeout"; aic_out elapsed "$timeout"; aic_out changed 0; exit 0; fi
while :; do
)SH";
    s += "  if " + cond + "; then aic_out elapsed $(( $(date +%s) - start )); aic_out changed 0; exit 0; fi\n";
    s += R"SH(  if [ $(( $(date +%s) - start )) -ge "$timeout" ]; then aic_out elapsed $(( $(date +%s) - start )); aic_fail "$msg"; fi
  sleep "$pause"
done
)SH";
    Step st;
    st.script = s;
    st.timeout_s = timeout + delay + 60;
    return Next::run(st);
  }

  Next resume(const ModuleCall&, const std::vector<ExecResult>& done) const override {
    Outcome out = outcome_from_report(done.back());
    auto rep = parse_report(done.back().stdout_text);
    if (rep.count("elapsed")) out.extra["elapsed"] = std::atol(rep["elapsed"].c_str());
    out.changed = false;
    return Next::done(out);
  }

 private:
  static ModuleSpec make_spec() {
    ModuleSpec s;
    s.name = "wait_for";
    s.aliases = {"ansible.builtin.wait_for", "ansible.legacy.wait_for"};
    s.summary = "Wait on the node until a port opens or closes, a file appears, or a command succeeds";
    s.args = {{"host", ArgType::str, false, {}, {}, "127.0.0.1"},
              {"port", ArgType::integer},
              {"path", ArgType::path},
              {"cmd", ArgType::str},
              {"state", ArgType::str, false, {}, {"absent", "present", "started", "stopped"}, "started"},
              {"timeout", ArgType::number, false, {}, {}, 300},
              {"delay", ArgType::number, false, {}, {}, 0},
              {"sleep", ArgType::number, false, {}, {}, 1},
              {"connect_timeout", ArgType::number},
              {"search_regex", ArgType::str},
              {"msg", ArgType::str}};
    s.mutually_exclusive = {{"port", "path", "cmd"}};
    s.check = [](const json& args, std::vector<std::pair<std::string, std::string>>& problems) {
      if (args.contains("search_regex") && !args.contains("path"))
        problems.emplace_back("search_regex", "search_regex works with path (reading from a port is not supported)");
    };
    return s;
  }
};

class RebootModule : public BasicModule {
 public:
  RebootModule() : BasicModule(make_spec()) {}

  Next start(const ModuleCall& call) const override {
    Outcome out;
    if (call.check) {
      out.changed = true;
      out.msg = "the node would be rebooted";
      out.extra["rebooted"] = false;
      return Next::done(out);
    }
    const Args& a = call.args;
    std::string s = script_prelude(false);
    s += sh_var("btc", a.str("boot_time_command", "cat /proc/sys/kernel/random/boot_id")) +
         sh_var("rcmd", a.str("reboot_command", "systemctl reboot || shutdown -r now || reboot"));
    s += "wait=" + std::to_string(std::max<std::int64_t>(1, a.integer("pre_reboot_delay", 0))) + "\n";
    s += R"SH(bid=$(sh -c "$btc" 2>/dev/null) || aic_fail "cannot read the boot id: $btc"
[ -n "$bid" ] || aic_fail "the boot id is empty: $btc"
aic_out boot_id "$bid"
nohup sh -c "sleep $wait; $rcmd" >/dev/null 2>&1 </dev/null &
aic_out changed 1
)SH";
    Step st;
    st.script = s;
    st.timeout_s = 60;
    return Next::run(st);
  }

  Next resume(const ModuleCall& call, const std::vector<ExecResult>& done) const override {
    const Args& a = call.args;
    double limit = a.number("reboot_timeout", 600);
    double spent = 0;
    for (const auto& d : done) spent += d.duration_s;
    const ExecResult& last = done.back();
    Outcome out;
    out.extra["rebooted"] = false;
    if (done.size() == 1) {
      out = outcome_from_report(last);
      if (out.failed) return Next::done(out);
      return Next::run(reconnect_step(a, limit));
    }
    std::string old_bid = parse_report(done.front().stdout_text)["boot_id"];
    if (done.size() % 2 == 0) {
      // After a reconnect: the node is back (or not).
      if (!last.exited && !last.ok()) {
        if (last.unreachable || !last.error.empty()) {
          out.failed = true;
          out.msg = last.unreachable ? "the node did not come back within " + std::to_string(static_cast<long>(limit)) +
                                           " s after the reboot: " + last.error
                                     : last.error;
          return Next::done(out);
        }
      }
      if (!call.host_key_sha256.empty() && !last.host_key_sha256.empty() && last.host_key_sha256 != call.host_key_sha256) {
        out.failed = true;
        out.msg = "the host key changed across the reboot (was " + call.host_key_sha256 + ", now " + last.host_key_sha256 +
                  "): refusing to trust the node";
        out.extra["host_key_before"] = call.host_key_sha256;
        out.extra["host_key_after"] = last.host_key_sha256;
        return Next::done(out);
      }
      std::string s = script_prelude(false);
      s += sh_var("btc", a.str("boot_time_command", "cat /proc/sys/kernel/random/boot_id")) + sh_var("old", old_bid) +
           sh_var("tcmd", a.str("test_command", "whoami"));
      s += "post=" + std::to_string(std::max<std::int64_t>(0, a.integer("post_reboot_delay", 0))) + "\n";
      s += R"SH(bid=$(sh -c "$btc" 2>/dev/null)
aic_out boot_id "$bid"
if [ -z "$bid" ] || [ "$bid" = "$old" ]; then aic_out same 1; exit 0; fi
[ "$post" -gt 0 ] && sleep "$post"
out=$(sh -c "$tcmd" 2>&1); rc=$?
aic_out test_rc "$rc"
[ "$rc" = 0 ] || aic_fail "the test command failed after the reboot ($tcmd, exit $rc): $out"
aic_out changed 1
)SH";
      Step st;
      st.script = s;
      st.timeout_s = 120 + static_cast<double>(a.integer("post_reboot_delay", 0));
      return Next::run(st);
    }
    // After the post-reboot check.
    out = outcome_from_report(last);
    if (out.failed) return Next::done(out);
    auto rep = parse_report(last.stdout_text);
    if (rep["same"] == "1") {
      if (spent >= limit) {
        out.failed = true;
        out.changed = false;
        out.msg = "the node did not reboot within " + std::to_string(static_cast<long>(limit)) + " s (boot id unchanged)";
        return Next::done(out);
      }
      return Next::run(reconnect_step(a, limit - spent));  // not down yet: wait again
    }
    out.changed = true;
    out.extra["rebooted"] = true;
    out.extra["elapsed"] = static_cast<long>(std::lround(spent));
    out.msg = "rebooted";
    return Next::done(out);
  }

 private:
  static Step reconnect_step(const Args& a, double left) {
    Step st;
    st.reconnect = true;
    st.reconnect_timeout_s = std::max(1.0, left);
    st.connect_timeout_s = a.number("connect_timeout", 10);
    return st;
  }

  static ModuleSpec make_spec() {
    ModuleSpec s;
    s.name = "reboot";
    s.aliases = {"ansible.builtin.reboot", "ansible.legacy.reboot"};
    s.summary = "Reboot the node, wait until it is back, check boot id, host key and a test command";
    s.args = {{"reboot_timeout", ArgType::number, false, {}, {}, 600},
              {"connect_timeout", ArgType::number},
              {"pre_reboot_delay", ArgType::integer, false, {}, {}, 0},
              {"post_reboot_delay", ArgType::integer, false, {}, {}, 0},
              {"test_command", ArgType::str, false, {}, {}, "whoami"},
              {"reboot_command", ArgType::str},
              {"boot_time_command", ArgType::str},
              {"msg", ArgType::str},
              {"search_paths", ArgType::list}};
    return s;
  }
};

}  // namespace

std::vector<std::unique_ptr<Module>> make_command_modules() {
  std::vector<std::unique_ptr<Module>> out;
  out.push_back(std::make_unique<CommandModule>(CommandModule::Kind::command));
  out.push_back(std::make_unique<CommandModule>(CommandModule::Kind::shell));
  out.push_back(std::make_unique<CommandModule>(CommandModule::Kind::raw));
  out.push_back(std::make_unique<WaitForModule>());
  out.push_back(std::make_unique<RebootModule>());
  return out;
}

}  // namespace aicloud::provision::detail
