#pragma once
/// Small pieces every normalizer shares: the account filter and the error constructor.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "parley/result.hpp"

namespace parley::engine::providers::detail {

/// invalid_argument with a short reason naming the field (never the body).
[[nodiscard]] inline error shape_error(const char* reason) { return make_error(errc::invalid_argument, reason); }

/// True when `account_id` belongs to the channel (an empty list accepts every account).
[[nodiscard]] inline bool account_accepted(const std::vector<std::string>& account_ids,
                                           std::string_view account_id) noexcept {
  return account_ids.empty() ||
         std::find(account_ids.begin(), account_ids.end(), account_id) != account_ids.end();
}

}  // namespace parley::engine::providers::detail
