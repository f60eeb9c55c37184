// SSHSIG against the real OpenSSH: our signatures verify with
// `ssh-keygen -Y verify`, ssh-keygen's verify with ours, tampering fails
// both, and the allowed-signers rules (identity, namespaces, validity) hold.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "certify/sshsig.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/process.hpp"
#include "common/strings.hpp"

using namespace aicloud;
using namespace aicloud::certify;

namespace {

std::string dir() {
  static std::string d = [] {
    std::string p = "/tmp/aicloud-sshsig-" + std::to_string(::getpid());
    REQUIRE(run_process({"mkdir", "-p", p}).ok());
    return p;
  }();
  return d;
}

void put(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string keygen(const std::string& name, const std::vector<std::string>& type_args, const std::string& pass = "") {
  std::string key = dir() + "/" + name;
  ::unlink(key.c_str());
  ::unlink((key + ".pub").c_str());
  std::vector<std::string> argv = {"ssh-keygen", "-q", "-N", pass, "-C", name, "-f", key};
  argv.insert(argv.end(), type_args.begin(), type_args.end());
  ProcessResult r = run_process(argv);
  INFO(r.stderr_text);
  REQUIRE(r.ok());
  return key;
}

std::string pub_of(const std::string& key) { return std::string(trim(read_text_file(key + ".pub"))); }

ProcessResult ssh_keygen_verify(const std::string& allowed, const std::string& identity, const std::string& sig,
                                const std::string& message, const std::string& ns = sshsig::k_namespace) {
  ProcessOptions o;
  o.stdin_data = message;
  return run_process({"ssh-keygen", "-Y", "verify", "-f", allowed, "-I", identity, "-n", ns, "-s", sig}, o);
}

const std::string k_report = "{\"kind\":\"aicloudctl.certification\",\"summary\":{\"verdict\":\"PASS\"}}\n";

}  // namespace

TEST_CASE("SSHSIG interoperates with ssh-keygen both ways for Ed25519, ECDSA and RSA keys") {
  REQUIRE_MESSAGE(!find_program("ssh-keygen").empty(), "ssh-keygen (openssh-client) is required; scripts/setup installs it");
  struct Kind {
    const char* name;
    std::vector<std::string> args;
  };
  std::vector<Kind> kinds = {{"ed25519", {"-t", "ed25519"}},
                             {"ecdsa256", {"-t", "ecdsa", "-b", "256"}},
                             {"ecdsa384", {"-t", "ecdsa", "-b", "384"}},
                             {"ecdsa521", {"-t", "ecdsa", "-b", "521"}},
                             {"rsa", {"-t", "rsa", "-b", "2048"}},
                             {"ecdsa-pem", {"-t", "ecdsa", "-b", "256", "-m", "PEM"}},
                             {"rsa-pkcs8", {"-t", "rsa", "-b", "2048", "-m", "PKCS8"}}};
  for (const auto& k : kinds) {
    CAPTURE(k.name);
    std::string key = keygen(std::string("key-") + k.name, k.args);
    std::string allowed = dir() + "/allowed-" + k.name;
    put(allowed, "ops@example.com namespaces=\"aicloudctl-report\" " + pub_of(key) + "\n");
    std::string msg = dir() + "/report-" + k.name + ".json";
    put(msg, k_report);

    // Ours -> ssh-keygen.
    sshsig::SigningKey sk = sshsig::SigningKey::load(key);
    CHECK_FALSE(sk.via_agent());
    CHECK(starts_with(pub_of(key), sk.public_key().openssh() + " "));
    std::string ours = sshsig::sign(sk, k_report);
    CHECK(starts_with(ours, "-----BEGIN SSH SIGNATURE-----\n"));
    put(msg + ".ours.sig", ours);
    ProcessResult good = ssh_keygen_verify(allowed, "ops@example.com", msg + ".ours.sig", k_report);
    INFO(good.stderr_text, good.stdout_text);
    CHECK(good.ok());
    CHECK(good.stdout_text.find("Good \"aicloudctl-report\" signature for ops@example.com") != std::string::npos);
    // ... and a tampered report fails ssh-keygen.
    CHECK_FALSE(ssh_keygen_verify(allowed, "ops@example.com", msg + ".ours.sig", k_report + " ").ok());
    // sha256 signatures too.
    put(msg + ".ours256.sig", sshsig::sign(sk, k_report, sshsig::k_namespace, "sha256"));
    CHECK(ssh_keygen_verify(allowed, "ops@example.com", msg + ".ours256.sig", k_report).ok());

    // ssh-keygen -> ours.
    ::unlink((msg + ".sig").c_str());
    ProcessResult s = run_process({"ssh-keygen", "-Y", "sign", "-f", key, "-n", "aicloudctl-report", msg});
    INFO(s.stderr_text);
    REQUIRE(s.ok());
    std::string theirs = read_text_file(msg + ".sig");
    std::string allowed_text = read_text_file(allowed);
    auto v = sshsig::verify(theirs, k_report, sshsig::k_namespace, allowed_text, "ops@example.com", std::time(nullptr));
    CHECK_MESSAGE(v.ok, v.message);
    CHECK(v.message == "Good \"aicloudctl-report\" signature for ops@example.com with " + sk.public_key().kind() +
                           " key " + sk.public_key().fingerprint());
    // Our own signature verifies with ours.
    CHECK(sshsig::verify(ours, k_report, sshsig::k_namespace, allowed_text, "ops@example.com", std::time(nullptr)).ok);
    // Tampered report, wrong namespace, wrong identity: refused.
    auto t = sshsig::verify(theirs, k_report + "x", sshsig::k_namespace, allowed_text, "ops@example.com", std::time(nullptr));
    CHECK_FALSE(t.ok);
    CHECK(t.message.find("verification failed") != std::string::npos);
    CHECK_FALSE(sshsig::verify(theirs, k_report, "git", allowed_text, "ops@example.com", std::time(nullptr)).ok);
    CHECK_FALSE(sshsig::verify(theirs, k_report, sshsig::k_namespace, allowed_text, "eve@example.com", std::time(nullptr)).ok);
    // Any principal (find-principals style).
    auto any = sshsig::verify(theirs, k_report, sshsig::k_namespace, allowed_text, "", std::time(nullptr));
    CHECK(any.ok);
    CHECK(any.principals == std::vector<std::string>{"ops@example.com"});
  }
}

TEST_CASE("a tampered signature and another key's allowed-signers line are refused") {
  std::string key = keygen("key-a", {"-t", "ed25519"});
  std::string other = keygen("key-b", {"-t", "ed25519"});
  sshsig::SigningKey sk = sshsig::SigningKey::load(key);
  std::string sig = sshsig::sign(sk, k_report);
  std::string only_b = "ops@example.com " + pub_of(other) + "\n";
  auto v = sshsig::verify(sig, k_report, sshsig::k_namespace, only_b, "ops@example.com", std::time(nullptr));
  CHECK_FALSE(v.ok);
  CHECK(v.message.find("not an allowed signer") != std::string::npos);
  // Flip one byte of the base64 body.
  std::string broken = sig;
  auto pos = broken.find('\n') + 40;
  broken[pos] = broken[pos] == 'A' ? 'B' : 'A';
  std::string allowed = "ops@example.com " + pub_of(key) + "\n";
  CHECK_FALSE(sshsig::verify(broken, k_report, sshsig::k_namespace, allowed, "ops@example.com", std::time(nullptr)).ok);
  CHECK_FALSE(sshsig::verify("garbage", k_report, sshsig::k_namespace, allowed, "", std::time(nullptr)).ok);
}

TEST_CASE("allowed-signers rules: patterns, namespaces, validity windows, cert-authority") {
  std::string key = keygen("key-rules", {"-t", "ed25519"});
  std::string pub = pub_of(key);
  sshsig::SigningKey sk = sshsig::SigningKey::load(key);
  std::string sig = sshsig::sign(sk, k_report);
  std::time_t now = 1790000000;  // 2026-09-21
  auto ok = [&](const std::string& line, const std::string& id) {
    return sshsig::verify(sig, k_report, sshsig::k_namespace, "# comment\n\n" + line + "\n", id, now).ok;
  };
  CHECK(ok("*@example.com " + pub, "ops@example.com"));
  CHECK_FALSE(ok("*@example.com,!ops@example.com " + pub, "ops@example.com"));
  CHECK(ok("\"ops@example.com,sec@example.com\" " + pub, "sec@example.com"));
  CHECK(ok("ops@example.com namespaces=\"git,aicloudctl-*\" " + pub, "ops@example.com"));
  CHECK_FALSE(ok("ops@example.com namespaces=\"git,file\" " + pub, "ops@example.com"));
  CHECK(ok("ops@example.com valid-after=\"20260101\",valid-before=\"20270101Z\" " + pub, "ops@example.com"));
  CHECK_FALSE(ok("ops@example.com valid-before=\"20250101Z\" " + pub, "ops@example.com"));
  CHECK_FALSE(ok("ops@example.com valid-after=\"202801010000Z\" " + pub, "ops@example.com"));
  CHECK_FALSE(ok("ops@example.com cert-authority " + pub, "ops@example.com"));
  CHECK(sshsig::match_pattern_list("node-a12-03", "node-a12-*"));
  CHECK(sshsig::match_pattern_list("x", "a,?"));
  CHECK_FALSE(sshsig::match_pattern_list("x", "a,!x,*"));
}

TEST_CASE("an encrypted key is refused with a clear message, and signs through ssh-agent when loaded there") {
  std::string key = keygen("key-enc", {"-t", "ed25519"}, "correct horse battery staple");
  const char* saved = std::getenv("SSH_AUTH_SOCK");
  std::string saved_sock = saved ? saved : "";
  ::unsetenv("SSH_AUTH_SOCK");
  try {
    sshsig::SigningKey::load(key);
    FAIL("an encrypted key loaded without an agent");
  } catch (const Error& e) {
    std::string m = e.what();
    CHECK(m.find("encrypted with a passphrase") != std::string::npos);
    CHECK(m.find("ssh-add") != std::string::npos);
  }
  // A private ssh-agent for this test, with the key added through SSH_ASKPASS.
  std::string sock = dir() + "/agent.sock";
  ::unlink(sock.c_str());
  ProcessResult agent = run_process({"ssh-agent", "-s", "-a", sock});
  REQUIRE(agent.ok());
  auto pid_pos = agent.stdout_text.find("SSH_AGENT_PID=");
  REQUIRE(pid_pos != std::string::npos);
  int agent_pid = std::atoi(agent.stdout_text.c_str() + pid_pos + 14);
  REQUIRE(agent_pid > 0);
  std::string askpass = dir() + "/askpass.sh";
  put(askpass, "#!/bin/sh\necho 'correct horse battery staple'\n");
  REQUIRE(run_process({"chmod", "700", askpass}).ok());
  ProcessOptions o;
  o.extra_env = {{"SSH_AUTH_SOCK", sock}, {"SSH_ASKPASS", askpass}, {"SSH_ASKPASS_REQUIRE", "force"}, {"DISPLAY", ":0"}};
  ProcessResult add = run_process({"ssh-add", key}, o);
  INFO(add.stderr_text);
  CHECK(add.ok());
  ::setenv("SSH_AUTH_SOCK", sock.c_str(), 1);
  if (add.ok()) {
    sshsig::SigningKey sk = sshsig::SigningKey::load(key);
    CHECK(sk.via_agent());
    std::string sig = sshsig::sign(sk, k_report);
    std::string allowed = dir() + "/allowed-enc";
    put(allowed, "ops@example.com " + pub_of(key) + "\n");
    put(dir() + "/enc.sig", sig);
    CHECK(ssh_keygen_verify(allowed, "ops@example.com", dir() + "/enc.sig", k_report).ok());
    // A .pub file works the same way (the agent holds the private half).
    CHECK(sshsig::SigningKey::load(key + ".pub").via_agent());
  }
  ::kill(agent_pid, SIGTERM);
  if (saved) ::setenv("SSH_AUTH_SOCK", saved_sock.c_str(), 1);
  else ::unsetenv("SSH_AUTH_SOCK");
  CHECK_THROWS_AS(sshsig::SigningKey::load(dir() + "/nonexistent"), Error);
  put(dir() + "/notakey", "hello\n");
  CHECK_THROWS_AS(sshsig::SigningKey::load(dir() + "/notakey"), Error);
}
