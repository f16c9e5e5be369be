# cmesh_kube_client_headers: the KubeClient interface alone (a header), for code that is written
# against the interface and gets a client from its caller (leader election, status writes). It
# links no implementation, so these libraries and their fake-client tests build on their own.
if(NOT TARGET cmesh_kube_client_headers)
  add_library(cmesh_kube_client_headers INTERFACE)
  target_include_directories(cmesh_kube_client_headers INTERFACE "${CMAKE_SOURCE_DIR}/controller/kube_client/include")
  target_link_libraries(cmesh_kube_client_headers INTERFACE nlohmann_json::nlohmann_json)
endif()
