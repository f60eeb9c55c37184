# The real test fleet as a CTest fixture (scripts/fleet, docs/testing.md).
# Any integration test that needs SSH hosts includes this file and adds
#   FIXTURES_REQUIRED fleet  and  ENVIRONMENT AICLOUD_FLEET_DIR=${AICLOUD_FLEET_DIR}
# to its tests, most simply with ${AICLOUD_FLEET_TEST_PROPERTIES}:
#   include(${PROJECT_SOURCE_DIR}/cmake/FleetFixture.cmake)
#   set_tests_properties(my_test PROPERTIES ${AICLOUD_FLEET_TEST_PROPERTIES})
#   doctest_discover_tests(test_x PROPERTIES ${AICLOUD_FLEET_TEST_PROPERTIES} LABELS integration)
# The fleet is started once per ctest run (fleet_start) and stopped at the end
# (fleet_stop); its facts are in ${AICLOUD_FLEET_DIR}/fleet.json and fleet.env.
# The variables are set in every including directory (they are directory-
# scoped); only the fixture tests themselves are added once.
set(AICLOUD_FLEET_DIR "${PROJECT_BINARY_DIR}/test-fleet")
set(AICLOUD_FLEET_HOSTS 16)
set(AICLOUD_FLEET_TEST_PROPERTIES
    FIXTURES_REQUIRED fleet
    ENVIRONMENT "AICLOUD_FLEET_DIR=${AICLOUD_FLEET_DIR}")
include_guard(GLOBAL)

add_test(NAME fleet_start
         COMMAND ${PROJECT_SOURCE_DIR}/scripts/fleet start ${AICLOUD_FLEET_DIR} --hosts ${AICLOUD_FLEET_HOSTS})
set_tests_properties(fleet_start PROPERTIES FIXTURES_SETUP fleet LABELS integration TIMEOUT 120)
add_test(NAME fleet_stop COMMAND ${PROJECT_SOURCE_DIR}/scripts/fleet stop ${AICLOUD_FLEET_DIR})
set_tests_properties(fleet_stop PROPERTIES FIXTURES_CLEANUP fleet LABELS integration TIMEOUT 60)
