# parley_storage: RocksDB, key encoding, record envelope, encryption at rest, retention
# and group commit. The only library that includes RocksDB or generated FlatBuffers code.
add_library(parley_storage STATIC
  src/keys.cpp src/families.cpp src/crypto.cpp src/retention.cpp src/store.cpp src/group_writer.cpp src/records.cpp)
target_include_directories(parley_storage PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
target_link_libraries(parley_storage
  PUBLIC parley_schemas
  PRIVATE RocksDB::rocksdb-shared flatbuffers::flatbuffers_shared OpenSSL::Crypto Threads::Threads)
parley_project_target(parley_storage)
