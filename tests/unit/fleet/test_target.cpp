// Inventory hosts to targets: jump specs, jump hosts by inventory name,
// loops, Ansible connection variables.
#include <doctest/doctest.h>

#include "common/error.hpp"
#include "fleet/target.hpp"

using namespace aicloud;
using namespace aicloud::fleet;

namespace {
inventory::Host host(const std::string& name, const std::string& address, int port = 0, const std::string& jump = "") {
  inventory::Host h;
  h.name = name;
  h.address = address;
  h.ssh.port = port;
  h.ssh.jump_host = jump;
  h.defined_at = {"inv.yaml", 3, 5};
  return h;
}
}  // namespace

TEST_CASE("jump specs: [user@]host[:port], IPv6 in brackets") {
  Target t = parse_jump_spec("ops@bastion.phx1:2200");
  CHECK(t.user == "ops");
  CHECK(t.address == "bastion.phx1");
  CHECK(t.port == 2200);
  t = parse_jump_spec("10.0.0.1");
  CHECK(t.user.empty());
  CHECK(t.port == 0);
  t = parse_jump_spec("[fd00::1]:22");
  CHECK(t.address == "fd00::1");
  CHECK(t.port == 22);
  t = parse_jump_spec("fd00::1");
  CHECK(t.address == "fd00::1");
  for (const char* bad : {"", "@host", "host:", "host:70000", "host:x", "[::1", "[::1]x", "a$(b)", "a;b", "a b"})
    CHECK_THROWS_AS(parse_jump_spec(bad), UsageError);
}

TEST_CASE("a jump host named in the inventory takes that host's settings, targets share it") {
  inventory::Inventory inv;
  inv.hosts.push_back(host("bastion", "10.0.0.1", 2200));
  inv.hosts.back().ssh.user = "ops";
  inv.hosts.push_back(host("n1", "192.168.1.1", 0, "bastion"));
  inv.hosts.push_back(host("n2", "192.168.1.2", 0, "bastion"));
  inv.hosts.push_back(host("n3", "", 0, "root@198.51.100.7:2022"));
  inv.reindex();
  auto targets = targets_from_hosts(inv, {&inv.hosts[1], &inv.hosts[2], &inv.hosts[3]});
  REQUIRE(targets.size() == 3);
  REQUIRE(targets[0].jump);
  CHECK(targets[0].jump->address == "10.0.0.1");
  CHECK(targets[0].jump->port == 2200);
  CHECK(targets[0].jump->user == "ops");
  CHECK(targets[0].jump == targets[1].jump);  // one shared jump target
  CHECK(targets[2].address == "n3");          // address defaults to the name
  REQUIRE(targets[2].jump);
  CHECK(targets[2].jump->user == "root");
  CHECK(describe(targets[0]) == "192.168.1.1 via ops@10.0.0.1:2200");
}

TEST_CASE("a jump loop is an input error naming the chain") {
  inventory::Inventory inv;
  inv.hosts.push_back(host("a", "10.0.0.1", 0, "b"));
  inv.hosts.push_back(host("b", "10.0.0.2", 0, "a"));
  inv.reindex();
  try {
    targets_from_hosts(inv, {&inv.hosts[0]});
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.diagnostics().front().message.find("a -> b -> a") != std::string::npos);
    CHECK(e.diagnostics().front().where.line == 3);
  }
  inv.hosts[1].ssh.jump_host = "bad host name";
  CHECK_THROWS_AS(targets_from_hosts(inv, {&inv.hosts[0]}), InputError);
}

TEST_CASE("Ansible connection variables fill what ssh: leaves empty") {
  inventory::Inventory inv;
  inv.hosts.push_back(host("web1", ""));
  inv.hosts[0].vars = {{"ansible_host", "10.2.0.9"},
                       {"ansible_port", 2201},
                       {"ansible_user", "deploy"},
                       {"ansible_ssh_private_key_file", "~/.ssh/deploy"},
                       {"ansible_become", true}};
  inv.reindex();
  Target t = target_from_host(inv, inv.hosts[0]);
  CHECK(t.address == "10.2.0.9");
  CHECK(t.port == 2201);
  CHECK(t.user == "deploy");
  CHECK(t.identity_file == "~/.ssh/deploy");
  CHECK(t.become);
  inv.hosts[0].ssh.user = "native";
  inv.hosts[0].ssh.port = 22;
  t = target_from_host(inv, inv.hosts[0]);
  CHECK(t.user == "native");
  CHECK(t.port == 22);
}

TEST_CASE("plain host names") {
  CHECK(is_plain_hostname("gpu-a12-01.phx1"));
  CHECK(is_plain_hostname("10.0.0.1"));
  for (const char* bad : {"", "-x", ".x", "a b", "a$(b)", "a;b", "a'b", "a`b`", "user@host", "h:22"})
    CHECK_FALSE(is_plain_hostname(bad));
}
