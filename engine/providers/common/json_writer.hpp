#pragma once
/// A tiny append-only JSON writer for `details_json`: compact output, strings escaped
/// per RFC 8259 (quote, backslash and control characters as \u00xx; UTF-8 kept as is).
/// Not thread-safe; one writer per message being normalized. It does not validate
/// nesting — callers open and close what they write.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::engine::providers::detail {

/// Appends `s` to `out` as a quoted, escaped JSON string.
void append_json_string(std::string& out, std::string_view s);

/// Builds one compact JSON value. Commas are inserted automatically between members.
class json_writer {
 public:
  json_writer() { out_.reserve(128); }

  json_writer& begin_object() { return open('{'); }
  json_writer& end_object() { return close('}'); }
  json_writer& begin_array() { return open('['); }
  json_writer& end_array() { return close(']'); }
  /// Writes `"key":`; the next call writes its value.
  json_writer& key(std::string_view k);

  json_writer& string(std::string_view s);
  json_writer& number(std::int64_t n);
  json_writer& number(std::uint64_t n);
  json_writer& number(double d);
  json_writer& boolean(bool b);
  json_writer& null();
  /// Appends already-serialized JSON verbatim (the caller guarantees it is valid).
  json_writer& raw(std::string_view json);

  /// `"key":"value"` members; the `_if` forms write nothing when the value is absent.
  json_writer& field(std::string_view k, std::string_view v) { return key(k).string(v); }
  json_writer& field_if(std::string_view k, std::optional<std::string_view> v) {
    return v ? field(k, *v) : *this;
  }

  [[nodiscard]] const std::string& str() const noexcept { return out_; }
  [[nodiscard]] std::string take() && { return std::move(out_); }

 private:
  json_writer& open(char c);
  json_writer& close(char c);
  void separate();

  std::string out_;
  bool need_comma_ = false;
};

}  // namespace parley::engine::providers::detail
