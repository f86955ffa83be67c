#pragma once
/// Server TLS context from PEM files (both listeners share it).
#include <memory>
#include <string>

#include "parley/result.hpp"

namespace boost::asio::ssl {
class context;
}

namespace parley::engine {

/// TLS 1.2+ server context with the certificate chain and private key loaded and
/// checked against each other. invalid_argument naming the file that failed.
[[nodiscard]] result<std::shared_ptr<boost::asio::ssl::context>> make_server_tls(const std::string& cert_file,
                                                                                const std::string& key_file);

}  // namespace parley::engine
