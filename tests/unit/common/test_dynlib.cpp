#include <doctest/doctest.h>

#include "common/dynlib.hpp"

using namespace aicloud;

TEST_CASE("DynLib names every library it tried when none loads") {
  DynLib lib;
  CHECK_FALSE(lib.open({"libaicloud-missing.so.1", "libaicloud-missing.so.2"}));
  CHECK(lib.error().find("libaicloud-missing.so.1") != std::string::npos);
  CHECK(lib.error().find("libaicloud-missing.so.2") != std::string::npos);
  CHECK(lib.symbol("anything") == nullptr);
}

TEST_CASE("DynLib loads a library and binds a symbol, and reports a missing one") {
  DynLib lib;
  REQUIRE(lib.open({"libc.so.6"}));
  using StrlenFn = unsigned long (*)(const char*);
  StrlenFn fn = nullptr;
  REQUIRE(lib.bind(fn, "strlen"));
  CHECK(fn("abcd") == 4);
  CHECK_FALSE(lib.bind(fn, "aicloud_no_such_symbol"));
  CHECK(lib.error().find("aicloud_no_such_symbol") != std::string::npos);
  CHECK(lib.loaded_path().find("libc") != std::string::npos);
}
