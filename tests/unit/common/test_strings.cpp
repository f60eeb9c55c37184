#include <doctest/doctest.h>

#include "common/process.hpp"
#include "common/strings.hpp"

using namespace aicloud;

TEST_CASE("split and join round-trip, keeping or dropping empty fields") {
  CHECK(split("a,,b", ',') == std::vector<std::string>{"a", "", "b"});
  CHECK(split("a,,b", ',', false) == std::vector<std::string>{"a", "b"});
  CHECK(join({"x", "y", "z"}, ", ") == "x, y, z");
  CHECK(trim("  \t hi \n") == "hi");
}

TEST_CASE("shell_quote makes every value one literal word") {
  CHECK(shell_quote("plain-word_1.2") == "plain-word_1.2");
  CHECK(shell_quote("") == "''");
  CHECK(shell_quote("a b") == "'a b'");
  CHECK(shell_quote("it's") == "'it'\\''s'");
  // Round-trip through a real shell: nothing in the value is ever executed.
  for (std::string evil : {"$(touch /tmp/aicloud-pwned)", "`id`", "a; rm -rf /", "x' ; echo 'y", "line1\nline2",
                           "\"dq\" $HOME", "*", "-n"}) {
    auto r = run_process({"/bin/sh", "-c", "printf '%s' " + shell_quote(evil)});
    REQUIRE(r.ok());
    CHECK(r.stdout_text == evil);
  }
  CHECK(shell_join({"echo", "a b", "$x"}) == "echo 'a b' '$x'");
}

TEST_CASE("did_you_mean suggests close words and nothing for unrelated ones") {
  std::vector<std::string> keys = {"address", "port", "user", "identity_file", "labels"};
  CHECK(did_you_mean("adress", keys) == std::optional<std::string>("address"));
  CHECK(did_you_mean("prot", keys) == std::optional<std::string>("port"));
  CHECK_FALSE(did_you_mean("zzzzzzzz", keys).has_value());
  CHECK(edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("parse_size reads nccl-tests style sizes in powers of 1024") {
  CHECK(parse_size("8") == std::optional<std::uint64_t>(8));
  CHECK(parse_size("4K") == std::optional<std::uint64_t>(4096));
  CHECK(parse_size("32M") == std::optional<std::uint64_t>(32ull << 20));
  CHECK(parse_size("8g") == std::optional<std::uint64_t>(8ull << 30));
  CHECK_FALSE(parse_size("").has_value());
  CHECK_FALSE(parse_size("M").has_value());
  CHECK_FALSE(parse_size("1.5G").has_value());
  CHECK_FALSE(parse_size("99999999999999999999").has_value());
  CHECK_FALSE(parse_size("99999999999T").has_value());
}

TEST_CASE("format_bytes and hex") {
  CHECK(format_bytes(512) == "512 B");
  CHECK(format_bytes(1536) == "1.5 KiB");
  const unsigned char b[] = {0x00, 0xab, 0xff};
  CHECK(to_hex(b, 3) == "00abff");
}

TEST_CASE("looks_like_text refuses binary data") {
  CHECK(looks_like_text("hosts:\n  a: 1\n"));
  CHECK_FALSE(looks_like_text(std::string("ab\0cd", 5)));
  CHECK_FALSE(looks_like_text(std::string(50, '\x01')));
}
