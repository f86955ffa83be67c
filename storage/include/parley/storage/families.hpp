#pragma once
/// The column families of Parley's one RocksDB instance (DESIGN.md, "Storage") and the
/// rule for finding the owning tenant in a key.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::storage {

enum class family : std::uint8_t {
  messages = 0,   ///< tenant, contact, seq -> message record (sealed body)
  conversations,  ///< tenant, contact -> conversation state
  identities,     ///< tenant, channel type, external id -> contact id
  dedup,          ///< channel, provider message id -> message ref (global dedup window)
  raw_webhooks,   ///< tenant, time, id -> raw body (sealed)
  outbox,         ///< tenant, message id -> delivery job
  events,         ///< tenant, event seq -> event
  meta,           ///< kind byte, then kind-specific components (see meta_kind)
};
inline constexpr std::size_t family_count = 8;
inline constexpr std::array<family, family_count> all_families = {
    family::messages, family::conversations, family::identities, family::dedup,
    family::raw_webhooks, family::outbox, family::events, family::meta};

/// Kinds of records in the meta family; the kind byte leads the key. Kinds that belong
/// to a tenant put the tenant id right after the kind byte.
enum class meta_kind : std::uint8_t {
  tenant_key = 1,  ///< tenant -> WrappedKey (under the master key)
  tenant = 2,      ///< tenant -> tenant config
  channel = 3,     ///< tenant, channel id -> channel config (credentials sealed)
  api_key = 4,     ///< key hash -> key record
  audit = 5,       ///< time, seq -> audit entry
  master_check = 6,///< a value sealed under the master key: proves the key matches
  sequence_hwm = 7,///< family byte, sequence prefix -> highest number handed out
  usage = 8,       ///< tenant, period ("2026-11" or "2026-11-23"), counter -> decimal count
  push_cursor = 9, ///< tenant -> decimal cursor of the last event its webhook acknowledged
  erasure = 10,    ///< tenant, contact -> what an unfinished contact erasure still has to remove
  purge = 11,      ///< tenant -> what a deleted tenant's purge has to remove beyond its prefix
};

/// RocksDB column family name ("messages", ...).
[[nodiscard]] std::string_view family_name(family f) noexcept;

/// The tenant that owns a key of family `f`, when the family is tenant-scoped. Dedup
/// keys have no tenant; meta keys have one for tenant-owned kinds.
[[nodiscard]] std::optional<std::string> tenant_of(family f, std::string_view key);

}  // namespace parley::storage
