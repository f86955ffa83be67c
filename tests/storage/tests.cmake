add_executable(parley_crash_writer ${CMAKE_CURRENT_LIST_DIR}/../support/crash_writer.cpp)
target_link_libraries(parley_crash_writer PRIVATE parley_storage Threads::Threads)
parley_project_target(parley_crash_writer)

parley_test(parley_storage_tests
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/keys_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/crypto_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/store_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/retention_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/group_writer_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/crash_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/wal_failure_test.cpp
  LIBS parley_storage RocksDB::rocksdb-shared)
target_compile_definitions(parley_storage_tests PRIVATE PARLEY_CRASH_WRITER="$<TARGET_FILE:parley_crash_writer>")
add_dependencies(parley_storage_tests parley_crash_writer)
