#include "providers/common/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace parley::engine::providers::detail {

bool hmac_sha256_hex_into(std::string_view key, std::string_view data,
                          std::array<char, 64>& out) noexcept {
  static constexpr char hex[] = "0123456789abcdef";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  // OpenSSL 3's one-shot HMAC() rejects a null key pointer even with length 0.
  static constexpr unsigned char empty_key = 0;
  const void* key_ptr = key.empty() ? static_cast<const void*>(&empty_key) : key.data();
  const auto* data_ptr = reinterpret_cast<const unsigned char*>(data.empty() ? "" : data.data());
  if (HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()), data_ptr, data.size(), mac, &mac_len) ==
          nullptr ||
      mac_len != 32) {
    return false;
  }
  for (unsigned int i = 0; i < 32; ++i) {
    out[2 * i] = hex[mac[i] >> 4];
    out[2 * i + 1] = hex[mac[i] & 0xF];
  }
  return true;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

namespace {
constexpr int base64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::optional<std::size_t> base64_decode(std::string_view in, char* out, std::size_t out_capacity) noexcept {
  // Strip up to two '=' of padding; when present the padded length must be a multiple of 4.
  std::size_t len = in.size();
  std::size_t pad = 0;
  while (len > 0 && in[len - 1] == '=' && pad < 2) {
    --len;
    ++pad;
  }
  if (pad > 0 && in.size() % 4 != 0) return std::nullopt;
  if (len % 4 == 1) return std::nullopt;  // 6 bits cannot end a byte
  std::size_t n = 0;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < len; ++i) {
    const int v = base64_value(in[i]);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n >= out_capacity) return std::nullopt;
      out[n++] = static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return n;
}

}  // namespace parley::engine::providers::detail
