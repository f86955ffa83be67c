#include "tenant_api/tenant_routes.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <boost/json.hpp>
#include <caf/send.hpp>

#include <charconv>

#include "api/http_util.hpp"
#include "parley/actors/feed.hpp"
#include "parley/actors/views.hpp"
#include "parley/hex.hpp"
#include "parley/json_writer.hpp"
#include "parley/storage/keys.hpp"
#include "tenant/tenant_actor.hpp"

namespace parley::engine {
namespace {

using http::request;
using http::responder;
using http::response;
using request_ptr = std::shared_ptr<const request>;
using directory_key = actors::directory::key_ptr;
using storage::family;

constexpr std::int64_t max_wait_seconds = 30;

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// The body as JSON; answers 400 invalid_json itself and returns nullopt when it is not.
std::optional<boost::json::value> parse_body(const request& req, const responder& reply) {
  boost::system::error_code ec;
  auto body = boost::json::parse(req.body, ec);
  if (ec) {
    reply.send(response::error(400, "invalid_json", "the body is not valid JSON"));
    return std::nullopt;
  }
  return body;
}

// Authenticates the API key and runs `work(tenant)` on the blocking pool.
http::handler reader(const services& svc, std::function<void(const services&, const std::string&, request_ptr, responder)> work) {
  return [&svc, work = std::move(work)](request_ptr req, responder reply) {
    auto key = authorize_key(svc, *req, reply, actors::scope_read);
    if (!key) return;
    auto submitted = svc.readers->submit([&svc, work, tenant = key->tenant, req, reply] { work(svc, tenant, req, reply); });
    if (!submitted) reply.send(error_response(submitted.err()));
  };
}

std::string_view not_found_text() { return "no such resource"; }

// Conversation cursors are hex (parley/hex.hpp): safe in a query string without escaping.

// ---- conversations ---------------------------------------------------------------------

void list_conversations(const services& svc, const std::string& tenant, request_ptr req, responder reply) {
  auto limit = list_limit(*req);
  if (!limit) return reply.send(invalid_field("limit", "must be an integer"));
  std::string after;
  if (auto cursor = req->query_param("cursor"); cursor && !cursor->empty()) {
    auto raw = from_hex(*cursor);
    if (!raw) return reply.send(invalid_field("cursor", "malformed"));
    after = storage::activity_prefix(tenant) + *raw;
  }
  auto page = svc.db->read_forward(family::conversations, storage::activity_prefix(tenant), after, *limit + 1);
  if (!page) return reply.send(error_response(page.err()));
  std::string out = "{\"conversations\":[";
  std::size_t n = 0;
  std::string last_key;
  std::int64_t now = svc.time->now_ms();
  for (const auto& entry : *page) {
    if (n == *limit) break;
    storage::key_reader r(std::string_view(entry.key).substr(storage::activity_prefix(tenant).size()));
    (void)r.u64();
    auto contact = r.str();
    if (!contact) continue;
    auto state = svc.db->get(family::conversations, storage::conversation_key(tenant, *contact));
    if (!state) continue;  // erased meanwhile
    auto decoded = storage::decode_conversation(state->body);
    if (!decoded) continue;
    if (n > 0) out += ",";
    out += actors::render_conversation(*decoded, now);
    ++n;
    last_key = entry.key;
  }
  out += "],\"next_cursor\":";
  if (page->size() > *limit && !last_key.empty()) {
    json_writer::escape_into(out, to_hex(std::string_view(last_key).substr(storage::activity_prefix(tenant).size())));
  } else {
    out += "null";
  }
  out += "}";
  reply.send(response::json(200, std::move(out)));
}

result<storage::conversation_state> load_conversation(const services& svc, const std::string& tenant, std::string_view id) {
  auto contact = storage::contact_id_for_conversation(id);
  if (contact.empty()) return make_error(errc::not_found, std::string(not_found_text()));
  auto state = svc.db->get(family::conversations, storage::conversation_key(tenant, contact));
  if (!state) return std::move(state).err();
  return storage::decode_conversation(state->body);
}

void get_conversation(const services& svc, const std::string& tenant, request_ptr req, responder reply) {
  auto c = load_conversation(svc, tenant, req->param("id"));
  if (!c) return reply.send(c.code() == errc::not_found ? response::error(404, "not_found", not_found_text()) : error_response(c.err()));
  reply.send(response::json(200, actors::render_conversation(*c, svc.time->now_ms())));
}

void list_messages(const services& svc, const std::string& tenant, request_ptr req, responder reply) {
  auto limit = list_limit(*req);
  if (!limit) return reply.send(invalid_field("limit", "must be an integer"));
  std::string conversation_id(req->param("id"));
  auto c = load_conversation(svc, tenant, conversation_id);
  if (!c) return reply.send(c.code() == errc::not_found ? response::error(404, "not_found", not_found_text()) : error_response(c.err()));
  std::string before_key;
  if (auto before = req->query_param("before"); before && !before->empty()) {
    auto seq = parse_u64(*before);
    if (!seq) return reply.send(invalid_field("before", "must be a sequence number"));
    before_key = storage::message_key(tenant, c->contact_id, *seq);
  }
  auto page = svc.db->read_reverse(family::messages, storage::message_prefix(tenant, c->contact_id), before_key, *limit + 1);
  if (!page) return reply.send(error_response(page.err()));
  std::string out;
  std::size_t expected = 64;  // the rendered page is about the stored bodies plus each message's fields
  for (const auto& rec : *page) expected += rec.body.size() + 320;
  out.reserve(expected);
  out = "{\"messages\":[";
  std::size_t n = 0;
  std::uint64_t last_seq = 0;
  for (const auto& rec : *page) {
    if (n == *limit) break;
    auto m = storage::decode_message(rec.body);
    if (!m) continue;
    if (n > 0) out += ",";
    actors::append_message(out, *m, conversation_id, true);
    last_seq = m->seq;
    ++n;
  }
  out += "],\"next_before\":";
  out += page->size() > *limit ? "\"" + std::to_string(last_seq) + "\"" : "null";
  out += "}";
  reply.send(response::json(200, std::move(out)));
}

void get_message(const services& svc, const std::string& tenant, request_ptr req, responder reply) {
  auto where = storage::parse_message_id(req->param("id"));
  if (!where) return reply.send(response::error(404, "not_found", not_found_text()));
  auto rec = svc.db->get(family::messages, storage::message_key(tenant, where->first, where->second));
  if (!rec) return reply.send(rec.code() == errc::not_found ? response::error(404, "not_found", not_found_text()) : error_response(rec.err()));
  auto m = storage::decode_message(rec->body);
  if (!m) return reply.send(error_response(m.err()));
  reply.send(response::json(200, actors::render_message(*m, storage::conversation_id_for(where->first), false)));
}

// ---- events ------------------------------------------------------------------------------

struct feed_query {
  std::string tenant;
  std::uint64_t after = 0;
  std::size_t limit = 500;
};

// Reads the feed after the cursor; true when it answered (events found or no waiting).
bool answer_events(const services& svc, const feed_query& q, const responder& reply, bool must_answer) {
  auto page = actors::read_event_page(*svc.db, q.tenant, q.after, q.limit, svc.writer.get());
  if (!page) {
    reply.send(error_response(page.err()));
    return true;
  }
  if (page->count == 0 && !must_answer) return false;
  reply.send(response::json(200, "{\"events\":" + page->events_json + ",\"next_cursor\":\"" + std::to_string(page->last) + "\"}"));
  return true;
}

void get_events(const services& svc, const std::string& tenant, request_ptr req, responder reply) {
  feed_query q{tenant, 0, 500};
  if (auto after = req->query_param("after"); after && !after->empty()) {
    auto text = std::string_view(*after);
    if (text.substr(0, 3) == "ev_") text.remove_prefix(3);
    auto v = parse_u64(text);
    if (!v) return reply.send(invalid_field("after", "must be a cursor from next_cursor"));
    q.after = *v;
  }
  if (req->query_param("limit")) {
    auto limit = list_limit(*req);
    if (!limit) return reply.send(invalid_field("limit", "must be an integer"));
    q.limit = *limit;
  }
  std::int64_t wait = 0;
  if (auto w = req->query_param("wait"); w && !w->empty()) {
    auto v = parse_u64(*w);
    if (!v) return reply.send(invalid_field("wait", "must be seconds (0-30)"));
    wait = std::min<std::int64_t>(static_cast<std::int64_t>(*v), max_wait_seconds);
  }
  if (answer_events(svc, q, reply, wait == 0)) return;

  // Long-poll: answer when an event commits or the wait runs out, whichever is first.
  // Both ways in run on one strand: the timer and the feed notification (which fires on
  // the storage writer's thread and is posted over).
  auto strand = boost::asio::make_strand(*svc.io);
  auto fired = std::make_shared<std::atomic<bool>>(false);
  auto timer = std::make_shared<boost::asio::steady_timer>(strand, std::chrono::seconds(wait));
  auto ticket = std::make_shared<std::atomic<std::uint64_t>>(0);
  const services* s = &svc;
  auto finish = [s, q, reply, fired, timer, ticket] {
    if (fired->exchange(true)) return;
    timer->cancel();
    s->dir->feeds().cancel(q.tenant, ticket->load());
    auto submitted = s->readers->submit([s, q, reply] { answer_events(*s, q, reply, true); });
    if (!submitted) reply.send(error_response(submitted.err()));
  };
  timer->async_wait([finish](const boost::system::error_code&) { finish(); });
  boost::asio::post(strand, [s, q, finish, strand, ticket] {
    ticket->store(s->dir->feeds().wait(q.tenant, q.after, [strand, finish] { boost::asio::post(strand, finish); }));
  });
}

// POST /v1/contacts/{id}/merge {"other_contact_id"}: scope send (it changes data).
void merge_contacts(const services& svc, request_ptr req, responder reply) {
  auto key = authorize_key(svc, *req, reply, actors::scope_send);
  if (!key) return;
  auto body = parse_body(*req, reply);
  if (!body) return;
  const auto* obj = body->if_object();
  const auto* other = obj ? obj->if_contains("other_contact_id") : nullptr;
  if (other == nullptr || !other->is_string()) return reply.send(invalid_field("other_contact_id", "required string"));
  std::string contact(req->param("id"));
  std::string other_id(other->as_string());
  if (storage::id_tail(contact, "ct_").empty() || storage::id_tail(other_id, "ct_").empty()) {
    return reply.send(response::error(404, "not_found", not_found_text()));
  }
  auto tenant = caf::actor_cast<actors::tenant_actor>(svc.dir->tenant_actor(key->tenant));
  if (!tenant) return reply.send(response::error(404, "not_found", not_found_text()));
  caf::anon_send(tenant, actors::merge_atom::value,
                 actors::merge_request{contact, other_id, [reply](result<storage::conversation_state> merged) {
                                         if (!merged) {
                                           if (merged.code() == errc::not_found || merged.code() == errc::key_destroyed) {
                                             return reply.send(response::error(404, "not_found", not_found_text()));
                                           }
                                           return reply.send(error_response(merged.err()));
                                         }
                                         std::string out;
                                         json_writer w(out);
                                         w.begin_object()
                                             .field("id", merged->contact_id)
                                             .field("conversation_id", storage::conversation_id_for(merged->contact_id));
                                         if (!merged->display_name.empty()) w.field("name", merged->display_name);
                                         w.key("identities").begin_array();
                                         for (const auto& id : merged->identities) {
                                           w.begin_object()
                                               .field("channel_id", id.channel_id)
                                               .field("channel_type", to_string(id.channel))
                                               .field("external_id", id.external_id)
                                               .end_object();
                                         }
                                         w.end_array().key("message_count").number(merged->message_count).end_object();
                                         reply.send(response::json(200, std::move(out)));
                                       }});
}

// PUT /v1/contacts/{id}/consent {"channel_id","opted_in"}: scope send.
void put_consent(const services& svc, request_ptr req, responder reply) {
  auto key = authorize_key(svc, *req, reply, actors::scope_send);
  if (!key) return;
  auto body = parse_body(*req, reply);
  if (!body) return;
  const auto* obj = body->if_object();
  const auto* channel_id = obj ? obj->if_contains("channel_id") : nullptr;
  const auto* opted_in = obj ? obj->if_contains("opted_in") : nullptr;
  if (channel_id == nullptr || !channel_id->is_string()) return reply.send(invalid_field("channel_id", "required string"));
  if (opted_in == nullptr || !opted_in->is_bool()) return reply.send(invalid_field("opted_in", "required boolean"));
  auto channel = svc.dir->channel(std::string_view(channel_id->as_string()));
  if (!channel || channel->tenant != key->tenant) {
    return reply.send(response::error(404, "channel_not_found", "no such channel"));
  }
  std::string contact(req->param("id"));
  auto tenant = caf::actor_cast<actors::tenant_actor>(svc.dir->tenant_actor(key->tenant));
  if (storage::id_tail(contact, "ct_").empty() || !tenant) {
    return reply.send(response::error(404, "not_found", not_found_text()));
  }
  std::string channel_text(channel->id);
  caf::anon_send(tenant, actors::consent_atom::value,
                 actors::consent_request{contact, channel, opted_in->as_bool(),
                                         [reply, contact, channel_text](result<storage::consent_state> r) {
                                           if (!r) {
                                             if (r.code() == errc::not_found || r.code() == errc::key_destroyed) {
                                               return reply.send(response::error(404, "not_found", not_found_text()));
                                             }
                                             return reply.send(error_response(r.err()));
                                           }
                                           std::string out;
                                           json_writer w(out);
                                           w.begin_object()
                                               .field("contact_id", contact)
                                               .field("channel_id", channel_text)
                                               .field("consent", storage::to_string(*r))
                                               .end_object();
                                           reply.send(response::json(200, std::move(out)));
                                         }});
}

}  // namespace

actors::directory::key_ptr authorize_key(const services& svc, const http::request& req, const http::responder& reply,
                                        std::uint8_t scope) {
  auto token = bearer_token(req);
  auto key = token ? svc.dir->key_by_hash(actors::hash_api_key(*token)) : nullptr;
  if (!key) {
    reply.send(http::response::error(401, "unauthorized", "missing or invalid API key"));
    return nullptr;
  }
  if ((key->scopes & scope) == 0) {
    reply.send(http::response::error(403, "forbidden",
                               scope == actors::scope_read ? "this API key lacks the read scope"
                                                           : "this API key lacks the send scope"));
    return nullptr;
  }
  return key;
}

void add_tenant_routes(http::router& routes, const services& svc) {
  using http::method;
  routes.add(method::get, "/v1/conversations", reader(svc, list_conversations));
  routes.add(method::get, "/v1/conversations/{id}", reader(svc, get_conversation));
  routes.add(method::get, "/v1/conversations/{id}/messages", reader(svc, list_messages));
  routes.add(method::get, "/v1/messages/{id}", reader(svc, get_message));
  routes.add(method::get, "/v1/events", reader(svc, get_events));
  routes.add(method::put, "/v1/contacts/{id}/consent",
             [&svc](request_ptr req, responder reply) { put_consent(svc, std::move(req), std::move(reply)); });
  routes.add(method::post, "/v1/contacts/{id}/merge",
             [&svc](request_ptr req, responder reply) { merge_contacts(svc, std::move(req), std::move(reply)); });
}

}  // namespace parley::engine
