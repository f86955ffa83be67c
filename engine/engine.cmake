# The OpenAPI description, embedded so that parleyd serves exactly the file in docs/.
set(PARLEY_OPENAPI_FILE ${CMAKE_CURRENT_SOURCE_DIR}/../docs/openapi.yaml)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PARLEY_OPENAPI_FILE})
file(READ ${PARLEY_OPENAPI_FILE} PARLEY_OPENAPI_YAML)
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/admin/openapi_source.cpp.in ${CMAKE_CURRENT_BINARY_DIR}/openapi_source.cpp @ONLY)

# parley_engine: the process (config, secrets, metrics, admin routes, wiring) and parleyd.
add_library(parley_engine STATIC
  config/config.cpp app/secrets.cpp app/metrics.cpp app/tls.cpp app/app.cpp admin/health_routes.cpp
  admin/admin_routes.cpp admin/data_routes.cpp api/http_util.cpp webhooks/webhook_routes.cpp tenant_api/tenant_routes.cpp
  tenant_api/send_routes.cpp ${CMAKE_CURRENT_BINARY_DIR}/openapi_source.cpp)
target_include_directories(parley_engine PUBLIC ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/..)
target_link_libraries(parley_engine
  PUBLIC parley_actors parley_http parley_providers
  PRIVATE Boost::headers OpenSSL::SSL CLI11::CLI11 tomlplusplus::tomlplusplus spdlog::spdlog fmt::fmt
          prometheus-cpp::core CAF::core Boost::json)
target_compile_definitions(parley_engine PRIVATE BOOST_ASIO_NO_DEPRECATED)
parley_project_target(parley_engine)

add_executable(parleyd main.cpp)
target_link_libraries(parleyd PRIVATE parley_engine spdlog::spdlog fmt::fmt)
if(PARLEY_JEMALLOC)
  # Linked into the executable, jemalloc's malloc and free come before glibc's for the
  # whole process, RocksDB and the other libraries included.
  target_link_libraries(parleyd PRIVATE ${PARLEY_JEMALLOC_LIBRARY})
endif()
parley_project_target(parleyd)
