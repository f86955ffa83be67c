#pragma once
// TLS test material: a throwaway self-signed certificate, and a tiny verifying HTTPS
// client (OpenSSL, blocking, "Connection: close") for end-to-end tests.
#include <optional>
#include <string>

namespace parley::testing {

struct tls_material {
  std::string cert_pem;
  std::string key_pem;
};

/// A self-signed P-256 certificate for "localhost" / 127.0.0.1 (also its own CA).
tls_material make_self_signed();

/// GET `target` over HTTPS, trusting only `ca_pem`. The status code and body, or
/// nullopt when the connection or the TLS handshake (verification) fails.
std::optional<std::pair<int, std::string>> https_get(const std::string& host_port, const std::string& target,
                                                     const std::string& ca_pem);

}  // namespace parley::testing
