// Ansible YAML inventories load with ansible-core's semantics. The
// integration test tests/integration/inventory/ansible_compare.py checks the
// same against the real `ansible-inventory --list` on generated files.
#include <doctest/doctest.h>

#include <string>

#include "inventory/inventory.hpp"

using namespace aicloud;
using namespace aicloud::inventory;

namespace {
const Host& host(const Inventory& inv, const std::string& name) {
  const Host* h = inv.find(name);
  REQUIRE_MESSAGE(h != nullptr, name);
  return *h;
}
}  // namespace

TEST_CASE("hosts, ranges, ports and connection vars") {
  Inventory inv = parse_inventory(R"(all:
  vars: {ansible_user: root, ntp: 10.0.0.1}
  hosts:
    bastion:
      ansible_host: 1.2.3.4
  children:
    gpu:
      hosts:
        gpu[01:03]:
        gpu[a:b]-x:
        node[1:9:4]:
        gpu04:2222:
          ansible_ssh_private_key_file: /keys/gpu
          ansible_ssh_common_args: -o ProxyJump=jump@bastion:22
          ansible_become: yes
)",
                                  "hosts.yml");
  CHECK(inv.format == Format::ansible);
  std::vector<std::string> names;
  for (const auto& h : inv.hosts) names.push_back(h.name);
  CHECK(names == std::vector<std::string>{"bastion", "gpu01", "gpu02", "gpu03", "gpua-x", "gpub-x", "node1", "node5",
                                          "node9", "gpu04"});
  const Host& b = host(inv, "bastion");
  CHECK(b.address == "1.2.3.4");
  CHECK(b.ssh.user == "root");
  CHECK(b.groups == std::vector<std::string>{"ungrouped"});
  const Host& g4 = host(inv, "gpu04");
  CHECK(g4.address == "gpu04");
  CHECK(g4.ssh.port == 2222);
  CHECK(g4.vars["ansible_port"] == 2222);
  CHECK(g4.ssh.identity_file == "/keys/gpu");
  CHECK(g4.ssh.jump_host == "jump@bastion:22");
  CHECK(g4.ssh.become);
  CHECK(g4.var_origins.at("ntp").level == "all");
  CHECK(g4.var_origins.at("ansible_become").level == "host");
  CHECK(inv.groups.at("gpu").size() == 9);
}

TEST_CASE("group vars merge by depth, then ansible_group_priority, then name") {
  Inventory inv = parse_inventory(R"(all:
  vars: {x: all, nested: {a: 1}}
  children:
    gpu:
      vars: {x: gpu, y: gpu}
      children:
        h100:
          vars: {y: h100, nested: {c: 3}}
          hosts:
            gpu-01: {z: 1}
    aaa:
      vars: {y: aaa}
      hosts:
        gpu-01:
    zzz:
      vars: {y: zzz, w: zzz, ansible_group_priority: 0}
      hosts:
        gpu-01:
    mmm:
      vars: {w: mmm}
      hosts:
        gpu-01:
)",
                                  "hosts.yml");
  const Host& h = host(inv, "gpu-01");
  CHECK(h.vars["x"] == "gpu");
  CHECK(h.vars["y"] == "h100");                          // deeper group wins
  CHECK(h.vars["w"] == "mmm");                           // priority 0 sorts before 1
  CHECK(h.vars["nested"] == nlohmann::json({{"c", 3}}));  // replaced, not merged
  CHECK(h.vars.count("ansible_group_priority") == 0);
  CHECK(h.var_origins.at("y").level == "group:h100");
  CHECK(h.groups == std::vector<std::string>{"aaa", "gpu", "h100", "mmm", "zzz"});
}

TEST_CASE("the port of a host pattern applies where the host is first seen") {
  Inventory inv = parse_inventory(R"(g1:
  hosts:
    web1:
g2:
  hosts:
    web1:2222:
    web2:2200:
    "[10.0.0.1]:2022":
)",
                                  "hosts.yml");
  CHECK(host(inv, "web1").ssh.port == 0);
  CHECK(host(inv, "web2").ssh.port == 2200);
  CHECK(host(inv, "10.0.0.1").ssh.port == 2022);
  CHECK(inv.groups.at("g2") == std::vector<std::string>{"web1", "web2", "10.0.0.1"});
}

TEST_CASE("strings stand for one-key sections and host vars of a same-named group go to the group") {
  Inventory inv = parse_inventory(R"(all:
  children:
    web:
      hosts: web1
    db:
      children: web
      hosts:
        db:
          role: database
        db2:
)",
                                  "hosts.yml");
  CHECK(host(inv, "web1").groups == std::vector<std::string>{"db", "web"});
  CHECK(host(inv, "db2").vars["role"] == "database");
  CHECK(host(inv, "web1").vars["role"] == "database");
}

TEST_CASE("Ansible problems are errors with positions, duplicate keys are warnings") {
  try {
    parse_inventory(R"(all:
  children:
    a:
      childs:
        b:
      host:
        x:
    b:
      children:
        a:
    c: [1]
    d:
      hosts:
        "y[1:a]":
        10:
)",
                    "hosts.yml");
    FAIL("expected InputError");
  } catch (const InputError& e) {
    std::vector<std::string> got;
    for (const auto& d : e.diagnostics()) got.push_back(format_diagnostic(d));
    CHECK(got == std::vector<std::string>{
                     "hosts.yml:4:7: unknown key 'childs' in group a (did you mean 'children'?)",
                     "hosts.yml:6:7: unknown key 'host' in group a (did you mean 'hosts'?)",
                     "hosts.yml:11:8: group 'c' must be a mapping with hosts, children or vars, found a list",
                     "hosts.yml:14:9: host pattern 'y[1:a]': host range bounds must be numbers or letters",
                     "hosts.yml:15:9: host pattern must be a string (enclose numbers in quotes), found a number (10)",
                 });
  }
  try {
    parse_inventory("a:\n  children:\n    b:\n      children:\n        a:\n", "loop.yml");
    FAIL("expected InputError");
  } catch (const InputError& e) {
    CHECK(format_diagnostic(e.diagnostics().at(0)) == "loop.yml:3:5: adding group 'b' as a child of 'a' creates a loop");
  }
  Inventory inv = parse_inventory("all:\n  hosts:\n    h1: {x: 1, x: 2}\n", "dup.yml");
  CHECK(host(inv, "h1").vars["x"] == 2);
  REQUIRE(inv.warnings.size() == 1);
  CHECK(format_diagnostic(inv.warnings[0]) ==
        "dup.yml:3:16: duplicate key 'x' in host h1 (first at line 3); the last value is used");
  CHECK_THROWS_AS(parse_inventory("plugin: aws_ec2\nregions: [us-east-1]\n", "aws.yml"), InputError);
}
