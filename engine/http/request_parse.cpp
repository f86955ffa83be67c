// The server's request path without sockets: Beast parsing with the session's limits,
// then the same `request` construction as `session::dispatch` (server.cpp).
//
// The request-building helpers (request_building.hpp) are defined here and shared with
// server.cpp; the header-limit clamp and the error -> status mapping mirror
// `session::on_read_error` and must stay in step with it.
#include "engine/http/request_parse.hpp"
#include "engine/http/request_building.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

namespace parley::engine::http {

namespace detail {
method to_method(boost::beast::http::verb v) noexcept {
  namespace bhttp = boost::beast::http;
  switch (v) {
    case bhttp::verb::get: return method::get;
    case bhttp::verb::head: return method::head;
    case bhttp::verb::post: return method::post;
    case bhttp::verb::put: return method::put;
    case bhttp::verb::patch: return method::patch;
    case bhttp::verb::delete_: return method::del;
    default: return method::other;
  }
}

namespace {
bool is_request_id_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == ':' || c == '-';
}
}  // namespace

bool sane_request_id(std::string_view id) noexcept {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), is_request_id_char);
}

void split_target(std::string_view target, request& req) {
  if (!target.empty() && target.front() != '/') {
    const auto scheme = target.find("://");
    if (scheme != std::string_view::npos) {
      const auto slash = target.find('/', scheme + 3);
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
  }
  const auto q = target.find('?');
  req.path = decode_path(target.substr(0, q));
  if (q != std::string_view::npos) req.query.assign(target.substr(q + 1));
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}
}  // namespace detail

namespace {

using detail::sane_request_id;
using detail::split_target;
using detail::to_method;

namespace beast = boost::beast;
namespace bhttp = beast::http;
using error_code = beast::error_code;

/// Mirrors `session::on_read_error`: which answer a parser error gets.
error parse_error(const error_code& ec) {
  if (ec == bhttp::error::body_limit) return make_error(errc::invalid_argument, std::string(k_payload_too_large));
  if (ec == bhttp::error::header_limit) return make_error(errc::invalid_argument, std::string(k_headers_too_large));
  // The session closes without an answer on these: the client went away mid-request.
  if (ec == bhttp::error::need_more || ec == bhttp::error::partial_message ||
      ec == bhttp::error::end_of_stream) {
    return make_error(errc::invalid_argument, std::string(k_incomplete));
  }
  return make_error(errc::invalid_argument, std::string(k_bad_request));
}

}  // namespace

result<request> parse_request_bytes(std::string_view raw, std::size_t max_body, std::size_t max_header) {
  detail::request_reader parser;
  parser.header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(max_header, std::numeric_limits<std::uint32_t>::max())));
  parser.body_limit(max_body);
  // The session reads the header alone (taking X-Request-Id from it, before any chunked
  // trailer), then the body with `async_read`, which parses eagerly.
  std::string request_id;
  error_code ec;
  while (!parser.is_done()) {
    const auto used = parser.put(boost::asio::const_buffer(raw.data(), raw.size()), ec);
    raw.remove_prefix(used);
    if (ec == bhttp::error::need_more) ec = {};  // judged by progress below
    if (ec) return parse_error(ec);
    if (parser.is_header_done() && !parser.eager()) {
      if (const auto id = parser.request_id(); sane_request_id(id)) request_id.assign(id);
      parser.eager(true);
    }
    if (parser.is_done()) break;
    if (used == 0) {
      // No progress with every byte we have: a socket would now wait for more, or see EOF.
      if (!parser.got_some()) return parse_error(bhttp::error::end_of_stream);
      parser.put_eof(ec);
      if (!ec && parser.is_done()) break;
      return parse_error(ec ? ec : error_code(bhttp::error::partial_message));
    }
  }

  if (parser.method() == bhttp::verb::unknown) {
    return make_error(errc::invalid_argument, std::string(k_not_implemented));
  }
  request req = parser.take();
  req.request_id = std::move(request_id);
  split_target(req.target, req);
  return req;
}

unsigned rejection_status(const error& e) noexcept {
  if (e.message == k_bad_request) return 400;
  if (e.message == k_headers_too_large) return 431;
  if (e.message == k_payload_too_large) return 413;
  if (e.message == k_not_implemented) return 501;
  return 0;
}

}  // namespace parley::engine::http
