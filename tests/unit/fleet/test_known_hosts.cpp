// known_hosts: matching (plain, [host]:port, hashed, wildcards, negation,
// markers), the policy answers, appending and forgetting. Key vectors and
// hashed lines were produced by OpenSSH's ssh-keygen (-lf, -H).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/base64.hpp"
#include "common/files.hpp"
#include "fleet/known_hosts.hpp"

using namespace aicloud;
using namespace aicloud::fleet;

namespace {

const char* k_key_a = "AAAAC3NzaC1lZDI1NTE5AAAAIJpyQ+9MreTid5fDDVCzwFFMm8Vi4b2WVSe+SRrmOmDl";
const char* k_fp_a = "SHA256:9oylBr4vmToaVv51XaBdUvPSFDDV0OzrdLb3uYzwg00";
const char* k_key_b = "AAAAC3NzaC1lZDI1NTE5AAAAIAsd5qvaa1mpACKtQyP/C1DgApCdXTV5jQuZs2RiuRNf";
const char* k_fp_b = "SHA256:h9HgKkux81nAXVUKubROGa7rYZ0mwvRze6H5oB4Pq/E";
const char* k_key_rsa =
    "AAAAB3NzaC1yc2EAAAADAQABAAAAgQDJdwLEWxN5f/MohtGl+2QkkKetobtoM2aDxO1hE1aL/COHRyfdQMqQXYN2oyEzkgd1ucH6AY3MKZUPRw5RN0d"
    "rSv+d1bHbM9JDQH286aSSJ2Lqp1+LCGFVROevNB4fkSDfOpx8fYRuhOhDDqWcPaviRcIXxAySZCyQX5jFuKkCXQ==";

std::string blob(const char* b64) {
  auto out = base64_decode(b64);
  REQUIRE(out.has_value());
  return *out;
}

std::string temp_path(const char* tag) {
  char buf[] = "/tmp/aicloud-kh-XXXXXX";
  int fd = ::mkstemp(buf);
  REQUIRE(fd >= 0);
  ::close(fd);
  ::unlink(buf);
  return std::string(buf) + "-" + tag;
}

std::string slurp(const std::string& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("the SHA256 fingerprint and key type match ssh-keygen") {
  std::string b = blob(k_key_a);
  CHECK(b.size() == 51);
  CHECK(KnownHosts::fingerprint_sha256(b) == k_fp_a);
  CHECK(KnownHosts::fingerprint_sha256(blob(k_key_b)) == k_fp_b);
  CHECK(key_type_of_blob(b) == "ssh-ed25519");
  CHECK(key_type_of_blob(blob(k_key_rsa)) == "ssh-rsa");
  CHECK(key_type_of_blob("\xff\xff\xff\xffx").empty());
  CHECK(key_type_of_blob("ab").empty());
}

TEST_CASE("host key names follow OpenSSH: bare for port 22, [addr]:port otherwise") {
  CHECK(KnownHosts::host_key_name("10.1.2.3", 22) == "10.1.2.3");
  CHECK(KnownHosts::host_key_name("10.1.2.3", 0) == "10.1.2.3");
  CHECK(KnownHosts::host_key_name("Node-1", 2222) == "[node-1]:2222");
}

TEST_CASE("plain, port, wildcard and negated patterns") {
  auto k = KnownHosts::parse(std::string("# comment\n\n") + "[10.1.2.3]:2222 ssh-ed25519 " + k_key_a +
                                 " note\n"
                                 "gpu-a12-*,!gpu-a12-99 ssh-ed25519 " + k_key_a + "\n" +
                                 "10.9.9.9,other ssh-ed25519 " + k_key_b + "\n",
                             "mem");
  std::string a = blob(k_key_a), b = blob(k_key_b);
  CHECK(k.check({"[10.1.2.3]:2222"}, "ssh-ed25519", a) == KeyMatch::known);
  CHECK(k.check({"10.1.2.3"}, "ssh-ed25519", a) == KeyMatch::unknown);   // port 22 is another entry
  CHECK(k.check({"GPU-A12-07"}, "ssh-ed25519", a) == KeyMatch::known);  // case-insensitive glob
  CHECK(k.check({"gpu-a12-99"}, "ssh-ed25519", a) == KeyMatch::unknown);  // negated
  std::string expected;
  CHECK(k.check({"10.9.9.9"}, "ssh-ed25519", a, &expected) == KeyMatch::changed);
  CHECK(expected == std::string("ssh-ed25519 ") + k_fp_b);
  CHECK(k.check({"other"}, "ssh-ed25519", b) == KeyMatch::known);
  CHECK(k.known_types({"[10.1.2.3]:2222"}) == std::vector<std::string>{"ssh-ed25519"});
  CHECK(k.known_types({"nowhere"}).empty());
}

TEST_CASE("a key of another type on file counts as changed, not unknown") {
  auto k = KnownHosts::parse(std::string("h1 ssh-rsa ") + k_key_rsa + "\n", "mem");
  CHECK(k.check({"h1"}, "ssh-ed25519", blob(k_key_a)) == KeyMatch::changed);
  CHECK(k.check({"h1"}, "ssh-rsa", blob(k_key_rsa)) == KeyMatch::known);
}

TEST_CASE("hashed entries written by ssh-keygen -H match their host only") {
  auto k = KnownHosts::parse(
      std::string("|1|KyGCwXaDQ6KdX16vbB8ulD3a5t0=|FMPHDZWbOkzyqQ0aIV/zOT+meMk= ssh-ed25519 ") + k_key_a + "\n" +
          "|1|uULA0UzmRgzFzFiMQBHUYdIP3UA=|ZOYfsNBCHoJzsYejXXRHhUfI92E= ssh-ed25519 " + k_key_a + "\n",
      "mem");
  std::string a = blob(k_key_a);
  CHECK(k.check({"[10.1.2.3]:2222"}, "ssh-ed25519", a) == KeyMatch::known);
  CHECK(k.check({"gpu-a12-01"}, "ssh-ed25519", a) == KeyMatch::known);
  CHECK(k.check({"gpu-a12-02"}, "ssh-ed25519", a) == KeyMatch::unknown);
  CHECK(k.check({"gpu-a12-01"}, "ssh-ed25519", blob(k_key_b)) == KeyMatch::changed);
  auto e = k.entries();
  REQUIRE(e.size() == 2);
  CHECK(e[0].hashed);
  CHECK(e[0].fingerprint == k_fp_a);
}

TEST_CASE("@revoked refuses a key, @cert-authority lines are ignored, corrupt lines are skipped") {
  auto k = KnownHosts::parse(std::string("@revoked * ssh-ed25519 ") + k_key_b + "\n" +
                                 "@cert-authority *.example ssh-ed25519 " + k_key_a + "\n" +
                                 "broken-line-without-key\n" + "h2 ssh-ed25519 !!notbase64!!\n" +
                                 "h3 ssh-rsa " + k_key_a + "\n",  // type field disagrees with the blob
                             "mem");
  CHECK(k.check({"anything"}, "ssh-ed25519", blob(k_key_b)) == KeyMatch::revoked);
  CHECK(k.check({"n1.example"}, "ssh-ed25519", blob(k_key_a)) == KeyMatch::unknown);
  CHECK(k.check({"h2"}, "ssh-ed25519", blob(k_key_a)) == KeyMatch::unknown);
  CHECK(k.check({"h3"}, "ssh-ed25519", blob(k_key_a)) == KeyMatch::unknown);
}

TEST_CASE("add appends an OpenSSH line once, creating the file, load reads it back") {
  std::string path = temp_path("add");
  {
    auto k = KnownHosts::load(path);  // missing file: empty
    CHECK(k.entries().empty());
    k.add({"[10.0.0.5]:2222"}, "ssh-ed25519", blob(k_key_a));
    k.add({"[10.0.0.5]:2222"}, "ssh-ed25519", blob(k_key_a));  // no duplicate
    k.add({"10.0.0.6"}, "ssh-ed25519", blob(k_key_b));
    CHECK(k.check({"[10.0.0.5]:2222"}, "ssh-ed25519", blob(k_key_a)) == KeyMatch::known);
  }
  CHECK(slurp(path) == std::string("[10.0.0.5]:2222 ssh-ed25519 ") + k_key_a + "\n10.0.0.6 ssh-ed25519 " + k_key_b + "\n");
  auto again = KnownHosts::load(path);
  CHECK(again.check({"10.0.0.6"}, "ssh-ed25519", blob(k_key_b)) == KeyMatch::known);
  ::unlink(path.c_str());
}

TEST_CASE("add after a file that lacks a final newline starts a new line") {
  std::string path = temp_path("nl");
  write_file_atomic(path, std::string("h1 ssh-ed25519 ") + k_key_a);
  auto k = KnownHosts::load(path);
  k.add({"h2"}, "ssh-ed25519", blob(k_key_b));
  INFO(slurp(path));
  auto back = KnownHosts::load(path);
  CHECK(back.check({"h1"}, "ssh-ed25519", blob(k_key_a)) == KeyMatch::known);
  CHECK(back.check({"h2"}, "ssh-ed25519", blob(k_key_b)) == KeyMatch::known);
  ::unlink(path.c_str());
}

TEST_CASE("forget removes plain and hashed lines of the host and keeps everything else verbatim") {
  std::string path = temp_path("forget");
  std::string text = std::string("# keep me\n") + "[10.1.2.3]:2222 ssh-ed25519 " + k_key_a + "\n" +
                     "|1|KyGCwXaDQ6KdX16vbB8ulD3a5t0=|FMPHDZWbOkzyqQ0aIV/zOT+meMk= ssh-ed25519 " + k_key_b + "\n" +
                     "other   ssh-ed25519 " + k_key_a + "   trailing comment\n" + "@revoked * ssh-ed25519 " + k_key_b +
                     "\n";
  write_file_atomic(path, text, 0600);
  auto k = KnownHosts::load(path);
  CHECK(k.forget({"[10.1.2.3]:2222"}) == 2);
  CHECK(slurp(path) == std::string("# keep me\n") + "other   ssh-ed25519 " + k_key_a + "   trailing comment\n" +
                           "@revoked * ssh-ed25519 " + k_key_b + "\n");
  CHECK(k.check({"[10.1.2.3]:2222"}, "ssh-ed25519", blob(k_key_a)) == KeyMatch::unknown);
  CHECK(k.forget({"nothing-here"}) == 0);
  ::unlink(path.c_str());
}

TEST_CASE("glob_match") {
  CHECK(glob_match("*", "anything"));
  CHECK(glob_match("gpu-?", "gpu-1"));
  CHECK_FALSE(glob_match("gpu-?", "gpu-12"));
  CHECK(glob_match("*.a12.*", "n1.a12.phx"));
  CHECK(glob_match("[10.0.0.*]:22??", "[10.0.0.7]:2222"));
  CHECK_FALSE(glob_match("abc", "abcd"));
}
