if(PARLEY_BUILD_BENCH)
parley_test(parley_bench_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/histogram_test.cpp ${CMAKE_CURRENT_LIST_DIR}/payloads_test.cpp ${CMAKE_CURRENT_LIST_DIR}/pacer_test.cpp
          ${PROJECT_SOURCE_DIR}/bench/parley_bench/histogram.cpp ${PROJECT_SOURCE_DIR}/bench/parley_bench/payloads.cpp
  LIBS parley_providers OpenSSL::Crypto)
target_include_directories(parley_bench_tests PRIVATE ${PROJECT_SOURCE_DIR}/bench)
endif()
