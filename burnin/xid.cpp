// XID parsing, classification and kernel-log reading (see xid.hpp).
#include "burnin/xid.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "common/process.hpp"
#include "common/strings.hpp"

namespace aicloud::burnin {

namespace {

// Hardware-fault XIDs: the union of Imbue cluster-health's list (48, 56-58,
// 62-64, 68-77, 79-86, 88-89, 92, 94-105, 110-120, 122-125) and Azure NHC's
// nd96isr_h100_v5 list (48 56 57 58 62 63 64 65 68 69 73 74 79 80 81 92 119
// 120). Descriptions follow NVIDIA's XID catalog.
struct Known {
  int xid;
  const char* description;
  const char* remediation;
};

const char* k_reset = "reset the GPU (nvidia-smi -r -i N, or reboot) and re-run burn-in; RMA if it comes back";

const Known k_known[] = {
    {13, "graphics engine exception (usually a faulting program)", "check the application; re-run burn-in if unsure"},
    {31, "GPU memory page fault (usually a faulting program)", "check the application; re-run burn-in if unsure"},
    {43, "GPU stopped processing (a program was stopped after a fault)", "check the application"},
    {45, "preemptive cleanup after a program ended or faulted", "none needed when it follows a program's exit"},
    {48, "double-bit (uncorrectable) ECC error", "reset the GPU, check row remapping (health), re-run burn-in; RMA if it repeats"},
    {56, "display engine error", k_reset},
    {57, "error programming the video memory interface", k_reset},
    {58, "unstable video memory interface detected", k_reset},
    {62, "internal micro-controller halt", k_reset},
    {63, "ECC page retirement or row remapping recorded", "reset the GPU to activate the remapped row, then re-run burn-in"},
    {64, "ECC page retirement or row remapping failed", "the GPU has run out of spare rows or failed to remap: RMA"},
    {65, "video processor exception", k_reset},
    {68, "video decoder (NVDEC) exception", k_reset},
    {69, "graphics engine class error", k_reset},
    {73, "video encoder (NVENC) error", k_reset},
    {74, "NVLink error", "check NVLink/NVSwitch health and the fabric manager, reset the GPU; RMA if it repeats"},
    {79, "GPU has fallen off the bus", "check power and PCIe seating/cabling, reboot; RMA if it repeats"},
    {80, "corrupted data sent to the GPU", "check the PCIe link (replays, AER errors) and reseat; reboot"},
    {81, "VGA subsystem error", k_reset},
    {92, "high single-bit ECC error rate", "reset the GPU and watch ECC counters; RMA if the rate stays high"},
    {94, "contained ECC error (the affected program was stopped)", "restart the affected program; reset the GPU when possible and re-run burn-in"},
    {95, "uncontained ECC error", "reset the GPU or reboot, then re-run burn-in; RMA if it repeats"},
    {109, "context switch timeout", k_reset},
    {119, "GSP firmware RPC timeout", "reset the GPU or reboot; update the driver if it repeats"},
    {120, "GSP firmware error", "reset the GPU or reboot; update the driver if it repeats"},
    {121, "C2C link error", k_reset},
    {140, "unrecovered ECC error", "reset the GPU and re-run burn-in; RMA if it repeats"},
    {143, "GPU initialisation failure", k_reset},
    {154, "GPU recovery action required", "follow the recovery action nvidia-smi reports (reset or reboot)"},
};

bool in_ranges(int x) {
  static const std::pair<int, int> ranges[] = {{48, 48},   {56, 58},   {62, 65},   {68, 77},   {79, 86},
                                               {88, 89},   {92, 92},   {94, 105},  {110, 120}, {122, 125}};
  for (auto [lo, hi] : ranges)
    if (x >= lo && x <= hi) return true;
  return false;
}

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

std::optional<long> parse_long(std::string_view s, int base, std::size_t* used = nullptr) {
  std::string tmp(s.substr(0, std::min<std::size_t>(s.size(), 32)));
  if (tmp.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(tmp.c_str(), &end, base);
  if (end == tmp.c_str() || errno) return std::nullopt;
  if (used) *used = static_cast<std::size_t>(end - tmp.c_str());
  return v;
}

}  // namespace

std::string to_string(XidClass c) {
  switch (c) {
    case XidClass::hardware: return "hardware";
    case XidClass::application: return "application";
    case XidClass::other: return "other";
  }
  return "other";
}

std::vector<int> hardware_xids() {
  std::vector<int> out;
  for (int x = 1; x < 200; ++x)
    if (in_ranges(x)) out.push_back(x);
  return out;
}

XidInfo classify_xid(int xid) {
  XidInfo info;
  info.xid = xid;
  if (xid == 13 || xid == 31 || xid == 43 || xid == 45)
    info.cls = XidClass::application;
  else if (in_ranges(xid))
    info.cls = XidClass::hardware;
  else
    info.cls = XidClass::other;
  for (const auto& k : k_known) {
    if (k.xid == xid) {
      info.description = k.description;
      info.remediation = k.remediation;
    }
  }
  if (info.description.empty()) {
    info.description = info.cls == XidClass::hardware ? "hardware fault (see NVIDIA's XID catalog)"
                                                     : "see NVIDIA's XID catalog (docs.nvidia.com/deploy/xid-errors)";
    info.remediation = info.cls == XidClass::hardware ? k_reset : "look the XID up in NVIDIA's catalog";
  }
  return info;
}

std::string normalize_bus_id(std::string_view text) {
  std::string_view s = trim(text);
  if (starts_with(s, "PCI:") || starts_with(s, "pci:")) s.remove_prefix(4);
  auto parts = split(s, ':');
  if (parts.size() != 2 && parts.size() != 3) return "";
  std::string dev = parts.back();
  if (auto dot = dev.find('.'); dot != std::string::npos) dev = dev.substr(0, dot);
  parts.back() = dev;
  for (const auto& p : parts) {
    if (p.empty() || p.size() > 8) return "";
    for (char c : p)
      if (!is_hex(c)) return "";
  }
  unsigned long domain = parts.size() == 3 ? std::stoul(parts[0], nullptr, 16) : 0;
  unsigned long bus = std::stoul(parts[parts.size() - 2], nullptr, 16);
  unsigned long device = std::stoul(parts.back(), nullptr, 16);
  if (bus > 0xff || device > 0x1f) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lx:%02lx:%02lx", domain, bus, device);
  return buf;
}

std::optional<XidEvent> parse_xid_line(std::string_view line) {
  bool nvswitch = false;
  std::size_t at = line.find("NVRM: Xid");
  std::size_t after = 0;
  if (at != std::string_view::npos) {
    after = at + 9;
  } else {
    at = line.find("SXid");
    if (at == std::string_view::npos) return std::nullopt;
    nvswitch = true;
    after = at + 4;
  }
  XidEvent ev;
  ev.nvswitch = nvswitch;
  ev.line = std::string(trim(line));
  // Time stamp: a leading "[ 1234.567890]" (dmesg, journal short-monotonic).
  std::string_view head = trim(line.substr(0, at));
  if (auto lb = head.find('['); lb != std::string_view::npos) {
    auto rb = head.find(']', lb);
    if (rb != std::string_view::npos) {
      std::string num(trim(head.substr(lb + 1, rb - lb - 1)));
      char* end = nullptr;
      double t = std::strtod(num.c_str(), &end);
      if (end && *end == '\0' && !num.empty()) ev.time_s = t;
    }
  }
  std::string_view rest = line.substr(after);
  rest = trim(rest);
  if (rest.empty() || rest.front() != '(') return std::nullopt;
  auto close = rest.find(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view inside = rest.substr(1, close - 1);
  rest = rest.substr(close + 1);
  if (!rest.empty() && rest.front() == ':') rest.remove_prefix(1);
  rest = trim(rest);
  std::size_t used = 0;
  if (auto n = parse_long(rest, 10, &used); n && used > 0) {
    ev.xid = static_cast<int>(*n);
    ev.pci_bus_id = normalize_bus_id(inside);
    rest.remove_prefix(used);
  } else if (auto m = parse_long(inside, 10, &used); m && used > 0 && inside.substr(used).find(',') == 0) {
    // "Xid (43, pid: 5678): TEXT" (no bus id in the line)
    ev.xid = static_cast<int>(*m);
  } else {
    return std::nullopt;
  }
  if (!rest.empty() && rest.front() == ',') rest.remove_prefix(1);
  ev.message = std::string(trim(rest));
  if (ev.xid <= 0) return std::nullopt;
  return ev;
}

std::vector<XidEvent> parse_xid_log(std::string_view text) {
  std::vector<XidEvent> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (line.find("Xid") != std::string_view::npos) {
      if (auto ev = parse_xid_line(line)) out.push_back(std::move(*ev));
    }
    pos = nl + 1;
  }
  return out;
}

std::string kmsg_records_to_text(std::string_view records) {
  std::string out;
  std::size_t pos = 0;
  while (pos < records.size()) {
    std::size_t nl = records.find('\n', pos);
    if (nl == std::string_view::npos) nl = records.size();
    std::string_view rec = records.substr(pos, nl - pos);
    pos = nl + 1;
    if (rec.empty() || rec.front() == ' ') continue;  // continuation ("KEY=value") lines
    auto semi = rec.find(';');
    if (semi == std::string_view::npos) continue;
    auto fields = split(rec.substr(0, semi), ',');
    if (fields.size() < 3) continue;
    char stamp[40];
    long long usec = std::atoll(fields[2].c_str());
    std::snprintf(stamp, sizeof stamp, "[%5lld.%06lld] ", usec / 1000000, usec % 1000000);
    out += stamp;
    out += rec.substr(semi + 1);
    out += '\n';
  }
  return out;
}

namespace {

// /dev/kmsg read non-blocking to its end; each read() returns one record.
bool read_kmsg(std::string* text, std::string* error) {
  int fd = ::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    *error = std::string("/dev/kmsg: ") + std::strerror(errno);
    return false;
  }
  std::string records;
  char buf[16384];
  for (int guard = 0; guard < 4000000; ++guard) {
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    if (n > 0) {
      records.append(buf, static_cast<std::size_t>(n));
      if (records.back() != '\n') records += '\n';
      continue;
    }
    if (n < 0 && errno == EPIPE) continue;  // a record was overwritten while reading
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) {
      *error = std::string("/dev/kmsg: ") + std::strerror(errno);
      ::close(fd);
      return false;
    }
    break;
  }
  ::close(fd);
  if (records.empty()) {
    *error = "/dev/kmsg: no records (empty or not readable)";
    return false;
  }
  *text = kmsg_records_to_text(records);
  return true;
}

}  // namespace

KernelLog read_kernel_log(std::chrono::milliseconds timeout) {
  KernelLog log;
  std::vector<std::string> reasons;
  std::string err;
  if (read_kmsg(&log.text, &err)) {
    log.available = true;
    log.source = "/dev/kmsg";
    return log;
  }
  reasons.push_back(err);
  ProcessOptions opts;
  opts.timeout = timeout;
  auto r = run_process({"dmesg"}, opts);
  if (r.ok() && !r.stdout_text.empty()) {
    log.available = true;
    log.source = "dmesg";
    log.text = std::move(r.stdout_text);
    return log;
  }
  reasons.push_back("dmesg: " + (r.started ? (r.timed_out ? std::string("timed out")
                                                          : std::string(trim(r.stderr_text.empty()
                                                                                 ? "exit " + std::to_string(r.exit_code)
                                                                                 : r.stderr_text)))
                                           : r.error));
  r = run_process({"journalctl", "-k", "-b", "--no-pager", "-q", "-o", "short-monotonic"}, opts);
  if (r.ok() && !trim(r.stdout_text).empty()) {
    log.available = true;
    log.source = "journalctl";
    log.text = std::move(r.stdout_text);
    return log;
  }
  reasons.push_back("journalctl: " + (r.started ? (r.timed_out ? std::string("timed out")
                                                               : r.ok() ? std::string("no kernel messages")
                                                                        : std::string(trim(r.stderr_text.empty()
                                                                                               ? "exit " + std::to_string(r.exit_code)
                                                                                               : r.stderr_text)))
                                                : r.error));
  log.error = "XID history unavailable: " + join(reasons, "; ");
  return log;
}

}  // namespace aicloud::burnin
