# The real-apiserver test cluster in ctest: the fixture `kube` (tests kube.up and kube.down, defined in
# test/kube/CMakeLists.txt) runs scripts/kube-up / scripts/kube-down with this state directory.
# Included by test/CMakeLists.txt before the test folders so that any of them can use
# cmesh_kube_test().
set(CMESH_KUBE_TEST_DIR "${CMAKE_BINARY_DIR}/kube")

# cmesh_kube_test(NAME SOURCES ... DEPS ...): a GoogleTest binary, like cmesh_test(), whose cases
# need the running cluster: they wait for the fixture, carry the label `kube`, and find the instance
# through CMESH_KUBE_DIR (test/support/kube_env.h).
function(cmesh_kube_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} cmesh_test_support GTest::gmock_main)
  target_compile_options(${name} PRIVATE ${CMESH_WARNINGS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/test-bin")
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST
    PROPERTIES
      FIXTURES_REQUIRED kube
      LABELS kube
      ENVIRONMENT "CMESH_KUBE_DIR=${CMESH_KUBE_TEST_DIR}"
      TIMEOUT 600)
endfunction()
