#include "conversation/conversation_actor.hpp"

#include "parley/actors/usage_meter.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "parley/actors/directory.hpp"
#include "parley/actors/views.hpp"
#include "parley/ids.hpp"
#include "parley/json_writer.hpp"

namespace parley::actors {
namespace {

constexpr std::int64_t window_ms = 24LL * 3600 * 1000;
constexpr std::size_t recent_limit = 512;

struct conversation_state_holder {
  std::shared_ptr<const tenant_context> ctx;
  tenant_actor tenant;
  storage::conversation_state state;
  std::int64_t indexed_activity_ms = 0;  ///< last_message_at as the activity index has it
  std::size_t keyword_max_len = 0;       ///< the longest stop or start keyword
  std::vector<storage::write_op> pending_identity_ops;
  /// Identity records stored and dropped from the front of pending_identity_ops, counted
  /// from the actor's start: a commit drops only what its own group carried.
  std::uint64_t identity_ops_stored = 0;
  // Rings of the last recent_limit entries, oldest at *_next once full. Vectors, not
  // deques: a std::deque allocates ~600 bytes on construction, which 100k active
  // conversations would pay twice even before their first message.
  std::unordered_set<std::string> recent;  ///< channel|provider id of committed messages
  std::vector<const std::string*> recent_order;  ///< into `recent` (its elements never move)
  std::size_t recent_next = 0;
  std::unordered_map<std::uint64_t, storage::message_record> recent_records;
  std::vector<std::uint64_t> recent_record_order;
  std::size_t recent_record_next = 0;
  std::uint64_t received = 0;
  int in_flight = 0;
  std::int64_t last_activity_ms = 0;
  bool idle_timer_armed = false;
  std::vector<std::function<void()>> quiesce_waiters;
  static inline const char* name = "conversation";
};

using self_ptr = conversation_actor::stateful_pointer<conversation_state_holder>;

// The text trimmed and upper-cased when it could be a keyword (no longer than
// `max_len`), else empty: most messages are sentences and are not copied.
std::string upper_trimmed(std::string_view text, std::size_t max_len) {
  auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  auto end = text.find_last_not_of(" \t\r\n");
  if (end - begin + 1 > max_len) return {};
  std::string out(text.substr(begin, end - begin + 1));
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool contains(const std::vector<std::string>& words, const std::string& w) {
  return std::find(words.begin(), words.end(), w) != words.end();
}

std::size_t longest(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::size_t n = 0;
  for (const auto* words : {&a, &b}) {
    for (const auto& w : *words) n = std::max(n, w.size());
  }
  return n;
}

// Adds `value` to a ring of at most recent_limit entries (`next`: the oldest, once full)
// and returns the entry it displaced, if any.
template <class T>
std::optional<T> push_ring(std::vector<T>& ring, std::size_t& next, T value) {
  if (ring.size() < recent_limit) {
    ring.push_back(std::move(value));
    return std::nullopt;
  }
  T displaced = std::exchange(ring[next], std::move(value));
  next = (next + 1) % recent_limit;
  return displaced;
}

void remember_record(conversation_state_holder& st, const storage::message_record& m) {
  if (!st.recent_records.contains(m.seq)) {
    if (auto old = push_ring(st.recent_record_order, st.recent_record_next, m.seq)) st.recent_records.erase(*old);
  }
  st.recent_records[m.seq] = m;
}

void remember_id(conversation_state_holder& st, std::string id) {
  auto [it, added] = st.recent.insert(std::move(id));
  if (!added) return;
  if (auto old = push_ring(st.recent_order, st.recent_next, &*it)) st.recent.erase(st.recent.find(**old));
}

void arm_idle_timer(self_ptr self) {
  auto& st = self->state;
  st.last_activity_ms = st.ctx->time->now_ms();
  if (st.idle_timer_armed) return;
  st.idle_timer_armed = true;
  self->delayed_send(self, std::chrono::milliseconds(st.ctx->conversation_idle_ms), idle_atom::value, std::uint64_t{0});
}

// The state record, the activity index and any pending identity records: written with
// every group so storage always holds the state as of the last committed group.
void add_state_ops(conversation_state_holder& st, storage::write_group& g) {
  const auto& tenant = st.ctx->tenant;
  g.ops.push_back(storage::write_op::put(storage::family::conversations,
                                         storage::conversation_key(tenant, st.state.contact_id),
                                         storage::encode(st.state), true));
  if (st.indexed_activity_ms != st.state.last_message_at_ms) {
    if (st.indexed_activity_ms > 0) {
      g.ops.push_back(storage::write_op::remove(
          storage::family::conversations, storage::activity_key(tenant, st.indexed_activity_ms, st.state.contact_id)));
    }
    g.ops.push_back(storage::write_op::put(
        storage::family::conversations, storage::activity_key(tenant, st.state.last_message_at_ms, st.state.contact_id), ""));
    st.indexed_activity_ms = st.state.last_message_at_ms;
  }
  for (const auto& op : st.pending_identity_ops) g.ops.push_back(op);
}

// Hands a group to the storage writer; the completion answers the webhook's ack part,
// wakes feed readers and reports back to this actor.
// `then`, when set, also sees the outcome before this actor hears of it (on the writer's
// thread, or on this one when the append is refused).
void submit(self_ptr self, storage::write_group group, std::vector<storage::sequenced_op> sequenced,
            std::shared_ptr<ack_tracker> ack, std::vector<std::string> provider_ids,
            std::function<void(const storage::commit_outcome&)> then = {}) {
  auto& st = self->state;
  ++st.in_flight;
  const std::uint64_t identity_end = st.identity_ops_stored + st.pending_identity_ops.size();
  auto me = caf::actor_cast<conversation_actor>(self);
  auto ctx = st.ctx;
  auto done = [me, ctx, ack = std::move(ack), provider_ids = std::move(provider_ids), identity_end,
               then = std::move(then)](storage::commit_outcome outcome) mutable {
    // Release the claims of this group's messages; copies that waited get this outcome.
    for (const auto& key : provider_ids) ctx->inflight->release(key, outcome.code);
    if (ack) ack->complete(outcome.code);
    std::uint64_t top = 0;
    for (auto s : outcome.sequences) top = std::max(top, s);
    if (top > 0 && outcome.code == errc::ok) ctx->dir->feeds().notify(ctx->tenant, top);
    conversation_committed c;
    c.code = outcome.code;
    c.refused_send = then && outcome.code != errc::ok;
    if (then) then(outcome);
    c.skipped = outcome.skipped.size();
    c.identity_end = identity_end;
    if (outcome.code == errc::ok) {
      std::vector<bool> skipped(provider_ids.size(), false);
      for (auto k : outcome.skipped) {
        if (k < skipped.size()) skipped[k] = true;
      }
      for (std::size_t i = 0; i < provider_ids.size(); ++i) {
        if (!skipped[i]) c.stored_provider_ids.push_back(std::move(provider_ids[i]));
      }
    }
    caf::anon_send(me, committed_atom::value, std::move(c));
  };
  // Encoded and sealed here, then queued for the group commit (never blocks).
  st.ctx->writer.append(std::move(group), std::move(done), std::move(sequenced));
}

void on_inbound(self_ptr self, conversation_inbound& in) {
  auto& st = self->state;
  ++st.received;
  arm_idle_timer(self);
  const auto& ch = *in.channel;
  const auto& tenant = st.ctx->tenant;
  std::int64_t now = st.ctx->time->now_ms();

  bool known_identity = std::any_of(st.state.identities.begin(), st.state.identities.end(), [&](const auto& id) {
    return id.channel_id == in.identity.channel_id && id.external_id == in.identity.external_id;
  });
  if (!known_identity && !in.identity.external_id.empty()) st.state.identities.push_back(in.identity);
  for (auto& op : in.identity_ops) st.pending_identity_ops.push_back(std::move(op));

  storage::write_group group;
  std::vector<storage::sequenced_op> events;
  std::vector<std::string> provider_ids;  // index = guard index
  for (const auto& msg : in.messages) {
    std::string recent_id = inflight_key(ch.id, msg.provider_message_id);
    if (st.recent.contains(recent_id)) {  // stored moments ago: answered without a write
      st.ctx->inflight->release(recent_id, errc::ok);
      st.ctx->usage->add(usage_counter::duplicates, now);
      continue;
    }

    std::int64_t ts = msg.timestamp_ms > 0 ? msg.timestamp_ms : in.received_ms;
    storage::message_record rec;
    rec.seq = ++st.state.last_seq;
    rec.id = storage::message_id_for(st.state.contact_id, rec.seq);
    rec.channel_id = ch.id;
    rec.channel = ch.type;
    rec.outbound = msg.outbound_echo;
    rec.kind = msg.kind;
    rec.text = msg.text;
    rec.details_json = msg.details_json;
    rec.provider_message_id = msg.provider_message_id;
    rec.external_id = msg.external_id;
    rec.status = msg.outbound_echo ? delivery_status::sent : delivery_status::received;
    rec.status_history.push_back(storage::status_entry{rec.status, ts});
    rec.provider_ts_ms = ts;
    rec.created_at_ms = now;
    rec.reply_to = msg.reply_to;
    rec.edited = msg.edited;

    std::size_t first = group.ops.size();
    group.ops.push_back(storage::write_op::put(storage::family::messages,
                                               storage::message_key(tenant, st.state.contact_id, rec.seq),
                                               storage::encode(rec), true));
    group.ops.push_back(storage::write_op::put(storage::family::dedup,
                                               storage::dedup_key(ch.id, msg.provider_message_id),
                                               storage::encode(storage::message_ref{tenant, st.state.contact_id, rec.seq})));
    std::size_t guard_index = group.if_absent.size();
    group.if_absent.push_back(storage::guard{storage::family::dedup, storage::dedup_key(ch.id, msg.provider_message_id), first, 2});
    provider_ids.push_back(std::move(recent_id));

    std::string conversation_id = storage::conversation_id_for(st.state.contact_id);
    events.push_back(storage::sequenced_op{
        storage::write_op::put(storage::family::events, storage::event_prefix(tenant),
                               msg.outbound_echo
                                   ? render_event_ref("message.status", now, st.state.contact_id, rec.seq, "sent")
                                   : render_event_ref("message.received", now, st.state.contact_id, rec.seq, {})),
        guard_index});

    // Conversation state: counts, the 24-hour window from the provider's time (a late
    // redelivery of an older message never shortens it), consent keywords.
    ++st.state.message_count;
    st.state.last_message_at_ms = std::max(st.state.last_message_at_ms, ts);
    if (msg.outbound_echo) {
      if (st.state.awaiting_reply_since_ms > 0) {  // answered from outside Parley (e.g. the Page inbox)
        st.ctx->usage->add_reply_latency(now, std::max<std::int64_t>(0, ts - st.state.awaiting_reply_since_ms));
        st.state.awaiting_reply_since_ms = 0;
      }
    } else if (st.state.awaiting_reply_since_ms == 0) {
      st.state.awaiting_reply_since_ms = ts;
    }
    auto& chs = st.state.channel(ch.id, ch.type);
    if (!msg.outbound_echo && has_service_window(ch.type)) {
      chs.window_expires_ms = std::max(chs.window_expires_ms, ts + window_ms);
    }
    if (!msg.outbound_echo && msg.kind == message_kind::text && msg.text) {
      std::string word = upper_trimmed(*msg.text, st.keyword_max_len);
      auto before = chs.consent;
      if (contains(st.ctx->stop_keywords, word)) chs.consent = storage::consent_state::opted_out;
      else if (contains(st.ctx->start_keywords, word)) chs.consent = storage::consent_state::opted_in;
      if (chs.consent != before) {
        std::string data;
        json_writer w(data);
        w.begin_object()
            .field("conversation_id", conversation_id)
            .field("contact_id", st.state.contact_id)
            .field("channel_id", ch.id)
            .field("consent", storage::to_string(chs.consent))
            .field("message_id", rec.id)
            .end_object();
        events.push_back(storage::sequenced_op{
            storage::write_op::put(storage::family::events, storage::event_prefix(tenant),
                                   render_event("conversation.consent", now, data)),
            guard_index});
      }
    }
    if (msg.display_name.size() > 0 && st.state.display_name.empty()) st.state.display_name = msg.display_name;
    if (!msg.phone_e164.empty() && st.state.phone_e164.empty()) st.state.phone_e164 = msg.phone_e164;
    if (!msg.email.empty() && st.state.email.empty()) st.state.email = msg.email;
  }

  if (group.ops.empty() && st.pending_identity_ops.empty()) {
    if (in.ack) in.ack->complete(errc::duplicate);
    return;
  }
  if (in.raw_body) group.ops.push_back(std::move(*in.raw_body));
  add_state_ops(st, group);
  submit(self, std::move(group), std::move(events), std::move(in.ack), std::move(provider_ids));
}

void on_status(self_ptr self, conversation_status& s) {
  auto& st = self->state;
  ++st.received;
  arm_idle_timer(self);
  auto it = st.recent_records.find(s.current.seq);
  storage::message_record rec = it != st.recent_records.end() ? it->second : std::move(s.current);
  if (!status_may_advance(rec.status, s.status.status)) {
    if (s.ack) s.ack->complete(errc::ok);  // late or repeated status: nothing to change
    return;
  }
  std::int64_t now = st.ctx->time->now_ms();
  bool reaches_delivered = (s.status.status == delivery_status::delivered || s.status.status == delivery_status::read) &&
                           rec.status != delivery_status::delivered && rec.status != delivery_status::read;
  if (reaches_delivered) st.ctx->usage->add(usage_counter::delivered, now);
  if (s.status.status == delivery_status::failed) st.ctx->usage->add(usage_counter::failed, now);
  rec.status = s.status.status;
  rec.status_history.push_back(storage::status_entry{rec.status, s.status.timestamp_ms > 0 ? s.status.timestamp_ms : now});
  if (rec.status == delivery_status::failed) {
    rec.error_code = s.status.error_code;
    rec.error_message = s.status.error_message;
  }
  remember_record(st, rec);
  const auto& tenant = st.ctx->tenant;
  storage::write_group group;
  group.ops.push_back(storage::write_op::put(storage::family::messages,
                                             storage::message_key(tenant, st.state.contact_id, rec.seq),
                                             storage::encode(rec), true));
  std::vector<storage::sequenced_op> events{storage::sequenced_op{
      storage::write_op::put(storage::family::events, storage::event_prefix(tenant),
                             render_event_ref("message.status", now, st.state.contact_id, rec.seq, to_string(rec.status)))}};
  add_state_ops(st, group);
  submit(self, std::move(group), std::move(events), std::move(s.ack), {});
}

// The kind-specific part of a stored outbound message (what GET /v1/messages shows
// beside `text`).
std::string outbound_details(const outbound_payload& p) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  switch (p.kind) {
    case message_kind::template_message:
      w.key("template").begin_object().field("name", p.template_name).field("language", p.template_language).end_object();
      break;
    case message_kind::image:
    case message_kind::document:
      w.key("media").begin_object().field("url", p.media_url);
      if (!p.filename.empty()) w.field("filename", p.filename);
      w.end_object();
      break;
    case message_kind::email:
      w.key("email").begin_object().field("subject", p.email_subject).end_object();
      break;
    default:
      break;
  }
  w.end_object();
  return out;
}

void refuse(const send_request& req, send_refusal why) {
  send_answer a;
  a.refusal = why;
  req.done(std::move(a));
}

// An outbound message: window and consent are judged here, where this customer's inbound
// messages update them, so a send can never race the message that opened the window.
// Accepted means durable: message (queued) + outbox job + idempotency record + event, one
// group; the delivery actor gets the job once that group has committed.
void on_send(self_ptr self, conversation_send& s) {
  auto& st = self->state;
  ++st.received;
  arm_idle_timer(self);
  auto& req = s.req;
  const auto& ch = *req.channel;
  const auto& tenant = st.ctx->tenant;
  std::int64_t now = st.ctx->time->now_ms();

  const auto* chs = st.state.find_channel(ch.id);
  if (chs != nullptr && chs->consent == storage::consent_state::opted_out) return refuse(req, send_refusal::opted_out);
  bool free_form = req.payload.kind != message_kind::template_message;
  if (free_form && has_service_window(ch.type) && (chs == nullptr || chs->window_expires_ms <= now)) {
    return refuse(req, send_refusal::window_closed);
  }
  bool known_identity = std::any_of(st.state.identities.begin(), st.state.identities.end(), [&](const auto& id) {
    return id.channel_id == s.identity.channel_id && id.external_id == s.identity.external_id;
  });
  if (!known_identity) st.state.identities.push_back(s.identity);
  for (auto& op : s.identity_ops) st.pending_identity_ops.push_back(std::move(op));
  st.state.channel(ch.id, ch.type);  // the conversation now has this channel

  storage::message_record rec;
  rec.seq = ++st.state.last_seq;
  rec.id = storage::message_id_for(st.state.contact_id, rec.seq);
  rec.channel_id = ch.id;
  rec.channel = ch.type;
  rec.outbound = true;
  rec.kind = req.payload.kind;
  if (req.payload.kind != message_kind::template_message) rec.text = req.payload.text;
  rec.details_json = outbound_details(req.payload);
  rec.external_id = req.payload.to;
  rec.status = delivery_status::queued;
  rec.status_history.push_back(storage::status_entry{delivery_status::queued, now});
  rec.created_at_ms = now;
  rec.reply_to = req.payload.reply_to_provider_id;

  storage::delivery_job job;
  job.tenant = tenant;
  job.channel_id = ch.id;
  job.contact = st.state.contact_id;
  job.seq = rec.seq;
  job.bulk = req.bulk;
  job.accepted_at_ms = now;
  job.not_before_ms = req.not_before_ms;
  job.expires_at_ms = req.valid_for_ms > 0 ? now + req.valid_for_ms : 0;
  job.payload = req.payload;

  storage::write_group group;
  group.ops.push_back(storage::write_op::put(storage::family::messages,
                                             storage::message_key(tenant, st.state.contact_id, rec.seq),
                                             storage::encode(rec), true));
  group.ops.push_back(storage::write_op::put(storage::family::outbox,
                                             storage::outbox_key(tenant, st.state.contact_id, rec.seq),
                                             storage::encode(job), true));
  if (!req.idempotency_key.empty()) {
    auto key = storage::idempotency_key(tenant, req.idempotency_key);
    group.ops.push_back(storage::write_op::put(
        storage::family::dedup, key,
        storage::encode(storage::idempotency_record{storage::message_ref{tenant, st.state.contact_id, rec.seq},
                                                    req.request_digest})));
    group.if_absent.push_back(storage::guard{storage::family::dedup, key, 0, 0});  // the whole group
  }
  std::vector<storage::sequenced_op> events{storage::sequenced_op{
      storage::write_op::put(storage::family::events, storage::event_prefix(tenant),
                             render_event_ref("message.status", now, st.state.contact_id, rec.seq, "queued"))}};
  ++st.state.message_count;
  st.state.last_message_at_ms = std::max(st.state.last_message_at_ms, now);
  if (st.state.awaiting_reply_since_ms > 0) {  // the reply to the customer's waiting message
    st.ctx->usage->add_reply_latency(now, std::max<std::int64_t>(0, now - st.state.awaiting_reply_since_ms));
    st.state.awaiting_reply_since_ms = 0;
  }
  remember_record(st, rec);
  add_state_ops(st, group);

  send_answer accepted;
  accepted.message_id = rec.id;
  accepted.conversation_id = storage::conversation_id_for(st.state.contact_id);
  auto then = [done = std::move(req.done), accepted, job = std::move(job), ctx = st.ctx,
               digest = req.request_digest](const storage::commit_outcome& outcome) mutable {
    if (outcome.code == errc::ok) {
      done(accepted);
      if (ctx->deliver) ctx->deliver(std::move(job));
      return;
    }
    if (outcome.code == errc::duplicate) {
      // The key was taken by a request the tenant had not seen in flight (a race across a
      // restart): answer as a replay of that one, or as a conflict.
      auto stored = storage::decode_idempotency_record(outcome.existing);
      send_answer a;
      if (!stored || stored->request_digest != digest) {
        a.refusal = send_refusal::idempotency_conflict;
      } else {
        a.replayed = true;
        a.message_id = storage::message_id_for(stored->ref.contact, stored->ref.seq);
        a.conversation_id = storage::conversation_id_for(stored->ref.contact);
      }
      done(std::move(a));
      return;
    }
    done(make_error(outcome.code, "the message could not be stored"));
  };
  submit(self, std::move(group), std::move(events), nullptr, {}, std::move(then));
}

// The end of a delivery: the provider took the message (sent, with its id, which later
// statuses carry) or it failed for good. Either way the outbox job is done.
void on_send_result(self_ptr self, conversation_send_result& r) {
  auto& st = self->state;
  ++st.received;
  arm_idle_timer(self);
  auto it = st.recent_records.find(r.current.seq);
  storage::message_record rec = it != st.recent_records.end() ? it->second : std::move(r.current);
  const auto& outcome = r.result.outcome;
  const auto& job = r.result.job;
  const auto& tenant = st.ctx->tenant;
  std::int64_t now = st.ctx->time->now_ms();
  std::int64_t at = r.result.at_ms > 0 ? r.result.at_ms : now;

  storage::write_group group;
  bool accepted = outcome.result == send_outcome::kind::accepted;
  auto next = accepted ? delivery_status::sent : delivery_status::failed;
  bool changed = false;
  if (accepted) {
    rec.provider_message_id = outcome.provider_message_id;
    rec.provider_ts_ms = at;
    changed = true;
    group.ops.push_back(storage::write_op::put(
        storage::family::dedup, storage::dedup_key(job.channel_id, outcome.provider_message_id),
        storage::encode(storage::message_ref{tenant, st.state.contact_id, rec.seq})));
  }
  if (status_may_advance(rec.status, next)) {
    rec.status = next;
    rec.status_history.push_back(storage::status_entry{next, at});
    if (!accepted) {
      rec.error_code = outcome.error_code;
      rec.error_message = outcome.error_message;
      st.ctx->usage->add(usage_counter::failed, now);
    }
    changed = true;
  }
  if (changed) {
    group.ops.push_back(storage::write_op::put(storage::family::messages,
                                               storage::message_key(tenant, st.state.contact_id, rec.seq),
                                               storage::encode(rec), true));
  }
  group.ops.push_back(storage::write_op::remove(storage::family::outbox,
                                                storage::outbox_key(tenant, st.state.contact_id, rec.seq)));
  std::vector<storage::sequenced_op> events;
  if (changed) {
    events.push_back(storage::sequenced_op{storage::write_op::put(
        storage::family::events, storage::event_prefix(tenant),
        render_event_ref("message.status", now, st.state.contact_id, rec.seq, to_string(rec.status)))});
  }
  remember_record(st, rec);
  add_state_ops(st, group);
  submit(self, std::move(group), std::move(events), nullptr, {});
}

void on_consent(self_ptr self, consent_request& req) {
  auto& st = self->state;
  ++st.received;
  arm_idle_timer(self);
  const auto& ch = *req.channel;
  auto& chs = st.state.channel(ch.id, ch.type);
  auto wanted = req.opted_in ? storage::consent_state::opted_in : storage::consent_state::opted_out;
  std::int64_t now = st.ctx->time->now_ms();
  storage::write_group group;
  std::vector<storage::sequenced_op> events;
  if (chs.consent != wanted) {
    chs.consent = wanted;
    std::string data;
    json_writer w(data);
    w.begin_object()
        .field("conversation_id", storage::conversation_id_for(st.state.contact_id))
        .field("contact_id", st.state.contact_id)
        .field("channel_id", ch.id)
        .field("consent", storage::to_string(wanted))
        .field("source", "api")
        .end_object();
    events.push_back(storage::sequenced_op{storage::write_op::put(
        storage::family::events, storage::event_prefix(st.ctx->tenant), render_event("conversation.consent", now, data))});
  }
  add_state_ops(st, group);
  auto done = std::move(req.done);
  auto ack = std::make_shared<ack_tracker>([done, wanted](errc code) {
    if (code == errc::ok || code == errc::duplicate) done(wanted);
    else done(make_error(code, "consent could not be stored"));
  });
  ack->add();  // the commit's part
  submit(self, std::move(group), std::move(events), ack, {});
  ack->complete(errc::ok);  // release the creator's hold: the commit answers
}

void on_committed(self_ptr self, conversation_committed& c) {
  auto& st = self->state;
  --st.in_flight;
  if (st.in_flight == 0 && !st.quiesce_waiters.empty()) {
    for (auto& w : st.quiesce_waiters) w();
    st.quiesce_waiters.clear();
  }
  if (c.refused_send && st.state.message_count > 0) --st.state.message_count;  // its seq stays unused
  if (c.code != errc::ok) return;  // the next group writes the full in-memory state again
  if (c.identity_end > st.identity_ops_stored) {
    // Only what this group carried: records added since travel in a later group, and
    // stay pending if that one fails. Emptied by assignment, not clear(): most
    // conversations carry identity records once, and a cleared vector would keep its
    // capacity for the actor's lifetime.
    auto carried = static_cast<std::size_t>(c.identity_end - st.identity_ops_stored);
    if (carried >= st.pending_identity_ops.size()) {
      st.pending_identity_ops = std::vector<storage::write_op>();
    } else {
      st.pending_identity_ops.erase(st.pending_identity_ops.begin(),
                                    st.pending_identity_ops.begin() + static_cast<std::ptrdiff_t>(carried));
    }
    st.identity_ops_stored = c.identity_end;
  }
  std::int64_t now = st.ctx->time->now_ms();
  st.ctx->usage->add(usage_counter::inbound, now, c.stored_provider_ids.size());
  st.ctx->usage->add(usage_counter::duplicates, now, c.skipped);
  for (auto& id : c.stored_provider_ids) remember_id(st, std::move(id));
  if (c.skipped > 0) {
    // The group counted messages the writer then found already stored: correct the
    // count and store the corrected state (rare: redeliveries the recent-id cache missed).
    st.state.message_count -= std::min<std::uint64_t>(c.skipped, st.state.message_count);
    storage::write_group group;
    add_state_ops(st, group);
    submit(self, std::move(group), {}, nullptr, {});
  }
}

void on_idle(self_ptr self) {
  auto& st = self->state;
  st.idle_timer_armed = false;
  std::int64_t idle_for = st.ctx->time->now_ms() - st.last_activity_ms;
  if (idle_for < st.ctx->conversation_idle_ms || st.in_flight > 0) {
    st.idle_timer_armed = true;
    auto wait = std::max<std::int64_t>(st.ctx->conversation_idle_ms - idle_for, 10);
    self->delayed_send(self, std::chrono::milliseconds(wait), idle_atom::value, std::uint64_t{0});
    return;
  }
  // Ask to be retired; the tenant agrees only if it sent us nothing we have not handled.
  self->send(st.tenant, retire_atom::value, st.state.contact_id, st.received);
}

conversation_actor::behavior_type conversation_behavior(self_ptr self, std::shared_ptr<const tenant_context> ctx,
                                                        tenant_actor tenant, storage::conversation_state state) {
  self->state.ctx = std::move(ctx);
  self->state.tenant = std::move(tenant);
  self->state.indexed_activity_ms = state.last_message_at_ms;
  self->state.keyword_max_len = longest(self->state.ctx->stop_keywords, self->state.ctx->start_keywords);
  self->state.state = std::move(state);
  arm_idle_timer(self);
  return {
      [self](inbound_atom, conversation_inbound& in) { on_inbound(self, in); },
      [self](consent_atom, consent_request& req) { on_consent(self, req); },
      [self](pstatus_atom, conversation_status& s) { on_status(self, s); },
      [self](send_atom, conversation_send& s) { on_send(self, s); },
      [self](result_atom, conversation_send_result& r) { on_send_result(self, r); },
      [self](committed_atom, conversation_committed& c) { on_committed(self, c); },
      [self](quiesce_atom, quiesce_request& q) {
        if (self->state.in_flight == 0) q.done();
        else self->state.quiesce_waiters.push_back(std::move(q.done));
      },
      [self](idle_atom, std::uint64_t) { on_idle(self); },
      [self](retire_atom) { self->quit(); },
  };
}

}  // namespace

conversation_actor spawn_conversation(caf::actor_system& sys, std::shared_ptr<const tenant_context> ctx,
                                      tenant_actor tenant, storage::conversation_state state) {
  return sys.spawn(conversation_behavior, std::move(ctx), std::move(tenant), std::move(state));
}

}  // namespace parley::actors
