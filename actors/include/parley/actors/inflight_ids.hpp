#pragma once
/// Provider message ids of one tenant that were routed to a conversation and are not yet
/// committed. A redelivery that arrives meanwhile (or the same id twice in one body)
/// waits for the first copy's outcome instead of racing it, so a duplicate never reaches
/// a conversation and never touches its state. Thread-safe: claimed on the tenant's
/// thread, released by the storage writer's completion.
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "parley/actors/ack_tracker.hpp"

namespace parley::actors {

class inflight_ids {
 public:
  /// True: the caller now holds `key`. False: another copy holds it; `waiter` gets one
  /// more part that completes with that copy's outcome.
  bool claim(const std::string& key, const std::shared_ptr<ack_tracker>& waiter) {
    std::lock_guard lock(mutex_);
    auto [it, fresh] = held_.try_emplace(key);
    if (fresh) return true;
    waiter->add();
    it->second.push_back(waiter);
    return false;
  }

  /// Releases `key`; the copies that waited complete with `code` (a duplicate is ok).
  void release(const std::string& key, errc code) {
    std::vector<std::shared_ptr<ack_tracker>> waiters;
    {
      std::lock_guard lock(mutex_);
      auto it = held_.find(key);
      if (it == held_.end()) return;
      waiters = std::move(it->second);
      held_.erase(it);
    }
    for (auto& w : waiters) w->complete(code == errc::duplicate ? errc::ok : code);
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<ack_tracker>>> held_;
};

/// The claim key of a provider message on a channel.
[[nodiscard]] inline std::string inflight_key(const std::string& channel_id, const std::string& provider_message_id) {
  return channel_id + "|" + provider_message_id;
}

}  // namespace parley::actors
