#include "parley/actors/feed.hpp"

#include <boost/json.hpp>

#include "parley/actors/views.hpp"
#include "parley/json_writer.hpp"
#include "parley/storage/keys.hpp"
#include "parley/storage/records.hpp"

namespace parley::actors {
namespace {

// Appends "type","at","data" of a stored event.
void append_event_body(const storage::store& db, std::string_view tenant, const std::string& stored, std::string& out) {
  boost::system::error_code ec;
  auto v = boost::json::parse(stored, ec);
  const auto* o = ec ? nullptr : v.if_object();
  if (o == nullptr) {
    out += "\"type\":\"unknown\",\"data\":null";
    return;
  }
  auto text = [&](std::string_view k) {
    const auto* x = o->if_contains(k);
    return x != nullptr && x->is_string() ? std::string(x->as_string()) : std::string();
  };
  json_writer w(out);
  w.field("type", text("type")).field("at", text("at")).key("data");
  const auto* ref = o->if_contains("ref");
  if (ref == nullptr || !ref->is_object()) {
    const auto* data = o->if_contains("data");
    w.raw(data != nullptr ? boost::json::serialize(*data) : "null");
    return;
  }
  std::string contact;
  std::uint64_t seq = 0;
  if (const auto* c = ref->as_object().if_contains("contact"); c != nullptr && c->is_string()) contact = c->as_string();
  if (const auto* n = ref->as_object().if_contains("seq"); n != nullptr && n->is_number()) seq = n->to_number<std::uint64_t>();
  std::string conversation_id = storage::conversation_id_for(contact);
  auto rec = db.get(storage::family::messages, storage::message_key(tenant, contact, seq));
  auto m = rec ? storage::decode_message(rec->body) : result<storage::message_record>(rec.err());
  std::string status = text("status");
  if (!status.empty()) w.begin_object().field("status", status).key("message");
  if (m) {
    w.raw_with([&](std::string& into) { append_message(into, *m, conversation_id, true); });
  } else {
    w.begin_object().field("id", storage::message_id_for(contact, seq)).field("conversation_id", conversation_id);
    w.key("forgotten").boolean(true).end_object();
  }
  if (!status.empty()) w.end_object();
}

}  // namespace

result<event_page> read_event_page(const storage::store& db, std::string_view tenant, std::uint64_t after,
                                   std::size_t limit, const storage::group_writer* writer) {
  std::string prefix = storage::event_prefix(tenant);
  // Past this number the feed is written but not yet durable.
  std::uint64_t upto = writer ? writer->durable_bound(storage::family::events, prefix).value_or(UINT64_MAX) : UINT64_MAX;
  event_page page;
  page.last = after;
  if (upto <= after) return page;
  std::string after_key = after > 0 ? prefix + storage::key_builder(8).u64(after).take() : std::string();
  auto rows = db.read_forward(storage::family::events, prefix, after_key, limit);
  if (!rows) return std::move(rows).err();
  std::string out = "[";
  for (const auto& rec : *rows) {
    storage::key_reader r(std::string_view(rec.key).substr(prefix.size()));
    auto seq = r.u64();
    if (!seq) continue;
    if (*seq > upto) break;
    if (page.count > 0) out += ",";
    out += "{\"id\":\"ev_" + std::to_string(*seq) + "\",\"cursor\":\"" + std::to_string(*seq) + "\",";
    append_event_body(db, tenant, rec.body, out);
    out += "}";
    page.last = *seq;
    ++page.count;
  }
  out += "]";
  page.events_json = std::move(out);
  return page;
}

result<std::uint64_t> newest_event(const storage::store& db, std::string_view tenant,
                                   const storage::group_writer* writer) {
  std::string prefix = storage::event_prefix(tenant);
  if (auto bound = writer ? writer->durable_bound(storage::family::events, prefix) : std::nullopt) return *bound;
  auto rows = db.read_reverse(storage::family::events, prefix, {}, 1);
  if (!rows) return std::move(rows).err();
  if (rows->empty()) return std::uint64_t{0};
  storage::key_reader r(std::string_view(rows->front().key).substr(prefix.size()));
  return r.u64().value_or(0);
}

}  // namespace parley::actors
