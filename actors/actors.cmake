# parley_actors: the CAF actors (one folder per actor; its header is its protocol) and
# what they share (directory, views, pools).
add_library(parley_actors STATIC
  system.cpp
  storage_writer/storage_writer.cpp
  registry/directory.cpp
  registry/registry_actor.cpp
  tenant/tenant_actor.cpp
  conversation/conversation_actor.cpp
  delivery/delivery_actor.cpp
  dispatcher/dispatcher_actor.cpp
  retention/retention_actor.cpp
  common/blocking_pool.cpp
  common/feed.cpp
  common/feed_notifier.cpp
  common/views.cpp
  common/usage_meter.cpp)
target_include_directories(parley_actors
  PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(parley_actors PUBLIC parley_storage CAF::core PRIVATE Boost::json OpenSSL::Crypto spdlog::spdlog fmt::fmt)
parley_project_target(parley_actors)
