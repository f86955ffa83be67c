#include "providers/common/time_parse.hpp"

#include <array>
#include <chrono>

namespace parley::engine::providers::detail {
namespace {

/// A cursor over the text with small parsing steps; every step fails softly.
struct cursor {
  std::string_view s;
  std::size_t i = 0;

  [[nodiscard]] bool done() const noexcept { return i >= s.size(); }
  [[nodiscard]] char peek() const noexcept { return done() ? '\0' : s[i]; }
  bool eat(char c) noexcept {
    if (peek() != c) return false;
    ++i;
    return true;
  }
  void skip_spaces() noexcept {
    while (!done() && (s[i] == ' ' || s[i] == '\t')) ++i;
  }
  /// Exactly `n` digits.
  bool digits(int n, int& out) noexcept {
    int v = 0;
    for (int k = 0; k < n; ++k) {
      const char c = peek();
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
      ++i;
    }
    out = v;
    return true;
  }
  /// Between `min` and `max` digits; returns how many were read (0 on failure).
  int some_digits(int min, int max, int& out) noexcept {
    int v = 0;
    int n = 0;
    while (n < max && peek() >= '0' && peek() <= '9') {
      v = v * 10 + (s[i] - '0');
      ++i;
      ++n;
    }
    if (n < min) return 0;
    out = v;
    return n;
  }
};

std::optional<std::int64_t> to_ms(int y, int mo, int d, int h, int mi, int sec, int ms, int offset_min) noexcept {
  const auto days = days_since_epoch(y, mo, d);
  if (!days || h > 23 || mi > 59 || sec > 60) return std::nullopt;  // 60: leap second
  const std::int64_t secs = *days * 86400 + h * 3600 + mi * 60 + sec - static_cast<std::int64_t>(offset_min) * 60;
  return secs * 1000 + ms;
}

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

/// `±hh:mm` or `±hhmm` (ISO) into minutes east of UTC.
bool numeric_offset(cursor& c, bool colon_optional, int& minutes) noexcept {
  const char sign = c.peek();
  if (sign != '+' && sign != '-') return false;
  ++c.i;
  int hh = 0;
  int mm = 0;
  if (!c.digits(2, hh)) return false;
  if (colon_optional) c.eat(':');
  if (!c.digits(2, mm) || hh > 23 || mm > 59) return false;
  minutes = (sign == '-' ? -1 : 1) * (hh * 60 + mm);
  return true;
}

std::optional<int> month_from_name(std::string_view name) noexcept {
  static constexpr std::array<std::string_view, 12> months = {"jan", "feb", "mar", "apr", "may", "jun",
                                                              "jul", "aug", "sep", "oct", "nov", "dec"};
  for (std::size_t k = 0; k < months.size(); ++k) {
    if (iequals(name, months[k])) return static_cast<int>(k) + 1;
  }
  return std::nullopt;
}

std::optional<int> obsolete_zone_minutes(std::string_view name) noexcept {
  struct zone { std::string_view name; int hours; };
  static constexpr std::array<zone, 12> zones = {{{"UT", 0}, {"UTC", 0}, {"GMT", 0}, {"Z", 0},
                                                  {"EST", -5}, {"EDT", -4}, {"CST", -6}, {"CDT", -5},
                                                  {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}}};
  for (const auto& z : zones) {
    if (iequals(name, z.name)) return z.hours * 60;
  }
  return std::nullopt;
}

std::string_view word(cursor& c) noexcept {
  const std::size_t start = c.i;
  while (!c.done() && ((c.s[c.i] >= 'A' && c.s[c.i] <= 'Z') || (c.s[c.i] >= 'a' && c.s[c.i] <= 'z'))) ++c.i;
  return c.s.substr(start, c.i - start);
}

}  // namespace

std::optional<std::int64_t> days_since_epoch(int y, int m, int d) noexcept {
  // <chrono>'s calendar; month and day are checked as ints first, since
  // std::chrono::month and day keep only a byte of what they are given.
  if (m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                                         std::chrono::day{static_cast<unsigned>(d)}};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days{date}.time_since_epoch().count();
}

std::optional<std::int64_t> parse_iso8601_ms(std::string_view s) noexcept {
  cursor c{s};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!c.digits(4, y) || !c.eat('-') || !c.digits(2, mo) || !c.eat('-') || !c.digits(2, d)) return std::nullopt;
  if (!(c.eat('T') || c.eat('t') || c.eat(' '))) return std::nullopt;
  if (!c.digits(2, h) || !c.eat(':') || !c.digits(2, mi) || !c.eat(':') || !c.digits(2, sec)) return std::nullopt;
  int ms = 0;
  if (c.eat('.') || c.eat(',')) {
    int frac = 0;
    const int n = c.some_digits(1, 3, frac);
    if (n == 0) return std::nullopt;
    ms = n == 1 ? frac * 100 : n == 2 ? frac * 10 : frac;
    while (c.peek() >= '0' && c.peek() <= '9') ++c.i;  // truncate beyond milliseconds
  }
  int offset = 0;
  if (!c.done() && !(c.eat('Z') || c.eat('z')) && !numeric_offset(c, true, offset)) return std::nullopt;
  if (!c.done()) return std::nullopt;
  return to_ms(y, mo, d, h, mi, sec, ms, offset);
}

std::optional<std::int64_t> parse_rfc2822_ms(std::string_view s) noexcept {
  cursor c{s};
  c.skip_spaces();
  // Optional day name ("Fri,"), not checked against the date.
  const std::size_t start = c.i;
  if (!word(c).empty()) {
    c.skip_spaces();
    if (!c.eat(',')) return std::nullopt;
  } else {
    c.i = start;
  }
  c.skip_spaces();
  int d = 0, y = 0, h = 0, mi = 0, sec = 0;
  if (c.some_digits(1, 2, d) == 0) return std::nullopt;
  c.skip_spaces();
  const auto mo = month_from_name(word(c));
  if (!mo) return std::nullopt;
  c.skip_spaces();
  const int year_digits = c.some_digits(2, 4, y);
  if (year_digits == 0 || year_digits == 3) return std::nullopt;
  if (year_digits == 2) y += y < 50 ? 2000 : 1900;
  c.skip_spaces();
  if (!c.digits(2, h) || !c.eat(':') || !c.digits(2, mi)) return std::nullopt;
  if (c.eat(':') && !c.digits(2, sec)) return std::nullopt;
  c.skip_spaces();
  int offset = 0;
  if (c.peek() == '+' || c.peek() == '-') {
    if (!numeric_offset(c, false, offset)) return std::nullopt;
  } else {
    const auto zone = obsolete_zone_minutes(word(c));
    if (!zone) return std::nullopt;
    offset = *zone;
  }
  c.skip_spaces();
  if (!c.done() && c.peek() != '(') return std::nullopt;  // only a trailing comment may follow
  return to_ms(y, *mo, d, h, mi, sec, 0, offset);
}

}  // namespace parley::engine::providers::detail
