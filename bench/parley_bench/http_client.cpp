#include "http_client.hpp"

#include <boost/json.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace parley::bench {

std::optional<url> parse_url(const std::string& text) {
  const std::string scheme = "http://";
  if (text.rfind(scheme, 0) != 0) return std::nullopt;
  auto rest = text.substr(scheme.size());
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  auto colon = hostport.rfind(':');
  if (colon == std::string::npos) return url{hostport, "80", path};
  return url{hostport.substr(0, colon), hostport.substr(colon + 1), path};
}

std::optional<std::pair<int, std::string>> sync_request(const url& base, const std::string& method, const std::string& path,
                                                        const std::string& token, const std::string& body) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.connect(resolver.resolve(base.host, base.port));
    http::request<http::string_body> req{http::string_to_verb(method), path, 11};
    req.set(http::field::host, base.host);
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    res.body().reserve(1 << 16);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    http::read(stream, buffer, parser);
    res = parser.release();
    return std::pair{static_cast<int>(res.result_int()), res.body()};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string json_string_field(const std::string& body, std::string_view key) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  const auto* o = ec ? nullptr : v.if_object();
  const auto* x = o != nullptr ? o->if_contains(key) : nullptr;
  return x != nullptr && x->is_string() ? std::string(x->as_string()) : std::string();
}

}  // namespace parley::bench
