#pragma once
/// The parleyd process: opens storage, starts the actor system (storage writer first),
/// serves the public and admin listeners, prints the ready line, and on SIGTERM/SIGINT
/// drains in-flight requests, flushes storage and returns.
#include <string>

#include "app/secrets.hpp"
#include "config/config.hpp"

namespace parley::engine {

/// Runs parleyd until a termination signal. Returns the process exit status: 0 after a
/// clean shutdown, 1 when start-up failed at run time (port taken, data dir locked),
/// 2 when the configuration turned out invalid (e.g. unreadable TLS files, a master key
/// that does not match the data directory). Failures are logged as one clear line.
[[nodiscard]] int run_parleyd(const config& cfg, const secrets& keys);

}  // namespace parley::engine
