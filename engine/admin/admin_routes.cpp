#include "admin/admin_routes.hpp"

#include <boost/json.hpp>
#include <caf/send.hpp>

#include <charconv>

#include "api/http_util.hpp"
#include "dispatcher/dispatcher_actor.hpp"
#include "registry/registry_actor.hpp"
#include "parley/ids.hpp"
#include "parley/json_writer.hpp"
#include "parley/storage/crypto.hpp"

namespace parley::engine {
namespace {

namespace json = boost::json;
using http::request;
using http::responder;
using http::response;
using request_ptr = std::shared_ptr<const request>;

bool admin_authorized(const services& svc, const request& req) {
  auto token = bearer_token(req);
  return token && storage::constant_time_equal(*token, svc.admin_token);
}

http::handler guarded(const services& svc, std::function<void(request_ptr, responder)> h) {
  return admin_only(svc, std::move(h));
}

// Parses a JSON object body; answers 400 itself and returns nullopt when it is not one.
std::optional<json::object> parse_object(const request& req, const responder& reply) {
  boost::system::error_code ec;
  auto v = json::parse(req.body, ec);
  if (ec) {
    reply.send(response::error(400, "invalid_json", "the body is not valid JSON"));
    return std::nullopt;
  }
  if (!v.is_object()) {
    reply.send(response::error(400, "invalid_request", "the body must be a JSON object"));
    return std::nullopt;
  }
  return std::move(v.as_object());
}

// Reads optional typed fields, remembering the first problem for a 400.
struct field_reader {
  const json::object& o;
  std::string problem;

  std::optional<std::string> string(std::string_view key, bool required) {
    auto it = o.find(key);
    if (it == o.end() || it->value().is_null()) {
      if (required && problem.empty()) problem = std::string(key) + ": required";
      return std::nullopt;
    }
    if (!it->value().is_string() || it->value().as_string().empty()) {
      if (problem.empty()) problem = std::string(key) + ": must be a non-empty string";
      return std::nullopt;
    }
    return std::string(it->value().as_string());
  }
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t lo, std::int64_t hi) {
    auto it = o.find(key);
    if (it == o.end() || it->value().is_null()) return std::nullopt;
    std::int64_t v = 0;
    if (it->value().is_int64()) v = it->value().as_int64();
    else if (it->value().is_uint64() && it->value().as_uint64() <= static_cast<std::uint64_t>(hi)) v = static_cast<std::int64_t>(it->value().as_uint64());
    else {
      if (problem.empty()) problem = std::string(key) + ": must be an integer";
      return std::nullopt;
    }
    if (v < lo || v > hi) {
      if (problem.empty()) problem = std::string(key) + ": must be between " + std::to_string(lo) + " and " + std::to_string(hi);
      return std::nullopt;
    }
    return v;
  }
  std::optional<std::vector<std::string>> strings(std::string_view key, bool required) {
    auto it = o.find(key);
    if (it == o.end()) {
      if (required && problem.empty()) problem = std::string(key) + ": required";
      return std::nullopt;
    }
    std::vector<std::string> out;
    if (it->value().is_array()) {
      for (const auto& e : it->value().as_array()) {
        if (!e.is_string() || e.as_string().empty()) {
          out.clear();
          break;
        }
        out.emplace_back(e.as_string());
      }
    }
    if (out.empty()) {
      if (problem.empty()) problem = std::string(key) + ": must be a non-empty array of strings";
      return std::nullopt;
    }
    return out;
  }
  const json::object* object(std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || it->value().is_null()) return nullptr;
    if (!it->value().is_object()) {
      if (problem.empty()) problem = std::string(key) + ": must be an object";
      return nullptr;
    }
    return &it->value().as_object();
  }
};

bool is_http_url(std::string_view url) { return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0; }

std::string_view webhook_segment(channel_type t) { return t == channel_type::email ? "postmark" : to_string(t); }

void create_tenant(const services& svc, request_ptr req, responder reply) {
  auto body = parse_object(*req, reply);
  if (!body) return;
  field_reader f{*body, {}};
  actors::tenant_info t;
  auto id = f.string("id", true);
  if (id && !is_valid_tenant_id(*id)) return reply.send(invalid_field("id", "must match [a-z0-9-]{1,64}"));
  if (id) t.id = *id;
  t.name = f.string("name", false).value_or(t.id);
  if (const auto* limits = f.object("limits")) {
    field_reader lf{*limits, {}};
    t.limits.send_requests_per_second = static_cast<std::uint32_t>(lf.integer("send_requests_per_second", 0, 1'000'000).value_or(0));
    t.limits.monthly_outbound_quota = static_cast<std::uint64_t>(lf.integer("monthly_outbound_quota", 0, 1LL << 50).value_or(0));
    if (!lf.problem.empty()) return reply.send(invalid_field("limits", lf.problem));
  }
  if (const auto* retention = f.object("retention")) {
    field_reader rf{*retention, {}};
    t.retention.messages_days = static_cast<std::uint32_t>(rf.integer("messages_days", 0, 36'500).value_or(0));
    t.retention.raw_webhooks_days = static_cast<std::uint32_t>(rf.integer("raw_webhooks_days", 0, 36'500).value_or(90));
    t.retention.events_days = static_cast<std::uint32_t>(rf.integer("events_days", 0, 36'500).value_or(7));
    if (!rf.problem.empty()) return reply.send(invalid_field("retention", rf.problem));
  }
  if (const auto* hook = f.object("events_webhook")) {
    field_reader hf{*hook, {}};
    auto url = hf.string("url", true);
    auto secret = hf.string("secret", true);
    if (!hf.problem.empty()) return reply.send(invalid_field("events_webhook", hf.problem));
    if (!is_http_url(*url)) return reply.send(invalid_field("events_webhook.url", "must be an http(s) URL"));
    t.webhook = actors::events_webhook{*url, *secret};
  }
  if (!f.problem.empty()) return reply.send(http::response::error(400, "invalid_request", f.problem));
  const services* s = &svc;
  caf::anon_send(svc.registry, actors::command_atom::value,
                 actors::create_tenant_cmd{std::move(t), [s, reply](result<actors::created_tenant> r) {
                                             if (r && s->dispatch != nullptr) s->dispatch->sync();
                                             if (!r) {
                                               if (r.code() == errc::already_exists) {
                                                 return reply.send(response::error(409, "tenant_exists", "a tenant with this id exists"));
                                               }
                                               return reply.send(error_response(r.err()));
                                             }
                                             std::string out = render_tenant(r->tenant);
                                             out.pop_back();
                                             out += ",\"api_key\":";
                                             json_writer::escape_into(out, r->api_key);
                                             out += ",\"api_key_id\":";
                                             json_writer::escape_into(out, r->api_key_id);
                                             out += "}";
                                             reply.send(response::json(201, std::move(out)));
                                           }, req->request_id});
}

void create_channel(const services& svc, request_ptr req, responder reply) {
  auto body = parse_object(*req, reply);
  if (!body) return;
  field_reader f{*body, {}};
  auto type_name = f.string("type", true);
  if (!type_name) return reply.send(invalid_field("type", f.problem.empty() ? "required" : f.problem));
  auto type = parse_channel_type(*type_name);
  if (!type || *type_name == "postmark") {
    return reply.send(invalid_field("type", "must be whatsapp, messenger, instagram, telegram or email"));
  }
  actors::channel_info c;
  c.tenant = std::string(req->param("tid"));
  c.type = *type;
  c.name = f.string("name", false).value_or(std::string(to_string(*type)));
  switch (*type) {
    case channel_type::whatsapp:
    case channel_type::messenger:
    case channel_type::instagram:
      c.account_ids = f.strings(*type == channel_type::whatsapp ? "phone_number_ids" : "page_ids", true).value_or(std::vector<std::string>{});
      c.app_secret = f.string("app_secret", true).value_or("");
      c.access_token = f.string("access_token", true).value_or("");
      c.verify_token = f.string("verify_token", true).value_or("");
      break;
    case channel_type::telegram: {
      c.bot_token = f.string("bot_token", true).value_or("");
      c.secret_token = f.string("secret_token", true).value_or("");
      bool ok = !c.secret_token.empty() && c.secret_token.size() <= 256;
      for (char ch : c.secret_token) {
        ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-');
      }
      if (f.problem.empty() && !ok) f.problem = "secret_token: 1-256 characters of A-Z a-z 0-9 _ -";
      break;
    }
    case channel_type::email:
      c.from_address = f.string("from_address", true).value_or("");
      c.server_token = f.string("server_token", true).value_or("");
      c.inbound_username = f.string("inbound_username", true).value_or("");
      c.inbound_password = f.string("inbound_password", true).value_or("");
      break;
  }
  if (auto base = f.string("api_base", false)) {
    if (!is_http_url(*base)) return reply.send(invalid_field("api_base", "must be an http(s) URL"));
    c.api_base = *base;
  }
  c.outbound_per_second = static_cast<std::uint32_t>(f.integer("outbound_per_second", 1, 100'000).value_or(0));
  if (!f.problem.empty()) return reply.send(http::response::error(400, "invalid_request", f.problem));
  caf::anon_send(svc.registry, actors::command_atom::value,
                 actors::create_channel_cmd{std::move(c), [reply](result<actors::channel_info> r) {
                                              if (!r) return reply.send(error_response(r.err()));
                                              reply.send(response::json(201, render_channel(*r)));
                                            }, req->request_id});
}

void create_key(const services& svc, request_ptr req, responder reply) {
  auto body = parse_object(*req, reply);
  if (!body) return;
  std::uint8_t scopes = 0;
  auto it = body->find("scopes");
  if (it == body->end() || !it->value().is_array() || it->value().as_array().empty()) {
    return reply.send(invalid_field("scopes", "must be a non-empty array of \"send\" and/or \"read\""));
  }
  for (const auto& s : it->value().as_array()) {
    if (s.is_string() && s.as_string() == "send") scopes |= actors::scope_send;
    else if (s.is_string() && s.as_string() == "read") scopes |= actors::scope_read;
    else return reply.send(invalid_field("scopes", "only \"send\" and \"read\" exist"));
  }
  caf::anon_send(svc.registry, actors::command_atom::value,
                 actors::create_key_cmd{std::string(req->param("tid")), scopes, [reply](result<actors::created_key> r) {
                                          if (!r) return reply.send(error_response(r.err()));
                                          std::string out;
                                          json_writer w(out);
                                          w.begin_object().field("id", r->key.id).field("api_key", r->api_key);
                                          w.key("scopes").begin_array();
                                          if (r->key.scopes & actors::scope_send) w.string("send");
                                          if (r->key.scopes & actors::scope_read) w.string("read");
                                          w.end_array().end_object();
                                          reply.send(response::json(201, std::move(out)));
                                        }, req->request_id});
}

std::function<void(status)> no_content(responder reply) {
  return [reply](status st) {
    if (!st) return reply.send(error_response(st.err()));
    response r;
    r.status = 204;
    r.content_type.clear();
    reply.send(std::move(r));
  };
}

}  // namespace

http::handler admin_only(const services& svc, std::function<void(std::shared_ptr<const http::request>, http::responder)> h) {
  return [&svc, h = std::move(h)](request_ptr req, responder reply) {
    if (!admin_authorized(svc, *req)) {
      reply.send(response::error(401, "unauthorized", "missing or invalid admin token"));
      return;
    }
    h(std::move(req), std::move(reply));
  };
}

std::string render_tenant(const actors::tenant_info& t) {
  std::string out;
  json_writer w(out);
  w.begin_object().field("id", t.id).field("name", t.name);
  w.key("limits").begin_object();
  w.key("send_requests_per_second").number(t.limits.send_requests_per_second);
  w.key("monthly_outbound_quota").number(t.limits.monthly_outbound_quota).end_object();
  w.key("retention").begin_object();
  w.key("messages_days").number(t.retention.messages_days);
  w.key("raw_webhooks_days").number(t.retention.raw_webhooks_days);
  w.key("events_days").number(t.retention.events_days).end_object();
  w.key("events_webhook");
  if (t.webhook) w.begin_object().field("url", t.webhook->url).field("secret", "set").end_object();
  else w.null();
  w.field("status", t.status == actors::tenant_status::purging ? "purging" : "active");
  w.field("created_at", format_rfc3339(t.created_at_ms));
  w.end_object();
  return out;
}

std::string render_channel(const actors::channel_info& c) {
  std::string out;
  json_writer w(out);
  w.begin_object().field("id", c.id).field("tenant", c.tenant).field("type", to_string(c.type)).field("name", c.name);
  w.field("webhook_path", "/webhooks/" + std::string(webhook_segment(c.type)) + "/" + c.id);
  auto secret = [&](std::string_view key, const std::string& value) {
    w.key(key);
    if (value.empty()) w.null();
    else w.string("set");
  };
  switch (c.type) {
    case channel_type::whatsapp:
    case channel_type::messenger:
    case channel_type::instagram:
      w.key(c.type == channel_type::whatsapp ? "phone_number_ids" : "page_ids").begin_array();
      for (const auto& a : c.account_ids) w.string(a);
      w.end_array();
      secret("app_secret", c.app_secret);
      secret("access_token", c.access_token);
      secret("verify_token", c.verify_token);
      break;
    case channel_type::telegram:
      secret("bot_token", c.bot_token);
      secret("secret_token", c.secret_token);
      break;
    case channel_type::email:
      w.field("from_address", c.from_address);
      secret("server_token", c.server_token);
      w.field("inbound_username", c.inbound_username);
      secret("inbound_password", c.inbound_password);
      break;
  }
  w.key("api_base");
  if (c.api_base.empty()) w.null();
  else w.string(c.api_base);
  w.key("outbound_per_second");
  if (c.outbound_per_second == 0) w.null();
  else w.number(c.outbound_per_second);
  w.field("created_at", format_rfc3339(c.created_at_ms));
  w.end_object();
  return out;
}

// PATCH /v1/admin/tenants/{tid}: name, limits, retention (applies to records already
// stored) and events_webhook (null removes it). Fields left out keep their values.
void patch_tenant(const services& svc, request_ptr req, responder reply) {
  auto body = parse_object(*req, reply);
  if (!body) return;
  field_reader f{*body, {}};
  actors::tenant_patch p;
  if (body->contains("name")) p.name = f.string("name", true);
  if (body->contains("id") && f.string("id", false) != std::string(req->param("tid"))) {
    return reply.send(invalid_field("id", "a tenant's id cannot change"));
  }
  if (const auto* limits = f.object("limits")) {
    field_reader lf{*limits, {}};
    if (auto v = lf.integer("send_requests_per_second", 0, 1'000'000)) p.send_requests_per_second = static_cast<std::uint32_t>(*v);
    if (auto v = lf.integer("monthly_outbound_quota", 0, 1LL << 50)) p.monthly_outbound_quota = static_cast<std::uint64_t>(*v);
    if (!lf.problem.empty()) return reply.send(invalid_field("limits", lf.problem));
  }
  if (const auto* retention = f.object("retention")) {
    field_reader rf{*retention, {}};
    if (auto v = rf.integer("messages_days", 0, 36'500)) p.messages_days = static_cast<std::uint32_t>(*v);
    if (auto v = rf.integer("raw_webhooks_days", 0, 36'500)) p.raw_webhooks_days = static_cast<std::uint32_t>(*v);
    if (auto v = rf.integer("events_days", 0, 36'500)) p.events_days = static_cast<std::uint32_t>(*v);
    if (!rf.problem.empty()) return reply.send(invalid_field("retention", rf.problem));
  }
  if (auto it = body->find("events_webhook"); it != body->end()) {
    if (it->value().is_null()) {
      p.webhook = std::optional<actors::events_webhook>();
    } else if (const auto* hook = f.object("events_webhook")) {
      field_reader hf{*hook, {}};
      auto url = hf.string("url", true);
      auto secret = hf.string("secret", true);
      if (!hf.problem.empty()) return reply.send(invalid_field("events_webhook", hf.problem));
      if (!is_http_url(*url)) return reply.send(invalid_field("events_webhook.url", "must be an http(s) URL"));
      p.webhook = std::optional<actors::events_webhook>(actors::events_webhook{*url, *secret});
    }
  }
  if (!f.problem.empty()) return reply.send(http::response::error(400, "invalid_request", f.problem));
  const services* s = &svc;
  caf::anon_send(svc.registry, actors::command_atom::value,
                 actors::update_tenant_cmd{std::string(req->param("tid")), std::move(p),
                                           [s, reply](result<actors::tenant_info> r) {
                                             if (!r) return reply.send(error_response(r.err()));
                                             if (s->dispatch != nullptr) s->dispatch->sync();  // webhook changes at once
                                             reply.send(response::json(200, render_tenant(*r)));
                                           }, req->request_id});
}

// GET /v1/admin/tenants/{tid}/events-webhook: where the push stands.
std::string render_push_status(const actors::push_status& s) {
  std::string out;
  json_writer w(out);
  w.begin_object()
      .field("url", s.url)
      .field("cursor", std::to_string(s.cursor))
      .key("lag")
      .number(s.newest > s.cursor ? s.newest - s.cursor : 0)
      .key("last_attempt_at");
  if (s.last_attempt_at_ms > 0) w.string(format_rfc3339(s.last_attempt_at_ms));
  else w.null();
  w.key("last_error");
  if (!s.last_error.empty()) w.string(s.last_error);
  else w.null();
  w.key("delivered_batches").number(s.delivered_batches).end_object();
  return out;
}

void get_push_status(const services& svc, request_ptr req, responder reply) {
  std::string tenant(req->param("tid"));
  if (!svc.dir->tenant(tenant)) return reply.send(response::error(404, "not_found", "no such tenant"));
  auto submitted = svc.readers->submit([&svc, tenant, reply] {
    auto s = svc.dispatch != nullptr ? svc.dispatch->status(tenant) : std::nullopt;
    if (!s) return reply.send(response::error(404, "not_found", "this tenant has no events webhook"));
    reply.send(response::json(200, render_push_status(*s)));
  });
  if (!submitted) reply.send(error_response(submitted.err()));
}

// PUT /v1/admin/tenants/{tid}/events-webhook/cursor {"cursor"}: replay from there.
void put_push_cursor(const services& svc, request_ptr req, responder reply) {
  std::string tenant(req->param("tid"));
  if (!svc.dir->tenant(tenant)) return reply.send(response::error(404, "not_found", "no such tenant"));
  auto body = parse_object(*req, reply);
  if (!body) return;
  auto it = body->find("cursor");
  std::optional<std::uint64_t> cursor;
  if (it != body->end() && it->value().is_int64() && it->value().as_int64() >= 0) {
    cursor = static_cast<std::uint64_t>(it->value().as_int64());
  } else if (it != body->end() && it->value().is_string()) {
    std::string_view text = it->value().as_string();
    if (text.starts_with("ev_")) text.remove_prefix(3);
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) cursor = v;
  }
  if (!cursor) return reply.send(invalid_field("cursor", "an event cursor (\"0\" replays everything retained)"));
  auto submitted = svc.readers->submit([&svc, tenant, c = *cursor, reply, request_id = req->request_id] {
    if (svc.dispatch == nullptr) return reply.send(response::error(404, "not_found", "this tenant has no events webhook"));
    auto st = svc.dispatch->set_cursor(tenant, c, request_id);
    if (!st) {
      if (st.code() == errc::not_found) return reply.send(response::error(404, "not_found", st.err().message));
      return reply.send(error_response(st.err()));
    }
    auto s = svc.dispatch->status(tenant);
    reply.send(response::json(200, s ? render_push_status(*s) : "{}"));
  });
  if (!submitted) reply.send(error_response(submitted.err()));
}

// POST /v1/admin/checkpoints {"path"}: a consistent online snapshot for backup; the
// path becomes a data directory `parleyd --data-dir` can start from (with the same master
// key, which is not copied).
void create_checkpoint(const services& svc, request_ptr req, responder reply) {
  auto body = parse_object(*req, reply);
  if (!body) return;
  field_reader f{*body, {}};
  auto path = f.string("path", true);
  if (!f.problem.empty()) return reply.send(invalid_field("path", "required absolute path of a directory to create"));
  auto submitted = svc.readers->submit([&svc, path = *path, reply, request_id = req->request_id] {
    auto st = svc.db->checkpoint(path);
    if (!st) {
      if (st.code() == errc::already_exists) return reply.send(response::error(409, "conflict", st.err().message));
      if (st.code() == errc::invalid_argument) return reply.send(response::error(400, "invalid_request", st.err().message));
      return reply.send(error_response(st.err()));
    }
    std::string out;
    json_writer w(out);
    w.begin_object().field("path", path).field("created_at", format_rfc3339(svc.time->now_ms())).end_object();
    std::vector<storage::write_op> logged = {
        actors::audit_op(actors::audit_entry{svc.time->now_ms(), "checkpoint.create", "", path, request_id})};
    (void)svc.db->write(logged, true);
    reply.send(response::json(201, std::move(out)));
  });
  if (!submitted) reply.send(error_response(submitted.err()));
}

// GET /v1/admin/audit?tenant=&limit=: the newest admin mutations first.
void get_audit(const services& svc, request_ptr req, responder reply) {
  auto limit = list_limit(*req);
  if (!limit) return reply.send(invalid_field("limit", "must be an integer"));
  std::string tenant = req->query_param("tenant").value_or("");
  auto submitted = svc.readers->submit([&svc, tenant, n = *limit, reply] {
    auto entries = actors::read_audit(*svc.db, tenant, n);
    if (!entries) return reply.send(error_response(entries.err()));
    std::string out;
    json_writer w(out);
    w.begin_object().key("entries").begin_array();
    for (const auto& e : *entries) {
      w.begin_object()
          .field("at", format_rfc3339(e.at_ms))
          .field("action", e.action)
          .field("tenant", e.tenant)
          .field("target", e.target)
          .field("request_id", e.request_id)
          .end_object();
    }
    w.end_array().end_object();
    reply.send(response::json(200, std::move(out)));
  });
  if (!submitted) reply.send(error_response(submitted.err()));
}

void add_admin_routes(http::router& routes, const services& svc) {
  using http::method;
  add_data_routes(routes, svc);
  // The API description: no token needed, like the health routes.
  routes.add(method::get, "/openapi.yaml", [](request_ptr, responder reply) {
    response r;
    r.content_type = "application/yaml";
    r.body = std::string(openapi_yaml());
    reply.send(std::move(r));
  });
  routes.add(method::post, "/v1/admin/tenants", guarded(svc, [&svc](request_ptr req, responder reply) {
               create_tenant(svc, std::move(req), std::move(reply));
             }));
  routes.add(method::get, "/v1/admin/tenants", guarded(svc, [&svc](request_ptr, responder reply) {
               std::string out = "{\"tenants\":[";
               bool first = true;
               for (const auto& t : svc.dir->tenants()) {
                 if (!first) out += ",";
                 first = false;
                 out += render_tenant(*t);
               }
               out += "]}";
               reply.send(response::json(200, std::move(out)));
             }));
  routes.add(method::get, "/v1/admin/tenants/{tid}", guarded(svc, [&svc](request_ptr req, responder reply) {
               auto t = svc.dir->tenant(req->param("tid"));
               if (!t) return reply.send(response::error(404, "not_found", "no such tenant"));
               reply.send(response::json(200, render_tenant(*t)));
             }));
  routes.add(method::patch, "/v1/admin/tenants/{tid}", guarded(svc, [&svc](request_ptr req, responder reply) {
               patch_tenant(svc, std::move(req), std::move(reply));
             }));
  routes.add(method::del, "/v1/admin/tenants/{tid}", guarded(svc, [&svc](request_ptr req, responder reply) {
               caf::anon_send(svc.registry, actors::command_atom::value,
                              actors::delete_tenant_cmd{std::string(req->param("tid")), [reply](status st) {
                                                          if (!st) return reply.send(error_response(st.err()));
                                                          reply.send(response::json(202, R"({"status":"purging"})"));
                                                        }, req->request_id});
             }));
  routes.add(method::post, "/v1/admin/checkpoints", guarded(svc, [&svc](request_ptr req, responder reply) {
               create_checkpoint(svc, std::move(req), std::move(reply));
             }));
  routes.add(method::get, "/v1/admin/audit",
             guarded(svc, [&svc](request_ptr req, responder reply) { get_audit(svc, std::move(req), std::move(reply)); }));
  routes.add(method::get, "/v1/admin/tenants/{tid}/events-webhook", guarded(svc, [&svc](request_ptr req, responder reply) {
               get_push_status(svc, std::move(req), std::move(reply));
             }));
  routes.add(method::put, "/v1/admin/tenants/{tid}/events-webhook/cursor",
             guarded(svc, [&svc](request_ptr req, responder reply) { put_push_cursor(svc, std::move(req), std::move(reply)); }));
  routes.add(method::post, "/v1/admin/tenants/{tid}/api-keys", guarded(svc, [&svc](request_ptr req, responder reply) {
               create_key(svc, std::move(req), std::move(reply));
             }));
  routes.add(method::del, "/v1/admin/tenants/{tid}/api-keys/{kid}", guarded(svc, [&svc](request_ptr req, responder reply) {
               caf::anon_send(svc.registry, actors::command_atom::value,
                              actors::delete_key_cmd{std::string(req->param("tid")), std::string(req->param("kid")),
                                                     no_content(reply), req->request_id});
             }));
  routes.add(method::post, "/v1/admin/tenants/{tid}/channels", guarded(svc, [&svc](request_ptr req, responder reply) {
               create_channel(svc, std::move(req), std::move(reply));
             }));
  routes.add(method::get, "/v1/admin/tenants/{tid}/channels", guarded(svc, [&svc](request_ptr req, responder reply) {
               if (!svc.dir->tenant(req->param("tid"))) return reply.send(response::error(404, "not_found", "no such tenant"));
               std::string out = "{\"channels\":[";
               bool first = true;
               for (const auto& c : svc.dir->channels_of(req->param("tid"))) {
                 if (!first) out += ",";
                 first = false;
                 out += render_channel(*c);
               }
               out += "]}";
               reply.send(response::json(200, std::move(out)));
             }));
  routes.add(method::get, "/v1/admin/tenants/{tid}/channels/{cid}", guarded(svc, [&svc](request_ptr req, responder reply) {
               auto c = svc.dir->channel(req->param("cid"));
               if (!c || c->tenant != req->param("tid")) return reply.send(response::error(404, "not_found", "no such channel"));
               reply.send(response::json(200, render_channel(*c)));
             }));
  routes.add(method::del, "/v1/admin/tenants/{tid}/channels/{cid}", guarded(svc, [&svc](request_ptr req, responder reply) {
               caf::anon_send(svc.registry, actors::command_atom::value,
                              actors::delete_channel_cmd{std::string(req->param("tid")), std::string(req->param("cid")),
                                                         no_content(reply), req->request_id});
             }));
}

}  // namespace parley::engine
