// Meta (WhatsApp, Messenger, Instagram) webhook verification and the shared HMAC helper.
#include <array>

#include "providers/common/crypto.hpp"
#include "providers/provider.hpp"

namespace parley::engine::providers {

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  std::array<char, 64> hex{};
  if (!detail::hmac_sha256_hex_into(key, data, hex)) return {};
  return std::string(hex.data(), hex.size());
}

bool verify_meta_signature(std::string_view app_secret, std::string_view raw_body,
                           std::optional<std::string_view> header) noexcept {
  constexpr std::string_view prefix = "sha256=";
  // An unconfigured secret must never authenticate anything.
  if (app_secret.empty() || !header || header->size() != prefix.size() + 64 ||
      header->substr(0, prefix.size()) != prefix) {
    return false;
  }
  // Canonicalize the received hex to lowercase (Meta sends lowercase; uppercase is
  // accepted) and reject non-hex without branching on the secret-dependent value.
  std::array<char, 64> received{};
  bool hex_ok = true;
  for (std::size_t i = 0; i < 64; ++i) {
    char c = (*header)[prefix.size() + i];
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    hex_ok &= (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    received[i] = c;
  }
  std::array<char, 64> expected{};
  if (!hex_ok || !detail::hmac_sha256_hex_into(app_secret, raw_body, expected)) return false;
  return detail::constant_time_equal({received.data(), received.size()}, {expected.data(), expected.size()});
}

std::optional<std::string> meta_challenge(std::optional<std::string_view> mode,
                                          std::optional<std::string_view> token,
                                          std::optional<std::string_view> challenge,
                                          std::string_view verify_token) noexcept {
  if (!mode || *mode != "subscribe" || !token || !challenge || challenge->empty() || verify_token.empty()) {
    return std::nullopt;
  }
  if (!detail::constant_time_equal(*token, verify_token)) return std::nullopt;
  return std::string(*challenge);
}

}  // namespace parley::engine::providers
