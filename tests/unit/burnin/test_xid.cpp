#include <doctest/doctest.h>

#include <algorithm>

#include "burnin/xid.hpp"

using namespace aicloud::burnin;

TEST_CASE("XID lines parse from dmesg, journal, kmsg and old driver formats") {
  SUBCASE("dmesg with PCI prefix and time stamp") {
    auto e = parse_xid_line("[ 1234.567890] NVRM: Xid (PCI:0000:3b:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.");
    REQUIRE(e);
    CHECK(e->xid == 79);
    CHECK(e->pci_bus_id == "0000:3b:00");
    REQUIRE(e->time_s);
    CHECK(*e->time_s == doctest::Approx(1234.56789));
    CHECK(e->message.find("fallen off the bus") != std::string::npos);
    CHECK_FALSE(e->nvswitch);
  }
  SUBCASE("journal short format, no time stamp") {
    auto e = parse_xid_line("Mar 10 12:00:00 node7 kernel: NVRM: Xid (PCI:0000:10:1c): 63, pid=1896, Row Remapper: New row marked for remapping, reset gpu to activate.");
    REQUIRE(e);
    CHECK(e->xid == 63);
    CHECK(e->pci_bus_id == "0000:10:1c");
    CHECK_FALSE(e->time_s);
  }
  SUBCASE("old driver without the PCI: prefix") {
    auto e = parse_xid_line("Nov 22 18:29:55 host kernel: [  966.503025] NVRM: Xid (0000:01:00): 31, Ch 0000000b, engmask 00000120");
    REQUIRE(e);
    CHECK(e->xid == 31);
    CHECK(e->pci_bus_id == "0000:01:00");
    REQUIRE(e->time_s);
    CHECK(*e->time_s == doctest::Approx(966.503025));
  }
  SUBCASE("NVSwitch SXid") {
    auto e = parse_xid_line("[ 55.1] nvidia-nvswitch3: SXid (PCI:0000:05:00.0): 20034, Fatal, Link 30 LTSSM Fault Up");
    REQUIRE(e);
    CHECK(e->nvswitch);
    CHECK(e->xid == 20034);
    CHECK(e->pci_bus_id == "0000:05:00");
  }
  SUBCASE("no bus id in the parentheses") {
    auto e = parse_xid_line("NVRM: Xid (43, pid: 5678): ROBUST_CHANNEL_RESETCHANNEL_VERIF_ERROR");
    REQUIRE(e);
    CHECK(e->xid == 43);
    CHECK(e->pci_bus_id.empty());
  }
  SUBCASE("lines that are not XIDs") {
    CHECK_FALSE(parse_xid_line("[ 1.0] nvidia: loading out-of-tree module taints kernel."));
    CHECK_FALSE(parse_xid_line("NVRM: Xid"));
    CHECK_FALSE(parse_xid_line("NVRM: Xid (PCI:0000:3b:00): notanumber"));
    CHECK_FALSE(parse_xid_line(""));
  }
}

TEST_CASE("a whole log yields every XID in order") {
  std::string log =
      "[    1.000000] Linux version 6.1\n"
      "[  100.000000] NVRM: Xid (PCI:0000:3b:00): 48, pid=1, An uncorrectable double bit error\n"
      "[  101.000000] something else\n"
      "[  102.000000] NVRM: Xid (PCI:0000:86:00): 13, Graphics SM Warp Exception\n"
      "[  103.000000] NVRM: Xid (PCI:0000:3b:00): 94, pid=2, Contained: SM (0x1).";
  auto ev = parse_xid_log(log);
  REQUIRE(ev.size() == 3);
  CHECK(ev[0].xid == 48);
  CHECK(ev[1].xid == 13);
  CHECK(ev[1].pci_bus_id == "0000:86:00");
  CHECK(ev[2].xid == 94);
}

TEST_CASE("kmsg records become dmesg-style lines") {
  std::string rec =
      "6,1001,100000000,-;NVRM: loading NVIDIA UNIX x86_64 Kernel Module\n"
      " SUBSYSTEM=pci\n"
      "4,1002,1234567890,-;NVRM: Xid (PCI:0000:3b:00): 79, GPU has fallen off the bus.\n";
  std::string text = kmsg_records_to_text(rec);
  CHECK(text.find("SUBSYSTEM") == std::string::npos);
  auto ev = parse_xid_log(text);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].xid == 79);
  REQUIRE(ev[0].time_s);
  CHECK(*ev[0].time_s == doctest::Approx(1234.56789));
}

TEST_CASE("bus ids from NVML, CUDA and the kernel log normalise to one form") {
  CHECK(normalize_bus_id("00000000:3B:00.0") == "0000:3b:00");
  CHECK(normalize_bus_id("0000:3B:00.0") == "0000:3b:00");
  CHECK(normalize_bus_id("PCI:0000:3b:00") == "0000:3b:00");
  CHECK(normalize_bus_id("3b:00") == "0000:3b:00");
  CHECK(normalize_bus_id("00000001:18:1f.0") == "0001:18:1f");
  CHECK(normalize_bus_id("43, pid: 5678") == "");
  CHECK(normalize_bus_id("zz:00:00") == "");
  CHECK(normalize_bus_id("0000:3b:40") == "");  // device numbers stop at 0x1f
}

TEST_CASE("XID classification follows the documented hardware list") {
  for (int x : {48, 56, 57, 58, 62, 63, 64, 65, 68, 69, 73, 74, 79, 80, 81, 92, 94, 95, 119, 120, 123})
    CHECK_MESSAGE(classify_xid(x).cls == XidClass::hardware, "XID " << x);
  for (int x : {13, 31, 43, 45}) CHECK(classify_xid(x).cls == XidClass::application);
  for (int x : {1, 8, 32, 61, 87, 106, 121, 140, 154}) CHECK_MESSAGE(classify_xid(x).cls == XidClass::other, "XID " << x);
  CHECK(classify_xid(79).description.find("fallen off the bus") != std::string::npos);
  CHECK_FALSE(classify_xid(12345).remediation.empty());
  auto hw = hardware_xids();
  CHECK(std::is_sorted(hw.begin(), hw.end()));
  CHECK(std::find(hw.begin(), hw.end(), 79) != hw.end());
  CHECK(std::find(hw.begin(), hw.end(), 13) == hw.end());
}

TEST_CASE("reading the kernel log never throws and says why when it cannot") {
  KernelLog log = read_kernel_log(std::chrono::seconds(10));
  if (log.available) {
    CHECK_FALSE(log.source.empty());
  } else {
    CHECK(log.error.find("XID history unavailable") == 0);
  }
}
