// The NCCL loader against the real libnccl.so.2 where one is installed (the
// CUDA toolkit of the build machine ships it); ncclGetUniqueId works
// without a GPU.
#include <doctest/doctest.h>

#include <climits>
#include <cstdlib>

#include "common/files.hpp"
#include "gpu/nccl_api.hpp"

using namespace aicloud::gpu;

namespace {

struct EnvGuard {
  std::string name;
  std::string old;
  bool had;
  explicit EnvGuard(const char* n) : name(n) {
    const char* v = std::getenv(n);
    had = v != nullptr;
    if (had) old = v;
  }
  ~EnvGuard() {
    if (had) ::setenv(name.c_str(), old.c_str(), 1);
    else ::unsetenv(name.c_str());
  }
};

}  // namespace

TEST_CASE("version codes and strings") {
  CHECK(nccl_version_code(2, 28, 9) == 22809);
  CHECK(nccl_version_code(2, 8, 4) == 2804);
  CHECK(nccl_version_string(22809) == "2.28.9");
  CHECK(nccl_version_string(2804) == "2.8.4");
  CHECK(nccl_version_string(0) == "unknown");
}

TEST_CASE("the non-blocking config matches NCCL_CONFIG_INITIALIZER with blocking=0") {
  NcclConfig c = nonblocking_config(22809);
  CHECK(c.size == sizeof(NcclConfig));
  CHECK(c.magic == 0xcafebeef);
  CHECK(c.version == 22800);
  CHECK(c.blocking == 0);
  CHECK(c.min_ctas == INT_MIN);
  CHECK(c.net_name == nullptr);
  CHECK(nonblocking_config(22105).version == 22105);
}

TEST_CASE("an explicit library path is the only candidate, and its failure is explained") {
  EnvGuard g(k_nccl_library_env);
  ::unsetenv(k_nccl_library_env);
  NcclApi api;
  NcclLoadResult r = load_nccl(api, "/nonexistent/libnccl.so.2");
  CHECK_FALSE(r.ok);
  CHECK(r.tried == std::vector<std::string>{"/nonexistent/libnccl.so.2"});
  CHECK(r.error.find("/nonexistent/libnccl.so.2") != std::string::npos);
  ::setenv(k_nccl_library_env, "/also/missing/libnccl.so.2", 1);
  NcclApi api2;
  r = load_nccl(api2);
  CHECK_FALSE(r.ok);
  CHECK(r.tried == std::vector<std::string>{"/also/missing/libnccl.so.2"});
}

TEST_CASE("a library without NCCL's entry points is refused") {
  EnvGuard g(k_nccl_library_env);
  ::unsetenv(k_nccl_library_env);
  NcclApi api;
  NcclLoadResult r = load_nccl(api, "libc.so.6");
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("ncclGetVersion") != std::string::npos);
}

TEST_CASE("the search list starts with the loader's own search") {
  auto list = nccl_search_list();
  REQUIRE_FALSE(list.empty());
  CHECK(list.front() == "libnccl.so.2");
}

TEST_CASE("the real NCCL loads, reports its version and creates a unique id") {
  EnvGuard g(k_nccl_library_env);
  ::unsetenv(k_nccl_library_env);
  NcclApi api;
  NcclLoadResult r = load_nccl(api);
  if (!r.ok) {
    MESSAGE("skipped: no libnccl.so.2 on this machine (" << r.error << ")");
    return;
  }
  CHECK(api.version >= nccl_version_code(2, 14, 0));
  CHECK_FALSE(api.library_path.empty());
  CHECK(api.describe(k_nccl_invalid_argument).find("invalid argument") != std::string::npos);
  NcclUniqueId a{}, b{};
  REQUIRE(api.get_unique_id(&a) == k_nccl_success);
  REQUIRE(api.get_unique_id(&b) == k_nccl_success);
  CHECK(std::string(a.internal, sizeof a.internal) != std::string(b.internal, sizeof b.internal));
  // Loading the same file by path works too (what --nccl-lib does).
  NcclApi again;
  CHECK(load_nccl(again, api.library_path).ok);
  CHECK(again.version == api.version);
}
