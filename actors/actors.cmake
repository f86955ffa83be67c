# parley_actors: the CAF actors (one folder per actor; its header is its protocol).
add_library(parley_actors STATIC system.cpp storage_writer/storage_writer_actor.cpp)
target_include_directories(parley_actors
  PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(parley_actors PUBLIC parley_storage CAF::core)
parley_project_target(parley_actors)
