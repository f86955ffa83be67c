#include "admin/health_routes.hpp"

#include "app/metrics.hpp"

namespace parley::engine {

void add_health_routes(http::router& routes, const metrics& m, readiness ready) {
  routes.add(http::method::get, "/healthz", [](std::shared_ptr<const http::request>, http::responder reply) {
    reply.send(http::response::json(200, R"({"status":"ok"})"));
  });
  routes.add(http::method::get, "/readyz", [ready](std::shared_ptr<const http::request>, http::responder reply) {
    if (ready.listeners_up == nullptr || !ready.listeners_up->load()) {
      reply.send(http::response::error(503, "not_ready", "listeners are not up"));
      return;
    }
    ready.probe_storage([reply](bool storage_ok) {
      reply.send(storage_ok ? http::response::json(200, R"({"status":"ready"})")
                            : http::response::error(503, "not_ready", "storage is not open"));
    });
  });
  routes.add(http::method::get, "/metrics", [&m](std::shared_ptr<const http::request>, http::responder reply) {
    http::response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = m.render();
    reply.send(std::move(r));
  });
}

}  // namespace parley::engine
