#pragma once
/// Authenticated encryption for records at rest: AES-256-GCM through OpenSSL EVP.
/// A sealed value is nonce(12) || ciphertext || tag(16). The caller's `aad` binds the
/// value to where it lives (column family + key), so a record copied to another key, or
/// altered by one bit, fails to open. All functions are thread-safe.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "parley/result.hpp"

namespace parley::storage {

inline constexpr std::size_t aead_key_bytes = 32;
inline constexpr std::size_t aead_nonce_bytes = 12;
inline constexpr std::size_t aead_tag_bytes = 16;
inline constexpr std::size_t aead_overhead = aead_nonce_bytes + aead_tag_bytes;

/// A 256-bit key. Wiped on destruction.
class aead_key {
 public:
  aead_key() noexcept { bytes_.fill(0); }
  ~aead_key();
  aead_key(const aead_key&) = default;
  aead_key& operator=(const aead_key&) = default;

  /// A fresh key from the OpenSSL CSPRNG.
  [[nodiscard]] static aead_key random();
  /// Exactly 32 raw bytes, else invalid_argument.
  [[nodiscard]] static result<aead_key> from_bytes(std::string_view raw);
  /// Standard base64 of 32 bytes (as in PARLEY_MASTER_KEY), else invalid_argument.
  [[nodiscard]] static result<aead_key> from_base64(std::string_view text);

  [[nodiscard]] const std::uint8_t* data() const noexcept { return bytes_.data(); }
  [[nodiscard]] std::string_view view() const noexcept {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  [[nodiscard]] std::string to_base64() const;

 private:
  std::array<std::uint8_t, aead_key_bytes> bytes_;
};

/// Additional authenticated data in two pieces, authenticated as if joined (`head`
/// then `tail`): a record's location is a family byte and its key, and joining them
/// would cost a string per seal or open.
struct aad_parts {
  std::string_view head;
  std::string_view tail;
};

/// Seals `plaintext` under `key`, authenticating `aad` too. Appends to `out`.
[[nodiscard]] status seal(const aead_key& key, aad_parts aad, std::string_view plaintext, std::string& out);
[[nodiscard]] inline status seal(const aead_key& key, std::string_view aad, std::string_view plaintext,
                                 std::string& out) {
  return seal(key, aad_parts{aad, {}}, plaintext, out);
}
/// Opens a value made by `seal` with the same key and aad. corruption on any mismatch.
[[nodiscard]] status open(const aead_key& key, aad_parts aad, std::string_view sealed, std::string& out);
[[nodiscard]] inline status open(const aead_key& key, std::string_view aad, std::string_view sealed,
                                 std::string& out) {
  return open(key, aad_parts{aad, {}}, sealed, out);
}

/// Standard base64 (with padding).
[[nodiscard]] std::string base64_encode(std::string_view bytes);
/// Decodes standard base64; invalid_argument on bad characters or length.
[[nodiscard]] result<std::string> base64_decode(std::string_view text);

/// Compares without leaking where the first difference is (CRYPTO_memcmp). Length is
/// not secret.
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

/// `n` random bytes from the OpenSSL CSPRNG.
[[nodiscard]] std::string random_bytes(std::size_t n);

}  // namespace parley::storage
