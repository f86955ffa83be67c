#pragma once
/// simdjson DOM access for the normalizers: a thread-local parser (normalizers run on
/// many I/O threads at once) and small typed getters that treat "absent" and "wrong
/// type" alike as nullopt. Internal to parley_providers; include only from .cpp files.
///
/// Lifetime: elements and string_views returned by `parse_body` and the getters point
/// into the calling thread's parser and stay valid until that thread parses again.
#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "parley/result.hpp"
#include "parley/json_writer.hpp"

namespace parley::engine::providers::detail {

using parley::json_writer;

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

/// Parses `body` (copied into a reusable thread-local padded buffer) and returns the
/// root, which must be an object. invalid_argument "malformed JSON" or "body must be a
/// JSON object"; never quotes the body.
[[nodiscard]] result<object> parse_body(std::string_view body);

[[nodiscard]] std::optional<element> get(object o, std::string_view key) noexcept;
[[nodiscard]] std::optional<object> get_object(object o, std::string_view key) noexcept;
[[nodiscard]] std::optional<array> get_array(object o, std::string_view key) noexcept;
[[nodiscard]] std::optional<std::string_view> get_string(object o, std::string_view key) noexcept;
/// A string member that is present and non-empty.
[[nodiscard]] std::optional<std::string_view> get_nonempty_string(object o, std::string_view key) noexcept;
/// An integer member (int64, or uint64 that fits).
[[nodiscard]] std::optional<std::int64_t> get_int(object o, std::string_view key) noexcept;
/// An integer member, or a string holding only decimal digits (WhatsApp's timestamps).
[[nodiscard]] std::optional<std::int64_t> get_int_or_digits(object o, std::string_view key) noexcept;
/// True only for a member that is the JSON literal `true`.
[[nodiscard]] bool get_true(object o, std::string_view key) noexcept;
/// Decimal text of an integer member, or the member itself when it is a string
/// (ids and error codes that providers send either way).
[[nodiscard]] std::optional<std::string> get_id_text(object o, std::string_view key);

/// Writes `value` (any JSON) compactly through `w`, with the writer's string escaping.
void write_value(json_writer& w, element value);
/// `"key":<number>` copying an integer or floating member as it is; nothing if absent.
void write_number_field_if(json_writer& w, object o, std::string_view key);

/// Seconds (or ms) → ms without overflow: out-of-range values become 0.
[[nodiscard]] std::int64_t seconds_to_ms(std::int64_t seconds) noexcept;

/// ASCII lowercase copy (email addresses).
[[nodiscard]] std::string ascii_lower(std::string_view s);

}  // namespace parley::engine::providers::detail
