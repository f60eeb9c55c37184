// Shared fixtures for the provision unit tests: a temporary folder, and
// running a module or a whole playbook for real with /bin/sh on this
// machine through LocalTransport (no SSH, no mock: the scripts are the ones
// a node would run).
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "provision/module.hpp"
#include "provision/playbook.hpp"
#include "provision/runner.hpp"
#include "provision/template.hpp"
#include "provision/transport.hpp"

namespace aicloud::provision::test {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/aicloud-provision-test.XXXXXX";
    char* p = ::mkdtemp(tmpl);
    REQUIRE(p != nullptr);
    path = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string operator/(const std::string& rel) const { return path + "/" + rel; }
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void spit(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
}

inline bool exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::symlink_status(path, ec));
}

inline unsigned mode_of(const std::string& path) {
  return static_cast<unsigned>(std::filesystem::status(path).permissions()) & 07777;
}

// Runs one module on this machine: its args are coerced and defaulted as
// the runner does, then its steps go through LocalTransport.
inline Outcome run_module(const std::string& name, json args, bool check = false, bool diff = false,
                          HostTransport* transport = nullptr, const Scope* scope = nullptr,
                          const FileSource* files = nullptr) {
  const Module* m = find_module(name);
  REQUIRE_MESSAGE(m != nullptr, name);
  json full = json::object();
  for (const auto& a : m->spec().args)
    if (!a.default_value.is_null()) full[a.name] = a.default_value;
  for (auto it = args.begin(); it != args.end(); ++it) {
    const ArgSpec* a = m->spec().find(it.key());
    if (!a) {
      full[it.key()] = it.value();
      continue;
    }
    std::string why;
    auto c = coerce_arg(*a, it.value(), &why);
    REQUIRE_MESSAGE(c.has_value(), why);
    full[a->name] = *c;
  }
  LocalTransport local;
  HostTransport* t = transport ? transport : &local;
  Scope empty;
  ModuleCall call;
  call.args = Args(full);
  call.scope = scope ? scope : &empty;
  call.files = files;
  call.check = check;
  call.diff = diff;
  call.host = "localhost";
  call.nonce = "testnonce";
  call.host_key_sha256 = t->host_key_sha256();
  std::vector<ExecResult> done;
  Next n;
  try {
    n = m->start(call);
  } catch (const ExprEvalError& e) {
    Outcome o;
    o.failed = true;
    o.msg = e.what();
    return o;
  }
  while (n.step) {
    if (n.step->reconnect) {
      done.push_back(t->reconnect(n.step->reconnect_timeout_s, n.step->connect_timeout_s));
    } else {
      ExecRequest req;
      req.script = n.step->script;
      req.stdin_data = n.step->stdin_data;
      req.stdin_path = n.step->stdin_path;
      req.timeout_s = n.step->timeout_s;
      done.push_back(t->exec(req));
    }
    n = m->resume(call, done);
  }
  return n.outcome;
}

inline std::vector<RunHost> local_hosts(int n = 1) {
  std::vector<RunHost> hosts;
  for (int i = 0; i < n; ++i) {
    RunHost h;
    h.name = n == 1 ? "localhost" : "node" + std::to_string(i + 1);
    h.groups = {"gpu"};
    hosts.push_back(h);
  }
  return hosts;
}

// Parses and runs playbook text on `hosts` (all reached with /bin/sh here).
inline RunResult run_yaml(const std::string& yaml, RunOptions opts = {}, std::vector<RunHost> hosts = local_hosts(),
                          TransportFactory* factory = nullptr, const std::string& base_dir = "") {
  Playbook pb = parse_playbook(yaml, "test.yaml", base_dir);
  LocalTransportFactory local;
  if (opts.forks <= 0) opts.forks = 4;
  return run_playbook(pb, hosts, nullptr, factory ? *factory : local, opts);
}

inline const HostTaskResult& result_of(const RunResult& r, const std::string& task, const std::string& host = "localhost",
                                       std::size_t play = 0) {
  REQUIRE(play < r.plays.size());
  for (const auto& t : r.plays[play].tasks)
    if (t.name == task) {
      auto it = t.results.find(host);
      REQUIRE_MESSAGE(it != t.results.end(), task << " did not run on " << host);
      return it->second;
    }
  FAIL("no task named " << task);
  throw std::runtime_error("unreachable");
}

inline std::string diag_text(const InputError& e) {
  std::string s;
  for (const auto& d : e.diagnostics()) s += format_diagnostic(d) + "\n";
  return s;
}

}  // namespace aicloud::provision::test
