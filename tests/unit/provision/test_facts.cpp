// Facts: the gathering script runs for real on this machine, and against a
// fake /sys tree of an HGX node (8 GPUs, 4 NVSwitches, InfiniBand) to check
// what this CPU-only machine cannot show.
#include <doctest/doctest.h>
#include <sys/utsname.h>

#include "helpers.hpp"
#include "provision/facts.hpp"

using namespace aicloud;
using namespace aicloud::provision;
using test::run_module;

TEST_CASE("facts of this machine") {
  Outcome o = run_module("facts", json::object());
  REQUIRE_MESSAGE(!o.failed, o.msg);
  const json& f = o.extra["ansible_facts"];
  utsname u{};
  ::uname(&u);
  CHECK(f["kernel"] == u.release);
  CHECK(f["architecture"] == u.machine);
  CHECK(f["processor_vcpus"].get<int>() >= 1);
  CHECK(f["memtotal_mb"].get<int>() > 0);
  CHECK(f["os_family"] != "");
  CHECK(f["gpu_count"].is_number());
  CHECK(o.facts["ansible_kernel"] == u.release);
  CHECK(o.facts["ansible_facts"]["kernel"] == u.release);
}

TEST_CASE("facts of an HGX node from a fake /sys") {
  test::TempDir tmp;
  std::string sys = tmp / "sys";
  auto dev = [&](const std::string& addr, const std::string& cls, const std::string& ven, const std::string& id,
                 const std::string& driver, int numa) {
    std::string d = sys + "/bus/pci/devices/" + addr;
    test::spit(d + "/class", cls + "\n");
    test::spit(d + "/vendor", ven + "\n");
    test::spit(d + "/device", id + "\n");
    test::spit(d + "/numa_node", std::to_string(numa) + "\n");
    if (!driver.empty()) {
      std::filesystem::create_directories(sys + "/bus/pci/drivers/" + driver);
      std::filesystem::create_directory_symlink(sys + "/bus/pci/drivers/" + driver, d + "/driver");
    }
  };
  for (int i = 0; i < 8; ++i) dev("0000:" + std::to_string(10 + i) + ":00.0", "0x030200", "0x10de", "0x2330", "nvidia", i / 4);
  for (int i = 0; i < 4; ++i) dev("0000:" + std::to_string(50 + i) + ":00.0", "0x068000", "0x10de", "0x22a3", "", 0);
  dev("0000:03:00.0", "0x030000", "0x1a03", "0x2000", "ast", 0);  // BMC video: not a GPU
  dev("0000:60:00.0", "0x020700", "0x15b3", "0x1021", "mlx5_core", 1);
  dev("0000:00:1f.0", "0x060100", "0x8086", "0x1234", "", 0);      // not collected
  std::filesystem::create_directories(sys + "/class/net/ib0");
  test::spit(sys + "/class/net/ib0/address", "00:00:10:49:fe:80\n");
  test::spit(sys + "/class/net/ib0/operstate", "up\n");
  test::spit(sys + "/class/net/ib0/speed", "400000\n");
  test::spit(sys + "/class/net/ib0/mtu", "4092\n");
  test::spit(sys + "/class/net/ib0/type", "32\n");
  std::filesystem::create_directory_symlink(sys + "/bus/pci/devices/0000:60:00.0", sys + "/class/net/ib0/device");
  test::spit(sys + "/class/infiniband/mlx5_0/ports/1/state", "4: ACTIVE\n");
  test::spit(sys + "/class/infiniband/mlx5_0/ports/1/rate", "400 Gb/sec (4X NDR)\n");
  test::spit(sys + "/block/nvme0n1/size", "7501476528\n");
  test::spit(sys + "/block/nvme0n1/queue/rotational", "0\n");
  test::spit(sys + "/block/nvme0n1/removable", "0\n");
  test::spit(sys + "/block/nvme0n1/device/model", "SAMSUNG MZQL23T8HCLS-00A07   \n");
  test::spit(sys + "/block/loop0/size", "0\n");
  test::spit(sys + "/module/nvidia/version", "535.104.05\n");
  test::spit(sys + "/class/dmi/id/product_name", "DGX H100\n");
  test::spit(tmp / "os-release", "NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=jammy\n");
  Outcome o = run_module("facts", {{"_sysfs", sys}, {"_os_release", tmp / "os-release"}});
  REQUIRE_MESSAGE(!o.failed, o.msg);
  const json& f = o.extra["ansible_facts"];
  CHECK(f["gpu_count"] == 8);
  CHECK(f["nvidia_gpu_count"] == 8);
  CHECK(f["nvswitch_count"] == 4);
  CHECK(f["gpus"][0]["driver"] == "nvidia");
  CHECK(f["gpus"][7]["numa_node"] == 1);
  CHECK(f["nvidia_driver_version"] == "535.104.05");
  CHECK(f["distribution"] == "Ubuntu");
  CHECK(f["distribution_version"] == "22.04");
  CHECK(f["distribution_major_version"] == "22");
  CHECK(f["distribution_release"] == "jammy");
  CHECK(f["os_family"] == "Debian");
  CHECK(f["product_name"] == "DGX H100");
  REQUIRE(f["nics"].size() == 1);
  CHECK(f["nics"][0]["type"] == "infiniband");
  CHECK(f["nics"][0]["pci"] == "0000:60:00.0");
  CHECK(f["nics"][0]["driver"] == "mlx5_core");
  CHECK(f["nics"][0]["vendor"] == "Mellanox");
  CHECK(f["infiniband"][0]["state"] == "4: ACTIVE");
  CHECK(f["infiniband"][0]["rate"] == "400 Gb/sec (4X NDR)");
  REQUIRE(f["disks"].size() == 1);
  CHECK(f["disks"][0]["model"] == "SAMSUNG MZQL23T8HCLS-00A07");
  CHECK(f["disks"][0]["size_bytes"] == 7501476528LL * 512);
}

TEST_CASE("the facts parser takes any output without crashing") {
  CHECK(parse_facts("")["gpu_count"] == 0);
  CHECK(parse_facts("pci=short\nnic=\ncpu=x y\n=\nmem.MemTotal=abc\n\x01=\x02")["memtotal_mb"] == 0);
}
