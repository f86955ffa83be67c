#pragma once
/// Helpers shared by the provider normalizer tests.
#include <gtest/gtest.h>

#include <string>

#include "parley/inbound.hpp"
#include "parley/result.hpp"

namespace parley::engine::providers::testing {

/// The webhook, or a test failure naming the error.
inline normalized_webhook expect_ok(result<normalized_webhook> r) {
  EXPECT_TRUE(r.ok()) << (r.ok() ? std::string() : r.err().message);
  return r.ok() ? std::move(r).value() : normalized_webhook{};
}

/// The error message of an invalid_argument result ("" and a failure otherwise).
inline std::string expect_invalid(const result<normalized_webhook>& r) {
  EXPECT_FALSE(r.ok());
  if (r.ok()) return {};
  EXPECT_EQ(r.code(), errc::invalid_argument);
  return r.err().message;
}

}  // namespace parley::engine::providers::testing
