// Connection options: --max-fail, --host-key-policy, the default known_hosts
// path and validation.
#include <doctest/doctest.h>

#include "common/error.hpp"
#include "fleet/options.hpp"

using namespace aicloud;
using namespace aicloud::fleet;

TEST_CASE("--max-fail counts and percentages") {
  MaxFail none;
  CHECK(none.unlimited());
  CHECK_FALSE(none.exceeded(1000, 1000));
  MaxFail zero = parse_max_fail("0");
  CHECK(zero.exceeded(1, 10));
  CHECK_FALSE(zero.exceeded(0, 10));
  MaxFail three = parse_max_fail("3");
  CHECK_FALSE(three.exceeded(3, 10));
  CHECK(three.exceeded(4, 10));
  MaxFail pct = parse_max_fail("10%");
  CHECK_FALSE(pct.exceeded(10, 100));
  CHECK(pct.exceeded(11, 100));
  CHECK(parse_max_fail("2.5%").percent == doctest::Approx(2.5));
  for (const char* bad : {"", "-1", "x", "10%%", "101%", "1e3", "3 hosts", "%"})
    CHECK_THROWS_AS(parse_max_fail(bad), UsageError);
}

TEST_CASE("--host-key-policy names") {
  CHECK(parse_host_key_policy("strict") == HostKeyPolicy::strict);
  CHECK(parse_host_key_policy("accept-new") == HostKeyPolicy::accept_new);
  CHECK(parse_host_key_policy("off") == HostKeyPolicy::off);
  CHECK_THROWS_AS(parse_host_key_policy("no"), UsageError);
  CHECK_THROWS_AS(parse_host_key_policy(""), UsageError);
  CHECK(to_string(HostKeyPolicy::accept_new) == "accept-new");
}

TEST_CASE("the known_hosts file sits beside the inventory, named after it") {
  CHECK(default_known_hosts_path("racks/phx1.yaml") == "racks/phx1.known_hosts");
  CHECK(default_known_hosts_path("/etc/aicloud/a12.yml") == "/etc/aicloud/a12.known_hosts");
  CHECK(default_known_hosts_path("inv") == "inv.known_hosts");
  CHECK(default_known_hosts_path("dir.v2/hosts.ini") == "dir.v2/hosts.known_hosts");
  ConnectionOptions o;
  CHECK_THROWS_AS(known_hosts_path(o), UsageError);
  o.inventory = "x/y.yaml";
  CHECK(known_hosts_path(o) == "x/y.known_hosts");
  o.known_hosts = "/tmp/kh";
  CHECK(known_hosts_path(o) == "/tmp/kh");
}

TEST_CASE("validate refuses impossible values") {
  ConnectionOptions o;
  CHECK_NOTHROW(validate(o));
  o.forks = 0;
  CHECK_THROWS_AS(validate(o), UsageError);
  o = {};
  o.connect_timeout = Seconds(0);
  CHECK_THROWS_AS(validate(o), UsageError);
  o = {};
  o.identities = {"/nonexistent/key"};
  CHECK_THROWS_AS(validate(o), UsageError);
  o = {};
  o.ssh_config = "/nonexistent/config";
  CHECK_THROWS_AS(validate(o), UsageError);
  o = {};
  o.ssh_config = "/etc/hostname";
  o.no_ssh_config = true;
  CHECK_THROWS_AS(validate(o), UsageError);
}
