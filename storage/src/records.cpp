#include "parley/storage/records.hpp"

#include <cstdio>
#include <ctime>

#include <charconv>
#include <limits>

#include "parley/schemas/records_generated.h"
#include "parley/storage/families.hpp"
#include "parley/storage/keys.hpp"

namespace parley::storage {
namespace {

namespace fb = parley::schemas;

flatbuffers::Offset<flatbuffers::String> opt_string(flatbuffers::FlatBufferBuilder& b, std::string_view s) {
  return s.empty() ? 0 : b.CreateString(s.data(), s.size());
}

std::string str(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

template <class T>
const T* verified_root(std::string_view bytes) {
  flatbuffers::Verifier verifier(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  if (!verifier.VerifyBuffer<T>(nullptr)) return nullptr;
  return flatbuffers::GetRoot<T>(bytes.data());
}

std::string finish(flatbuffers::FlatBufferBuilder& b) {
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

// Decoding copies the bytes into a std::string first: FlatBuffers needs aligned input
// and heap strings are; RocksDB slices are not.
struct aligned_copy {
  explicit aligned_copy(std::string_view bytes) : data(bytes) {}
  std::string data;
};

}  // namespace

std::string_view to_string(consent_state c) noexcept {
  switch (c) {
    case consent_state::opted_in: return "opted_in";
    case consent_state::opted_out: return "opted_out";
    default: return "unknown";
  }
}

channel_state& conversation_state::channel(std::string_view channel_id, channel_type type) {
  for (auto& c : channels) {
    if (c.channel_id == channel_id) return c;
  }
  channels.push_back(channel_state{std::string(channel_id), type, 0, consent_state::unknown});
  return channels.back();
}

const channel_state* conversation_state::find_channel(std::string_view channel_id) const {
  for (const auto& c : channels) {
    if (c.channel_id == channel_id) return &c;
  }
  return nullptr;
}

std::string encode(const message_record& m) {
  // Sized for the whole record up front (table, vtable, each string with its length and
  // terminator): a builder that grows copies itself each time.
  flatbuffers::FlatBufferBuilder b(192 + 24 * m.status_history.size() + 8 * 8 + m.id.size() + m.channel_id.size() +
                                   (m.text ? m.text->size() : 0) + m.details_json.size() +
                                   m.provider_message_id.size() + m.external_id.size() + m.error_code.size() +
                                   m.error_message.size() + m.reply_to.size());
  std::vector<flatbuffers::Offset<fb::StatusEntry>> history;
  history.reserve(m.status_history.size());
  for (const auto& h : m.status_history) {
    history.push_back(fb::CreateStatusEntry(b, static_cast<std::uint8_t>(h.status), h.at_ms));
  }
  auto history_v = b.CreateVector(history);
  auto id = b.CreateString(m.id);
  auto channel_id = b.CreateString(m.channel_id);
  auto text = m.text ? b.CreateString(*m.text) : 0;
  auto details = b.CreateString(m.details_json);
  auto provider_id = opt_string(b, m.provider_message_id);
  auto external_id = opt_string(b, m.external_id);
  auto error_code = opt_string(b, m.error_code);
  auto error_message = opt_string(b, m.error_message);
  auto reply_to = opt_string(b, m.reply_to);
  fb::MessageRecordBuilder mb(b);
  mb.add_id(id);
  mb.add_seq(m.seq);
  mb.add_channel_id(channel_id);
  mb.add_channel_type(static_cast<std::uint8_t>(m.channel));
  mb.add_outbound(m.outbound);
  mb.add_kind(static_cast<std::uint8_t>(m.kind));
  if (m.text) mb.add_text(text);
  mb.add_has_text(m.text.has_value());
  mb.add_details_json(details);
  if (!m.provider_message_id.empty()) mb.add_provider_message_id(provider_id);
  if (!m.external_id.empty()) mb.add_external_id(external_id);
  mb.add_status(static_cast<std::uint8_t>(m.status));
  mb.add_status_history(history_v);
  if (!m.error_code.empty()) mb.add_error_code(error_code);
  if (!m.error_message.empty()) mb.add_error_message(error_message);
  mb.add_provider_ts_ms(m.provider_ts_ms);
  mb.add_created_at_ms(m.created_at_ms);
  if (!m.reply_to.empty()) mb.add_reply_to(reply_to);
  mb.add_edited(m.edited);
  b.Finish(mb.Finish());
  return finish(b);
}

result<message_record> decode_message(std::string_view bytes) {
  aligned_copy copy(bytes);
  const auto* r = verified_root<fb::MessageRecord>(copy.data);
  if (r == nullptr) return make_error(errc::corruption, "message record does not parse");
  message_record m;
  m.id = str(r->id());
  m.seq = r->seq();
  m.channel_id = str(r->channel_id());
  m.channel = static_cast<channel_type>(r->channel_type());
  m.outbound = r->outbound();
  m.kind = static_cast<message_kind>(r->kind());
  if (r->has_text()) m.text = str(r->text());
  m.details_json = r->details_json() ? r->details_json()->str() : "{}";
  m.provider_message_id = str(r->provider_message_id());
  m.external_id = str(r->external_id());
  m.status = static_cast<delivery_status>(r->status());
  if (r->status_history()) {
    for (const auto* h : *r->status_history()) {
      m.status_history.push_back(status_entry{static_cast<delivery_status>(h->status()), h->at_ms()});
    }
  }
  m.error_code = str(r->error_code());
  m.error_message = str(r->error_message());
  m.provider_ts_ms = r->provider_ts_ms();
  m.created_at_ms = r->created_at_ms();
  m.reply_to = str(r->reply_to());
  m.edited = r->edited();
  return m;
}

std::string encode(const conversation_state& c) {
  // Sized for the whole record up front: a builder that grows copies itself each time.
  std::size_t size = 192 + c.contact_id.size() + c.display_name.size() + c.phone_e164.size() + c.email.size();
  for (const auto& ch : c.channels) size += 48 + ch.channel_id.size();
  for (const auto& id : c.identities) size += 56 + id.channel_id.size() + id.external_id.size();
  flatbuffers::FlatBufferBuilder b(size);
  std::vector<flatbuffers::Offset<fb::ChannelState>> channels;
  channels.reserve(c.channels.size());
  for (const auto& ch : c.channels) {
    channels.push_back(fb::CreateChannelState(b, b.CreateString(ch.channel_id), static_cast<std::uint8_t>(ch.channel),
                                              ch.window_expires_ms, static_cast<std::uint8_t>(ch.consent)));
  }
  std::vector<flatbuffers::Offset<fb::IdentityEntry>> identities;
  identities.reserve(c.identities.size());
  for (const auto& id : c.identities) {
    identities.push_back(fb::CreateIdentityEntry(
        b, b.CreateString(id.channel_id), static_cast<std::uint8_t>(id.channel), b.CreateString(id.external_id)));
  }
  auto channels_v = b.CreateVector(channels);
  auto identities_v = b.CreateVector(identities);
  auto contact = b.CreateString(c.contact_id);
  auto name = b.CreateString(c.display_name);
  auto phone = b.CreateString(c.phone_e164);
  auto email = b.CreateString(c.email);
  b.Finish(fb::CreateConversationState(b, contact, c.last_seq, c.message_count, c.last_message_at_ms, channels_v,
                                       identities_v, name, phone, email, c.awaiting_reply_since_ms));
  return finish(b);
}

result<conversation_state> decode_conversation(std::string_view bytes) {
  aligned_copy copy(bytes);
  const auto* r = verified_root<fb::ConversationState>(copy.data);
  if (r == nullptr) return make_error(errc::corruption, "conversation state does not parse");
  conversation_state c;
  c.contact_id = str(r->contact_id());
  c.last_seq = r->last_seq();
  c.message_count = r->message_count();
  c.last_message_at_ms = r->last_message_at_ms();
  if (r->channels()) {
    for (const auto* ch : *r->channels()) {
      c.channels.push_back(channel_state{str(ch->channel_id()), static_cast<channel_type>(ch->channel_type()),
                                         ch->window_expires_ms(), static_cast<consent_state>(ch->consent())});
    }
  }
  if (r->identities()) {
    for (const auto* id : *r->identities()) {
      c.identities.push_back(identity_entry{str(id->channel_id()), static_cast<channel_type>(id->channel_type()),
                                            str(id->external_id())});
    }
  }
  c.display_name = str(r->display_name());
  c.phone_e164 = str(r->phone_e164());
  c.email = str(r->email());
  c.awaiting_reply_since_ms = r->awaiting_reply_since_ms();
  return c;
}

std::string id_tail(std::string_view id, std::string_view prefix) {
  if (id.size() <= prefix.size() || id.substr(0, prefix.size()) != prefix) return {};
  auto tail = id.substr(prefix.size());
  for (char ch : tail) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '2' && ch <= '7'))) return {};
  }
  return std::string(tail);
}

std::string conversation_id_for(std::string_view contact_id) { return "cv_" + id_tail(contact_id, "ct_"); }

std::string contact_id_for_conversation(std::string_view conversation_id) {
  auto tail = id_tail(conversation_id, "cv_");
  return tail.empty() ? std::string() : "ct_" + tail;
}

std::string message_id_for(std::string_view contact_id, std::uint64_t seq) {
  return "msg_" + id_tail(contact_id, "ct_") + "_" + std::to_string(seq);
}

std::optional<std::pair<std::string, std::uint64_t>> parse_message_id(std::string_view message_id) {
  if (message_id.substr(0, 4) != "msg_") return std::nullopt;
  auto rest = message_id.substr(4);
  auto underscore = rest.find('_');
  if (underscore == std::string_view::npos) return std::nullopt;
  std::string contact = "ct_" + std::string(rest.substr(0, underscore));
  if (id_tail(contact, "ct_").empty()) return std::nullopt;
  auto seq_text = rest.substr(underscore + 1);
  std::uint64_t seq = 0;
  auto [end, ec] = std::from_chars(seq_text.data(), seq_text.data() + seq_text.size(), seq);
  if (ec != std::errc() || end != seq_text.data() + seq_text.size() || seq == 0) return std::nullopt;
  return std::pair{contact, seq};
}

std::string message_key(std::string_view tenant, std::string_view contact, std::uint64_t seq) {
  return key_builder(tenant.size() + contact.size() + 16).str(tenant).str(contact).u64(seq).take();
}
std::string message_prefix(std::string_view tenant, std::string_view contact) {
  return key_builder(tenant.size() + contact.size() + 8).str(tenant).str(contact).take();
}
std::string conversation_key(std::string_view tenant, std::string_view contact) {
  return key_builder().str(tenant).u8('c').str(contact).take();
}
std::string activity_key(std::string_view tenant, std::int64_t last_message_at_ms, std::string_view contact) {
  auto inverted = std::numeric_limits<std::uint64_t>::max() - static_cast<std::uint64_t>(last_message_at_ms);
  return key_builder().str(tenant).u8('a').u64(inverted).str(contact).take();
}
std::string activity_prefix(std::string_view tenant) { return key_builder().str(tenant).u8('a').take(); }
std::string identity_key(std::string_view tenant, channel_type type, std::string_view external_id) {
  return key_builder().str(tenant).u8('x').u8(static_cast<std::uint8_t>(type)).str(external_id).take();
}
std::string phone_key(std::string_view tenant, std::string_view e164) {
  return key_builder().str(tenant).u8('p').str(e164).take();
}
std::string email_key(std::string_view tenant, std::string_view email) {
  return key_builder().str(tenant).u8('e').str(email).take();
}
std::string dedup_key(std::string_view channel_id, std::string_view provider_message_id) {
  return key_builder(channel_id.size() + provider_message_id.size() + 4).str(channel_id).str(provider_message_id).take();
}
std::string event_prefix(std::string_view tenant) { return key_builder().str(tenant).take(); }
std::string raw_webhook_key(std::string_view tenant, std::int64_t received_ms, std::string_view id) {
  return key_builder().str(tenant).u64(static_cast<std::uint64_t>(received_ms)).str(id).take();
}

std::string encode(const message_ref& r) { return key_builder().str(r.tenant).str(r.contact).u64(r.seq).take(); }

std::optional<message_ref> decode_message_ref(std::string_view bytes) {
  key_reader reader(bytes);
  auto tenant = reader.str();
  auto contact = reader.str();
  auto seq = reader.u64();
  if (!tenant || !contact || !seq) return std::nullopt;
  return message_ref{*tenant, *contact, *seq};
}

std::string outbox_key(std::string_view tenant, std::string_view contact, std::uint64_t seq) {
  return key_builder().str(tenant).str(contact).u64(seq).take();
}
std::string outbox_prefix(std::string_view tenant) { return key_builder().str(tenant).take(); }

std::string encode(const delivery_job& j) {
  const auto& p = j.payload;
  return key_builder()
      .u8(1)  // layout version
      .str(j.tenant)
      .str(j.channel_id)
      .str(j.contact)
      .u64(j.seq)
      .u8(j.bulk ? 1 : 0)
      .u64(static_cast<std::uint64_t>(j.accepted_at_ms))
      .u64(static_cast<std::uint64_t>(j.not_before_ms))
      .u64(static_cast<std::uint64_t>(j.expires_at_ms))
      .u8(static_cast<std::uint8_t>(p.kind))
      .str(p.to)
      .str(p.text)
      .str(p.template_name)
      .str(p.template_language)
      .str(p.template_components_json)
      .str(p.media_url)
      .str(p.filename)
      .str(p.email_subject)
      .str(p.email_html)
      .str(p.reply_to_provider_id)
      .str(p.messaging_type)
      .str(p.tag)
      .take();
}

std::optional<delivery_job> decode_delivery_job(std::string_view bytes) {
  key_reader r(bytes);
  auto version = r.u8();
  if (!version || *version != 1) return std::nullopt;
  delivery_job j;
  auto text = [&r](std::string& out) {
    auto v = r.str();
    if (!v) return false;
    out = std::move(*v);
    return true;
  };
  auto number = [&r](std::int64_t& out) {
    auto v = r.u64();
    if (!v) return false;
    out = static_cast<std::int64_t>(*v);
    return true;
  };
  if (!text(j.tenant) || !text(j.channel_id) || !text(j.contact)) return std::nullopt;
  auto seq = r.u64();
  auto bulk = r.u8();
  if (!seq || !bulk) return std::nullopt;
  j.seq = *seq;
  j.bulk = *bulk != 0;
  if (!number(j.accepted_at_ms) || !number(j.not_before_ms) || !number(j.expires_at_ms)) return std::nullopt;
  auto kind = r.u8();
  if (!kind || *kind > static_cast<std::uint8_t>(message_kind::unsupported)) return std::nullopt;
  auto& p = j.payload;
  p.kind = static_cast<message_kind>(*kind);
  for (std::string* field : {&p.to, &p.text, &p.template_name, &p.template_language, &p.template_components_json,
                             &p.media_url, &p.filename, &p.email_subject, &p.email_html, &p.reply_to_provider_id,
                             &p.messaging_type, &p.tag}) {
    if (!text(*field)) return std::nullopt;
  }
  return j;
}

std::string idempotency_key(std::string_view tenant, std::string_view key) {
  return key_builder().str("idem").str(tenant).str(key).take();
}
std::string idempotency_prefix(std::string_view tenant) { return key_builder().str("idem").str(tenant).take(); }

std::string encode(const idempotency_record& r) {
  return key_builder().str(r.ref.tenant).str(r.ref.contact).u64(r.ref.seq).str(r.request_digest).take();
}

std::optional<idempotency_record> decode_idempotency_record(std::string_view bytes) {
  key_reader reader(bytes);
  auto tenant = reader.str();
  auto contact = reader.str();
  auto seq = reader.u64();
  auto digest = reader.str();
  if (!tenant || !contact || !seq || !digest) return std::nullopt;
  return idempotency_record{message_ref{*tenant, *contact, *seq}, *digest};
}

std::string tenant_meta_key(meta_kind kind, std::string_view tenant) {
  return key_builder().u8(static_cast<std::uint8_t>(kind)).str(tenant).take();
}

std::string usage_key(std::string_view tenant, std::string_view period, std::string_view counter) {
  return key_builder().u8(static_cast<std::uint8_t>(meta_kind::usage)).str(tenant).str(period).str(counter).take();
}

std::string utc_month(std::int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d", tm.tm_year + 1900, tm.tm_mon + 1);
  return buf;
}

}  // namespace parley::storage
