// The data-rights half of the admin API: export (a tenant, one contact) as streamed
// NDJSON, erasure of a contact and of one message, and usage per day.
#include <caf/send.hpp>

#include <atomic>
#include <map>
#include <memory>

#include "admin/admin_routes.hpp"
#include "api/http_util.hpp"
#include "parley/actors/usage_meter.hpp"
#include "parley/actors/views.hpp"
#include "parley/ids.hpp"
#include "parley/json_writer.hpp"
#include "parley/storage/keys.hpp"
#include "parley/storage/records.hpp"
#include "providers/common/time_parse.hpp"
#include "tenant/tenant_actor.hpp"

namespace parley::engine {
namespace {

using http::request;
using http::responder;
using http::response;
using request_ptr = std::shared_ptr<const request>;

constexpr std::size_t piece_bytes = 64 << 10;      // one chunk of an export
constexpr int max_concurrent_exports = 4;
std::atomic<int> exports_running{0};

// The tenant of {tid} when it is active; answers 404 itself otherwise.
std::shared_ptr<const actors::tenant_info> active_tenant(const services& svc, const request& req, const responder& reply) {
  auto t = svc.dir->tenant(req.param("tid"));
  if (!t || t->status != actors::tenant_status::active) {
    reply.send(response::error(404, "not_found", "no such tenant"));
    return nullptr;
  }
  return t;
}

// ---- export ---------------------------------------------------------------------------

std::string with_kind(std::string_view kind, std::string object_json) {
  // {"a":…} -> {"kind":"<kind>","a":…}
  std::string out = "{\"kind\":\"";
  out += kind;
  out += "\"";
  if (object_json.size() > 2) out += ",";
  out.append(object_json, 1, std::string::npos);
  return out;
}

std::string contact_line(const storage::conversation_state& c) {
  std::string out;
  json_writer w(out);
  w.begin_object().field("kind", "contact").field("id", c.contact_id);
  actors::write_identities(w, c.identities);
  auto optional_text = [&](std::string_view k, const std::string& v) {
    w.key(k);
    if (v.empty()) w.null();
    else w.string(v);
  };
  optional_text("display_name", c.display_name);
  optional_text("phone", c.phone_e164);
  optional_text("email", c.email);
  w.end_object();
  return out;
}

/// The NDJSON of a tenant (or of one contact), produced a piece at a time on the
/// low-priority pool from snapshot cursors: constant memory whatever the store's size.
/// Lines: the tenant and its channels (whole-tenant export only), then for each contact
/// its contact line, its conversation and its messages, oldest first.
class export_stream final : public http::body_stream, public std::enable_shared_from_this<export_stream> {
 public:
  export_stream(const services& svc, std::shared_ptr<const actors::tenant_info> tenant, std::string only_contact)
      : svc_(svc), tenant_(std::move(tenant)), only_(std::move(only_contact)) {
    ++exports_running;
  }
  ~export_stream() override { --exports_running; }
  export_stream(const export_stream&) = delete;
  export_stream& operator=(const export_stream&) = delete;

  void next(std::function<void(result<std::string>)> deliver) override {
    auto self = shared_from_this();
    auto submitted = svc_.background->submit([self, deliver] { deliver(self->produce()); });
    if (!submitted) deliver(std::move(submitted).err());
  }

 private:
  enum class stage : std::uint8_t { header, contacts, messages, done };

  result<std::string> produce() {
    std::string out;
    while (out.size() < piece_bytes && stage_ != stage::done) {
      if (auto st = step(out); !st) return std::move(st).err();
    }
    return out;
  }

  status step(std::string& out) {
    const auto& db = *svc_.db;
    const auto& tid = tenant_->id;
    switch (stage_) {
      case stage::header:
        if (only_.empty()) {
          out += with_kind("tenant", render_tenant(*tenant_)) + "\n";
          for (const auto& c : svc_.dir->channels_of(tid)) out += with_kind("channel", render_channel(*c)) + "\n";
          // Conversation states: tenant, 'c', contact.
          contacts_ = db.scan(storage::family::conversations, storage::key_builder().str(tid).u8('c').take());
        } else {
          contacts_ = db.scan(storage::family::conversations, storage::conversation_key(tid, only_));
        }
        stage_ = stage::contacts;
        return {};
      case stage::contacts: {
        storage::record rec;
        if (!contacts_->next(rec)) {
          if (!contacts_->error().ok()) return contacts_->error();
          stage_ = stage::done;
          return {};
        }
        auto state = storage::decode_conversation(rec.body);
        if (!state) return std::move(state).err();
        out += contact_line(*state) + "\n";
        out += with_kind("conversation", actors::render_conversation(*state, svc_.time->now_ms())) + "\n";
        contact_ = state->contact_id;
        messages_ = db.scan(storage::family::messages, storage::message_prefix(tid, contact_));
        stage_ = stage::messages;
        return {};
      }
      case stage::messages: {
        storage::record rec;
        if (!messages_->next(rec)) {
          if (!messages_->error().ok()) return messages_->error();
          messages_.reset();
          stage_ = stage::contacts;
          return {};
        }
        auto m = storage::decode_message(rec.body);
        if (!m) return std::move(m).err();
        out += with_kind("message", actors::render_message(*m, storage::conversation_id_for(contact_), true)) + "\n";
        return {};
      }
      case stage::done: return {};
    }
    return {};
  }

  const services& svc_;
  std::shared_ptr<const actors::tenant_info> tenant_;
  std::string only_;
  stage stage_ = stage::header;
  std::unique_ptr<storage::scan_cursor> contacts_;
  std::unique_ptr<storage::scan_cursor> messages_;
  std::string contact_;
};

void start_export(const services& svc, std::shared_ptr<const actors::tenant_info> tenant, std::string contact,
                  const responder& reply) {
  if (exports_running.load() >= max_concurrent_exports) {
    auto r = response::error(429, "rate_limited", "too many exports are running; retry later");
    r.headers.emplace_back("Retry-After", "5");
    return reply.send(std::move(r));
  }
  response r;
  r.status = 200;
  r.content_type = "application/x-ndjson";
  r.stream = std::make_shared<export_stream>(svc, std::move(tenant), std::move(contact));
  reply.send(std::move(r));
}

void export_tenant(const services& svc, request_ptr req, responder reply) {
  auto tenant = active_tenant(svc, *req, reply);
  if (!tenant) return;
  start_export(svc, std::move(tenant), {}, reply);
}

void export_contact(const services& svc, request_ptr req, responder reply) {
  auto tenant = active_tenant(svc, *req, reply);
  if (!tenant) return;
  std::string contact(req->param("ctid"));
  if (storage::id_tail(contact, "ct_").empty()) return reply.send(response::error(404, "not_found", "no such contact"));
  // Known contact? Checked on a reader thread (a RocksDB read) before the 200.
  auto submitted = svc.readers->submit([&svc, tenant, contact, reply] {
    auto rec = svc.db->get(storage::family::conversations, storage::conversation_key(tenant->id, contact));
    if (!rec) {
      if (rec.code() == errc::not_found) return reply.send(response::error(404, "not_found", "no such contact"));
      return reply.send(error_response(rec.err()));
    }
    start_export(svc, tenant, contact, reply);
  });
  if (!submitted) reply.send(error_response(submitted.err()));
}

// ---- erasure --------------------------------------------------------------------------

void erase_contact(const services& svc, request_ptr req, responder reply) {
  auto tenant = active_tenant(svc, *req, reply);
  if (!tenant) return;
  std::string contact(req->param("ctid"));
  if (storage::id_tail(contact, "ct_").empty()) return reply.send(response::error(404, "not_found", "no such contact"));
  auto handle = caf::actor_cast<actors::tenant_actor>(svc.dir->tenant_actor(tenant->id));
  if (!handle) return reply.send(response::error(404, "not_found", "no such tenant"));
  const services* s = &svc;
  caf::anon_send(handle, actors::erase_atom::value,
                 actors::erase_contact_request{
                     contact, [s, tid = tenant->id, contact, reply, request_id = req->request_id](result<std::vector<std::string>> ids) {
                       if (!ids) {
                         if (ids.code() == errc::not_found) return reply.send(response::error(404, "not_found", "no such contact"));
                         return reply.send(error_response(ids.err()));
                       }
                       std::vector<storage::write_op> logged = {
                           actors::audit_op(actors::audit_entry{s->time->now_ms(), "contact.erase", tid, contact, request_id})};
                       (void)s->db->write(logged, true);
                       if (s->retention) {
                         caf::anon_send(s->retention, actors::erase_atom::value,
                                        actors::erase_contact_job{tid, contact, std::move(*ids), {}});
                       }
                       std::string out;
                       json_writer w(out);
                       w.begin_object().field("id", contact).field("status", "erasing").end_object();
                       reply.send(response::json(202, std::move(out)));
                     }});
}

void erase_message(const services& svc, request_ptr req, responder reply) {
  auto tenant = active_tenant(svc, *req, reply);
  if (!tenant) return;
  std::string message_id(req->param("mid"));
  auto where = storage::parse_message_id(message_id);
  if (!where) return reply.send(response::error(404, "not_found", "no such message"));
  auto handle = caf::actor_cast<actors::tenant_actor>(svc.dir->tenant_actor(tenant->id));
  if (!handle) return reply.send(response::error(404, "not_found", "no such tenant"));
  const services* s = &svc;
  caf::anon_send(handle, actors::erase_atom::value,
                 actors::erase_message_request{
                     where->first, where->second, [s, tid = tenant->id, message_id, reply, request_id = req->request_id](status st) {
                       if (!st) {
                         if (st.code() == errc::not_found) return reply.send(response::error(404, "not_found", "no such message"));
                         return reply.send(error_response(st.err()));
                       }
                       std::vector<storage::write_op> logged = {
                           actors::audit_op(actors::audit_entry{s->time->now_ms(), "message.erase", tid, message_id, request_id})};
                       (void)s->db->write(logged, true);
                       response r;
                       r.status = 204;
                       r.content_type.clear();
                       reply.send(std::move(r));
                     }});
}

// ---- usage ------------------------------------------------------------------------------

// "YYYY-MM-DD" -> days since the epoch; nullopt when malformed or not a real date.
std::optional<std::int64_t> parse_day(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto digits = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  auto y = digits(0, 4), m = digits(5, 2), d = digits(8, 2);
  if (!y || !m || !d) return std::nullopt;
  return providers::detail::days_since_epoch(*y, *m, *d);  // nullopt for e.g. 2026-02-30
}

constexpr std::int64_t max_usage_days = 366;

void get_usage(const services& svc, request_ptr req, responder reply) {
  auto tenant = active_tenant(svc, *req, reply);
  if (!tenant) return;
  std::int64_t today = svc.time->now_ms() / ms_per_day;
  std::int64_t from = today - 29, to = today;
  if (auto t = req->query_param("to")) {
    auto d = parse_day(*t);
    if (!d) return reply.send(invalid_field("to", "must be a date YYYY-MM-DD"));
    to = *d;
    from = to - 29;
  }
  if (auto f = req->query_param("from")) {
    auto d = parse_day(*f);
    if (!d) return reply.send(invalid_field("from", "must be a date YYYY-MM-DD"));
    from = *d;
  }
  if (from > to) return reply.send(invalid_field("from", "must not be after to"));
  if (to - from + 1 > max_usage_days) return reply.send(invalid_field("from", "at most 366 days at once"));
  auto submitted = svc.readers->submit([&svc, tid = tenant->id, from, to, reply] {
    std::map<std::string, actors::usage_day> stored;
    auto prefix = storage::key_builder().u8(static_cast<std::uint8_t>(storage::meta_kind::usage)).str(tid).take();
    auto cursor = svc.db->scan(storage::family::meta, prefix);
    storage::record rec;
    while (cursor->next(rec)) {
      storage::key_reader r(std::string_view(rec.key).substr(prefix.size()));
      auto period = r.str();
      auto counter = r.str();
      if (!period || !counter || *counter != "day" || period->size() != 10) continue;
      auto day = parse_day(*period);
      if (!day || *day < from || *day > to) continue;
      auto decoded = actors::usage_day::decode(rec.body);
      if (decoded) stored.emplace(*period, std::move(*decoded));
    }
    if (!cursor->error().ok()) return reply.send(error_response(cursor->error().err()));
    std::string out;
    json_writer w(out);
    w.begin_object().key("days").begin_array();
    for (std::int64_t d = from; d <= to; ++d) {
      auto date = actors::utc_day(d * ms_per_day);
      auto it = stored.find(date);
      actors::usage_day day = it != stored.end() ? it->second : actors::usage_day{};
      w.begin_object().field("date", date);
      for (std::size_t c = 0; c < actors::usage_counter_count; ++c) {
        w.key(actors::to_string(static_cast<actors::usage_counter>(c))).number(day.counts[c]);
      }
      w.key("reply_latency_ms").begin_object();
      for (auto [name, p] : {std::pair{"p50", 50.0}, std::pair{"p95", 95.0}}) {
        w.key(name);
        if (auto v = day.latency_percentile(p)) w.number(*v);
        else w.null();
      }
      w.end_object().end_object();
    }
    w.end_array().end_object();
    reply.send(response::json(200, std::move(out)));
  });
  if (!submitted) reply.send(error_response(submitted.err()));
}

}  // namespace

void add_data_routes(http::router& routes, const services& svc) {
  using http::method;
  routes.add(method::get, "/v1/admin/tenants/{tid}/export", admin_only(svc, [&svc](request_ptr req, responder reply) {
               export_tenant(svc, std::move(req), std::move(reply));
             }));
  routes.add(method::get, "/v1/admin/tenants/{tid}/contacts/{ctid}/export",
             admin_only(svc, [&svc](request_ptr req, responder reply) { export_contact(svc, std::move(req), std::move(reply)); }));
  routes.add(method::del, "/v1/admin/tenants/{tid}/contacts/{ctid}",
             admin_only(svc, [&svc](request_ptr req, responder reply) { erase_contact(svc, std::move(req), std::move(reply)); }));
  routes.add(method::get, "/v1/admin/tenants/{tid}/usage",
             admin_only(svc, [&svc](request_ptr req, responder reply) { get_usage(svc, std::move(req), std::move(reply)); }));
  routes.add(method::del, "/v1/admin/tenants/{tid}/messages/{mid}",
             admin_only(svc, [&svc](request_ptr req, responder reply) { erase_message(svc, std::move(req), std::move(reply)); }));
}

}  // namespace parley::engine
