#include <doctest/doctest.h>

#include "common/duration.hpp"

using namespace aicloud;

TEST_CASE("parse_duration reads the forms techs type") {
  CHECK(parse_duration("90s")->count() == doctest::Approx(90));
  CHECK(parse_duration("10m")->count() == doctest::Approx(600));
  CHECK(parse_duration("2h")->count() == doctest::Approx(7200));
  CHECK(parse_duration("1h30m")->count() == doctest::Approx(5400));
  CHECK(parse_duration("500ms")->count() == doctest::Approx(0.5));
  CHECK(parse_duration("45")->count() == doctest::Approx(45));
  CHECK(parse_duration("1.5h")->count() == doctest::Approx(5400));
}

TEST_CASE("parse_duration refuses malformed durations") {
  for (const char* bad : {"", "s", "10x", "1h30", "-5s", "1..2s", "h1", "99999d"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
  }
}

TEST_CASE("format_duration is the shortest exact form") {
  CHECK(format_duration(Seconds(5400)) == "1h30m");
  CHECK(format_duration(Seconds(90)) == "1m30s");
  CHECK(format_duration(Seconds(0.25)) == "250ms");
  CHECK(format_duration(Seconds(0)) == "0s");
  CHECK(format_duration(Seconds(2.5)) == "2.5s");
}
