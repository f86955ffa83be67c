#pragma once
/// A small streaming JSON writer for the hot path (stored events, API bodies built per
/// message). Appends to a std::string; the caller keeps keys and values balanced.
/// Strings are escaped per RFC 8259 (quotes, backslash, control characters); UTF-8 is
/// passed through.
#include <cstdint>
#include <string>
#include <string_view>

namespace parley {

class json_writer {
 public:
  explicit json_writer(std::string& out) : out_(out) {}

  json_writer& begin_object() { sep(); out_.push_back('{'); first_ = true; return *this; }
  json_writer& end_object() { out_.push_back('}'); first_ = false; return *this; }
  json_writer& begin_array() { sep(); out_.push_back('['); first_ = true; return *this; }
  json_writer& end_array() { out_.push_back(']'); first_ = false; return *this; }
  /// An object key; the next call writes its value.
  json_writer& key(std::string_view k) { sep(); escape(k); out_.push_back(':'); after_key_ = true; return *this; }
  json_writer& string(std::string_view v) { sep(); escape(v); return *this; }
  json_writer& number(std::int64_t v) { sep(); out_.append(std::to_string(v)); return *this; }
  json_writer& number_u(std::uint64_t v) { sep(); out_.append(std::to_string(v)); return *this; }
  json_writer& number_d(double v);
  json_writer& boolean(bool v) { sep(); out_.append(v ? "true" : "false"); return *this; }
  json_writer& null() { sep(); out_.append("null"); return *this; }
  /// Already-serialized JSON, inserted as a value.
  json_writer& raw(std::string_view json) { sep(); out_.append(json); return *this; }
  /// key + string in one call.
  json_writer& field(std::string_view k, std::string_view v) { return key(k).string(v); }

  /// Appends `s` as a quoted, escaped JSON string.
  static void escape_into(std::string& out, std::string_view s);

 private:
  void sep() {
    if (after_key_) {
      after_key_ = false;
      first_ = false;
      return;
    }
    if (!first_) out_.push_back(',');
    first_ = false;
  }
  void escape(std::string_view s) { escape_into(out_, s); }

  std::string& out_;
  bool first_ = true;
  bool after_key_ = false;
};

/// RFC 3339 UTC with seconds ("2026-11-22T10:00:00Z") from epoch milliseconds.
[[nodiscard]] std::string format_rfc3339(std::int64_t epoch_ms);

}  // namespace parley
