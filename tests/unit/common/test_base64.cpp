#include <doctest/doctest.h>

#include "common/base64.hpp"

using namespace aicloud;

TEST_CASE("base64 round-trips and matches RFC 4648 test vectors") {
  const char* vectors[][2] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
                              {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (auto& v : vectors) {
    CHECK(base64_encode(v[0]) == v[1]);
    CHECK(base64_decode(v[1]) == std::optional<std::string>(v[0]));
  }
  std::string bin;
  for (int i = 0; i < 256; ++i) bin += static_cast<char>(i);
  CHECK(base64_decode(base64_encode(bin)) == bin);
  CHECK(base64_decode("Zm9v\nYmFy\n") == std::optional<std::string>("foobar"));
  CHECK_FALSE(base64_decode("Zm9v!"));
  CHECK_FALSE(base64_decode("Zg==Zg"));
  CHECK_FALSE(base64_decode("Zh=="));  // non-zero trailing bits
}
