// Fuzzes the webhook verifiers in engine/providers/provider.hpp: verify_meta_signature,
// meta_challenge, verify_telegram_token and verify_basic_auth, with the input split into
// secrets, bodies and headers by FuzzedDataProvider. Besides crashes, leaks and UB it
// checks each function against a plain reimplementation of its documented rule
// (engine/providers/README.md, "Verification"), and that correctly built credentials
// are always accepted.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "engine/providers/provider.hpp"
#include "fuzz_check.hpp"

namespace {

using parley::fuzz::require;
namespace providers = parley::engine::providers;

constexpr std::size_t k_max_field = 256;

std::string lower_ascii(std::string s) {
  for (auto& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string base64(std::string_view in) {
  static constexpr char k_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += {k_alphabet[v >> 18], k_alphabet[(v >> 12) & 63], k_alphabet[(v >> 6) & 63], k_alphabet[v & 63]};
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += {k_alphabet[v >> 18], k_alphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {k_alphabet[v >> 18], k_alphabet[(v >> 12) & 63], k_alphabet[(v >> 6) & 63], '='};
  }
  return out;
}

std::optional<std::string> maybe_string(FuzzedDataProvider& in) {
  if (!in.ConsumeBool()) return std::nullopt;
  return in.ConsumeRandomLengthString(k_max_field);
}

std::optional<std::string_view> view(const std::optional<std::string>& s) {
  return s ? std::optional<std::string_view>(*s) : std::nullopt;
}

void fuzz_meta_signature(FuzzedDataProvider& in) {
  const std::string secret = in.ConsumeRandomLengthString(k_max_field);
  const std::string header = in.ConsumeRandomLengthString(k_max_field);
  const std::string body = in.ConsumeRemainingBytesAsString();
  const std::string hex = providers::hmac_sha256_hex(secret, body);
  require(hex.size() == 64 || (hex.empty() && secret.empty()));
  // The rule: "sha256=" + 64 hex chars (any case) equal to the HMAC; never with no secret.
  const bool expected = !secret.empty() && header.size() == 71 && header.compare(0, 7, "sha256=") == 0 &&
                        lower_ascii(header.substr(7)) == hex;
  require(providers::verify_meta_signature(secret, body, header) == expected);
  require(!providers::verify_meta_signature(secret, body, std::nullopt));
  if (!secret.empty()) {
    require(providers::verify_meta_signature(secret, body, "sha256=" + hex));
    std::string upper = hex;
    for (auto& c : upper) {
      if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    }
    require(providers::verify_meta_signature(secret, body, "sha256=" + upper));
  }
}

void fuzz_meta_challenge(FuzzedDataProvider& in) {
  const auto mode = maybe_string(in);
  const auto token = maybe_string(in);
  const auto challenge = maybe_string(in);
  const std::string verify_token = in.ConsumeRemainingBytesAsString();
  const auto got = providers::meta_challenge(view(mode), view(token), view(challenge), verify_token);
  const bool accept = mode == "subscribe" && token && !verify_token.empty() && *token == verify_token &&
                      challenge && !challenge->empty();
  require(got.has_value() == accept);
  if (got) require(*got == *challenge);
}

void fuzz_telegram_token(FuzzedDataProvider& in) {
  const auto header = maybe_string(in);
  const std::string secret = in.ConsumeRemainingBytesAsString();
  const bool expected = !secret.empty() && header && *header == secret;
  require(providers::verify_telegram_token(secret, view(header)) == expected);
}

void fuzz_basic_auth(FuzzedDataProvider& in) {
  const std::string user = in.ConsumeRandomLengthString(k_max_field);
  const std::string password = in.ConsumeRandomLengthString(k_max_field);
  const auto header = maybe_string(in);
  const bool accepted = providers::verify_basic_auth(user, password, view(header));
  if (user.empty() && password.empty()) require(!accepted);
  if (!header) require(!accepted);
  // Well-formed credentials for this user are accepted (the user cannot hold ':').
  if ((!user.empty() || !password.empty()) && user.find(':') == std::string::npos) {
    const std::string good = base64(user + ":" + password);
    require(providers::verify_basic_auth(user, password, "Basic " + good));
    require(providers::verify_basic_auth(user, password, "bAsIc   " + good));
    require(!providers::verify_basic_auth(user, password + "x", "Basic " + good));
    require(!providers::verify_basic_auth(user, password, "Bearer " + good));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: fuzz_meta_signature(in); break;
    case 1: fuzz_meta_challenge(in); break;
    case 2: fuzz_telegram_token(in); break;
    default: fuzz_basic_auth(in); break;
  }
  return 0;
}
