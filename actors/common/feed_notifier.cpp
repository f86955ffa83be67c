#include "parley/actors/feed_notifier.hpp"

namespace parley::actors {

std::uint64_t feed_notifier::wait(const std::string& tenant, std::uint64_t after_seq, waiter w) {
  std::unique_lock lock(mutex_);
  auto& feed = feeds_[tenant];
  std::uint64_t ticket = next_ticket_++;
  if (feed.latest > after_seq) {
    lock.unlock();
    w();
    return ticket;
  }
  feed.waiters.push_back(entry{ticket, after_seq, std::move(w)});
  return ticket;
}

void feed_notifier::cancel(const std::string& tenant, std::uint64_t ticket) {
  std::lock_guard lock(mutex_);
  auto it = feeds_.find(tenant);
  if (it == feeds_.end()) return;
  auto& ws = it->second.waiters;
  std::erase_if(ws, [ticket](const entry& e) { return e.ticket == ticket; });
}

void feed_notifier::notify(const std::string& tenant, std::uint64_t seq) {
  std::vector<waiter> ready;
  {
    std::lock_guard lock(mutex_);
    auto& feed = feeds_[tenant];
    if (seq > feed.latest) feed.latest = seq;
    auto& ws = feed.waiters;
    for (auto it = ws.begin(); it != ws.end();) {
      if (it->after < feed.latest) {
        ready.push_back(std::move(it->w));
        it = ws.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& w : ready) w();
}

void feed_notifier::wake_all() {
  std::vector<waiter> ready;
  {
    std::lock_guard lock(mutex_);
    for (auto& [tenant, feed] : feeds_) {
      for (auto& e : feed.waiters) ready.push_back(std::move(e.w));
      feed.waiters.clear();
    }
  }
  for (auto& w : ready) w();
}

std::uint64_t feed_notifier::latest(const std::string& tenant) const {
  std::lock_guard lock(mutex_);
  auto it = feeds_.find(tenant);
  return it == feeds_.end() ? 0 : it->second.latest;
}

}  // namespace parley::actors
