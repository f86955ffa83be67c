#pragma once
// Private to engine/http: how a parsed Beast request becomes a `request`, shared by the
// server (server.cpp) and the standalone parser the fuzz target drives
// (request_parse.cpp) so the two cannot drift apart.
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

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

/// Beast's HTTP/1 parser writing straight into a `request`: the target, the lowercased
/// header fields (trailers of a chunked body included, as Beast's own message would hold
/// them) and the body. Beast's `request_parser` builds a message first, with a heap node
/// per field, that was then copied field by field; this does the copy once. Limits,
/// framing, keep-alive and errors are `basic_parser`'s own. One reader per request.
class request_reader final : public boost::beast::http::basic_parser<true> {
 public:
  [[nodiscard]] const request& get() const noexcept { return req_; }
  /// The request so far, moved out: call once, after `is_done()`.
  [[nodiscard]] request take() noexcept { return std::move(req_); }
  [[nodiscard]] boost::beast::http::verb method() const noexcept { return method_; }
  [[nodiscard]] int version() const noexcept { return version_; }
  /// "Expect: 100-continue" in the header (its first Expect field, case-insensitive).
  [[nodiscard]] bool expects_continue() const noexcept { return expect_continue_; }
  /// The header's first X-Request-Id as sent (not yet checked for sanity); "" when none.
  [[nodiscard]] std::string_view request_id() const noexcept { return request_id_; }

 private:
  using string_view = boost::beast::string_view;
  using error_code = boost::beast::error_code;

  void on_request_impl(boost::beast::http::verb method, string_view, string_view target, int version,
                       error_code&) override {
    method_ = method;
    version_ = version;
    req_.verb = to_method(method);
    req_.target.assign(target.data(), target.size());
  }
  void on_response_impl(int, string_view, int, error_code&) override {}
  void on_field_impl(boost::beast::http::field name, string_view name_string, string_view value,
                     error_code&) override {
    if (!header_done_) {
      if (name == boost::beast::http::field::expect && !seen_expect_) {
        seen_expect_ = true;
        expect_continue_ = boost::beast::iequals(value, "100-continue");
      } else if (!seen_request_id_ && boost::beast::iequals(name_string, "x-request-id")) {
        seen_request_id_ = true;
        request_id_.assign(value.data(), value.size());
      }
    }
    req_.headers.emplace_back(lowercase(std::string_view(name_string.data(), name_string.size())),
                              std::string(value.data(), value.size()));
  }
  void on_header_impl(error_code&) override { header_done_ = true; }
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
    // basic_parser has already refused a Content-Length above the body limit.
    if (length) req_.body.reserve(static_cast<std::size_t>(*length));
  }
  std::size_t on_body_impl(string_view body, error_code&) override {
    req_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
    req_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  request req_;
  boost::beast::http::verb method_ = boost::beast::http::verb::unknown;
  int version_ = 11;
  bool header_done_ = false, seen_expect_ = false, expect_continue_ = false, seen_request_id_ = false;
  std::string request_id_;
};

}  // namespace parley::engine::http::detail
