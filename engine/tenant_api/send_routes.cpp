#include "tenant_api/tenant_routes.hpp"

#include <boost/json.hpp>
#include <caf/send.hpp>
#include <openssl/evp.h>

#include <atomic>
#include <mutex>

#include "api/http_util.hpp"
#include "parley/hex.hpp"
#include "parley/json_writer.hpp"
#include "providers/common/time_parse.hpp"
#include "providers/provider.hpp"
#include "tenant/tenant_actor.hpp"

namespace parley::engine {
namespace {

using http::request;
using http::responder;
using http::response;
using request_ptr = std::shared_ptr<const request>;
namespace json = boost::json;

constexpr std::size_t max_batch = 1000;
constexpr std::size_t max_text_bytes = 65'536;

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), size));
}

// A problem with one message of a request, as API.md names it.
struct refusal {
  unsigned status = 400;
  std::string code;
  std::string message;
  std::int64_t retry_after_s = 0;
};

refusal invalid(std::string_view field, std::string_view why) {
  return refusal{400, "invalid_request", std::string(field) + ": " + std::string(why), 0};
}

const json::string* string_field(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v != nullptr ? v->if_string() : nullptr;
}

// Reads one message of `POST /v1/messages` into a send request for `tenant`; a refusal
// when a field is missing or wrong, the channel is not the tenant's, or the type cannot
// be sent on it.
std::optional<refusal> read_message(const services& svc, const std::string& tenant, const json::value& body,
                                    actors::send_request& out) {
  const auto* o = body.if_object();
  if (o == nullptr) return invalid("body", "must be a JSON object");
  const auto* channel_id = string_field(*o, "channel_id");
  if (channel_id == nullptr) return invalid("channel_id", "required string");
  auto channel = svc.dir->channel(std::string_view(*channel_id));
  if (!channel || channel->tenant != tenant) return refusal{404, "channel_not_found", "no such channel", 0};
  out.channel = channel;

  const auto* to = o->if_contains("to");
  const auto* contact = o->if_contains("contact_id");
  if ((to == nullptr) == (contact == nullptr)) return invalid("to", "give exactly one of to and contact_id");
  if (to != nullptr) {
    if (!to->is_string() || to->as_string().empty() || to->as_string().size() > 320) {
      return invalid("to", "must be a non-empty string");
    }
    out.payload.to = std::string(to->as_string());
  } else {
    if (!contact->is_string() || contact->as_string().empty()) return invalid("contact_id", "must be a contact id");
    out.contact_id = std::string(contact->as_string());
  }

  const auto* type = string_field(*o, "type");
  if (type == nullptr) return invalid("type", "required string");
  auto& p = out.payload;
  if (*type == "text") {
    const auto* text = o->if_contains("text");
    const auto* t = text != nullptr && text->is_object() ? string_field(text->as_object(), "body") : nullptr;
    if (t == nullptr || t->empty()) return invalid("text.body", "required non-empty string");
    if (t->size() > max_text_bytes) return invalid("text.body", "too long");
    p.kind = message_kind::text;
    p.text = std::string(*t);
  } else if (*type == "template") {
    const auto* tpl = o->if_contains("template");
    if (tpl == nullptr || !tpl->is_object()) return invalid("template", "required object");
    const auto& t = tpl->as_object();
    const auto* name = string_field(t, "name");
    if (name == nullptr || name->empty()) return invalid("template.name", "required string");
    const auto* language = t.if_contains("language");
    std::string code;
    if (language != nullptr && language->is_string()) code = std::string(language->as_string());
    else if (language != nullptr && language->is_object() && string_field(language->as_object(), "code") != nullptr)
      code = std::string(*string_field(language->as_object(), "code"));
    if (code.empty()) return invalid("template.language", "required, e.g. \"en_US\"");
    p.kind = message_kind::template_message;
    p.template_name = std::string(*name);
    p.template_language = std::move(code);
    if (const auto* components = t.if_contains("components"); components != nullptr) {
      if (!components->is_array()) return invalid("template.components", "must be an array");
      p.template_components_json = json::serialize(*components);
    }
  } else if (*type == "email") {
    const auto* email = o->if_contains("email");
    if (email == nullptr || !email->is_object()) return invalid("email", "required object");
    const auto& e = email->as_object();
    const auto* subject = string_field(e, "subject");
    const auto* text = string_field(e, "text");
    const auto* html = string_field(e, "html");
    if (subject == nullptr || subject->empty()) return invalid("email.subject", "required string");
    if ((text == nullptr || text->empty()) && (html == nullptr || html->empty())) {
      return invalid("email.text", "give text or html");
    }
    p.kind = message_kind::email;
    p.email_subject = std::string(*subject);
    if (text != nullptr) p.text = std::string(*text);
    if (html != nullptr) p.email_html = std::string(*html);
  } else if (*type == "image" || *type == "document") {
    const auto* media = o->if_contains("media");
    if (media == nullptr || !media->is_object()) return invalid("media", "required object");
    const auto& m = media->as_object();
    const auto* url = string_field(m, "url");
    if (url == nullptr || !(url->starts_with("https://") || url->starts_with("http://"))) {
      return invalid("media.url", "required http(s) URL");
    }
    p.kind = *type == "image" ? message_kind::image : message_kind::document;
    p.media_url = std::string(*url);
    if (const auto* caption = string_field(m, "caption")) p.text = std::string(*caption);
    if (const auto* filename = string_field(m, "filename")) p.filename = std::string(*filename);
  } else {
    return invalid("type", "one of text, template, email, image, document");
  }
  if (!providers::kind_sendable(channel->type, p.kind)) {
    return refusal{422, "unsupported_type",
                   "a " + std::string(*type) + " message cannot be sent on a " + std::string(to_string(channel->type)) +
                       " channel",
                   0};
  }

  if (const auto* key = o->if_contains("idempotency_key"); key != nullptr) {
    if (!key->is_string() || key->as_string().empty() || key->as_string().size() > 255) {
      return invalid("idempotency_key", "1 to 255 characters");
    }
    out.idempotency_key = std::string(key->as_string());
  }
  if (const auto* priority = o->if_contains("priority"); priority != nullptr) {
    if (!priority->is_string() || (priority->as_string() != "conversational" && priority->as_string() != "bulk")) {
      return invalid("priority", "conversational or bulk");
    }
    out.bulk = priority->as_string() == "bulk";
  }
  if (const auto* send_at = o->if_contains("send_at"); send_at != nullptr && !send_at->is_null()) {
    auto at = send_at->is_string() ? providers::detail::parse_iso8601_ms(send_at->as_string()) : std::nullopt;
    if (!at) return invalid("send_at", "RFC 3339 time, e.g. 2026-11-22T10:00:00Z");
    out.not_before_ms = *at;
  }
  if (const auto* valid = o->if_contains("valid_for_seconds"); valid != nullptr && !valid->is_null()) {
    if (!valid->is_int64() || valid->as_int64() <= 0 || valid->as_int64() > 30LL * 86'400) {
      return invalid("valid_for_seconds", "a positive number of seconds (at most 30 days)");
    }
    out.valid_for_ms = valid->as_int64() * 1000;
  }
  if (const auto* messaging_type = string_field(*o, "messaging_type")) p.messaging_type = std::string(*messaging_type);
  if (const auto* tag = string_field(*o, "tag")) {
    p.tag = std::string(*tag);
    p.messaging_type = "MESSAGE_TAG";
  }
  return std::nullopt;
}

// The API's view of an answer: status, body object and the Retry-After of a 429.
struct rendered {
  unsigned status = 202;
  std::string body;
  std::int64_t retry_after_s = 0;
};

std::string error_object(std::string_view code, std::string_view message) {
  std::string out;
  json_writer w(out);
  w.begin_object().key("error").begin_object().field("code", code).field("message", message).end_object().end_object();
  return out;
}

rendered render_refusal(const refusal& r) { return rendered{r.status, error_object(r.code, r.message), r.retry_after_s}; }

rendered render_answer(const result<actors::send_answer>& r) {
  using actors::send_refusal;
  if (!r) {
    auto e = error_response(r.err());
    return rendered{e.status, e.body, 0};
  }
  switch (r->refusal) {
    case send_refusal::none: break;
    case send_refusal::window_closed:
      return render_refusal({422, "window_closed", "outside the 24-hour window only templates may be sent", 0});
    case send_refusal::opted_out:
      return render_refusal({422, "opted_out", "the contact opted out of messages on this channel", 0});
    case send_refusal::idempotency_conflict:
      return render_refusal({409, "idempotency_conflict", "this idempotency key was used with a different request", 0});
    case send_refusal::rate_limited:
      return render_refusal({429, "rate_limited", "too many send requests; retry later", r->retry_after_s});
    case send_refusal::quota_exceeded:
      return render_refusal({429, "quota_exceeded", "the monthly outbound quota is used up", 0});
    case send_refusal::contact_not_found: return render_refusal({404, "not_found", "no such contact", 0});
    case send_refusal::no_identity:
      return render_refusal(invalid("contact_id", "the contact has no identity on this channel"));
  }
  std::string out;
  json_writer w(out);
  w.begin_object()
      .field("id", r->message_id)
      .field("conversation_id", r->conversation_id)
      .field("status", to_string(r->status))
      .end_object();
  return rendered{r->replayed ? 200u : 202u, std::move(out), 0};
}

response to_response(rendered r) {
  auto resp = response::json(r.status, std::move(r.body));
  if (r.retry_after_s > 0) resp.headers.emplace_back("Retry-After", std::to_string(r.retry_after_s));
  return resp;
}

// Hands one read message to the tenant actor; `done` gets the answer (on any thread).
void submit(const services& svc, const std::string& tenant, actors::send_request req,
            std::function<void(result<actors::send_answer>)> done) {
  auto actor = caf::actor_cast<actors::tenant_actor>(svc.dir->tenant_actor(tenant));
  if (!actor) return done(make_error(errc::not_found, "no such tenant"));
  req.done = std::move(done);
  caf::anon_send(actor, actors::send_atom::value, std::move(req));
}

void post_message(const services& svc, request_ptr req, responder reply) {
  auto key = authorize_key(svc, *req, reply, actors::scope_send);
  if (!key) return;
  boost::system::error_code ec;
  auto body = json::parse(req->body, ec);
  if (ec) return reply.send(response::error(400, "invalid_json", "the body is not valid JSON"));
  actors::send_request send;
  if (auto bad = read_message(svc, key->tenant, body, send)) return reply.send(to_response(render_refusal(*bad)));
  send.request_digest = sha256_hex(req->body);
  submit(svc, key->tenant, std::move(send),
         [reply](result<actors::send_answer> r) { reply.send(to_response(render_answer(r))); });
}

// A batch: every item is read and sent on its own; the answer lists each one's outcome
// in request order once all are known.
struct batch_state {
  std::mutex mutex;
  std::vector<std::string> items;
  std::atomic<std::size_t> remaining{0};
  responder reply;

  void set(std::size_t i, const rendered& r) {
    {
      std::lock_guard lock(mutex);
      items[i] = r.body;  // {"id", "conversation_id", "status"} or {"error": {...}}
    }
    if (remaining.fetch_sub(1) == 1) finish();
  }

  void finish() {
    std::string out = "{\"results\":[";
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) out += ",";
      out += items[i];
    }
    out += "]}";
    reply.send(response::json(200, std::move(out)));
  }
};

void post_batch(const services& svc, request_ptr req, responder reply) {
  auto key = authorize_key(svc, *req, reply, actors::scope_send);
  if (!key) return;
  boost::system::error_code ec;
  auto body = json::parse(req->body, ec);
  if (ec) return reply.send(response::error(400, "invalid_json", "the body is not valid JSON"));
  const auto* o = body.if_object();
  const auto* messages = o != nullptr ? o->if_contains("messages") : nullptr;
  if (messages == nullptr || !messages->is_array() || messages->as_array().empty()) {
    return reply.send(invalid_field("messages", "required non-empty array"));
  }
  const auto& list = messages->as_array();
  if (list.size() > max_batch) return reply.send(invalid_field("messages", "at most 1000 per batch"));
  auto state = std::make_shared<batch_state>();
  state->items.resize(list.size());
  state->remaining = list.size();
  state->reply = reply;
  for (std::size_t i = 0; i < list.size(); ++i) {
    actors::send_request send;
    if (auto bad = read_message(svc, key->tenant, list[i], send)) {
      state->set(i, render_refusal(*bad));
      continue;
    }
    send.request_digest = sha256_hex(json::serialize(list[i]));
    submit(svc, key->tenant, std::move(send),
           [state, i](result<actors::send_answer> r) { state->set(i, render_answer(r)); });
  }
}

}  // namespace

void add_send_routes(http::router& routes, const services& svc) {
  using http::method;
  routes.add(method::post, "/v1/messages", [&svc](request_ptr req, responder reply) { post_message(svc, std::move(req), std::move(reply)); });
  routes.add(method::post, "/v1/messages/batch",
             [&svc](request_ptr req, responder reply) { post_batch(svc, std::move(req), std::move(reply)); });
}

}  // namespace parley::engine
