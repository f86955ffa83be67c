#include "parley/ids.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdlib>

namespace parley {
namespace {
constexpr std::string_view base32_alphabet = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::size_t random_chars = 20;
}  // namespace

bool is_valid_tenant_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string generate_id(std::string_view prefix) {
  std::array<unsigned char, random_chars> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    // The CSPRNG failing means the process cannot make secrets safely: stop.
    std::abort();
  }
  std::string id(prefix);
  id.reserve(prefix.size() + random_chars);
  for (unsigned char b : raw) id.push_back(base32_alphabet[b & 31u]);
  return id;
}

bool is_generated_id(std::string_view id, std::string_view prefix) noexcept {
  if (id.size() != prefix.size() + random_chars || id.substr(0, prefix.size()) != prefix) {
    return false;
  }
  for (char c : id.substr(prefix.size())) {
    if (base32_alphabet.find(c) == std::string_view::npos) return false;
  }
  return true;
}

}  // namespace parley
