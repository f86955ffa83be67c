#pragma once
/// Error codes shared by every layer. Errors are values: functions that can fail return
/// `parley::result<T>` (see result.hpp) carrying one of these and a human message.
#include <cstdint>
#include <string_view>

namespace parley {

enum class errc : std::uint8_t {
  ok = 0,
  not_found,         ///< the key, id or route does not exist
  already_exists,    ///< create of something that exists
  invalid_argument,  ///< caller's input is malformed or out of range
  corruption,        ///< stored bytes failed to decode or authenticate
  io_error,          ///< the disk or the OS refused
  overloaded,        ///< a bounded queue is full: retry later
  shutting_down,     ///< the component is stopping and takes no new work
  key_destroyed,     ///< the tenant's data key is gone: its records are unreadable
  unauthorized,      ///< a signature, token or credential did not match
  duplicate,         ///< a dedup guard found the record already stored
  expired,           ///< the record is past its retention
  internal,          ///< a broken invariant; a bug
};

/// Stable snake_case name of an error code (used in logs and metrics labels).
[[nodiscard]] std::string_view to_string(errc code) noexcept;

}  // namespace parley
