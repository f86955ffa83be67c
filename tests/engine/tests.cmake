parley_test(parley_http_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_server_test.cpp
  LIBS parley_http Boost::headers OpenSSL::SSL OpenSSL::Crypto)
# Must match parley_http's private definitions: Asio/Beast headers compiled with and
# without them in one binary break the one-definition rule (crashes in socket code).
target_compile_definitions(parley_http_tests PRIVATE BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)
