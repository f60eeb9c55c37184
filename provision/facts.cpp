// The facts script and its parser, and the `facts` module (Ansible's
// `setup`/`gather_facts`). The script emits one line per fact or device
// with space-separated fields taken from sysfs (which never contain
// spaces) and the free-text field last, so parsing is a split.
#include "provision/facts.hpp"

#include <algorithm>
#include <cstdlib>

#include "common/strings.hpp"
#include "provision/module_util.hpp"
#include "provision/shell.hpp"

namespace aicloud::provision {

namespace {

// Written to fork as little as possible (sysfs files are read with the
// `read` builtin, links resolved with `cd -P`): on a busy node every
// process start costs, and facts run once per host per playbook.
const char* k_facts_body = R"SH(o() { printf '%s=%s\n' "$1" "$2"; }
rd() { eval "$1="; { IFS= read -r "$1" < "$2"; } 2>/dev/null || :; }
lnk() { eval "$1=-"; if [ -L "$2" ] && cd -P "$2" 2>/dev/null; then eval "$1=\${PWD##*/}"; cd /; fi; }
rd v "$PROC/sys/kernel/hostname"; o hostname "$v"
o fqdn "$(hostname -f 2>/dev/null)"
rd v "$PROC/sys/kernel/osrelease"; o kernel "$v"
rd v "$PROC/sys/kernel/version"; o kernel_version "$v"
rd v "$PROC/sys/kernel/ostype"; o system "${v:-Linux}"
o machine "$(uname -m)"
if [ -r "$OSR" ]; then
  while IFS= read -r l; do case $l in [A-Z]*=*) printf 'osr.%s\n' "$l";; esac; done < "$OSR"
fi
[ -r "$PROC/cpuinfo" ] && awk -F': *' '
  /^processor[ \t]*:/ { n++ }
  /^model name[ \t]*:/ && m == "" { m = $2 }
  /^physical id[ \t]*:/ { p[$2] = 1 }
  /^cpu cores[ \t]*:/ && c == "" { c = $2 }
  /^siblings[ \t]*:/ && s == "" { s = $2 }
  END { np = 0; for (k in p) np++; printf "cpu=%d %d %s %s %s\n", n, np, (c == "" ? "-" : c), (s == "" ? "-" : s), m }' "$PROC/cpuinfo"
[ -r "$PROC/meminfo" ] && while read -r k v _; do
  case $k in MemTotal:|MemFree:|MemAvailable:|SwapTotal:|SwapFree:) printf 'mem.%s=%s\n' "${k%:}" "$v";; esac
done < "$PROC/meminfo"
v=; [ -r "$PROC/uptime" ] && read -r v _ < "$PROC/uptime"; o uptime "$v"
rd v "$PROC/sys/kernel/random/boot_id"; o boot_id "$v"
for f in sys_vendor product_name product_version bios_version board_vendor board_name; do
  [ -r "$SYS/class/dmi/id/$f" ] && { rd v "$SYS/class/dmi/id/$f"; o "dmi.$f" "$v"; }
done
for d in "$SYS"/bus/pci/devices/*; do
  [ -r "$d/class" ] || continue
  rd cls "$d/class"
  case $cls in 0x03*|0x0680*|0x02*) ;; *) continue;; esac
  rd ven "$d/vendor"; rd dev "$d/device"; rd numa "$d/numa_node"; lnk drv "$d/driver"
  printf 'pci=%s %s %s %s %s %s\n' "${d##*/}" "$cls" "$ven" "$dev" "$drv" "${numa:--1}"
done
for n in "$SYS"/class/net/*; do
  [ -e "$n" ] || continue
  nm=${n##*/}; [ "$nm" = lo ] && continue
  lnk pci "$n/device"; lnk drv "$n/device/driver"
  rd mac "$n/address"; rd st "$n/operstate"; rd sp "$n/speed"; rd mtu "$n/mtu"; rd ty "$n/type"
  printf 'nic=%s %s %s %s %s %s %s %s\n' "$nm" "${mac:--}" "${st:--}" "${sp:--1}" "${mtu:-0}" "${ty:-0}" "$pci" "$drv"
done
for b in "$SYS"/class/infiniband/*; do
  [ -d "$b" ] || continue
  nm=${b##*/}; lnk pci "$b/device"
  for port in "$b"/ports/*; do
    [ -d "$port" ] || continue
    rd st "$port/state"; rd rate "$port/rate"
    printf 'ib=%s %s %s %s\n' "$nm" "${port##*/}" "$pci" "$st|$rate"
  done
done
for b in "$SYS"/block/*; do
  [ -e "$b" ] || continue
  nm=${b##*/}; case $nm in loop*|ram*|zram*|dm-*|sr*|fd*|md*|nbd*) continue;; esac
  rd sz "$b/size"; rd rot "$b/queue/rotational"; rd rem "$b/removable"; rd model "$b/device/model"
  printf 'disk=%s %s %s %s %s\n' "$nm" "${sz:-0}" "${rot:--}" "${rem:-0}" "$model"
done
drv=
if [ -r "$SYS/module/nvidia/version" ]; then rd drv "$SYS/module/nvidia/version"
elif [ -r "$PROC/driver/nvidia/version" ]; then drv=$(sed -n 's/.*Kernel Module[^0-9]*\([0-9][0-9.]*\).*/\1/p' "$PROC/driver/nvidia/version" | head -n 1); fi
o nvidia_driver_version "$drv"
pm=; for m in apt-get:apt dnf:dnf yum:yum zypper:zypper; do if command -v "${m%%:*}" >/dev/null 2>&1; then pm=${m#*:}; break; fi; done
o pkg_mgr "$pm"
sm=other; [ -d /run/systemd/system ] && sm=systemd
o service_mgr "$sm"
o user_id "$(id -un 2>/dev/null)"
if command -v ip >/dev/null 2>&1; then o default_ipv4 "$(ip -4 route get 1.1.1.1 2>/dev/null | awk '{ for (i = 1; i < NF; i++) { if ($i == "src") a = $(i + 1); if ($i == "dev") d = $(i + 1) } } END { print a " " d }')"; fi
)SH";

std::int64_t num(const std::string& s, std::int64_t dflt = 0) {
  if (s.empty() || s == "-") return dflt;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 0);
  return end == s.c_str() ? dflt : v;
}

std::string unquote(std::string v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
  return v;
}

std::string vendor_name(const std::string& id) {
  if (id == "0x10de") return "NVIDIA";
  if (id == "0x1002") return "AMD";
  if (id == "0x8086") return "Intel";
  if (id == "0x15b3") return "Mellanox";
  if (id == "0x14e4") return "Broadcom";
  if (id == "0x1a03") return "ASPEED";
  if (id == "0x102b") return "Matrox";
  return id;
}

std::string distribution_name(const std::string& id, const std::string& name) {
  static const std::pair<const char*, const char*> map[] = {
      {"ubuntu", "Ubuntu"}, {"debian", "Debian"}, {"rhel", "RedHat"}, {"centos", "CentOS"}, {"rocky", "Rocky"},
      {"almalinux", "AlmaLinux"}, {"fedora", "Fedora"}, {"ol", "OracleLinux"}, {"sles", "SLES"},
      {"opensuse-leap", "openSUSE Leap"}, {"amzn", "Amazon"}};
  for (const auto& [k, v] : map)
    if (id == k) return v;
  if (!name.empty()) return split(name, ' ').front();
  return id;
}

std::string os_family(const std::string& id, const std::string& like) {
  auto words = split(like, ' ', false);
  words.insert(words.begin(), id);
  for (const auto& w : words) {
    if (w == "debian" || w == "ubuntu") return "Debian";
    if (w == "rhel" || w == "fedora" || w == "centos") return "RedHat";
    if (w == "suse" || w == "sles" || w == "opensuse") return "Suse";
    if (w == "arch") return "Archlinux";
    if (w == "alpine") return "Alpine";
  }
  return id.empty() ? "" : distribution_name(id, "");
}

}  // namespace

std::string facts_script(const std::string& sysfs_root, const std::string& proc_root, const std::string& os_release) {
  return sh_var("SYS", sysfs_root) + sh_var("PROC", proc_root) + sh_var("OSR", os_release) + k_facts_body;
}

nlohmann::json parse_facts(const std::string& output) {
  using json = nlohmann::json;
  json f = json::object();
  json osr = json::object();
  json gpus = json::array(), nics = json::array(), ib = json::array(), disks = json::array();
  json pci_nics = json::object();
  std::int64_t nvswitches = 0;
  std::map<std::string, std::int64_t> mem;
  for (const auto& raw : split(output, '\n', false)) {
    auto eq = raw.find('=');
    if (eq == std::string::npos) continue;
    std::string key = raw.substr(0, eq), val = raw.substr(eq + 1);
    if (starts_with(key, "osr.")) {
      osr[key.substr(4)] = unquote(val);
    } else if (starts_with(key, "mem.")) {
      mem[key.substr(4)] = num(split(val, ' ', false).empty() ? "0" : split(val, ' ', false)[0]);
    } else if (starts_with(key, "dmi.")) {
      f[key.substr(4) == "sys_vendor" ? "system_vendor" : key.substr(4)] = std::string(trim(val));
    } else if (key == "cpu") {
      auto w = split(val, ' ', false);
      if (w.size() >= 4) {
        std::int64_t vcpus = num(w[0]), sockets = num(w[1]), cores = num(w[2], 0), siblings = num(w[3], 0);
        std::vector<std::string> model(w.begin() + 4, w.end());
        f["processor_vcpus"] = vcpus;
        f["processor_count"] = sockets > 0 ? sockets : 1;
        f["processor_cores"] = cores > 0 ? cores : vcpus;
        f["processor_threads_per_core"] = (cores > 0 && siblings > 0) ? siblings / cores : 1;
        f["processor_model"] = join(model, " ");
        f["processor_nproc"] = vcpus;
      }
    } else if (key == "pci") {
      auto w = split(val, ' ', false);
      if (w.size() < 6) continue;
      const std::string &addr = w[0], &cls = w[1], &ven = w[2], &dev = w[3], &drv = w[4];
      if (starts_with(cls, "0x0680") && ven == "0x10de") {
        ++nvswitches;
        continue;
      }
      if (starts_with(cls, "0x03")) {
        if (ven == "0x1a03" || ven == "0x102b") continue;  // BMC video, not a GPU
        gpus.push_back({{"pci", addr},
                        {"vendor", vendor_name(ven)},
                        {"vendor_id", ven},
                        {"device_id", dev},
                        {"class", cls},
                        {"driver", drv == "-" ? "" : drv},
                        {"numa_node", num(w[5], -1)}});
      } else if (starts_with(cls, "0x02")) {
        pci_nics[addr] = {{"vendor", vendor_name(ven)}, {"device_id", dev}, {"class", cls}, {"numa_node", num(w[5], -1)}};
      }
    } else if (key == "nic") {
      auto w = split(val, ' ', false);
      if (w.size() < 8) continue;
      std::int64_t type = num(w[5]);
      json n = {{"name", w[0]},
                {"mac", w[1] == "-" ? "" : w[1]},
                {"operstate", w[2]},
                {"speed_mbps", num(w[3], -1)},
                {"mtu", num(w[4])},
                {"type", type == 1 ? "ether" : type == 32 ? "infiniband" : type == 772 ? "loopback" : std::to_string(type)},
                {"pci", w[6] == "-" ? "" : w[6]},
                {"driver", w[7] == "-" ? "" : w[7]}};
      if (pci_nics.contains(w[6])) {
        n["vendor"] = pci_nics[w[6]]["vendor"];
        n["numa_node"] = pci_nics[w[6]]["numa_node"];
      }
      nics.push_back(n);
    } else if (key == "ib") {
      auto w = split(val, ' ', false);
      if (w.size() < 3) continue;
      std::string rest;
      for (std::size_t i = 3; i < w.size(); ++i) rest += (i > 3 ? " " : "") + w[i];
      auto bar = rest.find('|');
      ib.push_back({{"device", w[0]},
                    {"port", num(w[1])},
                    {"pci", w[2] == "-" ? "" : w[2]},
                    {"state", std::string(trim(rest.substr(0, bar)))},
                    {"rate", bar == std::string::npos ? "" : std::string(trim(rest.substr(bar + 1)))}});
    } else if (key == "disk") {
      auto w = split(val, ' ', false);
      if (w.size() < 4) continue;
      std::vector<std::string> model(w.begin() + 4, w.end());
      disks.push_back({{"name", w[0]},
                       {"size_bytes", num(w[1]) * 512},
                       {"rotational", w[2] == "1"},
                       {"removable", w[3] == "1"},
                       {"model", join(model, " ")}});
    } else if (key == "uptime") {
      f["uptime_seconds"] = static_cast<std::int64_t>(std::strtod(val.c_str(), nullptr));
    } else if (key == "default_ipv4") {
      auto w = split(val, ' ', false);
      if (!w.empty()) f["default_ipv4"] = {{"address", w[0]}, {"interface", w.size() > 1 ? w[1] : ""}};
    } else if (key == "machine") {
      f["machine"] = val;
      f["architecture"] = val;
    } else {
      f[key] = val;
    }
  }
  if (f.contains("hostname")) {
    std::string h = f["hostname"].get<std::string>();
    f["nodename"] = h;
    std::string fq = f.value("fqdn", std::string());
    if (fq.empty()) f["fqdn"] = h;
    auto dot = fq.find('.');
    f["domain"] = dot == std::string::npos ? "" : fq.substr(dot + 1);
  }
  std::string id = osr.value("ID", std::string()), like = osr.value("ID_LIKE", std::string());
  f["os_release"] = osr;
  f["distribution"] = distribution_name(id, osr.value("NAME", std::string()));
  std::string ver = osr.value("VERSION_ID", std::string());
  f["distribution_version"] = ver;
  f["distribution_major_version"] = split(ver, '.').front();
  std::string codename = osr.value("VERSION_CODENAME", osr.value("UBUNTU_CODENAME", std::string()));
  f["distribution_release"] = codename;
  f["os_family"] = os_family(id, like);
  auto mb = [&](const char* k) { return mem.count(k) ? mem[k] / 1024 : 0; };
  f["memtotal_mb"] = mb("MemTotal");
  f["memfree_mb"] = mb("MemFree");
  f["memavailable_mb"] = mb("MemAvailable");
  f["swaptotal_mb"] = mb("SwapTotal");
  f["swapfree_mb"] = mb("SwapFree");
  f["memory_mb"] = {{"real", {{"total", mb("MemTotal")}, {"free", mb("MemFree")}}},
                    {"swap", {{"total", mb("SwapTotal")}, {"free", mb("SwapFree")}}}};
  std::int64_t nvidia = 0;
  for (const auto& g : gpus)
    if (g["vendor_id"] == "0x10de") ++nvidia;
  f["gpus"] = gpus;
  f["gpu_count"] = static_cast<std::int64_t>(gpus.size());
  f["nvidia_gpu_count"] = nvidia;
  f["nvswitch_count"] = nvswitches;
  f["nics"] = nics;
  json names = json::array();
  for (const auto& n : nics) names.push_back(n["name"]);
  f["interfaces"] = names;
  f["infiniband"] = ib;
  f["disks"] = disks;
  if (!f.contains("nvidia_driver_version")) f["nvidia_driver_version"] = "";
  return f;
}

nlohmann::json facts_to_vars(const nlohmann::json& facts) {
  nlohmann::json vars = nlohmann::json::object();
  vars["ansible_facts"] = facts;
  for (auto it = facts.begin(); it != facts.end(); ++it) vars["ansible_" + it.key()] = it.value();
  return vars;
}

namespace detail {

namespace {

class FactsModule : public BasicModule {
 public:
  FactsModule() : BasicModule(make_spec()) {}

  Next start(const ModuleCall& call) const override {
    const Args& a = call.args;
    Step st;
    st.script = facts_script(a.str("_sysfs", "/sys"), a.str("_proc", "/proc"), a.str("_os_release", "/etc/os-release"));
    st.timeout_s = a.number("gather_timeout", 60);
    return Next::run(st);
  }

  Next resume(const ModuleCall&, const std::vector<ExecResult>& done) const override {
    const ExecResult& r = done.back();
    Outcome out;
    if (step_failed(r, out)) return Next::done(out);
    if (r.exit_code != 0 && r.stdout_text.empty()) {
      out.failed = true;
      out.msg = "gathering facts failed: " + std::string(trim(r.stderr_text));
      return Next::done(out);
    }
    json facts = parse_facts(r.stdout_text);
    out.facts = facts_to_vars(facts);
    out.extra["ansible_facts"] = facts;
    return Next::done(out);
  }

 private:
  static ModuleSpec make_spec() {
    ModuleSpec s;
    s.name = "facts";
    s.aliases = {"setup", "ansible.builtin.setup", "ansible.legacy.setup", "gather_facts", "ansible.builtin.gather_facts"};
    s.summary = "Gather OS, kernel, CPU, memory, GPUs, NVSwitches, NICs, disks and driver version into vars";
    s.args = {{"gather_subset", ArgType::list},
              {"gather_timeout", ArgType::number, false, {}, {}, 60},
              {"_sysfs", ArgType::path, false, {}, {}, nullptr, true},
              {"_proc", ArgType::path, false, {}, {}, nullptr, true},
              {"_os_release", ArgType::path, false, {}, {}, nullptr, true}};
    return s;
  }
};

}  // namespace

std::unique_ptr<Module> make_facts_module() { return std::make_unique<FactsModule>(); }

}  // namespace detail

}  // namespace aicloud::provision
