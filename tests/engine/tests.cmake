parley_test(parley_http_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_server_test.cpp ${CMAKE_CURRENT_LIST_DIR}/http_client_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/../support/tls_material.cpp
          ${CMAKE_CURRENT_LIST_DIR}/../support/child_process.cpp
  LIBS parley_http Boost::headers OpenSSL::SSL OpenSSL::Crypto)
# BOOST_ASIO_NO_DEPRECATED comes from parley_http (PUBLIC): the test's Asio must match.

parley_test(parley_engine_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/config_test.cpp ${CMAKE_CURRENT_LIST_DIR}/secrets_test.cpp
  LIBS parley_engine)
