#include "parley/actors/views.hpp"

#include "parley/json_writer.hpp"

namespace parley::actors {

std::string render_message(const storage::message_record& m, std::string_view conversation_id, bool with_seq) {
  std::string out;
  out.reserve(384 + (m.text ? m.text->size() : 0) + m.details_json.size());
  append_message(out, m, conversation_id, with_seq);
  return out;
}

void append_message(std::string& out, const storage::message_record& m, std::string_view conversation_id,
                    bool with_seq) {
  json_writer w(out);
  w.begin_object();
  w.field("id", m.id).field("conversation_id", conversation_id).field("channel_id", m.channel_id);
  w.field("channel_type", to_string(m.channel));
  w.field("direction", m.outbound ? "outbound" : "inbound").field("type", to_string(m.kind));
  w.key("text");
  if (m.text) w.string(*m.text);
  else w.null();
  w.field("status", to_string(m.status));
  w.key("status_history").begin_array();
  for (const auto& h : m.status_history) {
    w.begin_object().field("status", to_string(h.status)).field("at", rfc3339(h.at_ms).view()).end_object();
  }
  w.end_array();
  if (!m.error_code.empty() || !m.error_message.empty()) {
    w.key("error").begin_object().field("code", m.error_code).field("message", m.error_message).end_object();
  }
  w.key("provider_message_id");
  if (m.provider_message_id.empty()) w.null();
  else w.string(m.provider_message_id);
  w.field("external_id", m.external_id);
  w.field("created_at", rfc3339(m.provider_ts_ms != 0 ? m.provider_ts_ms : m.created_at_ms).view());
  w.field("received_at", rfc3339(m.created_at_ms).view());
  if (!m.reply_to.empty()) w.field("reply_to", m.reply_to);
  if (m.edited) w.key("edited").boolean(true);
  if (with_seq) w.key("seq").number(m.seq);
  // Kind-specific objects (media, location, email, ...) sit beside the common fields.
  if (m.details_json.size() > 2 && m.details_json.front() == '{' && m.details_json.back() == '}') {
    out.push_back(',');
    out.append(m.details_json, 1, m.details_json.size() - 2);
  }
  out.push_back('}');
}

std::string render_conversation(const storage::conversation_state& c, std::int64_t now_ms) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.field("id", storage::conversation_id_for(c.contact_id));
  w.key("contact").begin_object().field("id", c.contact_id);
  if (!c.display_name.empty()) w.field("name", c.display_name);
  write_identities(w, c.identities);
  w.end_object();
  w.key("last_message_at");
  if (c.last_message_at_ms > 0) w.string(rfc3339(c.last_message_at_ms).view());
  else w.null();
  w.key("message_count").number(c.message_count);
  w.key("windows").begin_object();
  for (const auto& ch : c.channels) {
    if (!has_service_window(ch.channel)) continue;
    w.key(ch.channel_id).begin_object();
    w.key("expires_at");
    if (ch.window_expires_ms > 0) w.string(rfc3339(ch.window_expires_ms).view());
    else w.null();
    w.key("open").boolean(ch.window_expires_ms > now_ms).end_object();
  }
  w.end_object();
  w.key("consent").begin_object();
  for (const auto& ch : c.channels) w.field(ch.channel_id, to_string(ch.consent));
  w.end_object();
  w.end_object();
  return out;
}

void write_identities(json_writer& w, const std::vector<storage::identity_entry>& identities) {
  w.key("identities").begin_array();
  for (const auto& id : identities) {
    w.begin_object()
        .field("channel_id", id.channel_id)
        .field("channel_type", to_string(id.channel))
        .field("external_id", id.external_id)
        .end_object();
  }
  w.end_array();
}

std::string render_event(std::string_view type, std::int64_t at_ms, std::string_view data_json) {
  std::string out;
  out.reserve(64 + data_json.size());
  json_writer w(out);
  w.begin_object().field("type", type).field("at", rfc3339(at_ms).view()).key("data").raw(data_json).end_object();
  return out;
}

std::string render_event_ref(std::string_view type, std::int64_t at_ms, std::string_view contact, std::uint64_t seq,
                             std::string_view status) {
  std::string out;
  out.reserve(128);
  json_writer w(out);
  w.begin_object().field("type", type).field("at", rfc3339(at_ms).view());
  w.key("ref").begin_object().field("contact", contact).key("seq").number(seq).end_object();
  if (!status.empty()) w.field("status", status);
  w.end_object();
  return out;
}

}  // namespace parley::actors
