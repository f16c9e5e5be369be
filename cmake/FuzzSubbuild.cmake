# The clang + libFuzzer sub-build (driven by test/fuzz/CMakeLists.txt through ExternalProject): it
# compiles the model, the compiler and the HTTP/1 and HTTP/2 codecs with sanitizer coverage and links them with the Envoy API
# library of the main g++ build (both use libstdc++, so the objects are compatible).
get_filename_component(api_dir "${CMESH_FUZZ_SUBBUILD_API}" DIRECTORY)
add_library(cmesh_envoy_api STATIC IMPORTED GLOBAL)
set_target_properties(cmesh_envoy_api PROPERTIES IMPORTED_LOCATION "${CMESH_FUZZ_SUBBUILD_API}")
target_include_directories(cmesh_envoy_api SYSTEM INTERFACE "${api_dir}/gen")
target_link_libraries(cmesh_envoy_api INTERFACE PkgConfig::GRPCPP PkgConfig::PROTOBUF)

set(CMESH_EXTRA_FLAGS -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
add_subdirectory(model)
add_subdirectory(controller/compiler)
add_subdirectory(proxy/http)
add_subdirectory(proxy/http2)
add_executable(fuzz_parse_compile test/fuzz/fuzz_parse_compile.cc)
target_link_libraries(fuzz_parse_compile PRIVATE cmesh_compiler cmesh_model)
target_compile_options(fuzz_parse_compile PRIVATE -fsanitize=fuzzer,address,undefined)
target_link_options(fuzz_parse_compile PRIVATE -fsanitize=fuzzer,address,undefined)

add_executable(fuzz_http1 test/fuzz/fuzz_http1.cc)
target_link_libraries(fuzz_http1 PRIVATE cmesh_http1)
target_compile_options(fuzz_http1 PRIVATE -fsanitize=fuzzer,address,undefined)
target_link_options(fuzz_http1 PRIVATE -fsanitize=fuzzer,address,undefined)

add_executable(fuzz_http2 test/fuzz/fuzz_http2.cc)
target_link_libraries(fuzz_http2 PRIVATE cmesh_http2)
target_compile_options(fuzz_http2 PRIVATE -fsanitize=fuzzer,address,undefined)
target_link_options(fuzz_http2 PRIVATE -fsanitize=fuzzer,address,undefined)
