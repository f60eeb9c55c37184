#include <doctest/doctest.h>

#include "common/exit_codes.hpp"

using namespace aicloud;

TEST_CASE("exit codes combine as documented") {
  CHECK(combine_exit(false, false) == 0);
  CHECK(combine_exit(true, false) == 1);
  CHECK(combine_exit(false, true) == 4);
  CHECK(combine_exit(true, true) == 5);
  CHECK(combine_exit(true, true, true) == 130);
}
