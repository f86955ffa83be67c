parley_test(parley_integration_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/parleyd_test.cpp ${CMAKE_CURRENT_LIST_DIR}/../support/child_process.cpp
          ${CMAKE_CURRENT_LIST_DIR}/../support/tls_material.cpp
  LIBS OpenSSL::SSL OpenSSL::Crypto)
target_compile_definitions(parley_integration_tests PRIVATE PARLEYD_PATH="$<TARGET_FILE:parleyd>"
  PARLEYD_ALLOCATOR="$<IF:$<BOOL:${PARLEY_JEMALLOC}>,jemalloc,glibc>")
add_dependencies(parley_integration_tests parleyd)

# End-to-end suites: the real parleyd on port 0, signed provider webhooks, the admin and
# tenant APIs over real sockets. One support library shared by the three executables.
add_library(parley_e2e_support STATIC
  ${CMAKE_CURRENT_LIST_DIR}/../support/child_process.cpp
  ${CMAKE_CURRENT_LIST_DIR}/../support/parley_fixture.cpp
  ${CMAKE_CURRENT_LIST_DIR}/../support/webhook_payloads.cpp)
target_include_directories(parley_e2e_support PUBLIC ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(parley_e2e_support PUBLIC GTest::gtest Boost::json parley_providers parley_storage Threads::Threads)
target_compile_definitions(parley_e2e_support PUBLIC PARLEYD_PATH="$<TARGET_FILE:parleyd>")
parley_project_target(parley_e2e_support)
add_dependencies(parley_e2e_support parleyd)

foreach(suite inbound admin_api crash_flood lifecycle overload isolation data_rights)
  parley_test(parley_${suite}_tests
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/${suite}_test.cpp
    LIBS parley_e2e_support)
  add_dependencies(parley_${suite}_tests parleyd)
endforeach()

# parley-bench against the real parleyd (needs the bench targets).
if(PARLEY_BUILD_BENCH)
parley_test(parley_bench_ingest_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/bench_ingest_test.cpp
  LIBS parley_e2e_support)
target_compile_definitions(parley_bench_ingest_tests PRIVATE PARLEY_BENCH_PATH="$<TARGET_FILE:parley-bench>")
add_dependencies(parley_bench_ingest_tests parleyd parley-bench)

# Outbound: parleyd sending through the provider simulator (parley-bench simulate).
parley_test(parley_outbound_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/outbound_test.cpp ${CMAKE_CURRENT_LIST_DIR}/../support/http_receiver.cpp
  LIBS parley_e2e_support OpenSSL::Crypto)
target_compile_definitions(parley_outbound_tests PRIVATE PARLEY_BENCH_PATH="$<TARGET_FILE:parley-bench>")
add_dependencies(parley_outbound_tests parleyd parley-bench)
endif()
