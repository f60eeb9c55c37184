// System modules: package (apt and dnf/yum, by name and version, hold),
// service (systemd), sysctl (run time and persisted) and kernel_module
// (modprobe, modules-load.d, blacklist). Each probes with the node's own
// tools (dpkg-query, rpm, systemctl is-active, /proc/sys, /proc/modules)
// and runs the change command only when something differs. In check mode
// the command that would run is reported (would_run=...) and not run.
//
// Paths that tests need to redirect (/proc/sys, /etc/sysctl.d, /proc/modules,
// /etc/modules-load.d, /etc/modprobe.d) are internal arguments starting
// with '_' and are not part of the documented interface.
#include <algorithm>
#include <cctype>

#include "common/strings.hpp"
#include "provision/module_util.hpp"
#include "provision/shell.hpp"
#include "provision/template.hpp"

namespace aicloud::provision::detail {

namespace {

// Package specs go into the apt/dnf command line as separate words; only
// characters that package names and versions use are allowed.
bool valid_package_spec(const std::string& s) {
  if (s.empty() || s[0] == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("._+:~*=@-").find(c) != std::string_view::npos;
  });
}

class PackageModule : public BasicModule {
 public:
  PackageModule(std::string manager, ModuleSpec spec) : BasicModule(std::move(spec)), m_manager(std::move(manager)) {}

  Next start(const ModuleCall& call) const override {
    const Args& a = call.args;
    std::vector<std::string> names = a.list("name");
    for (const auto& n : names)
      if (!valid_package_spec(n)) throw ExprEvalError("invalid package name '" + n + "'");
    std::string mgr = m_manager == "auto" ? a.str("use", "auto") : m_manager;
    if (mgr == "yum") mgr = "dnf";
    std::string state = a.str("state", "present");
    if (state == "installed") state = "present";
    if (state == "removed") state = "absent";
    std::string s = script_prelude(call.check);
    s += sh_var("mgr", mgr) + sh_var("state", state);
    s += "upd=" + std::string(a.boolean("update_cache") ? "1" : "0") +
         " cvt=" + std::to_string(std::max<std::int64_t>(0, a.integer("cache_valid_time", 0))) +
         " purge=" + (a.boolean("purge") ? "1" : "0") + " dg=" + (a.boolean("allow_downgrade") ? "1" : "0") + "\n";
    s += sh_var("hold", a.has("hold") ? (a.boolean("hold") ? "1" : "0") : "");
    s += sh_var("rec", a.has("install_recommends") ? (a.boolean("install_recommends") ? "1" : "0") : "");
    s += "set -f\nset --";
    for (const auto& n : names) s += " " + q(n);
    s += "\n";
    s += R"SH(if [ "$mgr" = auto ]; then
  if command -v apt-get >/dev/null 2>&1; then mgr=apt
  elif command -v dnf >/dev/null 2>&1; then mgr=dnf
  elif command -v yum >/dev/null 2>&1; then mgr=yum
  else aic_fail "no supported package manager (apt-get, dnf, yum) on the node"; fi
fi
[ "$mgr" = dnf ] && ! command -v dnf >/dev/null 2>&1 && command -v yum >/dev/null 2>&1 && mgr=yum
aic_out manager "$mgr"
aic_run() {
  aic_out would_run "$*"
  [ "$CHECK" = 1 ] && return 0
  if [ "$mgr" = apt ]; then _o=$(DEBIAN_FRONTEND=noninteractive "$@" 2>&1); else _o=$("$@" 2>&1); fi || aic_fail "$* failed: $(printf '%s' "$_o" | tail -n 5)"
}
if [ "$upd" = 1 ] && [ "$CHECK" != 1 ]; then
  fresh=0
  if [ "$mgr" = apt ] && [ "$cvt" -gt 0 ]; then
    for f in /var/lib/apt/periodic/update-success-stamp /var/lib/apt/lists/partial; do
      if [ -e "$f" ] && [ $(( $(date +%s) - $(stat -c %Y -- "$f") )) -lt "$cvt" ]; then fresh=1; break; fi
    done
  fi
  if [ "$fresh" = 0 ]; then
    if [ "$mgr" = apt ]; then _o=$(apt-get update -q 2>&1) || aic_fail "apt-get update failed: $(printf '%s' "$_o" | tail -n 5)"
    else _o=$($mgr -q makecache 2>&1) || aic_fail "$mgr makecache failed: $(printf '%s' "$_o" | tail -n 5)"; fi
    aic_out cache_updated 1
  fi
fi
inst=; upg=; rm=; hold_add=; hold_del=
for p in "$@"; do
  if [ "$mgr" = apt ]; then
    name=${p%%=*}; want=; case $p in *=*) want=${p#*=};; esac
    st=$(dpkg-query -W -f='${db:Status-Abbrev}|${Version}' -- "$name" 2>/dev/null)
    cur=; case $st in ii*) cur=${st#*|};; esac
    case $state in
      present) if [ -z "$cur" ]; then inst="$inst $p"; elif [ -n "$want" ]; then case $cur in $want) ;; *) inst="$inst $p";; esac; fi;;
      latest) if [ -z "$cur" ]; then inst="$inst $p"; else
          cand=$(apt-cache policy -- "$name" 2>/dev/null | awk '/Candidate:/ { print $2; exit }')
          if [ -n "$cand" ] && [ "$cand" != "(none)" ] && [ "$cand" != "$cur" ]; then inst="$inst $name"; fi; fi;;
      absent) [ -n "$cur" ] && rm="$rm $name";;
    esac
    if [ -n "$hold" ] && { [ -n "$cur" ] || [ "$state" != absent ]; }; then
      held=0; apt-mark showhold 2>/dev/null | grep -qx -- "$name" && held=1
      [ "$hold" = 1 ] && [ "$held" = 0 ] && [ "$state" != absent ] && hold_add="$hold_add $name"
      [ "$hold" = 0 ] && [ "$held" = 1 ] && hold_del="$hold_del $name"
    fi
  else
    name=$p
    cur=; rpm -q --quiet -- "$p" 2>/dev/null && cur=$(rpm -q --qf '%{VERSION}-%{RELEASE}' -- "$p" 2>/dev/null | head -n 1)
    case $state in
      present) [ -z "$cur" ] && inst="$inst $p";;
      latest) if [ -z "$cur" ]; then inst="$inst $p"; else $mgr -q check-update -- "$p" >/dev/null 2>&1; [ $? = 100 ] && upg="$upg $p"; fi;;
      absent) [ -n "$cur" ] && rm="$rm $p";;
    esac
    if [ -n "$hold" ]; then
      held=0; $mgr -q versionlock list 2>/dev/null | grep -q -- "^[0-9]*:*$p-[0-9]" && held=1
      [ "$hold" = 1 ] && [ "$held" = 0 ] && [ "$state" != absent ] && hold_add="$hold_add $p"
      [ "$hold" = 0 ] && [ "$held" = 1 ] && hold_del="$hold_del $p"
    fi
  fi
  aic_out "installed.$name" "${cur:-absent}"
done
if [ -n "$inst$upg$rm$hold_add$hold_del" ]; then aic_changed=1; fi
if [ "$mgr" = apt ]; then
  [ -n "$hold_del" ] && aic_run apt-mark unhold $hold_del
  opts="-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold --allow-change-held-packages"
  [ "$rec" = 1 ] && opts="$opts --install-recommends"
  [ "$rec" = 0 ] && opts="$opts --no-install-recommends"
  [ "$dg" = 1 ] && opts="$opts --allow-downgrades"
  [ -n "$inst" ] && aic_run apt-get $opts install $inst
  if [ -n "$rm" ]; then if [ "$purge" = 1 ]; then aic_run apt-get -y -q purge $rm; else aic_run apt-get -y -q remove $rm; fi; fi
  [ -n "$hold_add" ] && aic_run apt-mark hold $hold_add
else
  [ -n "$hold_del" ] && aic_run $mgr -y -q versionlock delete $hold_del
  [ -n "$inst" ] && aic_run $mgr -y -q install $inst
  [ -n "$upg" ] && aic_run $mgr -y -q upgrade $upg
  [ -n "$rm" ] && aic_run $mgr -y -q remove $rm
  [ -n "$hold_add" ] && aic_run $mgr -y -q versionlock add $hold_add
fi
aic_out changed "$aic_changed"
)SH";
    Step st;
    st.script = s;
    st.timeout_s = a.number("timeout_s", 1800);
    return Next::run(st);
  }

  Next resume(const ModuleCall&, const std::vector<ExecResult>& done) const override {
    Outcome out = outcome_from_report(done.back());
    auto rep = parse_report(done.back().stdout_text);
    out.extra["manager"] = rep["manager"];
    json installed = json::object();
    std::vector<std::string> ran;
    std::size_t start = 0;
    const std::string& text = done.back().stdout_text;
    while (start < text.size()) {
      auto nl = text.find('\n', start);
      std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      if (starts_with(line, "would_run=")) ran.push_back(line.substr(10));
      if (starts_with(line, "installed.")) {
        auto eq = line.find('=');
        if (eq != std::string::npos) installed[line.substr(10, eq - 10)] = line.substr(eq + 1);
      }
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    out.extra["installed_before"] = installed;
    out.extra["commands"] = ran;
    if (rep.count("cache_updated")) out.extra["cache_updated"] = true;
    if (!out.failed && out.msg.empty() && !ran.empty()) out.msg = join(ran, "; ");
    return Next::done(out);
  }

 private:
  std::string m_manager;
};

ModuleSpec package_spec(const std::string& name, std::vector<std::string> aliases, const std::string& manager) {
  ModuleSpec s;
  s.name = name;
  s.aliases = std::move(aliases);
  s.summary = "Install, upgrade, remove and hold packages with " + (manager == "auto" ? std::string("apt or dnf") : manager);
  s.args = {{"name", ArgType::list, true, {"pkg", "package"}},
            {"state", ArgType::str, false, {}, {"absent", "installed", "latest", "present", "removed"}, "present"},
            {"update_cache", ArgType::boolean, false, {"update-cache"}, {}, false},
            {"hold", ArgType::boolean},
            {"allow_downgrade", ArgType::boolean, false, {"allow-downgrade", "allow_downgrades", "allow-downgrades"}, {}, false}};
  if (manager == "auto") s.args.push_back({"use", ArgType::str, false, {}, {"apt", "auto", "dnf", "yum"}, "auto"});
  if (manager == "apt" || manager == "auto") {
    s.args.push_back({"cache_valid_time", ArgType::integer});
    s.args.push_back({"install_recommends", ArgType::boolean, false, {"install-recommends"}});
    s.args.push_back({"purge", ArgType::boolean, false, {}, {}, false});
  }
  s.check = [](const json& args, std::vector<std::pair<std::string, std::string>>& problems) {
    if (!args.contains("name")) return;
    json names = args["name"];
    if (names.is_string()) names = json::array({names});
    if (!names.is_array()) return;
    for (const auto& n : names) {
      if (!n.is_string()) continue;
      std::string v = n.get<std::string>();
      if (!Template::is_plain(v)) continue;
      for (const auto& part : split(v, ',', false)) {
        std::string t(trim(part));
        if (!t.empty() && !valid_package_spec(t)) problems.emplace_back("name", "invalid package name '" + t + "'");
      }
    }
  };
  return s;
}

class ServiceModule : public BasicModule {
 public:
  ServiceModule() : BasicModule(make_spec()) {}

  Next start(const ModuleCall& call) const override {
    const Args& a = call.args;
    std::string s = script_prelude(call.check);
    s += sh_var("name", a.str("name")) + sh_var("state", a.str("state")) +
         sh_var("enabled", a.has("enabled") ? (a.boolean("enabled") ? "1" : "0") : "") +
         sh_var("masked", a.has("masked") ? (a.boolean("masked") ? "1" : "0") : "");
    s += "dr=" + std::string(a.boolean("daemon_reload") ? "1" : "0") + "\n";
    s += R"SH(command -v systemctl >/dev/null 2>&1 || aic_fail "systemctl not found: the service module needs systemd on the node"
aic_sys() {
  aic_out would_run "systemctl $*"
  [ "$CHECK" = 1 ] && return 0
  _o=$(systemctl "$@" 2>&1) || aic_fail "systemctl $* failed: $_o"
}
if [ "$dr" = 1 ] && [ "$CHECK" != 1 ]; then systemctl daemon-reload || aic_fail "systemctl daemon-reload failed"; fi
en=$(systemctl is-enabled -- "$name" 2>/dev/null)
act=$(systemctl is-active -- "$name" 2>/dev/null)
if [ -z "$en" ] && ! systemctl cat -- "$name" >/dev/null 2>&1; then aic_fail "Could not find the requested service $name"; fi
aic_out enabled_before "$en"
aic_out active_before "$act"
if [ "$masked" = 1 ] && [ "$en" != masked ] && [ "$en" != masked-runtime ]; then aic_changed=1; aic_sys mask -- "$name"; fi
if [ "$masked" = 0 ] && { [ "$en" = masked ] || [ "$en" = masked-runtime ]; }; then aic_changed=1; aic_sys unmask -- "$name"; fi
if [ -n "$enabled" ]; then
  case $en in enabled|enabled-runtime|static|alias|indirect|generated) is_en=1;; *) is_en=0;; esac
  if [ "$enabled" = 1 ] && [ "$is_en" = 0 ]; then aic_changed=1; aic_sys enable -- "$name"; fi
  if [ "$enabled" = 0 ] && { [ "$en" = enabled ] || [ "$en" = enabled-runtime ]; }; then aic_changed=1; aic_sys disable -- "$name"; fi
fi
case $act in active|activating|reloading) running=1;; *) running=0;; esac
case $state in
  started) [ "$running" = 1 ] || { aic_changed=1; aic_sys start -- "$name"; };;
  stopped) [ "$running" = 0 ] || { aic_changed=1; aic_sys stop -- "$name"; };;
  restarted) aic_changed=1; aic_sys restart -- "$name";;
  reloaded) aic_changed=1; if [ "$running" = 1 ]; then aic_sys reload -- "$name"; else aic_sys start -- "$name"; fi;;
esac
aic_out changed "$aic_changed"
)SH";
    Step st;
    st.script = s;
    st.timeout_s = 600;
    return Next::run(st);
  }

  Next resume(const ModuleCall& call, const std::vector<ExecResult>& done) const override {
    Outcome out = outcome_from_report(done.back());
    auto rep = parse_report(done.back().stdout_text);
    out.extra["name"] = call.args.str("name");
    out.extra["status"] = {{"ActiveState", rep["active_before"]}, {"UnitFileState", rep["enabled_before"]}};
    if (call.args.has("state")) out.extra["state"] = call.args.str("state");
    if (call.args.has("enabled")) out.extra["enabled"] = call.args.boolean("enabled");
    return Next::done(out);
  }

 private:
  static ModuleSpec make_spec() {
    ModuleSpec s;
    s.name = "service";
    s.aliases = {"ansible.builtin.service", "ansible.legacy.service", "systemd", "ansible.builtin.systemd",
                 "systemd_service", "ansible.builtin.systemd_service"};
    s.summary = "Start, stop, restart, reload, enable, disable and mask systemd units";
    s.args = {{"name", ArgType::str, false, {"service", "unit"}},
              {"state", ArgType::str, false, {}, {"reloaded", "restarted", "started", "stopped"}},
              {"enabled", ArgType::boolean},
              {"masked", ArgType::boolean},
              {"daemon_reload", ArgType::boolean, false, {"daemon-reload"}, {}, false}};
    s.check = [](const json& args, std::vector<std::pair<std::string, std::string>>& problems) {
      if (!args.contains("name") && !(args.contains("daemon_reload") && args["daemon_reload"] == true))
        problems.emplace_back("name", "missing required argument 'name'");
      if (args.contains("name") && !args.contains("state") && !args.contains("enabled") && !args.contains("masked"))
        problems.emplace_back("", "at least one of state, enabled or masked is needed");
    };
    return s;
  }
};

bool valid_sysctl_name(const std::string& n) {
  if (n.empty() || n[0] == '/' || n[0] == '.' || n.find("..") != std::string::npos) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("_.:@/-*").find(c) != std::string_view::npos;
  });
}

class SysctlModule : public BasicModule {
 public:
  SysctlModule() : BasicModule(make_spec()) {}

  Next start(const ModuleCall& call) const override {
    const Args& a = call.args;
    std::string name = a.str("name");
    if (!valid_sysctl_name(name)) throw ExprEvalError("invalid sysctl name '" + name + "'");
    std::string value = a.str("value");
    if (value.find('\n') != std::string::npos) throw ExprEvalError("a sysctl value cannot contain a newline");
    std::string state = a.str("state", "present");
    if (state == "present" && !a.has("value")) throw ExprEvalError("state=present needs value");
    std::string s = script_prelude(call.check);
    s += sh_var("name", name) + sh_var("value", value) + sh_var("state", state) +
         sh_var("file", a.str("sysctl_file", "/etc/sysctl.d/90-aicloudctl.conf")) + sh_var("proc", a.str("_proc_sys", "/proc/sys"));
    s += std::string("reload=") + (a.boolean("reload", true) ? "1" : "0") + " ign=" + (a.boolean("ignoreerrors") ? "1" : "0") +
         " diff=" + (call.diff ? "1" : "0") + "\n";
    s += R"SH(case $name in */*) rel=$name;; *) rel=$(printf '%s' "$name" | tr . /);; esac
p="$proc/$rel"
norm() { printf '%s' "$1" | tr -s ' \t' '  ' | sed 's/^ //; s/ $//'; }
want=$(norm "$value")
aic_out name "$name"
aic_out sysctl_file "$file"
dir=$(dirname -- "$file")
src=/dev/null; [ -f "$file" ] && src=$file
if [ "$CHECK" = 1 ] || [ ! -d "$dir" ]; then tmp=$(mktemp); else tmp=$(mktemp "$dir/.aicloud.XXXXXX"); fi || aic_fail "cannot create a temporary file"
trap 'rm -f -- "$tmp"' EXIT
AIC_NAME=$name AIC_VALUE=$value AIC_WANT=$want AIC_STATE=$state awk '
  function norm(s) { gsub(/[ \t]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s); return s }
  { line = $0; t = line; sub(/^[ \t]+/, "", t) }
  t ~ /^[#;]/ || index(t, "=") == 0 { print line; next }
  {
    k = norm(substr(t, 1, index(t, "=") - 1)); v = substr(t, index(t, "=") + 1); sub(/^-/, "", k)
    if (k != ENVIRON["AIC_NAME"]) { print line; next }
    if (ENVIRON["AIC_STATE"] == "absent" || done) next
    done = 1
    if (norm(v) == ENVIRON["AIC_WANT"]) print line; else print ENVIRON["AIC_NAME"] " = " ENVIRON["AIC_VALUE"]
  }
  END { if (ENVIRON["AIC_STATE"] != "absent" && !done) print ENVIRON["AIC_NAME"] " = " ENVIRON["AIC_VALUE"] }
' "$src" > "$tmp" || aic_fail "reading $file failed"
if ! cmp -s -- "$src" "$tmp"; then
  aic_changed=1; aic_out file_changed 1
  if [ "$diff" = 1 ]; then aic_out before_b64 "$(aic_b64 "$src")"; aic_out after_b64 "$(aic_b64 "$tmp")"; fi
  if [ "$CHECK" != 1 ]; then
    mkdir -p -- "$dir" || aic_fail "cannot create $dir"
    aic_install "$tmp" "$file" 0
  fi
fi
if [ "$state" = present ] && [ "$reload" = 1 ]; then
  if [ ! -e "$p" ]; then
    [ "$ign" = 1 ] || aic_fail "sysctl $name does not exist on this node ($p)"
  else
    cur=$(norm "$(cat -- "$p" 2>/dev/null)")
    aic_out runtime_before "$cur"
    if [ "$cur" != "$want" ]; then
      aic_changed=1; aic_out runtime_changed 1
      if [ "$CHECK" != 1 ]; then
        printf '%s\n' "$value" 2>/dev/null > "$p" || aic_fail "cannot set $name at run time (writing $p needs root)"
        now=$(norm "$(cat -- "$p")")
        [ "$now" = "$want" ] || aic_fail "the kernel keeps $name at '$now' after writing '$value'"
      fi
    fi
  fi
fi
aic_out changed "$aic_changed"
)SH";
    Step st;
    st.script = s;
    return Next::run(st);
  }

  Next resume(const ModuleCall& call, const std::vector<ExecResult>& done) const override {
    Outcome out = outcome_from_report(done.back());
    if (out.failed) return Next::done(out);
    auto rep = parse_report(done.back().stdout_text);
    if (call.diff && rep.count("after_b64"))
      add_diff(out, rep["sysctl_file"], base64_decode(rep["before_b64"]).value_or(""), base64_decode(rep["after_b64"]).value_or(""));
    if (call.diff && rep.count("runtime_changed")) {
      std::string n = rep["name"];
      add_diff(out, "/proc/sys (" + n + ")", n + " = " + rep["runtime_before"] + "\n", n + " = " + call.args.str("value") + "\n");
    }
    return Next::done(out);
  }

 private:
  static ModuleSpec make_spec() {
    ModuleSpec s;
    s.name = "sysctl";
    s.aliases = {"ansible.posix.sysctl", "ansible.builtin.sysctl"};
    s.summary = "Set a kernel parameter at run time and persist it in /etc/sysctl.d";
    s.args = {{"name", ArgType::str, true, {"key"}},
              {"value", ArgType::str, false, {"val"}},
              {"state", ArgType::str, false, {}, {"absent", "present"}, "present"},
              {"reload", ArgType::boolean, false, {}, {}, true},
              {"sysctl_file", ArgType::path, false, {}, {}, "/etc/sysctl.d/90-aicloudctl.conf"},
              {"sysctl_set", ArgType::boolean, false, {}, {}, false},
              {"ignoreerrors", ArgType::boolean, false, {}, {}, false},
              {"_proc_sys", ArgType::path, false, {}, {}, nullptr, true}};
    s.check = [](const json& args, std::vector<std::pair<std::string, std::string>>& problems) {
      if (args.contains("name") && args["name"].is_string() && Template::is_plain(args["name"].get<std::string>()) &&
          !valid_sysctl_name(args["name"].get<std::string>()))
        problems.emplace_back("name", "invalid sysctl name '" + args["name"].get<std::string>() + "'");
      std::string state = args.contains("state") && args["state"].is_string() ? args["state"].get<std::string>() : "present";
      if (state == "present" && !args.contains("value")) problems.emplace_back("value", "state=present needs value");
    };
    return s;
  }
};

bool valid_module_name(const std::string& n) {
  if (n.empty() || n[0] == '-' || n.size() > 64) return false;
  return std::all_of(n.begin(), n.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; });
}

bool valid_module_params(const std::string& p) {
  return std::all_of(p.begin(), p.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("_.,=:/- ").find(c) != std::string_view::npos;
  });
}

class KernelModuleModule : public BasicModule {
 public:
  KernelModuleModule() : BasicModule(make_spec()) {}

  Next start(const ModuleCall& call) const override {
    const Args& a = call.args;
    std::string name = a.str("name");
    if (!valid_module_name(name)) throw ExprEvalError("invalid kernel module name '" + name + "'");
    std::string params = a.str("params");
    if (!valid_module_params(params)) throw ExprEvalError("invalid module params '" + params + "'");
    std::string s = script_prelude(call.check);
    // Blacklisting a module says nothing about the running kernel: without an
    // explicit state the module is then neither loaded nor unloaded.
    std::string state = a.has("state") ? a.str("state") : (a.has("blacklist") ? "" : "present");
    s += sh_var("name", name) + sh_var("state", state) + sh_var("params", params) +
         sh_var("persistent", a.str("persistent", "disabled")) +
         sh_var("blacklist", a.has("blacklist") ? (a.boolean("blacklist") ? "1" : "0") : "") +
         sh_var("procmod", a.str("_proc_modules", "/proc/modules")) + sh_var("loaddir", a.str("_modules_load_dir", "/etc/modules-load.d")) +
         sh_var("probedir", a.str("_modprobe_dir", "/etc/modprobe.d")) + sh_var("builtin", a.str("_modules_builtin", ""));
    s += R"SH([ -n "$builtin" ] || builtin="/lib/modules/$(uname -r)/modules.builtin"
mname=$(printf '%s' "$name" | tr - _)
aic_loaded() { awk -v m="$mname" '$1 == m { f = 1 } END { exit !f }' "$procmod" 2>/dev/null; }
isbuiltin=0
[ -r "$builtin" ] && sed 's|.*/||; s|\.ko.*||; s|-|_|g' "$builtin" | grep -qx -- "$mname" && isbuiltin=1
loaded=0; { aic_loaded || [ "$isbuiltin" = 1 ]; } && loaded=1
aic_out loaded_before "$loaded"
if [ "$state" = present ] && [ "$loaded" = 0 ]; then
  aic_changed=1; aic_out would_run "modprobe $name $params"
  if [ "$CHECK" != 1 ]; then
    set -f
    _o=$(modprobe -- "$name" $params 2>&1) || aic_fail "modprobe $name failed: $_o"
    set +f
  fi
fi
if [ "$state" = absent ] && [ "$loaded" = 1 ]; then
  [ "$isbuiltin" = 1 ] && aic_fail "$name is built into the kernel and cannot be unloaded"
  aic_changed=1; aic_out would_run "modprobe -r $name"
  if [ "$CHECK" != 1 ]; then _o=$(modprobe -r -- "$name" 2>&1) || aic_fail "modprobe -r $name failed: $_o"; fi
fi
case $persistent in
  present)
    aic_put "$loaddir/$name.conf" "$name"
    if [ -n "$params" ]; then aic_put "$probedir/$name.conf" "options $name $params"; else aic_del "$probedir/$name.conf"; fi;;
  absent)
    aic_del "$loaddir/$name.conf"
    aic_del "$probedir/$name.conf";;
esac
[ "$blacklist" = 1 ] && aic_put "$probedir/blacklist-$name.conf" "blacklist $name"
[ "$blacklist" = 0 ] && aic_del "$probedir/blacklist-$name.conf"
aic_out changed "$aic_changed"
)SH";
    Step st;
    st.script = s;
    return Next::run(st);
  }

 private:
  static ModuleSpec make_spec() {
    ModuleSpec s;
    s.name = "kernel_module";
    s.aliases = {"modprobe", "community.general.modprobe"};
    s.summary = "Load or unload a kernel module, persist it in modules-load.d, blacklist it";
    s.args = {{"name", ArgType::str, true},
              {"state", ArgType::str, false, {}, {"absent", "present"}},
              {"params", ArgType::str, false, {}, {}, ""},
              {"persistent", ArgType::str, false, {}, {"absent", "disabled", "present"}, "disabled"},
              {"blacklist", ArgType::boolean},
              {"_proc_modules", ArgType::path, false, {}, {}, nullptr, true},
              {"_modules_load_dir", ArgType::path, false, {}, {}, nullptr, true},
              {"_modprobe_dir", ArgType::path, false, {}, {}, nullptr, true},
              {"_modules_builtin", ArgType::path, false, {}, {}, nullptr, true}};
    s.check = [](const json& args, std::vector<std::pair<std::string, std::string>>& problems) {
      if (args.contains("name") && args["name"].is_string() && Template::is_plain(args["name"].get<std::string>()) &&
          !valid_module_name(args["name"].get<std::string>()))
        problems.emplace_back("name", "invalid kernel module name '" + args["name"].get<std::string>() + "'");
      if (args.contains("params") && args["params"].is_string() && Template::is_plain(args["params"].get<std::string>()) &&
          !valid_module_params(args["params"].get<std::string>()))
        problems.emplace_back("params", "params may hold only letters, digits, spaces and _.,=:/-");
    };
    return s;
  }
};

}  // namespace

std::vector<std::unique_ptr<Module>> make_system_modules() {
  std::vector<std::unique_ptr<Module>> out;
  out.push_back(std::make_unique<PackageModule>(
      "auto", package_spec("package", {"ansible.builtin.package", "ansible.legacy.package"}, "auto")));
  out.push_back(std::make_unique<PackageModule>("apt", package_spec("apt", {"ansible.builtin.apt", "ansible.legacy.apt"}, "apt")));
  out.push_back(std::make_unique<PackageModule>(
      "dnf", package_spec("dnf", {"ansible.builtin.dnf", "ansible.legacy.dnf", "yum", "ansible.builtin.yum"}, "dnf")));
  out.push_back(std::make_unique<ServiceModule>());
  out.push_back(std::make_unique<SysctlModule>());
  out.push_back(std::make_unique<KernelModuleModule>());
  return out;
}

}  // namespace aicloud::provision::detail
