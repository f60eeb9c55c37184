#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/sha256.hpp"

using namespace aicloud;

namespace {
std::string temp_path(const char* name) {
  return std::string("/tmp/aicloud-test-") + std::to_string(::getpid()) + "-" + name;
}
}  // namespace

TEST_CASE("write_file_atomic replaces the file whole and leaves no temp files") {
  std::string p = temp_path("atomic.json");
  write_file_atomic(p, "first");
  write_file_atomic(p, "second");
  CHECK(read_text_file(p) == "second");
  CHECK(sha256_file_hex(p) == sha256_hex("second"));
  ::unlink(p.c_str());
  CHECK_THROWS_AS(write_file_atomic("/nonexistent-dir/x.json", "x"), Error);
}

TEST_CASE("read_text_file names the file and the reason on bad input") {
  try {
    read_text_file("/nonexistent/inventory.yaml");
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].where.file == "/nonexistent/inventory.yaml");
    CHECK(e.diagnostics()[0].message.find("cannot open") != std::string::npos);
  }
  CHECK_THROWS_AS(read_text_file("/tmp"), InputError);
  std::string bin = temp_path("binary.yaml");
  {
    std::ofstream out(bin, std::ios::binary);
    out << std::string("\x7f" "ELF\0\0\0", 7);
  }
  CHECK_THROWS_WITH_AS(read_text_file(bin), doctest::Contains("binary"), InputError);
  std::string big = temp_path("big.yaml");
  {
    std::ofstream out(big);
    out << std::string(2048, 'a');
  }
  CHECK_THROWS_WITH_AS(read_text_file(big, 1024), doctest::Contains("too large"), InputError);
  ::unlink(bin.c_str());
  ::unlink(big.c_str());
}

TEST_CASE("sha256 matches the published test vector") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_raw("").size() == 32);
}

TEST_CASE("diagnostics print as FILE:LINE:COL: message") {
  CHECK(format_diagnostic({{"inv.yaml", 3, 7}, "unknown key"}) == "inv.yaml:3:7: unknown key");
  CHECK(format_diagnostic({{"inv.yaml", 0, 0}, "empty"}) == "inv.yaml: empty");
}
