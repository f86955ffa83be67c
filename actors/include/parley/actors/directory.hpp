#pragma once
/// The directory: the registry's published view of tenants, channels and API keys,
/// read by the HTTP edge on every request (channel lookup for webhooks, key lookup for
/// the tenant API) without a hop through an actor. Thread-safe; entries are immutable
/// snapshots; only the registry actor mutates it.
#include <caf/actor.hpp>

#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "parley/actors/feed_notifier.hpp"
#include "parley/actors/model.hpp"

namespace parley::actors {

class directory {
 public:
  using tenant_ptr = std::shared_ptr<const tenant_info>;
  using channel_ptr = std::shared_ptr<const channel_info>;
  using key_ptr = std::shared_ptr<const api_key_info>;

  [[nodiscard]] channel_ptr channel(std::string_view id) const;
  [[nodiscard]] tenant_ptr tenant(std::string_view id) const;
  [[nodiscard]] std::vector<tenant_ptr> tenants() const;
  [[nodiscard]] std::vector<channel_ptr> channels_of(std::string_view tenant) const;
  [[nodiscard]] std::vector<key_ptr> keys_of(std::string_view tenant) const;
  /// The key whose SHA-256 hex is `hash`, or null (revoked keys are removed at once).
  [[nodiscard]] key_ptr key_by_hash(std::string_view hash) const;
  /// The tenant's actor (handle to its tenant_actor), or an invalid handle.
  [[nodiscard]] caf::actor tenant_actor(std::string_view tenant) const;

  // Mutators: the registry actor only.
  void put_tenant(tenant_ptr t, caf::actor handle);
  void update_tenant(tenant_ptr t);
  void remove_tenant(std::string_view id);
  void put_channel(channel_ptr c);
  void remove_channel(std::string_view id);
  void put_key(key_ptr k);
  void remove_key(std::string_view hash);
  /// Forgets everything, dropping the actor handles (shutdown: a detached actor's
  /// thread ends only when no handle to it remains).
  void clear();

  [[nodiscard]] feed_notifier& feeds() noexcept { return feeds_; }

 private:
  struct tenant_slot {
    tenant_ptr info;
    caf::actor handle;
  };
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, tenant_slot> tenants_;
  std::unordered_map<std::string, channel_ptr> channels_;
  std::unordered_map<std::string, key_ptr> keys_;
  feed_notifier feeds_;
};

}  // namespace parley::actors
