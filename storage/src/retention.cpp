#include "parley/storage/retention.hpp"

#include <mutex>
#include <vector>

namespace parley::storage {

retention_policy::retention_policy(const clock& time, std::uint32_t dedup_window_hours)
    : time_(time), dedup_window_ms_(static_cast<std::int64_t>(dedup_window_hours) * 3'600'000) {}

void retention_policy::set_tenant(std::string_view tenant, tenant_retention r) {
  std::unique_lock lock(mutex_);
  tenants_.insert_or_assign(std::string(tenant), r);
}

void retention_policy::remove_tenant(std::string_view tenant) {
  std::unique_lock lock(mutex_);
  if (auto it = tenants_.find(tenant); it != tenants_.end()) tenants_.erase(it);
}

tenant_retention retention_policy::tenant(std::string_view tenant) const {
  std::shared_lock lock(mutex_);
  auto it = tenants_.find(tenant);
  return it == tenants_.end() ? tenant_retention{} : it->second;
}

std::int64_t retention_policy::lifetime_ms(family f, std::string_view tenant_id) const {
  auto days_ms = [](std::uint32_t days) { return static_cast<std::int64_t>(days) * ms_per_day; };
  switch (f) {
    case family::dedup: return dedup_window_ms_;
    case family::messages: return days_ms(tenant(tenant_id).messages_days);
    case family::raw_webhooks: return days_ms(tenant(tenant_id).raw_webhooks_days);
    case family::events: return days_ms(tenant(tenant_id).events_days);
    default: return 0;  // state, identities, outbox and meta live as long as their owner
  }
}

std::int64_t retention_policy::shortest_lifetime_ms(family f) const {
  std::int64_t shortest = lifetime_ms(f, std::string_view());  // the defaults (unknown tenants)
  std::vector<std::string> tenants;
  {
    std::shared_lock lock(mutex_);
    for (const auto& [name, r] : tenants_) tenants.push_back(name);
  }
  for (const auto& t : tenants) {
    auto l = lifetime_ms(f, t);
    if (l > 0 && (shortest == 0 || l < shortest)) shortest = l;
  }
  return shortest;
}

bool retention_policy::is_expired(family f, std::string_view key, std::int64_t created_at_ms) const {
  switch (f) {
    case family::dedup:
      return dedup_window_ms_ > 0 && created_at_ms + dedup_window_ms_ <= time_.now_ms();
    case family::messages:
    case family::raw_webhooks:
    case family::events: {
      auto tenant = tenant_of(f, key);
      if (!tenant) return false;  // a key we cannot attribute is kept, never guessed at
      std::int64_t lifetime = lifetime_ms(f, *tenant);
      return lifetime > 0 && created_at_ms + lifetime <= time_.now_ms();
    }
    default:
      return false;
  }
}

}  // namespace parley::storage
