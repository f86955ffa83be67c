#pragma once
/// What the HTTP route handlers use, built by the process (app.cpp). Handlers run on
/// Asio I/O threads: they may read the directory, verify and parse, and hand work to
/// actors or the blocking pool, but never touch RocksDB themselves.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "parley/actors/blocking_pool.hpp"
#include "parley/actors/directory.hpp"
#include "parley/clock.hpp"
#include "registry/registry_actor.hpp"
#include "retention/retention_actor.hpp"

namespace parley::actors {
class dispatch_hub;
}

namespace boost::asio {
class io_context;
}

namespace parley::engine {

/// Counters the webhook edge keeps (exported as metrics).
struct webhook_counters {
  std::atomic<std::uint64_t> accepted{0};   ///< answered 200
  std::atomic<std::uint64_t> unauthorized{0};
  std::atomic<std::uint64_t> invalid{0};
  std::atomic<std::uint64_t> unknown_channel{0};
  std::atomic<std::uint64_t> overloaded{0};  ///< answered 503
  std::atomic<std::uint64_t> ignored_entries{0};
  std::atomic<std::uint64_t> provider_errors{0};  ///< system errors providers reported (WhatsApp errors[])
  std::atomic<std::uint64_t> in_flight{0};
};

struct services {
  boost::asio::io_context* io = nullptr;
  actors::directory* dir = nullptr;
  actors::registry_actor registry;
  actors::blocking_pool* readers = nullptr;
  std::shared_ptr<storage::store> db;
  std::shared_ptr<storage::group_writer> writer;  ///< for the feed's durable bound
  const clock* time = nullptr;
  std::string admin_token;
  std::uint64_t max_webhooks_in_flight = 16'384;  ///< past this, webhooks get 503 + Retry-After
  webhook_counters* webhooks = nullptr;
  actors::dispatch_hub* dispatch = nullptr;  ///< event push to tenants' webhooks
  actors::retention_actor retention;          ///< physical removal: sweeps, purges, erasures
  actors::blocking_pool* background = nullptr;  ///< low-priority pool: exports
};

}  // namespace parley::engine
