#include "parley/json_writer.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace parley {

namespace {

constexpr std::uint64_t ones = 0x0101010101010101ULL;
constexpr std::uint64_t highs = 0x8080808080808080ULL;

// Whether any of the eight bytes of `w` needs escaping: a quote, a backslash or a byte
// below 0x20. The zero-byte tests are exact about whether such a byte exists (which is
// all this asks), not about where it is.
constexpr bool needs_escape(std::uint64_t w) {
  const std::uint64_t quote = w ^ (ones * '"');
  const std::uint64_t backslash = w ^ (ones * '\\');
  const std::uint64_t zero_byte = ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash);
  const std::uint64_t below_space = (w - ones * 0x20) & ~w;
  return ((zero_byte | below_space) & highs) != 0;
}

}  // namespace

void json_writer::escape_into(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the current run of bytes that need no escaping
  std::size_t i = 0;
  while (i < s.size()) {
#if defined(__SSE2__)
    // Sixteen bytes at a time while none of them needs escaping (most text).
    if (s.size() - i >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
      const __m128i special = _mm_or_si128(
          _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
          _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1F)), _mm_set1_epi8(0x1F)));  // v <= 0x1F
      if (_mm_movemask_epi8(special) == 0) {
        i += 16;
        continue;
      }
    }
#endif
    // Eight bytes at a time while none of them needs escaping (most text).
    if (s.size() - i >= 8) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (!needs_escape(w)) {
        i += 8;
        continue;
      }
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out.append(s.data() + run, i - run);
    run = ++i;
    if (c == '"' || c == '\\') {
      const char esc[2] = {'\\', static_cast<char>(c)};
      out.append(esc, sizeof esc);
    } else {
      const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
      out.append(esc, sizeof esc);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

json_writer& json_writer::open(char c) {
  separate();
  out_->push_back(c);
  need_comma_ = false;
  return *this;
}

json_writer& json_writer::close(char c) {
  out_->push_back(c);
  need_comma_ = true;
  return *this;
}

json_writer& json_writer::key(std::string_view k) {
  separate();
  escape_into(*out_, k);
  out_->push_back(':');
  need_comma_ = false;
  return *this;
}

json_writer& json_writer::string(std::string_view s) {
  separate();
  escape_into(*out_, s);
  need_comma_ = true;
  return *this;
}

json_writer& json_writer::number(std::int64_t n) {
  separate();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out_->append(buf, end);
  need_comma_ = true;
  return *this;
}

json_writer& json_writer::number(std::uint64_t n) {
  separate();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out_->append(buf, end);
  need_comma_ = true;
  return *this;
}

json_writer& json_writer::number(double d) {
  if (!std::isfinite(d)) return null();
  separate();
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  out_->append(buf, end);
  need_comma_ = true;
  return *this;
}

json_writer& json_writer::boolean(bool b) {
  separate();
  out_->append(b ? "true" : "false");
  need_comma_ = true;
  return *this;
}

json_writer& json_writer::null() {
  separate();
  out_->append("null");
  need_comma_ = true;
  return *this;
}

json_writer& json_writer::raw(std::string_view json) {
  separate();
  out_->append(json);
  need_comma_ = true;
  return *this;
}

rfc3339_text rfc3339(std::int64_t epoch_ms) {
  rfc3339_text t;
  // Seconds truncated toward zero (as gmtime_r was given them).
  const std::int64_t secs = epoch_ms / 1000;
  constexpr std::int64_t year_0 = -62167219200;      // 0000-01-01T00:00:00Z
  constexpr std::int64_t year_10000 = 253402300800;  // 10000-01-01T00:00:00Z
  if (secs < year_0 || secs >= year_10000) {         // not four digits: what strftime writes
    std::time_t raw = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&raw, &tm);
    t.size = std::strftime(t.text, sizeof t.text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return t;
  }
  const auto day_start = std::chrono::floor<std::chrono::days>(std::chrono::sys_seconds{std::chrono::seconds{secs}});
  const std::chrono::year_month_day date{day_start};
  const std::int64_t sod = secs - day_start.time_since_epoch().count() * 86400;
  const int year = static_cast<int>(date.year());
  const auto month = static_cast<unsigned>(date.month());
  const auto day = static_cast<unsigned>(date.day());
  auto two = [](char* at, auto v) {
    at[0] = static_cast<char>('0' + v / 10);
    at[1] = static_cast<char>('0' + v % 10);
  };
  two(t.text, year / 100);
  two(t.text + 2, year % 100);
  t.text[4] = '-';
  two(t.text + 5, month);
  t.text[7] = '-';
  two(t.text + 8, day);
  t.text[10] = 'T';
  two(t.text + 11, sod / 3600);
  t.text[13] = ':';
  two(t.text + 14, sod / 60 % 60);
  t.text[16] = ':';
  two(t.text + 17, sod % 60);
  t.text[19] = 'Z';
  t.size = 20;
  return t;
}

std::string format_rfc3339(std::int64_t epoch_ms) { return std::string(rfc3339(epoch_ms).view()); }

}  // namespace parley
