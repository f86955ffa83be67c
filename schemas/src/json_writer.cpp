#include "parley/json_writer.hpp"

#include <charconv>
#include <cmath>
#include <ctime>

namespace parley {

void json_writer::escape_into(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the current run of bytes that need no escaping
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
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

std::string format_rfc3339(std::int64_t epoch_ms) {
  std::time_t secs = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

}  // namespace parley
