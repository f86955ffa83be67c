#include "parley/clock.hpp"

#include <chrono>

namespace parley {

std::int64_t system_clock::now_ms() const noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

system_clock& system_clock::instance() noexcept {
  static system_clock clock;
  return clock;
}

}  // namespace parley
