#pragma once
/// What the registry knows about tenants, channels and API keys. Immutable once
/// published: updates replace the shared_ptr, so readers on any thread hold a consistent
/// snapshot without locks of their own.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parley/inbound.hpp"
#include "parley/storage/retention.hpp"

namespace parley::actors {

struct tenant_limits {
  std::uint32_t send_requests_per_second = 0;  ///< 0: unlimited
  std::uint64_t monthly_outbound_quota = 0;    ///< 0: unlimited
};

struct events_webhook {
  std::string url;
  std::string secret;  ///< HMAC key for pushes; never returned by the API
};

enum class tenant_status : std::uint8_t { active, purging };

struct tenant_info {
  std::string id;
  std::string name;
  tenant_limits limits;
  storage::tenant_retention retention;
  std::optional<events_webhook> webhook;
  tenant_status status = tenant_status::active;
  std::int64_t created_at_ms = 0;
};

/// A channel with its credentials (decrypted, in memory only).
struct channel_info {
  std::string id;      ///< ch_…
  std::string tenant;
  channel_type type = channel_type::whatsapp;
  std::string name;
  std::vector<std::string> account_ids;  ///< phone_number_ids / page_ids
  // Secrets: never logged, never returned ("set").
  std::string app_secret, access_token, verify_token;  ///< Meta
  std::string bot_token, secret_token;                 ///< Telegram
  std::string from_address, server_token, inbound_username, inbound_password;  ///< Postmark
  std::string api_base;
  std::uint32_t outbound_per_second = 0;  ///< 0: the channel type's default
  std::int64_t created_at_ms = 0;
};

/// Scopes of a tenant API key.
enum scope : std::uint8_t { scope_send = 1, scope_read = 2 };

struct api_key_info {
  std::string id;      ///< key_…
  std::string tenant;
  std::string hash;    ///< hex SHA-256 of the key; the key itself is never stored
  std::uint8_t scopes = 0;
  std::int64_t created_at_ms = 0;
};

}  // namespace parley::actors
