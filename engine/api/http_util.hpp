#pragma once
/// Small helpers shared by the route handlers: error answers with API.md's codes,
/// bearer tokens, list limits, and mapping error values to HTTP statuses.
#include <boost/json/fwd.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "engine/http/server.hpp"
#include "parley/result.hpp"

namespace parley::engine {

/// The token of "Authorization: Bearer <token>", or nullopt.
[[nodiscard]] std::optional<std::string_view> bearer_token(const http::request& req);

/// `limit` query parameter: default 50, clamped to [1, 500]; nullopt when malformed.
[[nodiscard]] std::optional<std::size_t> list_limit(const http::request& req);

/// The HTTP answer for an error value from below (not_found 404, already_exists 409,
/// invalid_argument 400, overloaded 503 + Retry-After, others 500/503).
[[nodiscard]] http::response error_response(const error& e);

/// 400 invalid_request naming `field`.
[[nodiscard]] http::response invalid_field(std::string_view field, std::string_view why);

/// 503 with Retry-After.
[[nodiscard]] http::response unavailable(std::string_view code, std::string_view message, int retry_after_s);

}  // namespace parley::engine
