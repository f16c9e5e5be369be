# Generates the Envoy v3 C++ API library `cmesh_envoy_api` from the .proto files shipped in the npm
# package @grpc/grpc-js-xds. The tarball is pinned by version and SHA-512 and cached outside the
# build tree; the protos are stripped of protoc-gen-validate options (Debian's protoc rejects them)
# and compiled with Debian's protoc and gRPC plugin into the build tree. Nothing generated is committed.

set(CMESH_XDS_NPM_PACKAGE "@grpc/grpc-js-xds")
set(CMESH_XDS_NPM_VERSION "1.14.1")
# SHA-512 of grpc-grpc-js-xds-1.14.1.tgz, the same digest as the registry's `dist.integrity`
# (sha512-F2mVXwEeMWw1znPUrp+8ykjsIOVnf7Rv+EyIvXOfz73w5tNolCnzokpLkE/d2Ehx30PJmZXqCQdMpx8DcBJohA==).
set(CMESH_XDS_NPM_SHA512
    "1769955f011e316c35ce73d4ae9fbcca48ec20e5677fb46ff84c88bd739fcfbdf0e6d3689429f3a24a4b904fddd84871df43c99995ea09074ca71f0370126884")

# The roots of the generated closure: every message the project uses is reachable from these.
set(CMESH_ENVOY_API_ROOTS
    envoy/service/discovery/v3/ads.proto
    envoy/config/cluster/v3/cluster.proto
    envoy/config/listener/v3/listener.proto
    envoy/config/route/v3/route.proto
    envoy/config/endpoint/v3/endpoint.proto
    envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto
    envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto
    envoy/extensions/filters/http/router/v3/router.proto
    envoy/extensions/filters/http/fault/v3/fault.proto
    envoy/extensions/filters/http/cors/v3/cors.proto
    envoy/extensions/filters/listener/original_dst/v3/original_dst.proto
    envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto
    envoy/extensions/upstreams/http/v3/http_protocol_options.proto
    envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto
    envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config.proto)

function(cmesh_fetch_xds_tarball out_var)
  if(DEFINED ENV{CMESH_CACHE_DIR})
    set(cache "$ENV{CMESH_CACHE_DIR}/npm")
  else()
    set(cache "$ENV{HOME}/.cache/cmesh/npm")
  endif()
  set(tgz "${cache}/grpc-grpc-js-xds-${CMESH_XDS_NPM_VERSION}.tgz")
  if(EXISTS "${tgz}")
    file(SHA512 "${tgz}" have)
    if(NOT have STREQUAL CMESH_XDS_NPM_SHA512)
      message(STATUS "cached ${tgz} has the wrong digest; fetching it again")
      file(REMOVE "${tgz}")
    endif()
  endif()
  if(NOT EXISTS "${tgz}")
    find_program(NPM npm REQUIRED)
    file(MAKE_DIRECTORY "${cache}")
    message(STATUS "fetching ${CMESH_XDS_NPM_PACKAGE}@${CMESH_XDS_NPM_VERSION} with npm pack")
    execute_process(
      COMMAND "${NPM}" pack "${CMESH_XDS_NPM_PACKAGE}@${CMESH_XDS_NPM_VERSION}" --pack-destination "${cache}"
      RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
    if(NOT rc EQUAL 0 OR NOT EXISTS "${tgz}")
      message(FATAL_ERROR "npm pack ${CMESH_XDS_NPM_PACKAGE}@${CMESH_XDS_NPM_VERSION} failed: ${err}")
    endif()
  endif()
  file(SHA512 "${tgz}" have)
  if(NOT have STREQUAL CMESH_XDS_NPM_SHA512)
    file(REMOVE "${tgz}")
    message(FATAL_ERROR "${tgz}: SHA-512 ${have} does not match the pinned ${CMESH_XDS_NPM_SHA512}")
  endif()
  set(${out_var} "${tgz}" PARENT_SCOPE)
endfunction()

# Resolves an import path against the package's proto roots; empty when the import is provided
# elsewhere (google/protobuf comes with protobuf) or dropped (validate/).
function(cmesh_resolve_proto rel roots out_var)
  set(${out_var} "" PARENT_SCOPE)
  if(rel MATCHES "^google/protobuf/" OR rel MATCHES "^validate/")
    return()
  endif()
  foreach(root IN LISTS roots)
    if(EXISTS "${root}/${rel}")
      set(${out_var} "${root}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "Envoy API: cannot find imported proto ${rel}")
endfunction()

function(cmesh_add_envoy_api target)
  cmesh_fetch_xds_tarball(tgz)
  set(src "${CMAKE_CURRENT_BINARY_DIR}/npm")
  set(stamp "${src}/.extracted-${CMESH_XDS_NPM_VERSION}")
  if(NOT EXISTS "${stamp}")
    file(REMOVE_RECURSE "${src}")
    file(ARCHIVE_EXTRACT INPUT "${tgz}" DESTINATION "${src}")
    file(TOUCH "${stamp}")
  endif()
  set(deps "${src}/package/deps")
  set(roots "${deps}/envoy-api" "${deps}/xds" "${deps}/googleapis")

  # Transitive closure of the roots' imports, computed at configure time.
  set(todo ${CMESH_ENVOY_API_ROOTS})
  set(closure "")
  while(todo)
    list(POP_FRONT todo rel)
    if(rel IN_LIST closure)
      continue()
    endif()
    cmesh_resolve_proto("${rel}" "${roots}" root)
    if(NOT root)
      continue()
    endif()
    list(APPEND closure "${rel}")
    file(STRINGS "${root}/${rel}" imports REGEX "^import ")
    foreach(line IN LISTS imports)
      if(line MATCHES "\"([^\"]+)\"")
        list(APPEND todo "${CMAKE_MATCH_1}")
      endif()
    endforeach()
  endwhile()
  list(SORT closure)
  list(LENGTH closure n)
  message(STATUS "Envoy API: ${n} proto files in the closure")

  find_program(PROTOC protoc REQUIRED)
  find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
  set(stripped "${CMAKE_CURRENT_BINARY_DIR}/proto")
  set(gen "${CMAKE_CURRENT_BINARY_DIR}/gen")
  file(MAKE_DIRECTORY "${gen}")
  set(all_stripped "")
  foreach(rel IN LISTS closure)
    cmesh_resolve_proto("${rel}" "${roots}" root)
    get_filename_component(dir "${rel}" DIRECTORY)
    file(MAKE_DIRECTORY "${stripped}/${dir}" "${gen}/${dir}")
    add_custom_command(
      OUTPUT "${stripped}/${rel}"
      COMMAND cmesh_strip_validate "${root}/${rel}" "${stripped}/${rel}"
      DEPENDS cmesh_strip_validate "${root}/${rel}"
      COMMENT "Stripping validate options from ${rel}" VERBATIM)
    list(APPEND all_stripped "${stripped}/${rel}")
  endforeach()

  # protoc reads a file's imports too, so every generation step waits for the whole stripped set.
  set(sources "")
  foreach(rel IN LISTS closure)
    cmesh_resolve_proto("${rel}" "${roots}" root)
    string(REGEX REPLACE "\\.proto$" "" base "${rel}")
    set(outs "${gen}/${base}.pb.cc" "${gen}/${base}.pb.h")
    set(args --cpp_out=${gen})
    # Only the service definitions need the gRPC plugin.
    file(STRINGS "${root}/${rel}" services REGEX "^service ")
    if(services)
      list(APPEND outs "${gen}/${base}.grpc.pb.cc" "${gen}/${base}.grpc.pb.h")
      list(APPEND args --grpc_out=${gen} --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN})
    endif()
    add_custom_command(
      OUTPUT ${outs}
      COMMAND "${PROTOC}" -I "${stripped}" ${args} "${stripped}/${rel}"
      DEPENDS ${all_stripped}
      COMMENT "Generating C++ for ${rel}" VERBATIM)
    list(FILTER outs INCLUDE REGEX "\\.cc$")
    list(APPEND sources ${outs})
  endforeach()

  add_library(${target} STATIC ${sources})
  target_include_directories(${target} SYSTEM PUBLIC "${gen}")
  target_link_libraries(${target} PUBLIC PkgConfig::GRPCPP PkgConfig::PROTOBUF)
  target_compile_options(${target} PRIVATE -w)
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()
