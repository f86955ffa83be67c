#include "providers/common/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include <memory>
#include <string>
#include <vector>

namespace parley::engine::providers::detail {

namespace {

struct mac_ctx_deleter {
  void operator()(EVP_MAC_CTX* ctx) const noexcept { EVP_MAC_CTX_free(ctx); }
};
using mac_ctx_ptr = std::unique_ptr<EVP_MAC_CTX, mac_ctx_deleter>;

EVP_MAC* hmac_algorithm() noexcept {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

// A context of this thread already keyed with `key`. Fetching the algorithm and setting
// a key cost more than hashing a 1 KiB body (one-shot HMAC() does both every call); a
// tenant's channel secrets are few, so each I/O thread keeps the last few keyed.
EVP_MAC_CTX* keyed_context(std::string_view key) noexcept {
  struct entry {
    std::string key;
    mac_ctx_ptr ctx;
  };
  constexpr std::size_t max_keys = 64;
  thread_local std::vector<entry> cache;
  for (auto& e : cache) {
    if (e.key == key) return e.ctx.get();  // secrets compared with secrets: no attacker input
  }
  if (hmac_algorithm() == nullptr) return nullptr;
  mac_ctx_ptr ctx(EVP_MAC_CTX_new(hmac_algorithm()));
  if (!ctx) return nullptr;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()};
  // OpenSSL 3 rejects a null key pointer even with length 0.
  static constexpr unsigned char empty_key = 0;
  const auto* key_ptr = key.empty() ? &empty_key : reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_MAC_init(ctx.get(), key_ptr, key.size(), params) != 1) return nullptr;
  if (cache.size() >= max_keys) cache.erase(cache.begin());
  cache.push_back(entry{std::string(key), std::move(ctx)});
  return cache.back().ctx.get();
}

}  // namespace

bool hmac_sha256_hex_into(std::string_view key, std::string_view data,
                          std::array<char, 64>& out) noexcept {
  static constexpr char hex[] = "0123456789abcdef";
  EVP_MAC_CTX* ctx = keyed_context(key);
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t mac_len = 0;
  const auto* data_ptr = reinterpret_cast<const unsigned char*>(data.empty() ? "" : data.data());
  // A null key restarts the context with the key it already holds.
  if (ctx == nullptr || EVP_MAC_init(ctx, nullptr, 0, nullptr) != 1 || EVP_MAC_update(ctx, data_ptr, data.size()) != 1 ||
      EVP_MAC_final(ctx, mac, &mac_len, sizeof mac) != 1 || mac_len != 32) {
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
