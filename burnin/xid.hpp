// XID events: NVIDIA driver error reports in the kernel log
// ("NVRM: Xid (PCI:0000:3b:00): 79, pid=..., GPU has fallen off the bus.")
// and NVSwitch SXid reports. This file reads the kernel log (/dev/kmsg,
// dmesg, then the journal), parses XID lines from any of those formats, and
// classifies each XID with a documented list (docs/gpu-health.md):
//   hardware     the union of the XIDs that Imbue's cluster-health and
//                Azure's HPC node health checks treat as hardware faults;
//                any of these is a FAIL until the GPU is reset and re-tested
//   application  XIDs that normally come from a faulting program (13, 31,
//                43, 45); listed, not a fault of the GPU
//   other        anything else: a WARN with a pointer to NVIDIA's catalog
// Parsing and classification are pure and unit-tested with log fixtures.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aicloud::burnin {

enum class XidClass { hardware, application, other };

std::string to_string(XidClass c);  // "hardware", "application", "other"

struct XidInfo {
  int xid = 0;
  XidClass cls = XidClass::other;
  std::string description;  // short meaning, e.g. "GPU has fallen off the bus"
  std::string remediation;  // what a technician should do
};

// The classification of one XID number (every number gets an answer).
XidInfo classify_xid(int xid);
// The XIDs treated as hardware faults, ascending (for docs and tests).
std::vector<int> hardware_xids();

struct XidEvent {
  int xid = 0;
  bool nvswitch = false;          // an SXid from an NVSwitch rather than a GPU XID
  std::string pci_bus_id;         // normalised "0000:3b:00" ("" when the line has none)
  std::optional<double> time_s;   // seconds since boot when the log gives it
  std::string message;            // the text after "NN, "
  std::string line;               // the whole log line, for the report
};

// Parses one kernel log line in dmesg ("[  12.3] NVRM: Xid (...): 79, ..."),
// journal ("Mar 10 12:00:00 host kernel: NVRM: Xid ...") or /dev/kmsg
// ("4,1234,12345678,-;NVRM: Xid ...") form. nullopt for other lines.
std::optional<XidEvent> parse_xid_line(std::string_view line);
// Every XID/SXid event in a log text, in order.
std::vector<XidEvent> parse_xid_log(std::string_view text);

// "00000000:3B:00.0", "0000:3b:00", "PCI:0000:3b:00.0" -> "0000:3b:00"; ""
// when the text is not a PCI address. Used to match log lines to NVML GPUs.
std::string normalize_bus_id(std::string_view text);

struct KernelLog {
  bool available = false;
  std::string source;  // "/dev/kmsg", "dmesg", "journalctl"
  std::string error;   // why no source worked ("XID history unavailable: ...")
  std::string text;    // one line per record
};

// Reads the kernel log from the first source that works. Never throws.
KernelLog read_kernel_log(std::chrono::milliseconds timeout = std::chrono::seconds(15));

// Parses /dev/kmsg records ("prio,seq,usec,flags;message") into dmesg-style
// lines "[   12.345678] message". Continuation lines are dropped.
std::string kmsg_records_to_text(std::string_view records);

}  // namespace aicloud::burnin
