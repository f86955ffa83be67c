# parley_providers: provider adapters (verify + normalize), one folder per provider and
# shared helpers in common/. Included from engine/CMakeLists.txt, so paths are relative
# to this file (CMAKE_CURRENT_LIST_DIR), not to engine/.
add_library(parley_providers STATIC
  ${CMAKE_CURRENT_LIST_DIR}/common/crypto.cpp
  ${CMAKE_CURRENT_LIST_DIR}/common/json_access.cpp
  ${CMAKE_CURRENT_LIST_DIR}/common/meta_verify.cpp
  ${CMAKE_CURRENT_LIST_DIR}/common/time_parse.cpp
  ${CMAKE_CURRENT_LIST_DIR}/common/send.cpp
  ${CMAKE_CURRENT_LIST_DIR}/whatsapp/whatsapp.cpp
  ${CMAKE_CURRENT_LIST_DIR}/whatsapp/whatsapp_send.cpp
  ${CMAKE_CURRENT_LIST_DIR}/messenger/messenger.cpp
  ${CMAKE_CURRENT_LIST_DIR}/messenger/messenger_send.cpp
  ${CMAKE_CURRENT_LIST_DIR}/telegram/telegram.cpp
  ${CMAKE_CURRENT_LIST_DIR}/telegram/telegram_send.cpp
  ${CMAKE_CURRENT_LIST_DIR}/postmark/postmark.cpp
  ${CMAKE_CURRENT_LIST_DIR}/postmark/postmark_send.cpp)
# "providers/provider.hpp" (engine/ on the path) and "engine/providers/provider.hpp" both work.
target_include_directories(parley_providers PUBLIC ${CMAKE_CURRENT_LIST_DIR}/.. ${CMAKE_CURRENT_LIST_DIR}/../..)
target_link_libraries(parley_providers
  PUBLIC parley_schemas
  PRIVATE simdjson::simdjson OpenSSL::Crypto)
parley_project_target(parley_providers)
