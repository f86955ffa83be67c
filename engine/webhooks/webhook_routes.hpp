#pragma once
/// The provider webhooks on the public listener (API.md "Webhooks in"): look the channel
/// up, verify the provider's signature or token, normalize, hand the result to the
/// tenant actor and answer 200 once everything in the body is durable or a known
/// duplicate. Verification and parsing run on the I/O thread; nothing is stored for a
/// body that fails them.
#include "api/services.hpp"
#include "engine/http/server.hpp"

namespace parley::engine {

void add_webhook_routes(http::router& routes, const services& svc);

}  // namespace parley::engine
