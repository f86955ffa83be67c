#pragma once
/// Wakes long-polling readers of a tenant's event feed when new events commit.
/// Thread-safe. Waiters are one-shot callbacks, run on the thread that notifies (the
/// storage writer's completion): they must only post work elsewhere.
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace parley::actors {

class feed_notifier {
 public:
  using waiter = std::function<void()>;

  /// Registers `w` to run once when the tenant's feed passes `after_seq`; runs it at
  /// once (on this thread) if it already has. Returns a ticket for cancel().
  std::uint64_t wait(const std::string& tenant, std::uint64_t after_seq, waiter w);
  /// Forgets a waiter (after its timeout); a no-op if it already ran.
  void cancel(const std::string& tenant, std::uint64_t ticket);
  /// Records that the tenant's feed reached `seq` and runs the waiters it satisfies.
  void notify(const std::string& tenant, std::uint64_t seq);
  /// Runs every waiter now (shutdown: long-polls answer at once instead of holding the
  /// drain for their full wait).
  void wake_all();
  /// The highest sequence notified for the tenant (0 if none since start).
  [[nodiscard]] std::uint64_t latest(const std::string& tenant) const;

 private:
  struct entry {
    std::uint64_t ticket;
    std::uint64_t after;
    waiter w;
  };
  struct tenant_feed {
    std::uint64_t latest = 0;
    std::vector<entry> waiters;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, tenant_feed> feeds_;
  std::uint64_t next_ticket_ = 1;
};

}  // namespace parley::actors
