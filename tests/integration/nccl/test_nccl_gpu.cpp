// GPU tests (CTest label "gpu"): the fill/verify kernels on the device and
// the benchmark end to end on every GPU of the machine. Without a CUDA GPU
// (or in a build without CUDA) the program prints why and exits 77, which
// CTest reports as skipped.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>
#include <nlohmann/json.hpp>

#include "common/process.hpp"
#include "gpu/nccl_api.hpp"
#include "nccl_tests/collectives.hpp"
#include "nccl_tests/device.hpp"
#include "nccl_tests/pattern.hpp"

using namespace aicloud;
using namespace aicloud::nccl_tests;
using nlohmann::json;
namespace pt = aicloud::nccl_tests::pattern;

namespace {

int g_gpus = 0;
std::string g_bin;

// The aicloudctl to run: $AICLOUDCTL (scripts/gpu-check sets it), the build
// tree's, or the one next to this test in scripts/gpu-bundle's layout.
std::string find_aicloudctl(const char* argv0) {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("AICLOUDCTL"); env && *env) candidates.emplace_back(env);
  candidates.emplace_back(AICLOUDCTL_BIN);
  std::string self = argv0;
  auto slash = self.rfind('/');
  std::string dir = slash == std::string::npos ? "." : self.substr(0, slash);
  candidates.push_back(dir + "/../aicloudctl");
  candidates.push_back(dir + "/../../../aicloudctl");
  for (const auto& c : candidates)
    if (::access(c.c_str(), X_OK) == 0) return c;
  return "";
}

struct Run {
  ProcessResult r;
  json j;
};

Run run_json(std::vector<std::string> args) {
  args.insert(args.begin(), {g_bin, "--json", "nccl"});
  ProcessOptions o;
  o.timeout = std::chrono::seconds(300);
  Run run{run_process(args, o), {}};
  INFO("stderr: " << run.r.stderr_text);
  REQUIRE(run.r.started);
  REQUIRE_FALSE(run.r.timed_out);
  run.j = json::parse(run.r.stdout_text);
  return run;
}

void check_clean(const json& j) {
  INFO("problems: " << j["problems"].dump());
  CHECK(j["status"] == "ok");
  CHECK(j["problems"].empty());
  for (const auto& t : j["tests"]) {
    CHECK_FALSE(t["results"].empty());
    for (const auto& row : t["results"])
      for (const char* pl : {"out_of_place", "in_place"}) {
        if (row[pl].is_null()) continue;
        INFO(t["collective"] << " " << t["dtype"] << " " << t["op"] << " " << row["size"] << " " << pl);
        CHECK(row[pl]["wrong"] == 0);
        CHECK(row[pl]["checked"] == true);
        CHECK(row[pl]["time_us"].get<double>() > 0);
        CHECK(row[pl]["times_us"].size() == j["args"]["iterations"].get<std::size_t>());
      }
  }
}

}  // namespace

TEST_CASE("verify kernel finds a single wrong element in any slice") {
  std::string err;
  device::Stream s = nullptr;
  REQUIRE(device::set_device(0, err));
  REQUIRE(device::stream_create(s, err));
  for (DataType t : all_datatypes()) {
    CAPTURE(name(t));
    const std::size_t elt = element_size(t);
    const std::uint64_t count = 100003, stride = (count * elt + 4095) / 4096 * 4096;
    const int slices = 3;
    // all_reduce over one rank: the expected output is the input itself.
    pt::Params p = pt::make_params(pt::all_reduce, static_cast<int>(t), pt::op_sum, 1, 0, 77, 0);
    void* buf = nullptr;
    REQUIRE(device::alloc(&buf, stride * slices, err));
    for (int k = 0; k < slices; ++k)
      REQUIRE(device::fill_input(static_cast<char*>(buf) + k * stride, count, p, 0, 0, s, err));
    device::VerifyCounters c;
    REQUIRE(device::verify_counters_alloc(c, slices, err));
    device::VerifyOutcome o;
    REQUIRE(device::verify_launch(buf, stride, slices, 0, count, p, 0, c, s, err));
    while (device::stream_query(s, err) == device::Query::pending) {
    }
    REQUIRE(device::verify_collect(c, slices, count, o, err));
    CHECK(o.wrong == 0);
    CHECK(o.first_slice == -1);
    // Corrupt element 4242 of slice 2 (all-ones bytes never match).
    REQUIRE(device::fill_poison(static_cast<char*>(buf) + 2 * stride + 4242 * elt, elt, s, err));
    REQUIRE(device::verify_launch(buf, stride, slices, 0, count, p, 0, c, s, err));
    while (device::stream_query(s, err) == device::Query::pending) {
    }
    REQUIRE(device::verify_collect(c, slices, count, o, err));
    CHECK(o.wrong == 1);
    CHECK(o.first_slice == 2);
    CHECK(o.first_offset == 4242);
    CHECK(o.per_slice == std::vector<std::uint64_t>{0, 0, 1});
    device::verify_counters_free(c);
    device::free(buf);
  }
  device::stream_destroy(s);
}

TEST_CASE("benchmark sweep on every GPU is exact and complete") {
  Run run = run_json({"-c", "all", "-b", "1M", "-e", "16M", "-f", "4", "-n", "5", "-w", "2"});
  check_clean(run.j);
  CHECK(run.r.exit_code == 0);
  CHECK(run.j["ranks"].size() == static_cast<std::size_t>(g_gpus));
  CHECK(run.j["tests"].size() == 7);
  for (const auto& t : run.j["tests"]) {
    CHECK(t["results"].size() == 3);
    for (const auto& row : t["results"]) {
      if (g_gpus > 1) CHECK(row["out_of_place"]["busbw_gbps"].get<double>() > 0);
      CHECK(row["out_of_place"]["algbw_gbps"].get<double>() > 0);
    }
  }
  gpu::NcclApi api;
  if (gpu::load_nccl(api).ok && api.reset_debug_init)
    CHECK(run.j["tests"][0]["results"][0]["out_of_place"]["algorithm"].is_string());
}

TEST_CASE("every data type and op is bit-exact") {
  Run run = run_json({"-c", "all_reduce,reduce_scatter,reduce", "-d",
                      "int8,uint8,int32,uint32,int64,uint64,half,float,double,bfloat16", "-o", "all", "-b", "64K",
                      "-e", "64K", "-n", "3", "-w", "1"});
  check_clean(run.j);
  CHECK(run.r.exit_code == 0);
  CHECK(run.j["tests"].size() == 3 * 10 * 5);
}

TEST_CASE("fp8 types on Hopper and later") {
  std::string err;
  auto g = device::gpu_info(0, err);
  REQUIRE(g);
  gpu::NcclApi api;
  REQUIRE(gpu::load_nccl(api).ok);
  if (g->cc_major < 9 || api.version < gpu::nccl_version_code(2, 24, 0)) {
    MESSAGE("skipped: fp8 needs compute capability 9.0 and NCCL 2.24 (" << g->name << ", NCCL "
                                                                         << gpu::nccl_version_string(api.version) << ")");
    return;
  }
  Run run = run_json({"-c", "all_reduce,all_gather", "-d", "f8e4m3,f8e5m2", "-o", "sum,max", "-b", "64K", "-e", "64K",
                      "-n", "3", "-w", "1"});
  check_clean(run.j);
}

TEST_CASE("an expired deadline aborts the communicator and exits 1") {
  // 50 warm-up iterations of 1 GiB cannot finish in 5 ms.
  Run run = run_json({"-b", "1G", "-e", "1G", "-w", "50", "-n", "2", "--timeout", "5ms"});
  CHECK(run.r.exit_code == 1);
  CHECK(run.j["status"] == "failed");
  bool timeout = false;
  for (const auto& p : run.j["problems"])
    if (p["kind"] == "timeout") timeout = true;
  CHECK(timeout);
  CHECK_FALSE(run.j["stalled_ranks"].empty());
  for (const auto& rk : run.j["ranks"]) CHECK(rk["status"] != "ok");
}

int main(int argc, char** argv) {
  if (!device::available()) {
    std::printf("SKIP: this build has no CUDA\n");
    return 77;
  }
  std::string err;
  g_gpus = device::device_count(err);
  if (g_gpus <= 0) {
    std::printf("SKIP: no CUDA GPU here (%s)\n", err.empty() ? "0 devices" : err.c_str());
    return 77;
  }
  g_bin = find_aicloudctl(argv[0]);
  if (g_bin.empty()) {
    std::printf("FAIL: no aicloudctl binary (set AICLOUDCTL)\n");
    return 1;
  }
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
