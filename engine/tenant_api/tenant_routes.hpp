#pragma once
/// The tenant API's read side on the public listener (API.md "Tenant API"):
/// conversations, messages and the event feed with long-poll. Bearer API keys with the
/// `read` scope; another tenant's ids answer 404. Reads run on the blocking pool.
#include "api/services.hpp"
#include "engine/http/server.hpp"

namespace parley::engine {

void add_tenant_routes(http::router& routes, const services& svc);

}  // namespace parley::engine
