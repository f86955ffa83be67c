#pragma once
/// Turns raw request bytes into the `request` a handler sees, with the same Boost.Beast
/// parser, limits and post-processing as the server's sessions (server.cpp). Used by the
/// HTTP fuzz target (tests/fuzz/fuzz_http_request.cpp) so the server's request path can be
/// fuzzed without sockets; the server itself may share it later.
///
/// Light header on purpose (no Asio/Beast): the parser lives in request_parse.cpp.
#include <cstddef>
#include <string_view>

#include "engine/http/server.hpp"
#include "parley/result.hpp"

namespace parley::engine::http {

/// The stable `error::message` values of `parse_request_bytes`, each the error code the
/// server answers with (see `rejection_status`). `k_incomplete` gets no answer: the server
/// would wait for more bytes until `header_timeout`/`body_timeout`.
inline constexpr std::string_view k_bad_request = "bad_request";                ///< 400
inline constexpr std::string_view k_headers_too_large = "headers_too_large";    ///< 431
inline constexpr std::string_view k_payload_too_large = "payload_too_large";    ///< 413
inline constexpr std::string_view k_not_implemented = "not_implemented";        ///< 501
inline constexpr std::string_view k_incomplete = "incomplete";                  ///< no answer

/// Parses the first HTTP/1.x request in `raw`, as a server session with
/// `server_options{.max_body_bytes = max_body, .max_header_bytes = max_header}` would:
/// a Beast `request_parser<string_body>` with those header and body limits, eager body
/// parsing, then the method mapping, percent-decoded path, raw query, lowercased header
/// names and a client `X-Request-Id` kept only when it is 1–128 chars of
/// `[A-Za-z0-9._:-]`. Bytes after the first complete request (pipelining) are ignored.
///
/// Differences from a live session: `request_id` is left empty when the client sent no
/// sane id (the server generates a random one there), `remote_address` is empty and
/// `params` are not filled (routing is the caller's job).
///
/// Fails with `invalid_argument` and one of the `k_*` messages above; never throws (out
/// of memory aside). Pure CPU, thread-safe, no shared state.
[[nodiscard]] result<request> parse_request_bytes(std::string_view raw, std::size_t max_body,
                                                  std::size_t max_header);

/// The HTTP status the server answers a `parse_request_bytes` failure with (400, 413, 431,
/// 501), or 0 for `k_incomplete` and for errors that did not come from it.
[[nodiscard]] unsigned rejection_status(const error& e) noexcept;

}  // namespace parley::engine::http
