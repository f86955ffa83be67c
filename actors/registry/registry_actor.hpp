#pragma once
/// The registry actor: owns tenants, channels and API keys. It loads them at start into
/// the directory (which the HTTP edge reads), spawns one tenant actor per tenant, and
/// performs every admin mutation one at a time: durable write first (sync), then the
/// directory update, then the answer. Detached: its writes block on fsync.
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <functional>
#include <optional>
#include <memory>
#include <string>

#include "parley/actors/atoms.hpp"
#include "parley/actors/directory.hpp"
#include "parley/actors/model.hpp"
#include "parley/result.hpp"
#include "retention/retention_actor.hpp"
#include "tenant/tenant_actor.hpp"

namespace parley::actors {

/// What the registry and the tenant actors it spawns need. Owned by the engine.
struct registry_context {
  std::shared_ptr<storage::store> db;
  std::shared_ptr<storage::retention_policy> retention;
  storage_writer writer;
  directory* dir = nullptr;
  const clock* time = nullptr;
  tenant_context tenant_defaults;  ///< keywords, idle time, cache sizes (tenant id unset)
  retention_actor purger;          ///< purges deleted tenants; unset: purged at the next start
};

struct created_tenant {
  tenant_info tenant;
  std::string api_key;  ///< shown once
  std::string api_key_id;
};
struct created_key {
  api_key_info key;
  std::string api_key;  ///< shown once
};

struct create_tenant_cmd {
  tenant_info info;
  std::function<void(result<created_tenant>)> done;
  std::string request_id = {};  ///< for the audit log
};
struct delete_tenant_cmd {
  std::string id;
  std::function<void(status)> done;
  std::string request_id = {};  ///< for the audit log
};
/// PATCH of a tenant: only the fields that are set change. `webhook` set to an empty
/// optional removes the events webhook.
struct tenant_patch {
  std::optional<std::string> name;
  std::optional<std::uint32_t> send_requests_per_second;
  std::optional<std::uint64_t> monthly_outbound_quota;
  std::optional<std::uint32_t> messages_days, raw_webhooks_days, events_days;
  std::optional<std::optional<events_webhook>> webhook;
};
struct update_tenant_cmd {
  std::string id;
  tenant_patch patch;
  std::function<void(result<tenant_info>)> done;
  std::string request_id = {};  ///< for the audit log
};
struct create_channel_cmd {
  channel_info info;  ///< id and created_at are assigned
  std::function<void(result<channel_info>)> done;
  std::string request_id = {};  ///< for the audit log
};
struct delete_channel_cmd {
  std::string tenant;
  std::string id;
  std::function<void(status)> done;
  std::string request_id = {};  ///< for the audit log
};
struct create_key_cmd {
  std::string tenant;
  std::uint8_t scopes = 0;
  std::function<void(result<created_key>)> done;
  std::string request_id = {};  ///< for the audit log
};
struct delete_key_cmd {
  std::string tenant;
  std::string id;
  std::function<void(status)> done;
  std::string request_id = {};  ///< for the audit log
};

/// Every command answers through its `done`, on the registry's thread: not_found for an
/// unknown tenant/channel/key, already_exists for a taken tenant id, io errors as such.
using registry_actor = caf::typed_actor<caf::reacts_to<command_atom, create_tenant_cmd>,
                                        caf::reacts_to<command_atom, delete_tenant_cmd>,
                                        caf::reacts_to<command_atom, update_tenant_cmd>,
                                        caf::reacts_to<command_atom, create_channel_cmd>,
                                        caf::reacts_to<command_atom, delete_channel_cmd>,
                                        caf::reacts_to<command_atom, create_key_cmd>,
                                        caf::reacts_to<command_atom, delete_key_cmd>>;

/// One entry of the audit log: every admin mutation, never a secret.
struct audit_entry {
  std::int64_t at_ms = 0;
  std::string action;  ///< tenant.create, tenant.update, tenant.delete, channel.create, ...
  std::string tenant;
  std::string target;  ///< the channel / key id, or the tenant id
  std::string request_id;
};
/// The write that records `e` (meta family, keyed by time and a process-wide sequence).
[[nodiscard]] storage::write_op audit_op(const audit_entry& e);
/// The newest `limit` entries (of `tenant` only, when not empty), newest first.
[[nodiscard]] result<std::vector<audit_entry>> read_audit(const storage::store& db, const std::string& tenant,
                                                           std::size_t limit);

/// Loads every tenant, channel and key from storage into `ctx->dir` and spawns the
/// tenant actors. Blocking: call at start-up, before the listeners open.
[[nodiscard]] status load_registry(caf::actor_system& sys, const std::shared_ptr<const registry_context>& ctx);

/// Spawns the registry actor (detached).
[[nodiscard]] registry_actor spawn_registry(caf::actor_system& sys, std::shared_ptr<const registry_context> ctx);

/// Sends every tenant actor in the directory an exit (shutdown).
void stop_tenants(const directory& dir);

/// Hex SHA-256 of an API key (how keys are stored and looked up).
[[nodiscard]] std::string hash_api_key(std::string_view key);

}  // namespace parley::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::create_tenant_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::delete_tenant_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::update_tenant_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::create_channel_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::delete_channel_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::create_key_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::delete_key_cmd)
