if(PARLEY_BUILD_BENCH)
parley_test(parley_bench_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/histogram_test.cpp ${CMAKE_CURRENT_LIST_DIR}/payloads_test.cpp ${CMAKE_CURRENT_LIST_DIR}/pacer_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/request_test.cpp
          ${PROJECT_SOURCE_DIR}/bench/parley_bench/histogram.cpp ${PROJECT_SOURCE_DIR}/bench/parley_bench/payloads.cpp
          ${PROJECT_SOURCE_DIR}/bench/parley_bench/load.cpp ${PROJECT_SOURCE_DIR}/bench/parley_bench/http_client.cpp
  LIBS parley_providers OpenSSL::Crypto Boost::headers Boost::json Threads::Threads)
target_compile_definitions(parley_bench_tests PRIVATE BOOST_ASIO_NO_DEPRECATED)
target_include_directories(parley_bench_tests PRIVATE ${PROJECT_SOURCE_DIR}/bench)

# parley-bench simulate: the real binary as a child process, real sockets on 127.0.0.1.
parley_test(parley_simulator_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/simulate_test.cpp ${PROJECT_SOURCE_DIR}/tests/support/child_process.cpp
  LIBS Boost::headers Boost::json OpenSSL::Crypto)
target_compile_definitions(parley_simulator_tests PRIVATE PARLEY_BENCH_PATH="$<TARGET_FILE:parley-bench>"
                                                          BOOST_ASIO_NO_DEPRECATED)
add_dependencies(parley_simulator_tests parley-bench)
endif()
