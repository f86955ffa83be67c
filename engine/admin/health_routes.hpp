#pragma once
/// /healthz, /readyz and /metrics on the admin listener (no token needed).
#include <atomic>
#include <functional>
#include <memory>

#include "engine/http/server.hpp"

namespace parley::engine {

class metrics;

/// What /readyz consults. `probe_storage` asks the storage writer actor for its status
/// and calls back with true when storage is open and writable.
struct readiness {
  const std::atomic<bool>* listeners_up = nullptr;
  std::function<void(std::function<void(bool)>)> probe_storage;
};

/// Adds the three routes to `routes`. `m` and the readiness sources must outlive it.
void add_health_routes(http::router& routes, const metrics& m, readiness ready);

}  // namespace parley::engine
