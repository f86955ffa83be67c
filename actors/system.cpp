#include "parley/actors/system.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

namespace parley::actors {

actor_runtime::actor_runtime(system_options options) : config_(std::make_unique<caf::actor_system_config>()) {
  config_->set("scheduler.max-threads", options.scheduler_threads);
  system_ = std::make_unique<caf::actor_system>(*config_);
}

actor_runtime::~actor_runtime() {
  // ~actor_system blocks until every actor is done; callers send exits beforehand.
  system_.reset();
  config_.reset();
}

}  // namespace parley::actors
