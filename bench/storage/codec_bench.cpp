// CPU cost of the record path: AES-256-GCM seal/open of a 1 KiB body, key encoding and
// decoding, and building a whole stored value (envelope + seal).
//
// Run: build/bench/parley_storage_bench --benchmark_filter='Seal|Open|Key|Encode'
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>

#include "parley/storage/crypto.hpp"
#include "parley/storage/keys.hpp"
#include "parley/storage/store.hpp"

namespace {

using namespace parley::storage;

void BM_Seal1KiB(benchmark::State& state) {
  auto key = aead_key::random();
  std::string body(1024, 'x'), out;
  for (auto _ : state) {
    out.clear();
    if (!seal(key, "messages/key", body, out).ok()) std::abort();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 1024);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Seal1KiB);

void BM_Open1KiB(benchmark::State& state) {
  auto key = aead_key::random();
  std::string body(1024, 'x'), sealed, out;
  (void)seal(key, "messages/key", body, sealed);
  for (auto _ : state) {
    out.clear();
    if (!open(key, "messages/key", sealed, out).ok()) std::abort();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 1024);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Open1KiB);

void BM_KeyEncodeMessage(benchmark::State& state) {
  std::uint64_t seq = 0;
  for (auto _ : state) {
    auto key = key_builder(48).str("tenant-acme").str("ct_abcdefghijklmnopqrst").u64(++seq).take();
    benchmark::DoNotOptimize(key.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_KeyEncodeMessage);

void BM_KeyDecodeMessage(benchmark::State& state) {
  auto key = key_builder(48).str("tenant-acme").str("ct_abcdefghijklmnopqrst").u64(42).take();
  for (auto _ : state) {
    key_reader r(key);
    auto tenant = r.str();
    auto contact = r.str();
    auto seq = r.u64();
    benchmark::DoNotOptimize(tenant);
    benchmark::DoNotOptimize(contact);
    benchmark::DoNotOptimize(seq);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_KeyDecodeMessage);

void BM_EncodeSealedRecord1KiB(benchmark::State& state) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "parley-bench-XXXXXX").string();
  std::string dir = mkdtemp(tmpl.data());
  {
    store_options o;
    o.path = dir + "/db";
    o.master_key = aead_key::random();
    o.retention = std::make_shared<retention_policy>(parley::system_clock::instance());
    auto db = std::move(store::open(std::move(o)).value());
    (void)db->create_tenant_key("bench");
    std::string body(1024, 'x');
    std::uint64_t seq = 0;
    for (auto _ : state) {
      auto op = write_op::put(family::messages, key_builder(48).str("bench").str("ct").u64(++seq).take(), body, true);
      auto encoded = db->encode(std::move(op));
      benchmark::DoNotOptimize(encoded);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_EncodeSealedRecord1KiB);

}  // namespace
