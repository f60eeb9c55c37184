// Selectors (--limit): node sets, @group, rack=, site=, labels, and the
// operators, with errors for names the inventory does not have.
#include <doctest/doctest.h>

#include <string>

#include "inventory/inventory.hpp"

using namespace aicloud;
using namespace aicloud::inventory;

namespace {

const Inventory& inv() {
  static const Inventory i = parse_inventory(R"(version: 1
groups:
  compute: {}
  login: {}
sites:
  phx1:
    nodes:
      - {name: login1, groups: [login], labels: {role: login}}
    racks:
      a12:
        nodes:
          - {name: "gpu-a12-[01-04]", groups: [compute], labels: {sku: h100}}
      a13:
        nodes:
          - {name: "gpu-a13-[01-04]", groups: [compute], labels: {sku: h200}}
  iad2:
    racks:
      a12:
        nodes:
          - {name: "gpu-iad-[01-02]", labels: {sku: h100, state: rma}}
)",
                                             "sel.yaml");
  return i;
}

std::string sel(const std::string& s) {
  std::string out;
  for (const Host* h : select_hosts(inv(), s)) out += (out.empty() ? "" : " ") + h->name;
  return out;
}

std::string error(const std::string& s) {
  try {
    select_hosts(inv(), s);
  } catch (const InputError& e) {
    return format_diagnostic(e.diagnostics().at(0));
  }
  return "no error";
}

}  // namespace

TEST_CASE("an empty selector selects every host in inventory order") {
  CHECK(select_hosts(inv(), "").size() == 11);
  CHECK(select_hosts(inv(), "  ").size() == 11);
}

TEST_CASE("node sets, globs and groups") {
  CHECK(sel("gpu-a12-[01-02]") == "gpu-a12-01 gpu-a12-02");
  CHECK(sel("gpu-a1[2-3]-04") == "gpu-a12-04 gpu-a13-04");
  CHECK(sel("gpu-a1*-01") == "gpu-a12-01 gpu-a13-01");
  CHECK(sel("@login") == "login1");
  CHECK(sel("@comp*") == sel("@compute"));
  CHECK(sel("group=login") == "login1");
  CHECK(sel("@all") == sel(""));
  CHECK(sel("name=gpu-iad-*") == "gpu-iad-01 gpu-iad-02");
}

TEST_CASE("racks, sites and labels") {
  CHECK(sel("rack=a13") == "gpu-a13-01 gpu-a13-02 gpu-a13-03 gpu-a13-04");
  CHECK(sel("rack=a12") == "gpu-a12-01 gpu-a12-02 gpu-a12-03 gpu-a12-04 gpu-iad-01 gpu-iad-02");
  CHECK(sel("rack=phx1/a12") == "gpu-a12-01 gpu-a12-02 gpu-a12-03 gpu-a12-04");
  CHECK(sel("rack=a1[2-3]&site=phx1") == sel("@compute"));
  CHECK(sel("site=iad2") == "gpu-iad-01 gpu-iad-02");
  CHECK(sel("sku=h200") == "gpu-a13-01 gpu-a13-02 gpu-a13-03 gpu-a13-04");
  CHECK(sel("sku=h1*") == "gpu-a12-01 gpu-a12-02 gpu-a12-03 gpu-a12-04 gpu-iad-01 gpu-iad-02");
  CHECK(sel("state=ok") == "");
}

TEST_CASE("operators apply left to right, '!' excludes, brackets keep their commas") {
  CHECK(sel("rack=a12&sku=h100&!gpu-a12-[02-04]") == "gpu-a12-01 gpu-iad-01 gpu-iad-02");
  CHECK(sel("rack=a12!site=iad2") == "gpu-a12-01 gpu-a12-02 gpu-a12-03 gpu-a12-04");
  CHECK(sel("!@compute") == "login1 gpu-iad-01 gpu-iad-02");
  CHECK(sel("gpu-a12-[01,03],login1") == "login1 gpu-a12-01 gpu-a12-03");
  CHECK(sel("@login,@compute&sku=h100") == "gpu-a12-01 gpu-a12-02 gpu-a12-03 gpu-a12-04");
  CHECK(sel("rack=a13^gpu-a13-01,gpu-a12-01") == "gpu-a12-01 gpu-a13-02 gpu-a13-03 gpu-a13-04");
}

TEST_CASE("names the inventory does not have are errors with a hint") {
  CHECK(error("@comptue") == "selector '@comptue':1:1: unknown group '@comptue' (did you mean '@compute'?)");
  CHECK(error("rack=a21") == "selector 'rack=a21':1:1: no rack 'a21' in the inventory (did you mean 'a12'?)");
  CHECK(error("@login,site=phx") == "selector '@login,site=phx':1:8: no site 'phx' in the inventory (did you mean 'phx1'?)");
  CHECK(error("skuu=h100") == "selector 'skuu=h100':1:1: no host has a label 'skuu' (did you mean 'sku'?)");
  CHECK(error("gpu-a12-99") == "selector 'gpu-a12-99':1:1: no host in the inventory matches 'gpu-a12-99' (did you "
                               "mean 'gpu-a12-01'?)");
  CHECK(error("gpu-a12-[01-") == "selector 'gpu-a12-[01-':1:1: bad node set 'gpu-a12-[01-': missing bracket in "
                                 "\"gpu-a12-[01-\"");
  CHECK(error("a,,b") == "selector 'a,,b':1:3: empty term in selector");
  CHECK(error("login1,") == "selector 'login1,':1:8: empty term in selector");
  CHECK(error("rack=") == "selector 'rack=':1:1: selector term 'rack=' has no value after '='");
  CHECK(error("compute") == "selector 'compute':1:1: no host in the inventory matches 'compute' (for the group, "
                            "write '@compute')");
}
