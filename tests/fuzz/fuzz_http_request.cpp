// Fuzzes the HTTP request path without sockets: raw bytes → parse_request_bytes
// (engine/http/request_parse.hpp: the server's Beast parser, limits and request
// construction) → router::match on the decoded path → request accessors. Each input runs
// with tight limits (to reach 413/431) and with the server's defaults; the raw bytes are
// also matched as a path directly. Checks, besides crashes, leaks and UB: the `request`
// promises of server.hpp and the router's match_result contract.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/http/request_parse.hpp"
#include "engine/http/server.hpp"
#include "fuzz_check.hpp"

namespace {

using parley::fuzz::require;
namespace http = parley::engine::http;

const http::router& routes() {
  static const http::router r = [] {
    http::router t;
    const http::handler h = [](std::shared_ptr<const http::request>, http::responder) {};
    t.add(http::method::post, "/webhooks/whatsapp/{channel_id}", h);
    t.add(http::method::get, "/webhooks/whatsapp/{channel_id}", h);
    t.add(http::method::post, "/webhooks/{provider}/{channel_id}", h);
    t.add(http::method::get, "/v1/conversations/{conversation_id}/messages", h);
    t.add(http::method::put, "/v1/conversations/{conversation_id}", h);
    t.add(http::method::del, "/v1/conversations/{conversation_id}", h);
    t.add(http::method::get, "/health", h);
    t.add(http::method::head, "/ready", h);
    t.add(http::method::get, "/", h);
    return t;
  }();
  return r;
}

bool sane_request_id(std::string_view id) {
  if (id.size() > 128) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void check_match(http::method verb, std::string_view path) {
  const auto m = routes().match(verb, path);
  if (m.target != nullptr) {
    require(m.status == 200);
    // Parameters are whole, non-empty path segments.
    for (const auto& [name, value] : m.params) {
      require(!name.empty() && !value.empty() && value.find('/') == std::string::npos);
    }
  } else {
    require(m.status == 404 || m.status == 405);
    require((m.status == 405) == !m.allow.empty());
  }
}

void check_request(const http::request& req, std::size_t max_body) {
  require(req.body.size() <= max_body);
  require(sane_request_id(req.request_id));
  require(req.remote_address.empty() && req.params.empty());
  for (const auto& [name, value] : req.headers) {
    require(!name.empty() && !parley::fuzz::has_upper_ascii(name));
    // Lookups are case-insensitive and find the first field of that name.
    const auto found = req.header(name);
    require(found.has_value());
  }
  // The query is the raw text after the first '?' of the target, never part of the path.
  if (!req.query.empty()) require(req.target.find('?') != std::string::npos);
  for (const std::string_view name : {"after", "hub.mode", "hub.challenge", "limit", "", "a b"}) {
    (void)req.query_param(name);
  }
  (void)req.header("x-request-id");
  (void)req.header("Content-Length");
  check_match(req.verb, req.path);
}

void run(std::string_view raw, std::size_t max_body, std::size_t max_header) {
  auto parsed = http::parse_request_bytes(raw, max_body, max_header);
  if (!parsed.ok()) {
    require(parsed.code() == parley::errc::invalid_argument);
    const auto status = http::rejection_status(parsed.err());
    require(status != 0 || parsed.err().message == http::k_incomplete);
    return;
  }
  check_request(parsed.value(), max_body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  run(raw, 64, 256);
  run(raw, http::server_options{}.max_body_bytes, http::server_options{}.max_header_bytes);
  check_match(http::method::get, raw);
  check_match(http::method::head, raw);
  check_match(http::method::post, raw);
  return 0;
}
