#pragma once
/// The dispatcher: one per tenant with an `events_webhook`. It pushes the tenant's event
/// feed (the same events, in the same order, as `GET /v1/events`) to the webhook in
/// batches, `POST <url>` with `{"events": [...]}`, signed
/// `X-Parley-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`, with
/// `X-Parley-Delivery-Id` (the same for every attempt of one batch) and
/// `X-Parley-Attempt`. A batch is retried with backoff (1 s doubling to 60 s) until the
/// receiver answers 2xx; only then does the cursor move past it, and the cursor is
/// stored, so a restart resumes where the receiver left off (at least once: a batch
/// acknowledged just before a crash may come again). Operators read its status and move
/// the cursor back to replay through the `dispatch_hub`.
/// Detached: it reads the feed from RocksDB.
#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "parley/clock.hpp"
#include "parley/result.hpp"
#include "parley/storage/store.hpp"
#include "storage_writer/storage_writer.hpp"

namespace parley::actors {

class directory;

/// POSTs `body` to `url`; `done(status, error)` runs once on any thread (status 0 when no
/// answer came; `error` says why).
using push_transport = std::function<void(std::string url, std::vector<std::pair<std::string, std::string>> headers,
                                          std::string body, std::function<void(unsigned, std::string)> done)>;

struct dispatch_context {
  std::shared_ptr<storage::store> db;
  storage_writer writer;
  directory* dir = nullptr;
  const clock* time = nullptr;
  push_transport post;
  std::size_t batch_size = 100;
  std::int64_t first_retry_ms = 1'000;
  std::int64_t max_retry_ms = 60'000;
};

/// What operators see (GET /v1/admin/tenants/{tid}/events-webhook).
struct push_status {
  std::string url;
  std::uint64_t cursor = 0;             ///< last event the receiver acknowledged
  std::uint64_t newest = 0;             ///< newest event of the feed
  std::int64_t last_attempt_at_ms = 0;  ///< 0: never tried
  std::string last_error;               ///< empty after a success
  std::uint64_t delivered_batches = 0;
};

/// The tenants' dispatchers. Thread-safe. A supervisor actor owns them: once a second
/// (and on `sync()`) it starts a dispatcher for every tenant with a webhook and stops
/// those whose tenant no longer has one; dispatchers are linked to it, so stopping the
/// hub stops them all. Nothing is spawned on a caller's thread.
class dispatch_hub {
 public:
  dispatch_hub(caf::actor_system& sys, std::shared_ptr<const dispatch_context> ctx);
  ~dispatch_hub();
  /// Asks for a sync now (e.g. after an admin change) instead of within a second.
  void sync();
  /// The status of a tenant's push, or nullopt when it has no webhook.
  [[nodiscard]] std::optional<push_status> status(const std::string& tenant) const;
  /// Moves the cursor (replay from there), durably. not_found when no webhook is set.
  /// Blocks until the cursor is stored: call it off the I/O threads.
  [[nodiscard]] parley::status set_cursor(const std::string& tenant, std::uint64_t cursor, const std::string& request_id = {});
  void stop();

  struct shared;  ///< status shared with one dispatcher actor
  struct entry {
    caf::actor actor;
    std::shared_ptr<shared> state;
  };
  struct table {  ///< the running dispatchers, shared with the supervisor
    std::mutex mutex;
    std::unordered_map<std::string, entry> running;
  };

 private:
  std::shared_ptr<const dispatch_context> ctx_;
  std::shared_ptr<table> table_ = std::make_shared<table>();
  mutable std::mutex mutex_;
  caf::actor supervisor_;
};

/// The stored cursor of a tenant's push (0 when none).
[[nodiscard]] std::uint64_t load_push_cursor(const storage::store& db, const std::string& tenant);

}  // namespace parley::actors
