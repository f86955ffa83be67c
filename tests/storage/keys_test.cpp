#include "parley/storage/keys.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <tuple>
#include <vector>

namespace parley::storage {
namespace {

TEST(Keys, RoundTripsEveryComponentKind) {
  std::string with_nul("a\0b", 3);
  auto key = key_builder().str("tenant-1").str(with_nul).u64(42).u32(7).u8(9).take();
  key_reader r(key);
  EXPECT_EQ(r.str(), "tenant-1");
  EXPECT_EQ(r.str(), with_nul);
  EXPECT_EQ(r.u64(), 42u);
  EXPECT_EQ(r.u32(), 7u);
  EXPECT_EQ(r.u8(), 9u);
  EXPECT_TRUE(r.at_end());
}

TEST(Keys, SequenceNumbersSortInNumericOrder) {
  std::vector<std::string> keys;
  for (std::uint64_t seq : {1000ull, 2ull, 255ull, 256ull, 1ull << 40, 0ull}) {
    keys.push_back(key_builder().str("t").str("ct_x").u64(seq).take());
  }
  std::sort(keys.begin(), keys.end());
  std::vector<std::uint64_t> order;
  for (const auto& k : keys) {
    key_reader r(k);
    (void)r.str();
    (void)r.str();
    order.push_back(*r.u64());
  }
  EXPECT_EQ(order, (std::vector<std::uint64_t>{0, 2, 255, 256, 1000, 1ull << 40}));
}

TEST(Keys, StringOrderMatchesTupleOrderAndIsPrefixFree) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> len(0, 4), byte(0, 3);
  std::vector<std::pair<std::string, std::string>> tuples;
  for (int i = 0; i < 500; ++i) {
    std::string a, b;
    for (int n = len(rng); n > 0; --n) a.push_back(static_cast<char>(byte(rng) == 0 ? 0 : 'a' + byte(rng)));
    for (int n = len(rng); n > 0; --n) b.push_back(static_cast<char>('a' + byte(rng)));
    tuples.emplace_back(a, b);
  }
  for (const auto& x : tuples) {
    for (const auto& y : tuples) {
      auto kx = key_builder().str(x.first).str(x.second).take();
      auto ky = key_builder().str(y.first).str(y.second).take();
      ASSERT_EQ(x < y, kx < ky) << "order differs";
      // "ab" as a tenant must not be a prefix of tenant "abc"'s keys.
      auto px = key_builder().str(x.first).take();
      auto py = key_builder().str(y.first).take();
      if (x.first != y.first) {
        ASSERT_NE(py.rfind(px, 0), 0u);
      }
    }
  }
}

TEST(Keys, ReaderRejectsTruncatedInput) {
  auto key = key_builder().str("abc").u64(1).take();
  key_reader r(std::string_view(key).substr(0, key.size() - 1));
  EXPECT_TRUE(r.str().has_value());
  EXPECT_FALSE(r.u64().has_value());
  key_reader unterminated("abc");
  EXPECT_FALSE(unterminated.str().has_value());
}

TEST(Keys, PrefixSuccessorBoundsThePrefix) {
  EXPECT_EQ(prefix_successor("ab"), "ac");
  EXPECT_EQ(prefix_successor(std::string("a\xFF", 2)), "b");
  EXPECT_EQ(prefix_successor(std::string("\xFF\xFF", 2)), "");
}

}  // namespace
}  // namespace parley::storage
