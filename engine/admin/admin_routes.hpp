#pragma once
/// The admin API of the inbound issue: tenants, channels and API keys
/// (/v1/admin/tenants...). Every route needs the admin bearer token.
#include "api/services.hpp"
#include "engine/http/server.hpp"

namespace parley::engine {

/// Adds the admin routes; `svc` must outlive the router.
void add_admin_routes(http::router& routes, const services& svc);
/// Adds the data-rights routes (export, erasure, usage); called by add_admin_routes.
void add_data_routes(http::router& routes, const services& svc);

/// docs/openapi.yaml as built into the binary (served at GET /openapi.yaml).
[[nodiscard]] std::string_view openapi_yaml();

/// Wraps a handler with the admin-token check (401 unauthorized without it).
[[nodiscard]] http::handler admin_only(const services& svc,
                                       std::function<void(std::shared_ptr<const http::request>, http::responder)> h);

/// A tenant as the admin API shows it (secrets shown as "set").
[[nodiscard]] std::string render_tenant(const actors::tenant_info& t);
/// A channel as the admin API shows it (secrets shown as "set").
[[nodiscard]] std::string render_channel(const actors::channel_info& c);

}  // namespace parley::engine
