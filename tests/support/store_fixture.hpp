#pragma once
// Opens a real RocksDB store in a temp dir with a manual clock, for storage tests.
#include <gtest/gtest.h>

#include <memory>

#include "parley/clock.hpp"
#include "parley/storage/store.hpp"
#include "support/temp_dir.hpp"

namespace parley::testing {

inline constexpr std::int64_t test_epoch_ms = 1'790'000'000'000;  // 2026-09

class store_fixture : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    db.reset();
    storage::store_options options;
    options.path = dir.sub("db");
    options.master_key = master_key;
    options.retention = retention;
    auto opened = storage::store::open(std::move(options));
    ASSERT_TRUE(opened.ok()) << opened.err().message;
    db = std::move(*opened);
  }

  temp_dir dir;
  manual_clock time{test_epoch_ms};
  std::shared_ptr<storage::retention_policy> retention = std::make_shared<storage::retention_policy>(time);
  storage::aead_key master_key = storage::aead_key::random();
  std::unique_ptr<storage::store> db;
};

}  // namespace parley::testing
