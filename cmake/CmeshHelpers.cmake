# Small helpers so each folder's CMakeLists.txt stays a few lines long.
include(GoogleTest)

set(CMESH_WARNINGS -Wall -Wextra -Wpedantic -Wno-unused-parameter)
if(CMESH_WERROR)
  list(APPEND CMESH_WARNINGS -Werror)
endif()

# cmesh_library(NAME SOURCES a.cc b.cc DEPS x y): a static library with a public include/ and a
# private src/ next to the calling CMakeLists.txt.
function(cmesh_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}/include"
                                     PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}/src")
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  target_compile_options(${name} PRIVATE ${CMESH_WARNINGS} ${CMESH_EXTRA_FLAGS})
endfunction()

# cmesh_executable(NAME SOURCES ... DEPS ...): a product binary, placed in build/bin/.
function(cmesh_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_compile_options(${name} PRIVATE ${CMESH_WARNINGS} ${CMESH_EXTRA_FLAGS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/bin")
endfunction()

# cmesh_test(NAME SOURCES ... DEPS ...): a GoogleTest binary whose cases ctest lists one by one.
# Tests find Istio's corpus, the repository and build/bin through test/support (test_paths.h).
function(cmesh_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} cmesh_test_support GTest::gmock_main)
  target_compile_options(${name} PRIVATE ${CMESH_WARNINGS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/test-bin")
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST)
endfunction()
