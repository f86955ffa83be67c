#include "api/http_util.hpp"

#include <charconv>

namespace parley::engine {

std::optional<std::string_view> bearer_token(const http::request& req) {
  auto h = req.header("authorization");
  if (!h) return std::nullopt;
  std::string_view v = *h;
  if (v.size() < 7) return std::nullopt;
  std::string scheme(v.substr(0, 7));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ") return std::nullopt;
  v.remove_prefix(7);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  return v;
}

std::optional<std::size_t> list_limit(const http::request& req) {
  auto text = req.query_param("limit");
  if (!text) return 50;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size()) return std::nullopt;
  if (v < 1) v = 1;
  if (v > 500) v = 500;
  return static_cast<std::size_t>(v);
}

http::response unavailable(std::string_view code, std::string_view message, int retry_after_s) {
  auto r = http::response::error(503, code, message);
  r.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
  return r;
}

http::response error_response(const error& e) {
  switch (e.code) {
    case errc::not_found: return http::response::error(404, "not_found", e.message);
    case errc::already_exists: return http::response::error(409, "conflict", e.message);
    case errc::invalid_argument: return http::response::error(400, "invalid_request", e.message);
    case errc::unauthorized: return http::response::error(401, "unauthorized", e.message);
    case errc::key_destroyed: return http::response::error(404, "not_found", "no such resource");
    case errc::overloaded: return unavailable("overloaded", "the server is busy; retry later", 1);
    case errc::shutting_down: return unavailable("shutting_down", "the server is shutting down", 5);
    case errc::io_error: return unavailable("storage_unavailable", "storage failed; retry later", 5);
    default: return http::response::error(500, "internal", "internal error");
  }
}

http::response invalid_field(std::string_view field, std::string_view why) {
  return http::response::error(400, "invalid_request", std::string(field) + ": " + std::string(why));
}

}  // namespace parley::engine
