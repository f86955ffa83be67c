#include "providers/common/json_access.hpp"

#include <charconv>
#include <cstring>
#include <limits>
#include <memory>

namespace parley::engine::providers::detail {
namespace {

/// One parser and one padded input buffer per thread, grown on demand and reused so a
/// steady stream of ~1 KiB bodies allocates nothing.
struct thread_parser {
  simdjson::dom::parser parser;
  std::unique_ptr<char[]> buffer;
  std::size_t capacity = 0;
};

thread_parser& local_parser() {
  thread_local thread_parser tp;
  return tp;
}

}  // namespace

result<object> parse_body(std::string_view body) {
  thread_parser& tp = local_parser();
  const std::size_t needed = body.size() + simdjson::SIMDJSON_PADDING;
  if (tp.capacity < needed) {
    const std::size_t cap = needed < 4096 ? 4096 : needed;
    tp.buffer = std::make_unique<char[]>(cap);
    tp.capacity = cap;
  }
  if (!body.empty()) std::memcpy(tp.buffer.get(), body.data(), body.size());
  std::memset(tp.buffer.get() + body.size(), 0, simdjson::SIMDJSON_PADDING);
  element root;
  if (tp.parser.parse(tp.buffer.get(), body.size(), false).get(root) != simdjson::SUCCESS) {
    return make_error(errc::invalid_argument, "malformed JSON");
  }
  object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) {
    return make_error(errc::invalid_argument, "body must be a JSON object");
  }
  return obj;
}

std::optional<element> get(object o, std::string_view key) noexcept {
  element e;
  if (o.at_key(key).get(e) != simdjson::SUCCESS) return std::nullopt;
  return e;
}

std::optional<object> get_object(object o, std::string_view key) noexcept {
  object r;
  if (o.at_key(key).get_object().get(r) != simdjson::SUCCESS) return std::nullopt;
  return r;
}

std::optional<array> get_array(object o, std::string_view key) noexcept {
  array r;
  if (o.at_key(key).get_array().get(r) != simdjson::SUCCESS) return std::nullopt;
  return r;
}

std::optional<std::string_view> get_string(object o, std::string_view key) noexcept {
  std::string_view r;
  if (o.at_key(key).get_string().get(r) != simdjson::SUCCESS) return std::nullopt;
  return r;
}

std::optional<std::string_view> get_nonempty_string(object o, std::string_view key) noexcept {
  auto s = get_string(o, key);
  if (s && s->empty()) return std::nullopt;
  return s;
}

std::optional<std::int64_t> get_int(object o, std::string_view key) noexcept {
  std::int64_t r = 0;
  if (o.at_key(key).get_int64().get(r) != simdjson::SUCCESS) return std::nullopt;
  return r;
}

std::optional<std::int64_t> get_int_or_digits(object o, std::string_view key) noexcept {
  if (auto n = get_int(o, key)) return n;
  const auto s = get_string(o, key);
  if (!s || s->empty()) return std::nullopt;
  std::int64_t r = 0;
  const auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), r);
  if (ec != std::errc{} || end != s->data() + s->size() || r < 0) return std::nullopt;
  return r;
}

bool get_true(object o, std::string_view key) noexcept {
  bool b = false;
  return o.at_key(key).get_bool().get(b) == simdjson::SUCCESS && b;
}

std::optional<std::string> get_id_text(object o, std::string_view key) {
  const auto e = get(o, key);
  if (!e) return std::nullopt;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  std::string_view s;
  if (e->get_int64().get(i) == simdjson::SUCCESS) return std::to_string(i);
  if (e->get_uint64().get(u) == simdjson::SUCCESS) return std::to_string(u);
  if (e->get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  return std::nullopt;
}

void write_value(json_writer& w, element value) {
  // Dispatch on the stored type, so each typed get below cannot fail.
  using simdjson::dom::element_type;
  switch (value.type()) {
    case element_type::ARRAY: {
      array a;
      a = value.get_array().value_unsafe();
      w.begin_array();
      for (element child : a) write_value(w, child);
      w.end_array();
      return;
    }
    case element_type::OBJECT: {
      object o;
      o = value.get_object().value_unsafe();
      w.begin_object();
      for (auto field : o) {
        w.key(field.key);
        write_value(w, field.value);
      }
      w.end_object();
      return;
    }
    case element_type::INT64: {
      std::int64_t i = 0;
      i = value.get_int64().value_unsafe();
      w.number(i);
      return;
    }
    case element_type::UINT64: {
      std::uint64_t u = 0;
      u = value.get_uint64().value_unsafe();
      w.number(u);
      return;
    }
    case element_type::DOUBLE: {
      double d = 0;
      d = value.get_double().value_unsafe();
      w.number(d);
      return;
    }
    case element_type::STRING: {
      std::string_view s;
      s = value.get_string().value_unsafe();
      w.string(s);
      return;
    }
    case element_type::BOOL: {
      bool b = false;
      b = value.get_bool().value_unsafe();
      w.boolean(b);
      return;
    }
    case element_type::NULL_VALUE: w.null(); return;
  }
}

void write_number_field_if(json_writer& w, object o, std::string_view key) {
  const auto e = get(o, key);
  if (!e || !(e->is_number())) return;
  w.key(key);
  write_value(w, *e);
}

std::int64_t seconds_to_ms(std::int64_t seconds) noexcept {
  constexpr std::int64_t limit = std::numeric_limits<std::int64_t>::max() / 1000;
  if (seconds > limit || seconds < -limit) return 0;
  return seconds * 1000;
}

std::string ascii_lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return r;
}

}  // namespace parley::engine::providers::detail
