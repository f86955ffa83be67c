#include "parley/errc.hpp"

namespace parley {

std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::ok: return "ok";
    case errc::not_found: return "not_found";
    case errc::already_exists: return "already_exists";
    case errc::invalid_argument: return "invalid_argument";
    case errc::corruption: return "corruption";
    case errc::io_error: return "io_error";
    case errc::overloaded: return "overloaded";
    case errc::shutting_down: return "shutting_down";
    case errc::key_destroyed: return "key_destroyed";
    case errc::unauthorized: return "unauthorized";
    case errc::duplicate: return "duplicate";
    case errc::expired: return "expired";
    case errc::internal: return "internal";
  }
  return "unknown";
}

}  // namespace parley
