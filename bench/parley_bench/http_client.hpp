#pragma once
/// Blocking HTTP/1.1 requests for set-up and verification (not the load path).
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace parley::bench {

struct url {
  std::string host, port, path;
};

/// "http://HOST:PORT[/path]"; nullopt for anything else.
[[nodiscard]] std::optional<url> parse_url(const std::string& text);

/// One request with `Authorization: Bearer token` and a JSON body; status and body, or
/// nullopt when the connection failed.
[[nodiscard]] std::optional<std::pair<int, std::string>> sync_request(const url& base, const std::string& method,
                                                                      const std::string& path, const std::string& token,
                                                                      const std::string& body = {});

/// The string member `key` of a JSON object body; "" when absent or not a string.
[[nodiscard]] std::string json_string_field(const std::string& body, std::string_view key);

}  // namespace parley::bench
