#pragma once
/// Shared verification primitives of the provider adapters: HMAC-SHA256 (OpenSSL),
/// constant-time comparison and a strict base64 decoder. Pure functions, thread-safe,
/// no allocation on the verification paths.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace parley::engine::providers::detail {

/// HMAC-SHA256(key, data) written as 64 lowercase hex characters into `out`.
/// False only if OpenSSL fails (it does not for SHA-256).
[[nodiscard]] bool hmac_sha256_hex_into(std::string_view key, std::string_view data,
                                        std::array<char, 64>& out) noexcept;

/// Equality in time that depends only on the lengths: a length mismatch is false (the
/// length is not secret), equal lengths compare every byte with CRYPTO_memcmp.
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

/// Decodes standard base64 (RFC 4648 §4; '=' padding optional, no whitespace) into
/// `out`. Returns the decoded length, or nullopt when the input is not base64 or does
/// not fit.
[[nodiscard]] std::optional<std::size_t> base64_decode(std::string_view in, char* out,
                                                       std::size_t out_capacity) noexcept;

}  // namespace parley::engine::providers::detail
