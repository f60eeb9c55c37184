// The shipped examples (inventory/examples/) load, and host JSON carries
// what `inventory list --json` promises.
#include <doctest/doctest.h>

#include <string>

#include "inventory/inventory.hpp"
#include "inventory/render.hpp"

using namespace aicloud;
using namespace aicloud::inventory;

namespace {
std::string example(const char* name) { return std::string(AICLOUD_SOURCE_DIR) + "/inventory/examples/" + name; }
}  // namespace

TEST_CASE("the 8-GPU H100 rack example") {
  Inventory inv = load_inventory(example("h100-rack.yaml"));
  REQUIRE(inv.hosts.size() == 4);
  for (const Host& h : inv.hosts) {
    CHECK(h.hardware.gpu_model == "H100-SXM");
    CHECK(h.hardware.gpu_count == 8);
    CHECK(h.hardware.nics.size() == 8);
    REQUIRE(h.bmc);
    CHECK(h.bmc->credentials == "env:BMC_PASS_A12");
  }
  CHECK(inv.hosts[3].rack_u == 27);
  CHECK(inv.warnings.empty());
}

TEST_CASE("the two-rack site example") {
  Inventory inv = load_inventory(example("two-rack-site.yaml"));
  CHECK(inv.hosts.size() == 9);
  CHECK(select_hosts(inv, "rack=a13").size() == 4);
  const Host* rma = inv.find("gpu-a13-04");
  REQUIRE(rma);
  CHECK(rma->vars["burnin_minutes"] == 240);
  CHECK(inv.find("gpu-a13-01")->vars["burnin_minutes"] == 90);
  CHECK(inv.find("gpu-a12-01")->vars["burnin_minutes"] == 60);
  CHECK(inv.find("login-phx1-01")->vars["burnin_minutes"] == 30);
  CHECK(rma->bmc->scheme == "ipmi");
  CHECK(rma->bmc->port == 623);
}

TEST_CASE("the Ansible example") {
  Inventory inv = load_inventory(example("ansible-hosts.yml"));
  CHECK(inv.format == Format::ansible);
  CHECK(inv.hosts.size() == 10);
  CHECK(inv.find("login-phx1-01")->ssh.port == 2222);
  CHECK(inv.find("gpu-a13-04")->vars["rma"] == true);
  CHECK(inv.find("gpu-a12-01")->ssh.jump_host == "bastion.phx1.example.net");
  CHECK(select_hosts(inv, "@gpu").size() == 8);
}

TEST_CASE("host JSON has the promised keys and never a secret") {
  Inventory inv = load_inventory(example("h100-rack.yaml"));
  nlohmann::json j = host_to_json(inv.hosts[0]);
  for (const char* k : {"name", "address", "port", "user", "site", "rack", "groups", "labels", "bmc", "hardware", "vars"})
    CHECK_MESSAGE(j.contains(k), k);
  CHECK(j["bmc"]["credentials"] == "env:BMC_PASS_A12");
  CHECK(j["hardware"]["gpu_count"] == 8);
  nlohmann::json show = host_show_json(inv.hosts[0]);
  CHECK(show["origins"]["ntp_server"]["level"] == "defaults");
  CHECK(show["origins"]["ntp_server"]["line"] == 13);
  for (const char* f : {"h100-rack.yaml", "two-rack-site.yaml", "ansible-hosts.yml"}) {
    Inventory each = load_inventory(example(f));
    for (const Host& h : each.hosts) {
      std::string streamed;
      append_host_json(streamed, h);
      CHECK(streamed == host_to_json(h).dump());
    }
  }
  std::string table = hosts_table({&inv.hosts[0]}, true);
  CHECK(table.rfind("NAME", 0) == 0);
  CHECK(table.find("gpu-a12-01") != std::string::npos);
}
