#include "tenant/tenant_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <chrono>
#include <future>
#include <map>
#include <unordered_map>

#include "conversation/conversation_actor.hpp"
#include "parley/actors/directory.hpp"
#include "parley/ids.hpp"
#include "parley/storage/records.hpp"
#include "parley/thread_name.hpp"

namespace parley::actors {
namespace {

std::atomic<std::size_t> active_conversation_count{0};

struct active_conversation {
  conversation_actor handle;
  std::uint64_t sent = 0;  ///< messages routed to it; compared with its count on retire
};

// A send whose idempotency key is in flight: repeats of it wait for its answer.
struct pending_key {
  std::string digest;
  std::vector<std::function<void(result<send_answer>)>> waiters;
};

// A status that arrived before the send result that tells which message it is about
// (the provider answered our send and posted a status before the delivery actor's result
// reached us). Kept until the result arrives or it expires.
struct parked_status {
  std::shared_ptr<const channel_info> channel;
  inbound_status status;
  std::shared_ptr<ack_tracker> ack;
};

constexpr std::int64_t park_ms = 10'000;
constexpr std::size_t recent_sent_limit = 65'536;

struct cached_sender {
  std::string contact;
  std::string phone_e164, email;
};

struct tenant_state {
  std::shared_ptr<const tenant_context> ctx;
  std::unordered_map<std::string, pending_key> pending_keys;
  double send_tokens = 0;
  std::int64_t send_refill_ms = 0;
  std::string quota_month;
  std::uint64_t month_outbound = 0;  ///< accepted sends this month (as stored in usage)
  std::uint64_t quota_in_flight = 0;  ///< sends routed and not yet answered
  std::unordered_map<std::string, std::int64_t> sends_in_flight;  ///< channel -> accepted, no result yet
  std::unordered_map<std::string, storage::message_ref> recent_sent;  ///< channel|provider id -> message
  std::deque<std::string> recent_sent_order;
  std::unordered_map<std::string, std::vector<parked_status>> parked;  ///< channel|provider id -> statuses
  /// Send results routed in the last park_ms per channel|recipient: a watermark arriving
  /// before such a result is stored must still cover it.
  struct routed_result {
    std::string contact, provider_message_id;
    std::uint64_t seq = 0;
    std::int64_t at_ms = 0;
  };
  std::unordered_map<std::string, std::deque<routed_result>> recent_results;
  std::unordered_map<std::string, active_conversation> active;
  /// type|external id -> its contact, with the phone and email the sender showed when its
  /// links were last checked (a message showing the same needs no further lookup).
  std::unordered_map<std::string, cached_sender> identity_cache;
  std::unordered_map<std::string, std::string> link_cache;      ///< p:e164 / e:email -> contact
  std::map<std::string, usage_day> usage_totals;  ///< day -> what the stored record holds (this actor writes it)
  /// Raw webhook keys end in this actor's random id and a counter: unique without a
  /// random draw per webhook.
  std::string raw_id_base = generate_id("raw_");
  std::uint64_t raw_id_next = 0;
  static inline const char* name = "tenant";
};

using self_ptr = tenant_actor::stateful_pointer<tenant_state>;

struct resolved {
  std::string contact;
  std::vector<storage::write_op> identity_ops;
  std::string merge_other;  ///< a known contact of this sender to merge into `contact` first
};

template <class Value>
void cache_put(std::unordered_map<std::string, Value>& cache, std::size_t limit, std::string key, Value value) {
  // A bounded cache: when full it starts over (cheap, and storage has every entry).
  if (cache.size() >= limit) cache.clear();
  cache[std::move(key)] = std::move(value);
}

result<std::optional<std::string>> lookup(const storage::store& db, storage::family f, const std::string& key) {
  auto rec = db.get(f, key);
  if (rec) return std::optional<std::string>(std::move(rec->body));
  if (rec.code() == errc::not_found) return std::optional<std::string>();
  return std::move(rec).err();
}

// The contact a phone number ("p:…") or email ("e:…") is linked to, or empty.
result<std::string> linked_contact(tenant_state& st, const std::string& cache_key, const std::string& storage_key) {
  if (auto it = st.link_cache.find(cache_key); it != st.link_cache.end()) return it->second;
  auto linked = lookup(*st.ctx->db, storage::family::identities, storage_key);
  if (!linked) return std::move(linked).err();
  return linked->value_or(std::string());
}

// Who sent this message: the contact of its identity, else a contact sharing its phone
// number or email (linked), else a new contact. A known sender who now shows a phone or
// email that belongs to another contact is the same customer: that contact is kept and
// the sender's is merged into it. Runs on the tenant's own thread, so two messages of
// one new customer can never create two contacts.
result<resolved> resolve(tenant_state& st, const channel_info& ch, const inbound_message& msg) {
  const auto& tenant = st.ctx->tenant;
  std::string cache_key = std::string(to_string(ch.type)) + "|" + msg.external_id;
  auto cached = st.identity_cache.find(cache_key);
  if (cached != st.identity_cache.end() && cached->second.phone_e164 == msg.phone_e164 &&
      cached->second.email == msg.email) {
    return resolved{cached->second.contact, {}, {}};  // the usual case: nothing changed
  }
  auto id_key = storage::identity_key(tenant, ch.type, msg.external_id);
  std::string known;
  if (cached != st.identity_cache.end()) {
    known = cached->second.contact;
  } else {
    auto found = lookup(*st.ctx->db, storage::family::identities, id_key);
    if (!found) return std::move(found).err();
    known = found->value_or(std::string());
  }
  if (!known.empty() && msg.phone_e164.empty() && msg.email.empty()) {
    cache_put(st.identity_cache, st.ctx->identity_cache_entries, std::move(cache_key), cached_sender{known, {}, {}});
    return resolved{known, {}, {}};
  }

  struct link {
    std::string cache_key, storage_key, contact;
  };
  std::vector<link> links;
  if (!msg.phone_e164.empty()) links.push_back({"p:" + msg.phone_e164, storage::phone_key(tenant, msg.phone_e164), {}});
  if (!msg.email.empty()) links.push_back({"e:" + msg.email, storage::email_key(tenant, msg.email), {}});
  for (auto& l : links) {
    auto c = linked_contact(st, l.cache_key, l.storage_key);
    if (!c) return std::move(c).err();
    l.contact = std::move(*c);
  }

  resolved out;
  out.contact = known;
  for (const auto& l : links) {
    if (l.contact.empty() || l.contact == out.contact) continue;
    if (out.contact.empty()) {
      out.contact = l.contact;  // a new identity of a customer known by phone or email
    } else if (out.merge_other.empty()) {
      out.merge_other = out.contact;  // a known sender turns out to be that customer
      out.contact = l.contact;
    }
  }
  if (out.contact.empty()) out.contact = generate_id("ct_");
  if (known != out.contact) {
    out.identity_ops.push_back(storage::write_op::put(storage::family::identities, id_key, out.contact));
  }
  for (const auto& l : links) {
    if (!l.contact.empty()) continue;
    out.identity_ops.push_back(storage::write_op::put(storage::family::identities, l.storage_key, out.contact));
    cache_put(st.link_cache, st.ctx->identity_cache_entries, l.cache_key, out.contact);
  }
  // Links change only through this actor: a new link is made only where none exists, and
  // merges and erasures clear both caches. So this sender showing the same phone and
  // email again resolves to the same contact.
  cache_put(st.identity_cache, st.ctx->identity_cache_entries, std::move(cache_key),
            cached_sender{out.contact, msg.phone_e164, msg.email});
  return out;
}

// The contact's conversation actor, activating it from stored state when needed.
result<conversation_actor> activate(self_ptr self, const std::string& contact) {
  auto& st = self->state;
  if (auto it = st.active.find(contact); it != st.active.end()) return it->second.handle;
  storage::conversation_state state;
  auto stored = st.ctx->db->get(storage::family::conversations, storage::conversation_key(st.ctx->tenant, contact));
  if (stored) {
    auto decoded = storage::decode_conversation(stored->body);
    if (!decoded) return std::move(decoded).err();
    state = std::move(*decoded);
  } else if (stored.code() == errc::not_found) {
    state.contact_id = contact;
  } else {
    return std::move(stored).err();
  }
  auto handle = spawn_conversation(self->system(), st.ctx, caf::actor_cast<tenant_actor>(self), std::move(state));
  // Monitored, not linked: a link puts an entry per conversation on the tenant's side,
  // and every conversation ending then scans them all (quadratic with 20k conversations:
  // seconds of CPU when a large tenant is deleted). The tenant stops them itself.
  self->monitor(handle);
  st.active.emplace(contact, active_conversation{handle, 0});
  ++active_conversation_count;
  return handle;
}

// Releases the claims of messages that will not reach a conversation.
void release_claims(const tenant_context& ctx, const std::string& channel_id, const std::vector<inbound_message>& messages,
                    errc code) {
  for (const auto& m : messages) ctx.inflight->release(inflight_key(channel_id, m.provider_message_id), code);
}

void route_inbound(self_ptr self, const std::string& contact, conversation_inbound msg) {
  auto conv = activate(self, contact);
  if (!conv) {
    release_claims(*self->state.ctx, msg.channel->id, msg.messages, conv.code());
    msg.ack->complete(conv.code());
    return;
  }
  ++self->state.active[contact].sent;
  self->send(*conv, inbound_atom::value, std::move(msg));
}

void route_status(self_ptr self, const std::string& contact, conversation_status msg) {
  auto conv = activate(self, contact);
  if (!conv) {
    msg.ack->complete(conv.code());
    return;
  }
  ++self->state.active[contact].sent;
  self->send(*conv, pstatus_atom::value, std::move(msg));
}

void handle_statuses(self_ptr self, const inbound_job& job) {
  auto& st = self->state;
  auto& db = *st.ctx->db;
  const auto& ch = *job.channel;
  for (const auto& s : job.webhook->statuses) {
    if (s.watermark_ms == 0) {
      // A status about one message: find it by the provider's id on this channel.
      std::string sent_key = ch.id + "|" + s.provider_message_id;
      std::optional<storage::message_ref> ref;
      if (auto hit = st.recent_sent.find(sent_key); hit != st.recent_sent.end()) {
        ref = hit->second;
      } else {
        auto ref_rec = db.get(storage::family::dedup, storage::dedup_key(ch.id, s.provider_message_id));
        if (!ref_rec) {
          if (ref_rec.code() != errc::not_found) {
            job.ack->add();
            job.ack->complete(ref_rec.code());
          } else if (st.sends_in_flight[ch.id] > 0) {
            // Maybe about a send whose result is still on its way: keep it until the
            // result comes or park_ms pass. The webhook is answered at once: if the engine
            // stops before the result is stored, the message is sent again (a new provider
            // id), so this status would not matter any more.
            bool first = !st.parked.contains(sent_key);
            st.parked[sent_key].push_back(parked_status{job.channel, s, nullptr});
            if (first) self->delayed_send(self, std::chrono::milliseconds(park_ms), idle_atom::value, sent_key);
          }
          continue;  // a status for a message Parley does not know: acknowledged, ignored
        }
        ref = storage::decode_message_ref(ref_rec->body);
      }
      if (!ref || ref->tenant != st.ctx->tenant) continue;
      auto msg_rec = db.get(storage::family::messages, storage::message_key(ref->tenant, ref->contact, ref->seq));
      if (!msg_rec) continue;  // expired or erased meanwhile
      auto current = storage::decode_message(msg_rec->body);
      if (!current || !current->outbound) continue;
      job.ack->add();
      route_status(self, ref->contact, conversation_status{job.channel, s, std::move(*current), job.ack});
      continue;
    }
    // A watermark: every outbound message to this recipient sent up to that time.
    if (st.sends_in_flight[ch.id] > 0) {
      // It may also cover a send whose result is still on its way (not yet stored with
      // its provider id): keep it for those, like a per-message status.
      std::string key = "wm|" + ch.id + "|" + s.recipient_id;
      bool first = !st.parked.contains(key);
      st.parked[key].push_back(parked_status{job.channel, s, nullptr});
      if (first) self->delayed_send(self, std::chrono::milliseconds(park_ms), idle_atom::value, key);
    }
    if (auto it = st.recent_results.find(ch.id + "|" + s.recipient_id); it != st.recent_results.end()) {
      std::int64_t now = st.ctx->time->now_ms();
      while (!it->second.empty() && now - it->second.front().at_ms > park_ms) it->second.pop_front();
      for (const auto& rr : it->second) {
        if (rr.at_ms > s.watermark_ms) continue;
        inbound_status one = s;
        one.provider_message_id = rr.provider_message_id;
        storage::message_record placeholder;  // the conversation has the record in its cache
        placeholder.seq = rr.seq;
        placeholder.outbound = true;
        job.ack->add();
        route_status(self, rr.contact, conversation_status{job.channel, one, std::move(placeholder), job.ack});
      }
      if (it->second.empty()) st.recent_results.erase(it);
    }
    auto contact = db.get(storage::family::identities, storage::identity_key(st.ctx->tenant, ch.type, s.recipient_id));
    if (!contact) continue;
    auto page = db.read_reverse(storage::family::messages, storage::message_prefix(st.ctx->tenant, contact->body), {}, 200);
    if (!page) {
      job.ack->add();
      job.ack->complete(page.code());
      continue;
    }
    for (const auto& r : *page) {
      auto m = storage::decode_message(r.body);
      if (!m || !m->outbound || m->channel_id != ch.id || m->provider_message_id.empty() ||
          m->provider_ts_ms > s.watermark_ms) {
        continue;  // not this channel's, not yet sent, or sent after the watermark
      }
      if (!status_may_advance(m->status, s.status)) continue;
      inbound_status one = s;
      one.provider_message_id = m->provider_message_id;
      job.ack->add();
      route_status(self, contact->body, conversation_status{job.channel, one, std::move(*m), job.ack});
    }
  }
}

result<storage::conversation_state> merge_contacts(self_ptr self, const std::string& keep, const std::string& other);
status commit_and_wait(self_ptr self, storage::write_group g, std::string_view what);

void on_inbound(self_ptr self, inbound_job& job) {
  auto& st = self->state;
  const auto& ch = *job.channel;
  // Duplicates stop here, before any conversation sees them: a copy of a message still
  // in flight waits for it; a message already stored is acknowledged as it is. The
  // in-flight check comes first: a claim is released only after its commit is durable.
  std::vector<inbound_message> fresh;
  for (auto& m : job.webhook->messages) {
    auto key = inflight_key(ch.id, m.provider_message_id);
    if (!st.ctx->inflight->claim(key, job.ack)) {
      st.ctx->usage->add(usage_counter::duplicates, job.received_ms);  // a copy of one in flight
      continue;
    }
    auto stored = st.ctx->db->get(storage::family::dedup, storage::dedup_key(ch.id, m.provider_message_id));
    if (stored) st.ctx->usage->add(usage_counter::duplicates, job.received_ms);
    if (stored || stored.code() != errc::not_found) {
      st.ctx->inflight->release(key, stored ? errc::ok : stored.code());
      if (!stored) {
        job.ack->add();
        job.ack->complete(stored.code());
      }
      continue;
    }
    fresh.push_back(std::move(m));  // nothing reads the webhook's messages after this
  }
  // Group the body's messages by customer, keeping their order.
  std::vector<std::pair<std::string, std::vector<inbound_message>>> by_customer;
  for (auto& m : fresh) {
    auto it = std::find_if(by_customer.begin(), by_customer.end(), [&](const auto& g) { return g.first == m.external_id; });
    if (it == by_customer.end()) {
      by_customer.emplace_back(m.external_id, std::vector<inbound_message>{});
      it = std::prev(by_customer.end());
    }
    it->second.push_back(std::move(m));
  }
  std::optional<storage::write_op> raw;
  if (job.raw_body && !fresh.empty()) {
    raw = storage::write_op::put(storage::family::raw_webhooks,
                                 storage::raw_webhook_key(st.ctx->tenant, job.received_ms,
                                                         st.raw_id_base + '.' + std::to_string(st.raw_id_next++)),
                                 *job.raw_body,
                                 true);
  }
  for (auto& [external_id, messages] : by_customer) {
    auto who = resolve(st, ch, messages.front());
    job.ack->add();
    if (!who) {
      release_claims(*st.ctx, ch.id, messages, who.code());
      job.ack->complete(who.code());
      continue;
    }
    if (!who->merge_other.empty()) {
      auto merged = merge_contacts(self, who->contact, who->merge_other);
      if (!merged) {
        release_claims(*st.ctx, ch.id, messages, merged.code());
        job.ack->complete(merged.code());
        continue;
      }
    }
    conversation_inbound part;
    part.channel = job.channel;
    part.messages = std::move(messages);
    part.identity = storage::identity_entry{ch.id, ch.type, external_id};
    part.identity_ops = std::move(who->identity_ops);
    part.raw_body = std::move(raw);
    raw.reset();
    part.received_ms = job.received_ms;
    part.ack = job.ack;
    route_inbound(self, who->contact, std::move(part));
  }
  handle_statuses(self, job);
  job.ack->complete(errc::ok);  // release the tenant's own hold
}

// Blocks this (detached) actor's thread until the contact's conversation has nothing
// uncommitted, then retires it; storage then holds its whole state. False on timeout.
bool quiesce_and_retire(self_ptr self, const std::string& contact) {
  auto& st = self->state;
  auto it = st.active.find(contact);
  if (it == st.active.end()) return true;
  auto quiet = std::make_shared<std::promise<void>>();
  auto future = quiet->get_future();
  self->send(it->second.handle, quiesce_atom::value, quiesce_request{[quiet] { quiet->set_value(); }});
  if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) return false;
  self->send(it->second.handle, retire_atom::value);
  st.active.erase(it);
  --active_conversation_count;
  return true;
}

result<storage::conversation_state> load_state(const tenant_context& ctx, const std::string& contact) {
  auto rec = ctx.db->get(storage::family::conversations, storage::conversation_key(ctx.tenant, contact));
  if (!rec) return std::move(rec).err();
  return storage::decode_conversation(rec->body);
}

void merge_channel_state(storage::conversation_state& into, const storage::channel_state& other) {
  auto& ch = into.channel(other.channel_id, other.channel);
  ch.window_expires_ms = std::max(ch.window_expires_ms, other.window_expires_ms);
  // Consent: an opt-out on either side wins; otherwise a known answer beats unknown.
  if (other.consent == storage::consent_state::opted_out || ch.consent == storage::consent_state::unknown) {
    ch.consent = other.consent == storage::consent_state::unknown ? ch.consent : other.consent;
  }
}

result<storage::conversation_state> merge_contacts(self_ptr self, const std::string& keep, const std::string& other) {
  auto& st = self->state;
  const auto& ctx = *st.ctx;
  const auto& tenant = ctx.tenant;
  if (keep == other) return make_error(errc::invalid_argument, "a contact cannot be merged into itself");
  auto a = load_state(ctx, keep);
  if (!a) return std::move(a).err();
  auto b = load_state(ctx, other);
  if (!b) return std::move(b).err();
  if (!quiesce_and_retire(self, keep) || !quiesce_and_retire(self, other)) {
    return make_error(errc::overloaded, "the conversations are busy; retry the merge");
  }
  // Reload: quiescing may have committed newer state.
  a = load_state(ctx, keep);
  if (!a) return std::move(a).err();
  b = load_state(ctx, other);
  if (!b) return std::move(b).err();

  storage::write_group g;
  auto cursor = ctx.db->scan(storage::family::messages, storage::message_prefix(tenant, other));
  storage::record rec;
  while (cursor->next(rec)) {
    auto m = storage::decode_message(rec.body);
    if (!m) return std::move(m).err();
    std::uint64_t old_seq = m->seq;
    m->seq = ++a->last_seq;
    m->id = storage::message_id_for(keep, m->seq);
    g.ops.push_back(storage::write_op::put(storage::family::messages, storage::message_key(tenant, keep, m->seq),
                                           storage::encode(*m), true));
    g.ops.push_back(storage::write_op::remove(storage::family::messages, storage::message_key(tenant, other, old_seq)));
    if (!m->provider_message_id.empty()) {
      g.ops.push_back(storage::write_op::put(storage::family::dedup, storage::dedup_key(m->channel_id, m->provider_message_id),
                                             storage::encode(storage::message_ref{tenant, keep, m->seq})));
    }
  }
  if (!cursor->error().ok()) return cursor->error().err();
  for (const auto& id : b->identities) {
    g.ops.push_back(storage::write_op::put(storage::family::identities, storage::identity_key(tenant, id.channel, id.external_id), keep));
    bool known = std::any_of(a->identities.begin(), a->identities.end(), [&](const auto& x) {
      return x.channel_id == id.channel_id && x.external_id == id.external_id;
    });
    if (!known) a->identities.push_back(id);
  }
  if (!b->phone_e164.empty()) {
    g.ops.push_back(storage::write_op::put(storage::family::identities, storage::phone_key(tenant, b->phone_e164), keep));
  }
  if (!b->email.empty()) {
    g.ops.push_back(storage::write_op::put(storage::family::identities, storage::email_key(tenant, b->email), keep));
  }
  for (const auto& ch : b->channels) merge_channel_state(*a, ch);
  if (a->display_name.empty()) a->display_name = b->display_name;
  if (a->phone_e164.empty()) a->phone_e164 = b->phone_e164;
  if (a->email.empty()) a->email = b->email;
  a->message_count += b->message_count;
  std::int64_t old_activity = a->last_message_at_ms;
  a->last_message_at_ms = std::max(a->last_message_at_ms, b->last_message_at_ms);
  g.ops.push_back(storage::write_op::put(storage::family::conversations, storage::conversation_key(tenant, keep),
                                         storage::encode(*a), true));
  g.ops.push_back(storage::write_op::remove(storage::family::conversations, storage::conversation_key(tenant, other)));
  if (b->last_message_at_ms > 0) {
    g.ops.push_back(storage::write_op::remove(storage::family::conversations,
                                              storage::activity_key(tenant, b->last_message_at_ms, other)));
  }
  if (old_activity != a->last_message_at_ms) {
    if (old_activity > 0) {
      g.ops.push_back(storage::write_op::remove(storage::family::conversations, storage::activity_key(tenant, old_activity, keep)));
    }
    g.ops.push_back(storage::write_op::put(storage::family::conversations,
                                           storage::activity_key(tenant, a->last_message_at_ms, keep), ""));
  }

  // Commit before answering (and before either conversation can be activated again).
  if (auto done = commit_and_wait(self, std::move(g), "the merge"); !done) return std::move(done).err();
  st.identity_cache.clear();
  st.link_cache.clear();
  return std::move(*a);
}

// Commits `g` through the storage writer and waits for it (this actor is detached).
status commit_and_wait(self_ptr self, storage::write_group g, std::string_view what) {
  auto committed = std::make_shared<std::promise<errc>>();
  auto future = committed->get_future();
  self->state.ctx->writer.append(std::move(g), [committed](storage::commit_outcome o) { committed->set_value(o.code); });
  if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    return make_error(errc::overloaded, std::string(what) + " did not commit in time");
  }
  if (auto code = future.get(); code != errc::ok) return make_error(code, std::string(what) + " could not be stored");
  return {};
}

// The first, durable step of a contact's erasure: afterwards nothing of the contact is
// readable through any route. What remains (events and raw payloads that name them, and
// the physical removal) is left to the retention actor through the stored erasure record.
result<std::vector<std::string>> erase_contact(self_ptr self, const std::string& contact) {
  auto& st = self->state;
  const auto& ctx = *st.ctx;
  const auto& tenant = ctx.tenant;
  if (auto known = load_state(ctx, contact); !known) return std::move(known).err();
  if (!quiesce_and_retire(self, contact)) return make_error(errc::overloaded, "the conversation is busy; retry");
  auto state = load_state(ctx, contact);  // quiescing may have committed newer state
  if (!state) return std::move(state).err();

  storage::write_group g;
  g.ops.push_back(storage::write_op::remove_prefix(storage::family::messages, storage::message_prefix(tenant, contact)));
  g.ops.push_back(storage::write_op::remove_prefix(storage::family::outbox, storage::message_prefix(tenant, contact)));
  g.ops.push_back(storage::write_op::remove(storage::family::conversations, storage::conversation_key(tenant, contact)));
  if (state->last_message_at_ms > 0) {
    g.ops.push_back(storage::write_op::remove(storage::family::conversations,
                                              storage::activity_key(tenant, state->last_message_at_ms, contact)));
  }
  std::vector<std::string> external_ids;
  for (const auto& id : state->identities) {
    g.ops.push_back(storage::write_op::remove(storage::family::identities, storage::identity_key(tenant, id.channel, id.external_id)));
    external_ids.push_back(id.external_id);
  }
  // Links by phone number and email, when they still point at this contact.
  for (auto link : {state->phone_e164.empty() ? std::string() : storage::phone_key(tenant, state->phone_e164),
                    state->email.empty() ? std::string() : storage::email_key(tenant, state->email)}) {
    if (link.empty()) continue;
    auto owner = ctx.db->get(storage::family::identities, link);
    if (owner && owner->body == contact) g.ops.push_back(storage::write_op::remove(storage::family::identities, link));
  }
  if (!state->phone_e164.empty()) {
    external_ids.push_back(state->phone_e164);
    if (state->phone_e164.front() == '+') external_ids.push_back(state->phone_e164.substr(1));  // WhatsApp writes digits
  }
  if (!state->email.empty()) external_ids.push_back(state->email);
  std::sort(external_ids.begin(), external_ids.end());
  external_ids.erase(std::unique(external_ids.begin(), external_ids.end()), external_ids.end());
  if (ctx.erasure_record) g.ops.push_back(ctx.erasure_record(contact, external_ids));
  if (auto done = commit_and_wait(self, std::move(g), "the erasure"); !done) return std::move(done).err();
  st.identity_cache.clear();
  st.link_cache.clear();
  return external_ids;
}

// Forgets one message: through the conversation's retirement, so no cached copy of the
// record can write it back afterwards.
status erase_message(self_ptr self, const std::string& contact, std::uint64_t seq) {
  auto& st = self->state;
  const auto& ctx = *st.ctx;
  const auto& tenant = ctx.tenant;
  auto key = storage::message_key(tenant, contact, seq);
  if (auto rec = ctx.db->get(storage::family::messages, key); !rec) return std::move(rec).err();
  if (!quiesce_and_retire(self, contact)) return make_error(errc::overloaded, "the conversation is busy; retry");
  auto state = load_state(ctx, contact);
  if (!state) return std::move(state).err();
  storage::write_group g;
  g.ops.push_back(storage::write_op::remove(storage::family::messages, key));
  g.ops.push_back(storage::write_op::remove(storage::family::outbox, storage::outbox_key(tenant, contact, seq)));
  if (state->message_count > 0) --state->message_count;
  g.ops.push_back(storage::write_op::put(storage::family::conversations, storage::conversation_key(tenant, contact),
                                         storage::encode(*state), true));
  return commit_and_wait(self, std::move(g), "forgetting the message");
}

void on_retire(self_ptr self, const std::string& contact, std::uint64_t handled) {
  auto& st = self->state;
  auto it = st.active.find(contact);
  if (it == st.active.end() || it->second.sent != handled) return;  // more is on its way: stay
  self->send(it->second.handle, retire_atom::value);
  st.active.erase(it);
  --active_conversation_count;
}

// ---- outbound ---------------------------------------------------------------------------

void answer(std::function<void(result<send_answer>)>& done, send_refusal why, std::int64_t retry_after_s = 0) {
  send_answer a;
  a.refusal = why;
  a.retry_after_s = retry_after_s;
  done(std::move(a));
}

// The tenant's send_requests_per_second as a token bucket (a burst of one second's worth).
bool take_send_token(tenant_state& st, std::uint32_t per_second, std::int64_t& retry_after_s) {
  std::int64_t now = st.ctx->time->now_ms();
  double rate = per_second;
  if (st.send_refill_ms == 0) st.send_tokens = rate;
  st.send_tokens = std::min(rate, st.send_tokens + static_cast<double>(now - st.send_refill_ms) * rate / 1000.0);
  st.send_refill_ms = now;
  if (st.send_tokens >= 1) {
    st.send_tokens -= 1;
    return true;
  }
  retry_after_s = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil((1 - st.send_tokens) / rate)));
  return false;
}

// This month's accepted sends, loaded from the usage record when the month changes.
result<std::uint64_t> month_outbound(tenant_state& st) {
  auto month = storage::utc_month(st.ctx->time->now_ms());
  if (month != st.quota_month) {
    auto stored = st.ctx->db->get(storage::family::meta, storage::usage_key(st.ctx->tenant, month, "outbound"));
    if (!stored && stored.code() != errc::not_found) return std::move(stored).err();
    st.month_outbound = stored ? std::strtoull(stored->body.c_str(), nullptr, 10) : 0;
    st.quota_month = month;
  }
  return st.month_outbound;
}

// The message an idempotency key created, as a replay answer (with its current status).
result<send_answer> replay(tenant_state& st, const storage::idempotency_record& stored) {
  send_answer a;
  a.replayed = true;
  a.message_id = storage::message_id_for(stored.ref.contact, stored.ref.seq);
  a.conversation_id = storage::conversation_id_for(stored.ref.contact);
  auto rec = st.ctx->db->get(storage::family::messages, storage::message_key(st.ctx->tenant, stored.ref.contact, stored.ref.seq));
  if (rec) {
    if (auto m = storage::decode_message(rec->body)) a.status = m->status;
  } else if (rec.code() != errc::not_found) {
    return std::move(rec).err();
  }
  return a;
}

// The recipient's id on the channel as providers write it: WhatsApp wa_id digits (no
// "+"), email addresses lowercased, others as given.
std::string normalize_recipient(channel_type type, std::string to) {
  if (type == channel_type::whatsapp) {
    std::string digits;
    for (char c : to) {
      if (c >= '0' && c <= '9') digits += c;
    }
    return digits;
  }
  if (type == channel_type::email) {
    for (auto& c : to) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return to;
}

void on_send(self_ptr self, send_request& req) {
  auto& st = self->state;
  const auto& ch = *req.channel;
  auto info = st.ctx->dir->tenant(st.ctx->tenant);
  if (info && info->limits.send_requests_per_second > 0) {
    std::int64_t retry_after = 0;
    if (!take_send_token(st, info->limits.send_requests_per_second, retry_after)) {
      return answer(req.done, send_refusal::rate_limited, retry_after);
    }
  }
  if (info && info->limits.monthly_outbound_quota > 0) {
    auto used = month_outbound(st);
    if (!used) return req.done(std::move(used).err());
    if (*used + st.quota_in_flight >= info->limits.monthly_outbound_quota) {
      return answer(req.done, send_refusal::quota_exceeded);
    }
  }
  if (!req.idempotency_key.empty()) {
    if (auto it = st.pending_keys.find(req.idempotency_key); it != st.pending_keys.end()) {
      if (it->second.digest != req.request_digest) return answer(req.done, send_refusal::idempotency_conflict);
      it->second.waiters.push_back(std::move(req.done));  // answered with the first one's outcome
      return;
    }
    auto stored = st.ctx->db->get(storage::family::dedup, storage::idempotency_key(st.ctx->tenant, req.idempotency_key));
    if (stored) {
      auto record = storage::decode_idempotency_record(stored->body);
      if (!record || record->request_digest != req.request_digest) {
        return answer(req.done, send_refusal::idempotency_conflict);
      }
      return req.done(replay(st, *record));
    }
    if (stored.code() != errc::not_found) return req.done(std::move(stored).err());
  }

  // Who it goes to: a known contact's identity on this channel, or the given id (a new
  // contact when nobody has it yet).
  std::string contact;
  std::vector<storage::write_op> identity_ops;
  if (!req.contact_id.empty()) {
    auto state = load_state(*st.ctx, req.contact_id);
    if (!state) {
      if (state.code() == errc::not_found) return answer(req.done, send_refusal::contact_not_found);
      return req.done(std::move(state).err());
    }
    const storage::identity_entry* found = nullptr;
    for (const auto& id : state->identities) {
      if (id.channel_id == ch.id) found = &id;
    }
    for (const auto& id : state->identities) {
      if (found == nullptr && id.channel == ch.type) found = &id;
    }
    if (found == nullptr) return answer(req.done, send_refusal::no_identity);
    req.payload.to = found->external_id;
    contact = req.contact_id;
  } else {
    req.payload.to = normalize_recipient(ch.type, std::move(req.payload.to));
    inbound_message probe;
    probe.external_id = req.payload.to;
    if (ch.type == channel_type::whatsapp) probe.phone_e164 = normalize_phone("+" + req.payload.to);
    if (ch.type == channel_type::email) probe.email = req.payload.to;
    auto who = resolve(st, ch, probe);
    if (!who) return req.done(std::move(who).err());
    if (!who->merge_other.empty()) {
      auto merged = merge_contacts(self, who->contact, who->merge_other);
      if (!merged) return req.done(std::move(merged).err());
    }
    contact = who->contact;
    identity_ops = std::move(who->identity_ops);
  }

  auto conv = activate(self, contact);
  if (!conv) return req.done(std::move(conv).err());
  if (!req.idempotency_key.empty()) st.pending_keys[req.idempotency_key] = pending_key{req.request_digest, {}};
  ++st.quota_in_flight;
  // Every answer also comes back here: it releases the key's waiters and counts usage.
  auto me = caf::actor_cast<tenant_actor>(self);
  req.done = [api = std::move(req.done), me, key = req.idempotency_key, channel = ch.id](result<send_answer> r) {
    api(r);
    caf::anon_send(me, released_atom::value, key, channel, std::move(r));
  };
  conversation_send msg;
  msg.identity = storage::identity_entry{ch.id, ch.type, req.payload.to};
  msg.identity_ops = std::move(identity_ops);
  msg.req = std::move(req);
  ++st.active[contact].sent;
  self->send(*conv, send_atom::value, std::move(msg));
}

void on_released(self_ptr self, const std::string& key, const std::string& channel_id, const result<send_answer>& r) {
  auto& st = self->state;
  if (st.quota_in_flight > 0) --st.quota_in_flight;
  bool accepted = r && r->refusal == send_refusal::none && !r->replayed;
  if (accepted) {
    ++st.sends_in_flight[channel_id];  // its delivery result is to come
    st.ctx->usage->add(usage_counter::outbound, st.ctx->time->now_ms());
    // Counted per month for the quota (issue: usage per day joins it with the admin API).
    if (month_outbound(st)) {
      ++st.month_outbound;
      storage::write_group g;
      g.ops.push_back(storage::write_op::put(storage::family::meta,
                                             storage::usage_key(st.ctx->tenant, st.quota_month, "outbound"),
                                             std::to_string(st.month_outbound)));
      st.ctx->writer.append(std::move(g), [](storage::commit_outcome) {});
    }
  }
  if (key.empty()) return;
  auto it = st.pending_keys.find(key);
  if (it == st.pending_keys.end()) return;
  for (auto& waiter : it->second.waiters) {
    if (r && r->refusal == send_refusal::none) {
      send_answer copy = *r;
      copy.replayed = true;
      waiter(std::move(copy));
    } else {
      waiter(r);
    }
  }
  st.pending_keys.erase(it);
}

void remember_sent(tenant_state& st, std::string key, storage::message_ref ref) {
  if (st.recent_sent.size() >= recent_sent_limit) {
    st.recent_sent.erase(st.recent_sent_order.front());
    st.recent_sent_order.pop_front();
  }
  if (st.recent_sent.emplace(key, std::move(ref)).second) st.recent_sent_order.push_back(std::move(key));
}

void on_send_result(self_ptr self, send_result& r) {
  auto& st = self->state;
  const auto& job = r.job;
  if (auto it = st.sends_in_flight.find(job.channel_id); it != st.sends_in_flight.end() && it->second > 0) --it->second;
  auto stored = st.ctx->db->get(storage::family::messages, storage::message_key(st.ctx->tenant, job.contact, job.seq));
  storage::message_record current;
  if (stored) {
    auto decoded = storage::decode_message(stored->body);
    if (decoded) current = std::move(*decoded);
  }
  if (!stored || current.seq == 0) {
    // The message is gone (erased, or its tenant key destroyed): only the job remains.
    storage::write_group g;
    g.ops.push_back(storage::write_op::remove(storage::family::outbox, storage::outbox_key(st.ctx->tenant, job.contact, job.seq)));
    st.ctx->writer.append(std::move(g), [](storage::commit_outcome) {});
    return;
  }
  auto conv = activate(self, job.contact);
  if (!conv) return;  // the outbox keeps the job; it is sent again after a restart
  std::string sent_key;
  if (r.outcome.result == send_outcome::kind::accepted) {
    sent_key = job.channel_id + "|" + r.outcome.provider_message_id;
    remember_sent(st, sent_key, storage::message_ref{st.ctx->tenant, job.contact, job.seq});
    auto& recent = st.recent_results[job.channel_id + "|" + job.payload.to];
    if (recent.size() >= 64) recent.pop_front();
    recent.push_back(tenant_state::routed_result{job.contact, r.outcome.provider_message_id, job.seq, r.at_ms});
  }
  ++st.active[job.contact].sent;
  self->send(*conv, result_atom::value, conversation_send_result{r, current});
  // Statuses that came before this result follow it to the conversation, in order.
  if (auto it = st.parked.find(sent_key); !sent_key.empty() && it != st.parked.end()) {
    for (auto& p : it->second) {
      ++st.active[job.contact].sent;
      self->send(*conv, pstatus_atom::value, conversation_status{p.channel, p.status, current, p.ack});
    }
    st.parked.erase(it);
  }
  // And watermarks of this recipient that cover it (kept until they expire: they may
  // cover more sends still on their way).
  if (auto it = st.parked.find("wm|" + job.channel_id + "|" + job.payload.to); !sent_key.empty() && it != st.parked.end()) {
    for (const auto& p : it->second) {
      if (p.status.watermark_ms < r.at_ms) continue;
      inbound_status one = p.status;
      one.provider_message_id = r.outcome.provider_message_id;
      ++st.active[job.contact].sent;
      self->send(*conv, pstatus_atom::value, conversation_status{p.channel, one, current, nullptr});
    }
  }
}

// Parked statuses whose message never showed up: forgotten, like any status about a
// message Parley does not know.
void on_park_expired(self_ptr self, const std::string& key) {
  auto& st = self->state;
  auto it = st.parked.find(key);
  if (it == st.parked.end()) return;
  st.parked.erase(it);
}

// Adds what the meter counted to the stored day records (this actor is their only
// writer). `sync`: write directly and durably (at exit); else through the writer.
void flush_usage(self_ptr self, bool sync) {
  auto& st = self->state;
  const auto& ctx = *st.ctx;
  auto days = ctx.usage->take();
  if (days.empty()) return;
  // A deleted tenant (its key is destroyed first) records nothing more: its purge runs.
  if (!ctx.db->has_tenant_key(ctx.tenant)) return;
  storage::write_group g;
  for (auto& [day, delta] : days) {
    auto key = storage::usage_key(ctx.tenant, day, "day");
    auto it = st.usage_totals.find(day);
    if (it == st.usage_totals.end()) {
      usage_day stored_total;
      if (auto stored = ctx.db->get(storage::family::meta, key); stored) {
        if (auto decoded = usage_day::decode(stored->body)) stored_total = std::move(*decoded);
      }
      it = st.usage_totals.emplace(day, stored_total).first;
    }
    it->second.merge(delta);
    g.ops.push_back(storage::write_op::put(storage::family::meta, key, it->second.encode()));
  }
  while (st.usage_totals.size() > 4) st.usage_totals.erase(st.usage_totals.begin());  // oldest days first
  if (sync) {
    (void)ctx.db->write(g.ops, true);
    return;
  }
  ctx.writer.append(std::move(g), [](storage::commit_outcome) {});
}

// The tenant was deleted: its conversations retire a batch at a time, then the tenant
// quits. 32 per 10 ms (3,200/s): at 256 per 10 ms the finalizations filled the shared
// scheduler and another tenant's webhooks fell to ~150/s while 20 k retired.
void wind_down(self_ptr self) {
  constexpr std::size_t batch = 32;
  auto& st = self->state;
  for (std::size_t n = 0; n < batch && !st.active.empty(); ++n) {
    auto it = st.active.begin();
    self->send(it->second.handle, retire_atom::value);
    st.active.erase(it);
    --active_conversation_count;
  }
  if (st.active.empty()) return self->quit();
  self->delayed_send(self, std::chrono::milliseconds(10), purge_atom::value);
}

// Accepted messages whose delivery had not finished when the engine stopped: sent again
// (at least once towards the provider; see docs/operations.md for the window).
void resume_outbox(self_ptr self) {
  auto& st = self->state;
  if (!st.ctx->deliver) return;
  auto cursor = st.ctx->db->scan(storage::family::outbox, storage::outbox_prefix(st.ctx->tenant));
  storage::record rec;
  while (cursor->next(rec)) {
    auto job = storage::decode_delivery_job(rec.body);
    if (!job) continue;
    ++st.sends_in_flight[job->channel_id];
    st.ctx->deliver(std::move(*job));
  }
}

tenant_actor::behavior_type tenant_behavior(self_ptr self, std::shared_ptr<const tenant_context> ctx) {
  self->state.ctx = std::move(ctx);
  name_this_thread("parley-tenant");
  storage::disable_thread_perf_counters();  // detached: this is the actor's own thread, which does its point reads
  // Load the tenant's data key here, on this detached thread: the conversation actors
  // seal their records on the shared scheduler and then find it cached. (A tenant being
  // purged has none; its appends fail with key_destroyed either way.)
  if (self->state.ctx->db) (void)self->state.ctx->db->has_tenant_key(self->state.ctx->tenant);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    if (msg.reason == caf::exit_reason::normal) return;
    // Stopping: the tenant's conversations stop with it.
    flush_usage(self, true);
    for (auto& [contact, conv] : self->state.active) caf::anon_send_exit(conv.handle, caf::exit_reason::user_shutdown);
    active_conversation_count -= self->state.active.size();
    self->state.active.clear();
    self->quit(msg.reason);
  });
  self->set_exception_handler([self](std::exception_ptr&) -> caf::error {
    // A failing tenant must not leave its conversations running (nothing links them).
    for (auto& [contact, conv] : self->state.active) caf::anon_send_exit(conv.handle, caf::exit_reason::unhandled_exception);
    active_conversation_count -= self->state.active.size();
    self->state.active.clear();
    return caf::exit_reason::unhandled_exception;
  });
  self->set_down_handler([self](caf::down_msg& msg) {
    // A conversation that retired (normal) is no news. One that failed is forgotten: the
    // next message for its contact activates it again from storage.
    if (msg.reason == caf::exit_reason::normal || msg.reason == caf::exit_reason::user_shutdown) return;
    auto& active = self->state.active;
    for (auto it = active.begin(); it != active.end(); ++it) {
      if (caf::actor_cast<caf::actor_addr>(it->second.handle) == msg.source) {
        active.erase(it);
        --active_conversation_count;
        break;
      }
    }
  });
  resume_outbox(self);
  self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
  return {
      [self](tick_atom) {
        flush_usage(self, false);
        self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
      },
      [self](purge_atom) { wind_down(self); },
      [self](inbound_atom, inbound_job& job) { on_inbound(self, job); },
      [self](send_atom, send_request& req) { on_send(self, req); },
      [self](result_atom, send_result& r) { on_send_result(self, r); },
      [self](released_atom, const std::string& key, const std::string& channel_id, const result<send_answer>& r) {
        on_released(self, key, channel_id, r);
      },
      [self](idle_atom, const std::string& key) { on_park_expired(self, key); },
      [self](retire_atom, const std::string& contact, std::uint64_t handled) { on_retire(self, contact, handled); },
      [self](merge_atom, merge_request& m) { m.done(merge_contacts(self, m.contact, m.other)); },
      [self](erase_atom, erase_contact_request& r) { r.done(erase_contact(self, r.contact)); },
      [self](erase_atom, erase_message_request& r) { r.done(erase_message(self, r.contact, r.seq)); },
      [self](consent_atom, consent_request& req) {
        // Only an existing contact: activation would otherwise create an empty one.
        if (!self->state.active.contains(req.contact)) {
          auto stored = load_state(*self->state.ctx, req.contact);
          if (!stored) return req.done(std::move(stored).err());
        }
        auto conv = activate(self, req.contact);
        if (!conv) return req.done(std::move(conv).err());
        ++self->state.active[req.contact].sent;
        self->send(*conv, consent_atom::value, std::move(req));
      },
  };
}

}  // namespace

tenant_actor spawn_tenant(caf::actor_system& sys, std::shared_ptr<const tenant_context> ctx) {
  return sys.spawn<caf::detached>(tenant_behavior, std::move(ctx));
}

std::size_t active_conversations() noexcept { return active_conversation_count.load(); }

}  // namespace parley::actors
