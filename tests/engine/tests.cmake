parley_test(parley_http_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_server_test.cpp
  LIBS parley_http Boost::headers OpenSSL::SSL OpenSSL::Crypto)
# Must match parley_http's BOOST_ASIO_NO_DEPRECATED: Asio headers compiled with and
# without it in one binary break the one-definition rule (io_context layouts differ:
# crashes in socket code). BOOST_BEAST_USE_STD_STRING_VIEW is a no-op in Boost 1.81.
target_compile_definitions(parley_http_tests PRIVATE BOOST_ASIO_NO_DEPRECATED)

parley_test(parley_engine_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/config_test.cpp ${CMAKE_CURRENT_LIST_DIR}/secrets_test.cpp
  LIBS parley_engine)
