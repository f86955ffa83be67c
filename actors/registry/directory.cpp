#include "parley/actors/directory.hpp"

#include <algorithm>
#include <mutex>

namespace parley::actors {

directory::channel_ptr directory::channel(std::string_view id) const {
  std::shared_lock lock(mutex_);
  auto it = channels_.find(std::string(id));
  return it == channels_.end() ? nullptr : it->second;
}

directory::tenant_ptr directory::tenant(std::string_view id) const {
  std::shared_lock lock(mutex_);
  auto it = tenants_.find(std::string(id));
  return it == tenants_.end() ? nullptr : it->second.info;
}

std::vector<directory::tenant_ptr> directory::tenants() const {
  std::shared_lock lock(mutex_);
  std::vector<tenant_ptr> out;
  for (const auto& [id, slot] : tenants_) out.push_back(slot.info);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->id < b->id; });
  return out;
}

std::vector<directory::channel_ptr> directory::channels_of(std::string_view tenant) const {
  std::shared_lock lock(mutex_);
  std::vector<channel_ptr> out;
  for (const auto& [id, c] : channels_) {
    if (c->tenant == tenant) out.push_back(c);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->created_at_ms < b->created_at_ms || (a->created_at_ms == b->created_at_ms && a->id < b->id); });
  return out;
}

std::vector<directory::key_ptr> directory::keys_of(std::string_view tenant) const {
  std::shared_lock lock(mutex_);
  std::vector<key_ptr> out;
  for (const auto& [hash, k] : keys_) {
    if (k->tenant == tenant) out.push_back(k);
  }
  return out;
}

directory::key_ptr directory::key_by_hash(std::string_view hash) const {
  std::shared_lock lock(mutex_);
  auto it = keys_.find(std::string(hash));
  return it == keys_.end() ? nullptr : it->second;
}

caf::actor directory::tenant_actor(std::string_view tenant) const {
  std::shared_lock lock(mutex_);
  auto it = tenants_.find(std::string(tenant));
  return it == tenants_.end() ? caf::actor() : it->second.handle;
}

void directory::put_tenant(tenant_ptr t, caf::actor handle) {
  std::unique_lock lock(mutex_);
  auto id = t->id;
  tenants_[id] = tenant_slot{std::move(t), std::move(handle)};
}

void directory::update_tenant(tenant_ptr t) {
  std::unique_lock lock(mutex_);
  auto it = tenants_.find(t->id);
  if (it != tenants_.end()) it->second.info = std::move(t);
}

void directory::remove_tenant(std::string_view id) {
  std::unique_lock lock(mutex_);
  tenants_.erase(std::string(id));
  std::erase_if(channels_, [&](const auto& kv) { return kv.second->tenant == id; });
  std::erase_if(keys_, [&](const auto& kv) { return kv.second->tenant == id; });
}

void directory::clear() {
  std::unique_lock lock(mutex_);
  tenants_.clear();
  channels_.clear();
  keys_.clear();
}

void directory::put_channel(channel_ptr c) {
  std::unique_lock lock(mutex_);
  auto id = c->id;
  channels_[id] = std::move(c);
}

void directory::remove_channel(std::string_view id) {
  std::unique_lock lock(mutex_);
  channels_.erase(std::string(id));
}

void directory::put_key(key_ptr k) {
  std::unique_lock lock(mutex_);
  auto hash = k->hash;
  keys_[hash] = std::move(k);
}

void directory::remove_key(std::string_view hash) {
  std::unique_lock lock(mutex_);
  keys_.erase(std::string(hash));
}

}  // namespace parley::actors
