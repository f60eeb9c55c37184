// The real aicloudctl binary: flag validation, the worker's protocol over
// pipes (a dry-run rendezvous with the real libnccl, no GPU needed), and
// the node-local dry run.
#include <doctest/doctest.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <csignal>
#include <nlohmann/json.hpp>

#include "common/pipe_child.hpp"
#include "common/process.hpp"
#include "common/sha256.hpp"
#include "gpu/nccl_api.hpp"
#include "nccl_tests/device.hpp"
#include "nccl_tests/protocol.hpp"

using namespace aicloud;
using namespace aicloud::nccl_tests;
using nlohmann::json;

namespace {

ProcessResult run(std::vector<std::string> args) {
  args.insert(args.begin(), AICLOUDCTL_BIN);
  ProcessOptions o;
  o.timeout = std::chrono::seconds(120);
  return run_process(args, o);
}

bool nccl_available() {
  gpu::NcclApi api;
  return gpu::load_nccl(api).ok;
}

int local_gpus() {
  std::string err;
  return device::device_count(err);
}

bool cuda_build() { return run({"--json", "--version"}).stdout_text.find("\"cuda\":true") != std::string::npos; }

// A worker process and its protocol lines.
struct Worker {
  PipeChild p;
  std::string buf;
  Worker() : p(spawn_pipe_child({AICLOUDCTL_BIN, "nccl", "--worker"})) { REQUIRE(p.started()); }
  ~Worker() {
    kill_child_group(p.pid, SIGKILL);
    int c, s;
    reap_child(p.pid, true, c, s);
    for (int fd : {p.in_fd, p.out_fd, p.err_fd})
      if (fd >= 0) ::close(fd);
  }
  void send(const std::string& line) {
    std::string data = line + "\n";
    REQUIRE(::write(p.in_fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  }
  void close_input() {
    ::close(p.in_fd);
    p.in_fd = -1;
  }
  // The next protocol line other than a heartbeat (30 s at most).
  Message next() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      auto nl = buf.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        Message m = decode_line(line);
        if (m.type != "heartbeat") return m;
        continue;
      }
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      pollfd f{p.out_fd, POLLIN, 0};
      ::poll(&f, 1, 500);
      char chunk[4096];
      ssize_t n = ::read(p.out_fd, chunk, sizeof chunk);
      if (n > 0) buf.append(chunk, static_cast<std::size_t>(n));
      if (n == 0) FAIL("worker closed its output");
    }
  }
  int wait_exit() {
    int code = -1, sig = 0;
    for (int i = 0; i < 300 && !reap_child(p.pid, false, code, sig); ++i) ::usleep(100000);
    return code;
  }
};

JobMessage dry_job(int rank, int nranks) {
  JobMessage j;
  j.rank = rank;
  j.nranks = nranks;
  j.node = "local";
  j.device = rank;
  j.dry_run = true;
  j.init_timeout_s = 30;
  j.plan.tests = {TestSpec{}};
  j.plan.sizes = {1024};
  return j;
}

struct IgnoreSigpipe {
  IgnoreSigpipe() { std::signal(SIGPIPE, SIG_IGN); }
} g_ignore_sigpipe;

}  // namespace

TEST_CASE("help lists the benchmark flags") {
  ProcessResult r = run({"nccl", "--help"});
  CHECK(r.exit_code == 0);
  for (const char* flag : {"--min-bytes", "--max-bytes", "--step-factor", "--datatype", "--op", "--dry-run",
                           "--ranks-per-node", "--timeout", "--nccl-lib", "--env"})
    CHECK(r.stdout_text.find(flag) != std::string::npos);
  CHECK(r.stdout_text.find("--worker") == std::string::npos);  // internal
}

TEST_CASE("invalid flags exit 2 before anything starts") {
  if (!cuda_build()) {
    ProcessResult r = run({"nccl", "--dry-run", "--ranks-per-node", "2"});
    CHECK(r.exit_code == 1);
    CHECK(r.stderr_text.find("built without CUDA") != std::string::npos);
    return;
  }
  ProcessResult r = run({"nccl", "-c", "allgathr", "--dry-run", "--ranks-per-node", "2"});
  CHECK(r.exit_code == 2);
  CHECK(r.stderr_text.find("did you mean 'all_gather'") != std::string::npos);
  r = run({"nccl", "-b", "2G", "-e", "1G", "--dry-run", "--ranks-per-node", "2"});
  CHECK(r.exit_code == 2);
  CHECK(r.stderr_text.find("--min-bytes") != std::string::npos);
  r = run({"nccl", "--gpus", "1,1", "--dry-run"});
  CHECK(r.exit_code == 2);
  r = run({"nccl", "--env", "NOEQUALS", "--dry-run", "--ranks-per-node", "1"});
  CHECK(r.exit_code == 2);
}

TEST_CASE("worker: rank 0 creates the unique id, takes it back and reports its digest") {
  if (!nccl_available()) {
    MESSAGE("skipped: no libnccl.so.2 here");
    return;
  }
  Worker w;
  w.send(encode_job(dry_job(0, 2)));
  Message hello = w.next();
  REQUIRE(hello.type == "hello");
  CHECK(hello.body["rank"] == 0);
  CHECK(hello.body["nccl"]["version"].get<int>() >= 21400);
  CHECK(hello.body["pid"].get<long>() == w.p.pid);
  Message id = w.next();
  REQUIRE(id.type == "unique_id");
  std::string hex = id.body["id"];
  REQUIRE(hex.size() == 256);
  w.send(encode_start(hex));
  Message ready = w.next();
  REQUIRE(ready.type == "ready");
  std::string raw;
  for (std::size_t i = 0; i < hex.size(); i += 2) raw += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  CHECK(ready.body["id_digest"] == sha256_hex(raw));
  Message done = w.next();
  CHECK(done.type == "done");
  CHECK(done.body["status"] == "ok");
  CHECK(w.wait_exit() == 0);
}

TEST_CASE("worker: the end of its input is an abort, reported and exit 1") {
  Worker w;
  w.send(encode_job(dry_job(1, 2)));
  CHECK(w.next().type == "hello");
  w.close_input();
  Message done = w.next();
  CHECK(done.type == "done");
  CHECK(done.body["status"] == "aborted");
  CHECK(w.wait_exit() == 1);
}

TEST_CASE("worker: an abort message stops it while it waits for the id") {
  Worker w;
  w.send(encode_job(dry_job(1, 2)));
  CHECK(w.next().type == "hello");
  w.send(encode_abort("rank 0 failed"));
  Message done = w.next();
  CHECK(done.body["status"] == "aborted");
  CHECK(w.wait_exit() == 1);
}

TEST_CASE("worker: an invalid job is refused with a protocol error and exit 2") {
  Worker w;
  w.send("{\"type\":\"job\",\"protocol\":1,\"rank\":0}");
  Message err = w.next();
  CHECK(err.type == "error");
  CHECK(err.body["kind"] == "protocol");
  CHECK(err.body["message"].get<std::string>().find("nranks") != std::string::npos);
  CHECK(w.next().body["status"] == "failed");
  CHECK(w.wait_exit() == 2);
}

TEST_CASE("local dry run: every rank starts, gets the same id and reports host and GPU") {
  if (!cuda_build()) {
    MESSAGE("skipped: built without CUDA");
    return;
  }
  // Every GPU of a GPU machine; three ranks without GPUs (this build machine).
  const int gpus = local_gpus();
  std::vector<std::string> args = {"--json", "nccl", "--dry-run", "--gpus", "all"};
  if (gpus <= 0) args.insert(args.end(), {"--ranks-per-node", "3"});
  ProcessResult r = run(args);
  REQUIRE(r.started);
  INFO("stderr: " << r.stderr_text);
  json j = json::parse(r.stdout_text);
  CHECK(j["schema"] == "aicloudctl.nccl/1");
  CHECK(j["dry_run"] == true);
  REQUIRE(j["ranks"].size() == static_cast<std::size_t>(gpus > 0 ? gpus : 3));
  std::string digest;
  for (const auto& rk : j["ranks"]) {
    CHECK(rk["host"].is_string());
    CHECK(rk["pid"].get<long>() > 0);
    CHECK(rk["ready"] == true);
    CHECK(rk["status"] == "ok");
    if (digest.empty()) digest = rk["unique_id_digest"];
    CHECK(rk["unique_id_digest"] == digest);
    // Either a GPU, or the reason there is none.
    CHECK((rk["gpu"].is_object() || rk.contains("gpu_error")));
  }
  if (nccl_available()) CHECK(j["nccl"]["version"].is_string());
  // No GPUs here: the launch is reported broken, exit 1; on a GPU machine
  // with NCCL it is clean, exit 0.
  CHECK(r.exit_code == (j["problems"].empty() ? 0 : 1));
  CHECK(j["status"] == (j["problems"].empty() ? "ok" : "failed"));
}

TEST_CASE("local dry run text output names each rank") {
  if (!cuda_build()) return;
  const int gpus = local_gpus();
  const int ranks = gpus > 0 ? std::min(gpus, 2) : 2;
  ProcessResult r = run({"nccl", "--dry-run", "--ranks-per-node", std::to_string(ranks)});
  CHECK(r.stdout_text.find("RANK  NODE") != std::string::npos);
  const std::string n = std::to_string(ranks);
  CHECK(r.stdout_text.find(n + "/" + n + " ranks received it") != std::string::npos);
  CHECK(r.stdout_text.find("dry run: ") != std::string::npos);
}

namespace {

std::string three_node_inventory() {
  const std::string path = std::string(AICLOUDCTL_BINARY_DIR) + "/test-scratch-nccl-launcher.yaml";
  FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f);
  std::fputs("nodes:\n  - name: gpu-[1-3]\n    address: 127.0.0.[1-3]\n", f);
  std::fclose(f);
  return path;
}

}  // namespace

TEST_CASE("--print-command shows the mpirun and srun lines and runs nothing") {
  const std::string inv = three_node_inventory();
  ProcessResult r = run({"nccl", "-i", inv, "--launcher", "mpirun", "--ranks-per-node", "2", "--print-command",
                         "--remote-binary", "/opt/aicloudctl", "--controller-address", "ctl", "--env", "NCCL_ALGO=Ring"});
  INFO(r.stderr_text);
  CHECK(r.exit_code == 0);
  CHECK(r.stdout_text.find("mpirun -np 6 --host 127.0.0.1:2,127.0.0.2:2,127.0.0.3:2 --map-by ppr:2:node") == 0);
  CHECK(r.stdout_text.find("-x NCCL_ALGO=Ring /opt/aicloudctl nccl --worker --connect ctl:PORT --token TOKEN") !=
        std::string::npos);
  r = run({"nccl", "-i", inv, "--launcher", "srun", "--gpus", "0,1", "--print-command", "--remote-binary", "/opt/a"});
  CHECK(r.exit_code == 0);
  CHECK(r.stdout_text.find("srun --nodes=3 --ntasks=6 --ntasks-per-node=2") == 0);
  // Without a rank count there is nothing to print: exit 2.
  r = run({"nccl", "-i", inv, "--launcher", "srun", "--print-command"});
  CHECK(r.exit_code == 2);
  CHECK(r.stderr_text.find("--ranks-per-node") != std::string::npos);
  r = run({"nccl", "-i", inv, "--launcher", "mpich", "--print-command"});
  CHECK(r.exit_code == 2);
}

TEST_CASE("--launcher mpirun: ranks started by the launcher connect back over TCP and rendezvous") {
  if (!cuda_build()) {
    MESSAGE("skipped: built without CUDA");
    return;
  }
  const std::string inv = three_node_inventory();
  ProcessResult r = run({"--json", "nccl", "-i", inv, "--launcher", "mpirun", "--launcher-path",
                         AICLOUDCTL_SOURCE_DIR "/tests/integration/nccl/stand-in-mpirun.sh", "--ranks-per-node", "1",
                         "--dry-run", "--controller-address", "127.0.0.1", "--init-timeout", "30s"});
  INFO("stderr: " << r.stderr_text);
  INFO("stdout: " << r.stdout_text);
  json j = json::parse(r.stdout_text);
  CHECK(j["launcher"]["kind"] == "mpirun");
  CHECK(j["launcher"]["command"][0].get<std::string>().find("stand-in-mpirun.sh") != std::string::npos);
  REQUIRE(j["ranks"].size() == 3);
  std::set<std::string> digests;
  for (const auto& rk : j["ranks"]) {
    CHECK(rk["pid"].get<long>() > 0);  // every rank attached and said hello
    if (rk.contains("unique_id_digest")) digests.insert(rk["unique_id_digest"].get<std::string>());
  }
  if (nccl_available()) {
    CHECK(digests.size() == 1);
    for (const auto& rk : j["ranks"]) CHECK(rk["ready"] == true);
  }
  // No GPU here (or three ranks on one GPU on a GPU machine): never ok.
  CHECK(r.exit_code == 1);
  CHECK(j["status"] == "failed");
}

TEST_CASE("--launcher mpirun: a launcher that fails names every rank that never connected, exit 1") {
  const std::string inv = three_node_inventory();
  ProcessResult r = run({"--json", "nccl", "-i", inv, "--launcher", "mpirun", "--launcher-path", "false",
                         "--ranks-per-node", "1", "--dry-run", "--controller-address", "127.0.0.1"});
  INFO("stderr: " << r.stderr_text);
  json j = json::parse(r.stdout_text);
  CHECK(r.exit_code == 1);
  CHECK(j["status"] == "failed");
  bool named = false;
  for (const auto& p : j["problems"])
    if (p["message"].get<std::string>().find("launcher exited with code 1") != std::string::npos) named = true;
  CHECK(named);
}
