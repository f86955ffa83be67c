# Google Benchmark targets (bench/<layer>/<unit>_bench.cpp). Release builds only give
# meaningful figures; CI runs each once, briefly, to prove they still start.
add_executable(parley_storage_bench storage/append_bench.cpp storage/codec_bench.cpp)
target_link_libraries(parley_storage_bench PRIVATE parley_storage benchmark::benchmark benchmark::benchmark_main Threads::Threads)
parley_project_target(parley_storage_bench)

# Provider adapters: signature verification and webhook normalization per provider.
add_executable(parley_providers_bench providers/normalize_bench.cpp)
target_link_libraries(parley_providers_bench PRIVATE parley_providers benchmark::benchmark benchmark::benchmark_main Threads::Threads)
parley_project_target(parley_providers_bench)

# parley-bench: the load generator (ingest today; send/simulate/mixed/verify later).
add_executable(parley-bench parley_bench/main.cpp parley_bench/ingest.cpp parley_bench/histogram.cpp parley_bench/chart.cpp parley_bench/payloads.cpp
  parley_bench/http_client.cpp parley_bench/verify.cpp parley_bench/load.cpp parley_bench/send.cpp
  parley_bench/simulate.cpp parley_bench/sim_state.cpp parley_bench/sim_control.cpp parley_bench/sim_providers.cpp
  parley_bench/sim_statuses.cpp parley_bench/status_pusher.cpp)
target_link_libraries(parley-bench PRIVATE Boost::headers Boost::json OpenSSL::Crypto CLI11::CLI11 Threads::Threads)
target_compile_definitions(parley-bench PRIVATE BOOST_ASIO_NO_DEPRECATED)
parley_project_target(parley-bench)

# The engine's hot-path stages not covered above: HTTP parse, routing, record encode, JSON
# render, actor hops.
add_executable(parley_engine_bench engine/hot_path_bench.cpp)
target_link_libraries(parley_engine_bench PRIVATE parley_engine parley_http parley_actors benchmark::benchmark benchmark::benchmark_main Threads::Threads)
target_include_directories(parley_engine_bench PRIVATE ${PROJECT_SOURCE_DIR})
parley_project_target(parley_engine_bench)

# The JetStream peer of bench/compare.sh: publish-with-ack over the NATS protocol.
add_executable(parley-jetstream-pub peers/jetstream_pub.cpp parley_bench/histogram.cpp)
target_link_libraries(parley-jetstream-pub PRIVATE Boost::headers CLI11::CLI11 Threads::Threads)
target_include_directories(parley-jetstream-pub PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
parley_project_target(parley-jetstream-pub)
