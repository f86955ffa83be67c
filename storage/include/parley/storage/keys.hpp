#pragma once
/// Key encoding for every column family. Keys are tuples of components encoded so that
/// bytewise order (RocksDB's default comparator) equals tuple order and no encoded tuple
/// is a prefix of another unless the tuples are:
/// - unsigned integers: fixed-width big-endian (a conversation's messages iterate by seq);
/// - strings: bytes with 0x00 escaped as 0x00 0xFF, terminated by 0x00 0x01.
/// Tenant-scoped families always start with the tenant id, which is what retention and
/// sealing read back from a key.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::storage {

/// Appends components to a key. Cheap: one std::string, reserve() if you know the size.
class key_builder {
 public:
  key_builder() = default;
  explicit key_builder(std::size_t reserve) { key_.reserve(reserve); }

  key_builder& str(std::string_view s);
  key_builder& u64(std::uint64_t v);
  key_builder& u32(std::uint32_t v);
  key_builder& u8(std::uint8_t v);

  [[nodiscard]] const std::string& view() const noexcept { return key_; }
  [[nodiscard]] std::string take() noexcept { return std::move(key_); }

 private:
  std::string key_;
};

/// Reads components back in the order they were written. Each getter returns nullopt
/// when the bytes do not hold that component (never reads past the end).
class key_reader {
 public:
  explicit key_reader(std::string_view key) noexcept : rest_(key) {}

  [[nodiscard]] std::optional<std::string> str();
  [[nodiscard]] std::optional<std::uint64_t> u64() noexcept;
  [[nodiscard]] std::optional<std::uint32_t> u32() noexcept;
  [[nodiscard]] std::optional<std::uint8_t> u8() noexcept;
  [[nodiscard]] bool at_end() const noexcept { return rest_.empty(); }
  [[nodiscard]] std::string_view rest() const noexcept { return rest_; }

 private:
  std::string_view rest_;
};

/// The first string component of a key (the tenant id in tenant-scoped families).
[[nodiscard]] std::optional<std::string> leading_string(std::string_view key);

/// The smallest key greater than every key that starts with `prefix` (for upper bounds).
/// Empty when no such key exists (prefix is all 0xFF).
[[nodiscard]] std::string prefix_successor(std::string_view prefix);

}  // namespace parley::storage
