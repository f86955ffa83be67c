# Provider adapters: verification primitives, JSON writer, date parsing and one suite per
# provider's normalizer (sample payloads as raw string literals).
parley_test(parley_providers_tests
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/common_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/verify_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/whatsapp_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/messenger_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/telegram_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/postmark_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/send_test.cpp
  LIBS parley_providers Boost::json)
# send_test.cpp parses request bodies back with Boost.JSON (the library itself uses json_writer).
