#include "webhooks/webhook_routes.hpp"

#include <caf/send.hpp>

#include "api/http_util.hpp"
#include "providers/provider.hpp"
#include "tenant/tenant_actor.hpp"

namespace parley::engine {
namespace {

using http::request;
using http::responder;
using http::response;
using request_ptr = std::shared_ptr<const request>;
using normalizer = std::function<result<normalized_webhook>(const request&, const actors::channel_info&)>;
using verifier = std::function<bool(const request&, const actors::channel_info&)>;

response ok_response() { return response::json(200, R"({"status":"ok"})"); }

// Limits webhooks in flight (accepted, not yet answered) so memory stays bounded when
// storage falls behind: past the limit the provider is told to retry later.
class in_flight_slot {
 public:
  explicit in_flight_slot(const services& svc) : svc_(svc) {
    taken_ = svc.webhooks->in_flight.fetch_add(1) < svc.max_webhooks_in_flight;
    if (!taken_) svc.webhooks->in_flight.fetch_sub(1);
  }
  [[nodiscard]] bool taken() const { return taken_; }
  void release() {
    if (taken_) svc_.webhooks->in_flight.fetch_sub(1);
    taken_ = false;
  }

 private:
  const services& svc_;
  bool taken_ = false;
};

void accept(const services& svc, request_ptr req, responder reply, std::shared_ptr<const actors::channel_info> ch,
            normalized_webhook webhook) {
  svc.webhooks->ignored_entries += webhook.ignored;
  svc.webhooks->provider_errors += webhook.system_errors.size();
  if (webhook.messages.empty() && webhook.statuses.empty()) {
    ++svc.webhooks->accepted;
    return reply.send(ok_response());
  }
  auto tenant = caf::actor_cast<actors::tenant_actor>(svc.dir->tenant_actor(ch->tenant));
  if (!tenant) return reply.send(response::error(404, "not_found", "unknown channel"));
  auto slot = std::make_shared<in_flight_slot>(svc);
  if (!slot->taken()) {
    ++svc.webhooks->overloaded;
    return reply.send(unavailable("overloaded", "too many webhooks in flight; retry later", 1));
  }
  const services* s = &svc;
  auto ack = std::make_shared<actors::ack_tracker>([s, slot, reply](errc code) {
    slot->release();
    if (code == errc::ok) {
      ++s->webhooks->accepted;
      return reply.send(ok_response());
    }
    ++s->webhooks->overloaded;
    if (code == errc::overloaded) return reply.send(unavailable("overloaded", "storage is busy; retry later", 1));
    reply.send(unavailable("storage_unavailable", "the webhook could not be stored; retry later", 5));
  });
  actors::inbound_job job;
  job.channel = std::move(ch);
  job.webhook = std::make_shared<normalized_webhook>(std::move(webhook));
  job.raw_body = std::shared_ptr<const std::string>(req, &req->body);  // shares the request: no copy
  job.received_ms = svc.time->now_ms();
  job.ack = std::move(ack);
  caf::anon_send(tenant, actors::inbound_atom::value, std::move(job));
}

// One POST route: channel lookup (404), verification (401), normalization (400).
http::handler post_route(const services& svc, channel_type type, verifier verify, normalizer normalize) {
  return [&svc, type, verify = std::move(verify), normalize = std::move(normalize)](request_ptr req, responder reply) {
    auto ch = svc.dir->channel(req->param("channel_id"));
    if (!ch || ch->type != type) {
      ++svc.webhooks->unknown_channel;
      return reply.send(response::error(404, "not_found", "unknown channel"));
    }
    if (!verify(*req, *ch)) {
      ++svc.webhooks->unauthorized;
      return reply.send(response::error(401, "unauthorized", "signature or credentials do not match"));
    }
    auto normalized = normalize(*req, *ch);
    if (!normalized) {
      ++svc.webhooks->invalid;
      return reply.send(response::error(400, "invalid_payload", normalized.err().message));
    }
    accept(svc, std::move(req), std::move(reply), std::move(ch), std::move(*normalized));
  };
}

http::handler meta_handshake(const services& svc, channel_type type) {
  return [&svc, type](request_ptr req, responder reply) {
    auto ch = svc.dir->channel(req->param("channel_id"));
    if (!ch || ch->type != type) return reply.send(response::error(404, "not_found", "unknown channel"));
    auto mode = req->query_param("hub.mode");
    auto token = req->query_param("hub.verify_token");
    auto challenge = req->query_param("hub.challenge");
    auto answer = providers::meta_challenge(mode, token, challenge, ch->verify_token);
    if (!answer) return reply.send(response::error(403, "forbidden", "verify token does not match"));
    response r;
    r.content_type = "text/plain";
    r.body = std::move(*answer);
    reply.send(std::move(r));
  };
}

bool meta_verify(const request& req, const actors::channel_info& ch) {
  return providers::verify_meta_signature(ch.app_secret, req.body, req.header("x-hub-signature-256"));
}

bool postmark_verify(const request& req, const actors::channel_info& ch) {
  return providers::verify_basic_auth(ch.inbound_username, ch.inbound_password, req.header("authorization"));
}

}  // namespace

void add_webhook_routes(http::router& routes, const services& svc) {
  using http::method;
  routes.add(method::get, "/webhooks/whatsapp/{channel_id}", meta_handshake(svc, channel_type::whatsapp));
  routes.add(method::get, "/webhooks/messenger/{channel_id}", meta_handshake(svc, channel_type::messenger));
  routes.add(method::get, "/webhooks/instagram/{channel_id}", meta_handshake(svc, channel_type::instagram));
  routes.add(method::post, "/webhooks/whatsapp/{channel_id}",
             post_route(svc, channel_type::whatsapp, meta_verify,
                        [](const request& req, const actors::channel_info& ch) {
                          return providers::normalize_whatsapp(req.body, ch.account_ids);
                        }));
  for (auto type : {channel_type::messenger, channel_type::instagram}) {
    routes.add(method::post, "/webhooks/" + std::string(to_string(type)) + "/{channel_id}",
               post_route(svc, type, meta_verify, [](const request& req, const actors::channel_info& ch) {
                 return providers::normalize_messenger(req.body, ch.type, ch.account_ids);
               }));
  }
  routes.add(method::post, "/webhooks/telegram/{channel_id}",
             post_route(
                 svc, channel_type::telegram,
                 [](const request& req, const actors::channel_info& ch) {
                   return providers::verify_telegram_token(ch.secret_token, req.header("x-telegram-bot-api-secret-token"));
                 },
                 [](const request& req, const actors::channel_info&) { return providers::normalize_telegram(req.body); }));
  routes.add(method::post, "/webhooks/postmark/{channel_id}",
             post_route(svc, channel_type::email, postmark_verify,
                        [](const request& req, const actors::channel_info&) {
                          return providers::normalize_postmark_inbound(req.body);
                        }));
  routes.add(method::post, "/webhooks/postmark/{channel_id}/events",
             post_route(svc, channel_type::email, postmark_verify,
                        [](const request& req, const actors::channel_info&) {
                          return providers::normalize_postmark_event(req.body);
                        }));
}

}  // namespace parley::engine
