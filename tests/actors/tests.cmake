parley_test(parley_actors_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/storage_writer_test.cpp ${CMAKE_CURRENT_LIST_DIR}/ack_tracker_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/retention_actor_test.cpp ${CMAKE_CURRENT_LIST_DIR}/usage_meter_test.cpp
  LIBS parley_actors)
