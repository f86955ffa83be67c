#include "parley/storage/keys.hpp"

#include <cstring>

namespace parley::storage {
namespace {

template <class T>
void put_big_endian(std::string& out, T v) {
  char bytes[sizeof(T)];
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    bytes[i] = static_cast<char>((v >> (8 * (sizeof(T) - 1 - i))) & 0xFF);
  }
  out.append(bytes, sizeof(T));
}

template <class T>
std::optional<T> get_big_endian(std::string_view& rest) noexcept {
  if (rest.size() < sizeof(T)) return std::nullopt;
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    v = static_cast<T>((v << 8) | static_cast<unsigned char>(rest[i]));
  }
  rest.remove_prefix(sizeof(T));
  return v;
}

}  // namespace

key_builder& key_builder::str(std::string_view s) {
  // Keys are built several times per webhook: copy the runs between NULs whole (ids
  // never hold one, so that is usually the whole string).
  while (!s.empty()) {
    const void* nul = std::memchr(s.data(), '\0', s.size());
    if (nul == nullptr) {
      key_.append(s);
      break;
    }
    const auto run = static_cast<std::size_t>(static_cast<const char*>(nul) - s.data());
    key_.append(s.data(), run);
    key_.append("\0\xFF", 2);
    s.remove_prefix(run + 1);
  }
  key_.append("\0\x01", 2);
  return *this;
}

key_builder& key_builder::u64(std::uint64_t v) {
  put_big_endian(key_, v);
  return *this;
}

key_builder& key_builder::u32(std::uint32_t v) {
  put_big_endian(key_, v);
  return *this;
}

key_builder& key_builder::u8(std::uint8_t v) {
  key_.push_back(static_cast<char>(v));
  return *this;
}

std::optional<std::string> key_reader::str() {
  std::string out;
  for (std::size_t i = 0; i < rest_.size(); ++i) {
    char c = rest_[i];
    if (c != '\0') {
      out.push_back(c);
      continue;
    }
    if (i + 1 >= rest_.size()) return std::nullopt;
    char next = rest_[i + 1];
    if (next == '\x01') {
      rest_.remove_prefix(i + 2);
      return out;
    }
    if (next != '\xFF') return std::nullopt;
    out.push_back('\0');
    ++i;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> key_reader::u64() noexcept { return get_big_endian<std::uint64_t>(rest_); }
std::optional<std::uint32_t> key_reader::u32() noexcept { return get_big_endian<std::uint32_t>(rest_); }
std::optional<std::uint8_t> key_reader::u8() noexcept { return get_big_endian<std::uint8_t>(rest_); }

std::optional<std::string> leading_string(std::string_view key) {
  key_reader reader(key);
  return reader.str();
}

std::string prefix_successor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(out.back());
    if (last != 0xFF) {
      ++last;
      return out;
    }
    out.pop_back();
  }
  return out;
}

}  // namespace parley::storage
