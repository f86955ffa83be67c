#pragma once
/// Building the CAF actor system the way Parley runs it.
#include <cstddef>
#include <memory>

namespace caf {
class actor_system;
class actor_system_config;
}  // namespace caf

namespace parley::actors {

/// Options for the actor system; the engine fills them from its configuration.
struct system_options {
  std::size_t scheduler_threads = 2;  ///< cooperative scheduler threads (2 suits 2 cores)
};

/// Owns a CAF actor system and its config (the config must outlive the system).
/// Destruction waits for every actor to finish: send them exits first.
class actor_runtime {
 public:
  explicit actor_runtime(system_options options);
  ~actor_runtime();
  actor_runtime(const actor_runtime&) = delete;
  actor_runtime& operator=(const actor_runtime&) = delete;

  [[nodiscard]] caf::actor_system& system() noexcept { return *system_; }

 private:
  std::unique_ptr<caf::actor_system_config> config_;
  std::unique_ptr<caf::actor_system> system_;
};

}  // namespace parley::actors
