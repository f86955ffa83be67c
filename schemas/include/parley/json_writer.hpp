#pragma once
/// A small streaming JSON writer for hot paths (normalized details, stored events, API
/// bodies built per message). Compact output; strings escaped per RFC 8259 (quote,
/// backslash and control characters as \u00xx; UTF-8 passed through). Commas are placed
/// automatically; the caller keeps objects and arrays balanced. Writes into its own
/// string (take()) or appends to one the caller owns.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley {

class json_writer {
 public:
  json_writer() : out_(&own_) { own_.reserve(128); }
  explicit json_writer(std::string& out) : out_(&out) {}
  json_writer(const json_writer&) = delete;
  json_writer& operator=(const json_writer&) = delete;

  json_writer& begin_object() { return open('{'); }
  json_writer& end_object() { return close('}'); }
  json_writer& begin_array() { return open('['); }
  json_writer& end_array() { return close(']'); }
  /// Writes `"key":`; the next call writes its value.
  json_writer& key(std::string_view k);

  json_writer& string(std::string_view s);
  json_writer& number(std::int64_t n);
  json_writer& number(std::uint64_t n);
  json_writer& number(std::int32_t n) { return number(static_cast<std::int64_t>(n)); }
  json_writer& number(std::uint32_t n) { return number(static_cast<std::uint64_t>(n)); }
  json_writer& number(double d);  ///< NaN and infinities are written as null
  json_writer& boolean(bool b);
  json_writer& null();
  /// Appends already-serialized JSON verbatim (the caller guarantees it is valid).
  json_writer& raw(std::string_view json);
  /// Lets `append(std::string&)` write one already-valid JSON value in place (no copy
  /// through a string of its own).
  template <class Append>
  json_writer& raw_with(Append&& append) {
    separate();
    append(*out_);
    need_comma_ = true;
    return *this;
  }

  /// `"key":"value"`; the `_if` form writes nothing when the value is absent.
  json_writer& field(std::string_view k, std::string_view v) { return key(k).string(v); }
  json_writer& field_if(std::string_view k, std::optional<std::string_view> v) { return v ? field(k, *v) : *this; }

  /// The text written so far (own-string mode) and taking it.
  [[nodiscard]] const std::string& str() const noexcept { return *out_; }
  [[nodiscard]] std::string take() && { return std::move(*out_); }

  /// Appends `s` to `out` as a quoted, escaped JSON string.
  static void escape_into(std::string& out, std::string_view s);

 private:
  json_writer& open(char c);
  json_writer& close(char c);
  void separate() {
    if (need_comma_) out_->push_back(',');
  }

  std::string own_;
  std::string* out_;
  bool need_comma_ = false;
};

/// RFC 3339 UTC with seconds ("2026-11-22T10:00:00Z") from epoch milliseconds, in a
/// buffer of its own: no allocation (the text is longer than std::string's inline store).
struct rfc3339_text {
  char text[32];
  std::size_t size = 0;
  [[nodiscard]] std::string_view view() const noexcept { return {text, size}; }
};
[[nodiscard]] rfc3339_text rfc3339(std::int64_t epoch_ms);
/// The same as a std::string.
[[nodiscard]] std::string format_rfc3339(std::int64_t epoch_ms);

}  // namespace parley
