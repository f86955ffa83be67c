#pragma once
/// The tenant API's read side on the public listener (API.md "Tenant API"):
/// conversations, messages and the event feed with long-poll. Bearer API keys with the
/// `read` scope; another tenant's ids answer 404. Reads run on the blocking pool.
#include "api/services.hpp"
#include "engine/http/server.hpp"

namespace parley::engine {

void add_tenant_routes(http::router& routes, const services& svc);

/// The send side: POST /v1/messages and /v1/messages/batch (scope `send`).
void add_send_routes(http::router& routes, const services& svc);

/// The request's API key when it is valid and has `scope` (actors::scope_send /
/// scope_read); otherwise answers 401 or 403 itself and returns null.
[[nodiscard]] actors::directory::key_ptr authorize_key(const services& svc, const http::request& req,
                                                       const http::responder& reply, std::uint8_t scope);

}  // namespace parley::engine
