// The Asio-free half of the HTTP component: request accessors, response builders and
// the router. Kept apart from server.cpp so it compiles fast and is testable alone.
#include <algorithm>
#include <array>
#include <cstdio>
#include <stdexcept>

#include "engine/http/server.hpp"

namespace parley::engine::http {
namespace {

char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(),
                    [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Decodes `%xx` (and `+` as space for query strings). Malformed escapes stay literal
/// rather than failing: a lookup then simply does not match.
std::string percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

/// Calls `f(segment)` for each '/'-separated segment of `path` after the leading '/'.
/// Returns false as soon as `f` does.
template <class F>
bool for_each_segment(std::string_view path, F&& f) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    const auto slash = path.find('/');
    if (!f(path.substr(0, slash))) return false;
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

bool is_param(std::string_view segment) noexcept {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

std::string_view method_name(method verb) noexcept {
  switch (verb) {
    case method::get: return "GET";
    case method::head: return "HEAD";
    case method::post: return "POST";
    case method::put: return "PUT";
    case method::patch: return "PATCH";
    case method::del: return "DELETE";
    case method::other: break;
  }
  return {};
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(c));
          out += esc;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

}  // namespace

namespace detail {
/// Percent-decodes a request path ('+' stays literal). Used by server.cpp.
std::string decode_path(std::string_view path) { return percent_decode(path, false); }
}  // namespace detail

// ---- request --------------------------------------------------------------------------

std::optional<std::string_view> request::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

std::string_view request::param(std::string_view name) const {
  for (const auto& [key, value] : params) {
    if (key == name) return value;
  }
  return {};
}

std::optional<std::string> request::query_param(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    const std::string_view raw_key = pair.substr(0, eq);
    // Compare decoded keys only when the raw key needs it: the common case is plain.
    const bool key_matches = raw_key.find_first_of("%+") == std::string_view::npos
                                 ? raw_key == name
                                 : percent_decode(raw_key, true) == name;
    if (!key_matches) continue;
    if (eq == std::string_view::npos) return std::string{};
    return percent_decode(pair.substr(eq + 1), true);
  }
  return std::nullopt;
}

// ---- response -------------------------------------------------------------------------

response response::error(unsigned status, std::string_view code, std::string_view message) {
  response r;
  r.status = status;
  r.body.reserve(32 + code.size() + message.size());
  r.body += "{\"error\":{\"code\":";
  append_json_string(r.body, code);
  r.body += ",\"message\":";
  append_json_string(r.body, message);
  r.body += "}}";
  return r;
}

response response::json(unsigned status, std::string body) {
  response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// ---- router ---------------------------------------------------------------------------

void router::add(method verb, std::string pattern, handler h) {
  route r{verb, {}, std::move(h)};
  std::size_t params = 0;
  for_each_segment(pattern, [&](std::string_view segment) {
    r.segments.emplace_back(segment);
    if (is_param(segment)) ++params;
    return true;
  });
  if (params > max_route_params) throw std::invalid_argument("route pattern has too many parameters: " + pattern);
  routes_.push_back(std::move(r));
}

router::match_result router::match(method verb, std::string_view path) const {
  match_result result;
  const route* head_fallback = nullptr;  // HEAD is served by GET when no HEAD route
  std::vector<method> allowed;
  // Parameters are views into the path and the pattern while routes are tried; only the
  // route that answers copies them into the request.
  using view_param = std::pair<std::string_view, std::string_view>;
  std::array<view_param, max_route_params> params{};
  std::array<view_param, max_route_params> fallback_params{};
  std::size_t param_count = 0;
  std::size_t fallback_count = 0;
  auto take = [&result](const std::array<view_param, max_route_params>& from, std::size_t n) {
    result.params.reserve(n);
    for (std::size_t k = 0; k < n; ++k) result.params.emplace_back(from[k].first, from[k].second);
  };

  for (const auto& r : routes_) {
    param_count = 0;
    std::size_t i = 0;
    const bool matched = for_each_segment(path, [&](std::string_view segment) {
      if (i >= r.segments.size()) return false;
      const std::string& expected = r.segments[i++];
      if (is_param(expected)) {
        if (segment.empty()) return false;
        params[param_count++] = {std::string_view(expected).substr(1, expected.size() - 2), segment};
        return true;
      }
      return segment == expected;
    });
    if (!matched || i != r.segments.size()) continue;

    if (r.verb == verb && verb != method::other) {
      result.target = &r.h;
      result.status = 200;
      take(params, param_count);
      return result;
    }
    if (verb == method::head && r.verb == method::get && head_fallback == nullptr) {
      head_fallback = &r;
      fallback_params = params;
      fallback_count = param_count;
    }
    if (std::find(allowed.begin(), allowed.end(), r.verb) == allowed.end()) {
      allowed.push_back(r.verb);
    }
  }

  if (head_fallback != nullptr) {
    result.target = &head_fallback->h;
    result.status = 200;
    take(fallback_params, fallback_count);
    return result;
  }
  if (allowed.empty()) return result;  // 404

  // GET routes also answer HEAD, so advertise it.
  const bool has_get = std::find(allowed.begin(), allowed.end(), method::get) != allowed.end();
  const bool has_head = std::find(allowed.begin(), allowed.end(), method::head) != allowed.end();
  if (has_get && !has_head) allowed.push_back(method::head);
  result.status = 405;
  for (const method m : allowed) {
    const auto name = method_name(m);
    if (name.empty()) continue;
    if (!result.allow.empty()) result.allow += ", ";
    result.allow += name;
  }
  return result;
}

}  // namespace parley::engine::http
