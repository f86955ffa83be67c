parley_test(parley_integration_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/parleyd_test.cpp ${CMAKE_CURRENT_LIST_DIR}/../support/child_process.cpp
          ${CMAKE_CURRENT_LIST_DIR}/../support/tls_material.cpp
  LIBS OpenSSL::SSL OpenSSL::Crypto)
target_compile_definitions(parley_integration_tests PRIVATE PARLEYD_PATH="$<TARGET_FILE:parleyd>")
add_dependencies(parley_integration_tests parleyd)
