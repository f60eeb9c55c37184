// The native inventory format: zipped ranges, precedence and origins, and
// validation that reports every problem at its FILE:LINE:COL.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "common/files.hpp"
#include "inventory/inventory.hpp"

using namespace aicloud;
using namespace aicloud::inventory;

namespace {

std::vector<std::string> errors_of(const std::string& text) {
  try {
    parse_inventory(text, "inv.yaml");
  } catch (const InputError& e) {
    std::vector<std::string> out;
    for (const auto& d : e.diagnostics()) out.push_back(format_diagnostic(d));
    return out;
  }
  return {};
}

bool has_error(const std::vector<std::string>& errs, const std::string& needle) {
  for (const auto& e : errs)
    if (e.find(needle) != std::string::npos) return true;
  return false;
}

const char* k_rack = R"(version: 1
defaults:
  ssh: {user: root, port: 22, identity_file: /keys/id, jump_host: bastion, become: false}
  vars: {ntp_server: 10.0.0.1, level: defaults, only_defaults: 1}
  labels: {tier: gold}
  hardware: {gpu_model: H100-SXM, gpu_count: 8}
groups:
  compute: {vars: {level: group, only_group: 1}}
sites:
  phx1:
    vars: {level: site}
    labels: {dc: phx1}
    racks:
      a12:
        vars: {level: rack}
        labels: {row: "4"}
        bmc: {credentials: "env:BMC_PASS_A12"}
        nodes:
          - name: gpu-a12-[01-16]
            address: 10.12.0.[11-26]
            u: "[2-32/2]"
            bmc: {url: "redfish://10.112.0.[11-26]"}
            ssh: {become: true}
            hardware: {nics: [mlx5_0, mlx5_1]}
            labels: {sku: h100}
            groups: [compute]
            vars: {level: node}
)";

}  // namespace

TEST_CASE("a node range is zipped with address, U and BMC ranges") {
  Inventory inv = parse_inventory(k_rack, "inv.yaml");
  CHECK(inv.format == Format::native);
  REQUIRE(inv.hosts.size() == 16);
  const Host& h = inv.hosts[4];
  CHECK(h.name == "gpu-a12-05");
  CHECK(h.address == "10.12.0.15");
  CHECK(h.rack_u == 10);
  REQUIRE(h.bmc);
  CHECK(h.bmc->scheme == "redfish");
  CHECK(h.bmc->host == "10.112.0.15");
  CHECK(h.bmc->credentials == "env:BMC_PASS_A12");
  CHECK(h.site == "phx1");
  CHECK(h.rack == "a12");
  CHECK(h.ssh.user == "root");
  CHECK(h.ssh.port == 22);
  CHECK(h.ssh.become);
  CHECK(h.ssh.jump_host == "bastion");
  CHECK(h.hardware.gpu_model == "H100-SXM");
  CHECK(h.hardware.gpu_count == 8);
  CHECK(h.hardware.nics == std::vector<std::string>{"mlx5_0", "mlx5_1"});
  CHECK(h.labels == std::map<std::string, std::string>{{"dc", "phx1"}, {"row", "4"}, {"sku", "h100"}, {"tier", "gold"}});
  CHECK(h.groups == std::vector<std::string>{"compute"});
  CHECK(inv.groups.at("compute").size() == 16);
  CHECK(h.defined_at.line == 19);
  CHECK(inv.find("gpu-a12-16") == &inv.hosts[15]);
  CHECK(inv.find("gpu-a12-17") == nullptr);
}

TEST_CASE("vars merge node > rack > site > group > defaults and remember their origin") {
  Inventory inv = parse_inventory(k_rack, "inv.yaml");
  const Host& h = inv.hosts[0];
  CHECK(h.vars["level"] == "node");
  CHECK(h.vars["only_group"] == 1);
  CHECK(h.vars["only_defaults"] == 1);
  CHECK(h.var_origins.at("level").level == "node");
  CHECK(h.var_origins.at("level").where.line == 27);
  CHECK(h.var_origins.at("only_group").level == "group:compute");
  CHECK(h.var_origins.at("only_group").where.line == 8);
  CHECK(h.var_origins.at("ntp_server").level == "defaults");
  CHECK(h.var_origins.size() == h.vars.size());
  // Connection settings are exposed the Ansible way.
  CHECK(h.vars["ansible_host"] == "10.12.0.11");
  CHECK(h.vars["ansible_port"] == 22);
  CHECK(h.vars["ansible_user"] == "root");
  CHECK(h.vars["ansible_ssh_private_key_file"] == "/keys/id");
  CHECK(h.vars["ansible_become"] == true);
  CHECK(h.vars["ansible_ssh_common_args"] == "-o ProxyJump=bastion");
  CHECK(h.var_origins.at("ansible_become").level == "node");
  CHECK(h.var_origins.at("ansible_user").level == "defaults");
}

TEST_CASE("one value is shared by every node of a range, ports may be ranges") {
  Inventory inv = parse_inventory(R"(version: 1
nodes:
  - name: node[1-4]
    address: 127.0.0.1
    ssh: {port: "[2201-2204]", user: tester, identity_file: ~/.ssh/test_key}
)",
                                  "fleet.yaml");
  REQUIRE(inv.hosts.size() == 4);
  CHECK(inv.hosts[3].address == "127.0.0.1");
  CHECK(inv.hosts[3].ssh.port == 2204);
  CHECK(inv.hosts[0].site.empty());
  CHECK(inv.hosts[0].ssh.identity_file == home_dir() + "/.ssh/test_key");
  CHECK(inv.hosts[0].vars["ansible_ssh_private_key_file"] == "~/.ssh/test_key");
}

TEST_CASE("lists zip in order, and a list of addresses may replace a range") {
  Inventory inv = parse_inventory(R"(sites:
  s1:
    racks:
      r1:
        nodes:
          - name: n[1-3]
            address: [10.0.0.9, 10.0.0.7, 10.0.0.8]
            u: [30, 20, 10]
)",
                                  "inv.yaml");
  CHECK(inv.hosts[0].address == "10.0.0.9");
  CHECK(inv.hosts[2].rack_u == 10);
}

TEST_CASE("every problem is reported with FILE:LINE:COL") {
  auto errs = errors_of(R"(version: 1
defaults:
  ssh: {user: root, prot: 22}
  vars: {ansible_user: x}
groups:
  compute: {vars: {a: 1}}
sites:
  phx1:
    racks:
      a12:
        nodes:
          - name: gpu-a12-[01-16]
            address: 10.12.0.[11-25]
          - name: gpu-b-[01-04]
            address: 10.0.0.[1-4]
            u: [1, 2, 2, 3]
            bmc: {url: "redfish://10.1.0.[1-4]", credentials: "hunter2"}
            ssh: {port: 70000}
            groups: [comptue]
          - name: gpu-b-04
            address: 10.0.0.4
            hardware: {gpu_count: eight}
          - name: gpu-c[1-2
          - name: gpu-d1
            bmc: {url: "redfish://10.1.0.1", password: x}
            labelz: {a: b}
          - nme: x
)");
  std::vector<std::string> expected = {
      "inv.yaml:3:21: unknown key 'prot' in defaults.ssh (did you mean 'port'?)",
      "inv.yaml:4:10: 'ansible_user' is derived from 'ssh.user'; set 'ssh.user' instead of vars.ansible_user",
      "inv.yaml:13:22: address has 15 values but name 'gpu-a12-[01-16]' has 16 names; zipped ranges must have the "
      "same length (or one value for all)",
      "inv.yaml:16:23: rack U2 in rack a12 is taken twice: by 'gpu-b-02' (line 16, column 20) and by 'gpu-b-03'",
      "inv.yaml:17:63: bmc.credentials must be a reference, 'env:VAR' or 'file:PATH' (the secret itself never goes "
      "in an inventory)",
      "inv.yaml:18:25: ssh.port '70000' is not a port number (1-65535)",
      "inv.yaml:19:22: group 'comptue' is not defined in 'groups:' (did you mean 'compute'?)",
      "inv.yaml:20:19: duplicate node name 'gpu-b-04' (first defined at line 14, column 19)",
      "inv.yaml:22:35: hardware.gpu_count must be an integer, found a string ('eight')",
      "inv.yaml:23:19: name: missing bracket in \"gpu-c[1-2\"",
      "inv.yaml:25:24: duplicate BMC address 10.1.0.1 for 'gpu-d1': already used by 'gpu-b-01' (line 17, column 24)",
      "inv.yaml:25:46: bmc.password: BMC secrets never go in an inventory; use credentials: env:VAR or file:PATH",
      "inv.yaml:26:13: unknown key 'labelz' in node entry (did you mean 'labels'?)",
      "inv.yaml:27:13: unknown key 'nme' in node entry (did you mean 'name'?)",
      "inv.yaml:27:13: node entry has no 'name' (a node name or a range such as gpu-a12-[01-16])",
  };
  CHECK(errs == expected);
}

TEST_CASE("duplicate addresses count the SSH port, duplicate keys are errors") {
  auto errs = errors_of(R"(nodes:
  - name: a
    address: 10.0.0.1
  - name: b
    address: 10.0.0.1
    ssh: {port: 22}
  - name: c
    address: 10.0.0.1
    ssh: {port: 2222}
  - name: d
    name: e
)");
  CHECK(has_error(errs, "inv.yaml:5:14: duplicate address 10.0.0.1 (SSH port 22) for 'b': already used by 'a'"));
  CHECK_FALSE(has_error(errs, "for 'c'"));
  CHECK(has_error(errs, "inv.yaml:11:5: duplicate key 'name' in node entry (first at line 10)"));
}

TEST_CASE("wrong types are named") {
  auto errs = errors_of(R"(version: 2
defaults: [1]
sites:
  bad site!: {}
  s1:
    racks:
      r1:
        nodes: {name: x}
nodes:
  - name: n1
    address: [a, [b]]
    ssh: {become: maybe, user: "a b"}
    labels: {k: [1]}
    groups: web
    u: 3
)");
  CHECK(has_error(errs, "inv.yaml:1:10: unsupported inventory version 2"));
  CHECK(has_error(errs, "inv.yaml:2:11: defaults must be a mapping, found a list"));
  CHECK(has_error(errs, "inv.yaml:4:3: invalid site name 'bad site!'"));
  CHECK(has_error(errs, "inv.yaml:8:16: nodes must be a list of node entries"));
  CHECK(has_error(errs, "inv.yaml:11:18: address entries must be single values, found a list"));
  CHECK(has_error(errs, "inv.yaml:12:19: ssh.become must be true or false"));
  CHECK(has_error(errs, "ssh.user 'a b' is not a valid user name"));
  CHECK(has_error(errs, "inv.yaml:13:17: label 'k' must be a single value, found a list"));
  CHECK(has_error(errs, "inv.yaml:15:8: u (rack unit) is only meaningful for nodes in a rack"));
}

TEST_CASE("YAML anchors under x- keys and merge keys work in the native format") {
  Inventory inv = parse_inventory(R"(version: 1
x-h200: &h200
  hardware: {gpu_model: H200-SXM, gpu_count: 8}
  labels: {sku: h200}
sites:
  s1:
    racks:
      r1:
        <<: *h200
        labels: {sku: h200-nvl}
        nodes:
          - name: n1
)",
                                  "inv.yaml");
  REQUIRE(inv.hosts.size() == 1);
  CHECK(inv.hosts[0].hardware.gpu_model == "H200-SXM");
  CHECK(inv.hosts[0].labels.at("sku") == "h200-nvl");
}

TEST_CASE("empty, binary, huge, missing and unreadable files are clear InputErrors") {
  std::string dir = "/tmp/aicloud-inv-test-" + std::to_string(::getpid());
  ::mkdir(dir.c_str(), 0700);
  auto write = [&](const std::string& name, const std::string& content) {
    std::ofstream(dir + "/" + name, std::ios::binary) << content;
    return dir + "/" + name;
  };
  auto message = [](const std::string& path) {
    try {
      load_inventory(path);
    } catch (const InputError& e) {
      return format_diagnostic(e.diagnostics().at(0));
    }
    return std::string("no error");
  };
  std::string empty = write("empty.yaml", "");
  CHECK(message(empty) == empty + ":1:1: inventory is empty (expected a mapping with 'sites:' or Ansible's 'all:')");
  std::string comment = write("comment.yaml", "# nothing\n");
  CHECK(message(comment).find("inventory is empty") != std::string::npos);
  std::string bin = write("bin.yaml", std::string("\x7f" "ELF\0\0\0\x01\x02", 9));
  CHECK(message(bin) == bin + ": is a binary file, not text");
  std::string huge = write("huge.yaml", std::string(k_max_inventory_bytes + 1, '#'));
  CHECK(message(huge).find("file is too large") != std::string::npos);
  CHECK(message(dir + "/missing.yaml").find("cannot open") != std::string::npos);
  CHECK(message(dir).find("is a directory") != std::string::npos);
  std::string latin1 = write("latin1.yaml", "all:\n  hosts:\n    caf\xe9:\n");
  CHECK(message(latin1) == latin1 + ":3:8: not valid UTF-8 text (YAML files must be UTF-8)");
  std::string scalar = write("scalar.yaml", "just text\n");
  CHECK(message(scalar) == scalar + ":1:1: an inventory must be a mapping (native 'version:/sites:' or Ansible 'all:'), "
                                    "found a string ('just text')");
  if (::geteuid() != 0) {
    std::string locked = write("locked.yaml", "version: 1\n");
    ::chmod(locked.c_str(), 0);
    CHECK(message(locked).find("cannot open") != std::string::npos);
    ::unlink(locked.c_str());
  }
  for (const char* f : {"empty.yaml", "comment.yaml", "bin.yaml", "huge.yaml", "scalar.yaml", "latin1.yaml"})
    ::unlink((dir + "/" + f).c_str());
  ::rmdir(dir.c_str());
}
