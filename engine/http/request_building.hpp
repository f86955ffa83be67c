#pragma once
// Private to engine/http: how a parsed Beast request becomes a `request`, shared by the
// server (server.cpp) and the standalone parser the fuzz target drives
// (request_parse.cpp) so the two cannot drift apart.
#include <boost/beast/http/verb.hpp>

#include <string>
#include <string_view>

#include "engine/http/server.hpp"

namespace parley::engine::http::detail {

/// Percent-decoded path (router.cpp).
std::string decode_path(std::string_view path);
/// The router's method for a Beast verb.
method to_method(boost::beast::http::verb v) noexcept;
/// A client X-Request-Id is echoed only if it cannot inject anything into logs or
/// headers: 1-128 characters of [A-Za-z0-9._:-].
bool sane_request_id(std::string_view id) noexcept;
/// Splits a target into the decoded path and the raw query; an absolute-form target
/// ("http://host/p?q") is reduced to its path.
void split_target(std::string_view target, request& req);
/// ASCII lowercase (header names).
std::string lowercase(std::string_view s);

}  // namespace parley::engine::http::detail
