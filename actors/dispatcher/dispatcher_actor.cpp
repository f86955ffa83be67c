#include "dispatcher/dispatcher_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <future>

#include "parley/actors/atoms.hpp"
#include "parley/actors/directory.hpp"
#include "parley/actors/feed.hpp"
#include "parley/hex.hpp"
#include "parley/storage/keys.hpp"
#include "parley/storage/records.hpp"
#include "parley/thread_name.hpp"
#include "registry/registry_actor.hpp"

namespace parley::actors {

struct dispatch_hub::shared {
  std::mutex mutex;
  push_status status;
};

namespace {

std::string cursor_key(const std::string& tenant) {
  return storage::key_builder().u8(static_cast<std::uint8_t>(storage::meta_kind::push_cursor)).str(tenant).take();
}

std::string sign(std::string_view secret, std::string_view timestamp, std::string_view body) {
  std::string data;
  data.reserve(timestamp.size() + 1 + body.size());
  data.append(timestamp).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &size);
  return to_hex(std::string_view(reinterpret_cast<const char*>(mac), size));
}

std::string delivery_id() {
  unsigned char raw[12];
  RAND_bytes(raw, sizeof raw);
  return "dlv_" + to_hex(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
}

// One batch on its way to the receiver; retried as it is until acknowledged.
struct batch {
  std::string id;
  std::string body;
  std::uint64_t last = 0;
  int attempt = 0;
};

struct dispatcher_state {
  std::shared_ptr<const dispatch_context> ctx;
  std::shared_ptr<dispatch_hub::shared> shared;
  std::string tenant;
  std::uint64_t cursor = 0;
  std::uint64_t generation = 0;  ///< bumped by a replay: answers of older attempts are ignored
  std::optional<batch> pending;
  bool in_flight = false;
  bool waiting_for_events = false;
  bool retry_armed = false;
  static inline const char* name = "dispatcher";
};

using self_ptr = caf::stateful_actor<dispatcher_state>*;

void publish(dispatcher_state& st, const std::function<void(push_status&)>& change) {
  std::lock_guard lock(st.shared->mutex);
  change(st.shared->status);
}

void store_cursor(dispatcher_state& st) {
  storage::write_group g;
  g.ops.push_back(storage::write_op::put(storage::family::meta, cursor_key(st.tenant), std::to_string(st.cursor)));
  st.ctx->writer.append(std::move(g), [](storage::commit_outcome) {});
}

void attempt(self_ptr self);

void next(self_ptr self) {
  auto& st = self->state;
  if (st.in_flight || st.retry_armed) return;
  if (!st.pending) {
    auto page = read_event_page(*st.ctx->db, st.tenant, st.cursor, st.ctx->batch_size, st.ctx->writer.group_writer().get());
    if (!page) {
      publish(st, [&](push_status& s) { s.last_error = "reading the feed failed: " + page.err().message; });
      st.retry_armed = true;
      self->delayed_send(self, std::chrono::milliseconds(st.ctx->max_retry_ms), tick_atom::value);
      return;
    }
    if (page->count == 0) {
      // Caught up: wake when the next event commits.
      if (!st.waiting_for_events) {
        st.waiting_for_events = true;
        // A weak handle: a waiter left in the notifier must not keep this actor alive.
        auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
        st.ctx->dir->feeds().wait(st.tenant, st.cursor, [weak] {
          if (auto strong = caf::actor_cast<caf::strong_actor_ptr>(weak)) {
            caf::anon_send(caf::actor_cast<caf::actor>(strong), tick_atom::value);
          }
        });
      }
      return;
    }
    st.pending = batch{delivery_id(), "{\"events\":" + page->events_json + "}", page->last, 0};
  }
  attempt(self);
}

void attempt(self_ptr self) {
  auto& st = self->state;
  auto info = st.ctx->dir->tenant(st.tenant);
  if (!info || !info->webhook) return;  // removed meanwhile: the hub stops this actor
  auto& b = *st.pending;
  ++b.attempt;
  std::int64_t now = st.ctx->time->now_ms();
  std::string t = std::to_string(now / 1000);
  std::vector<std::pair<std::string, std::string>> headers{
      {"Content-Type", "application/json"},
      {"X-Parley-Delivery-Id", b.id},
      {"X-Parley-Attempt", std::to_string(b.attempt)},
      {"X-Parley-Signature", "t=" + t + ",v1=" + sign(info->webhook->secret, t, b.body)},
  };
  st.in_flight = true;
  publish(st, [&](push_status& s) { s.last_attempt_at_ms = now; });
  caf::actor me = caf::actor_cast<caf::actor>(self);
  std::uint64_t generation = st.generation;
  st.ctx->post(info->webhook->url, std::move(headers), b.body, [me, generation](unsigned status, std::string error) {
    caf::anon_send(me, result_atom::value, generation, status, std::move(error));
  });
}

void on_result(self_ptr self, std::uint64_t generation, unsigned status, const std::string& error) {
  auto& st = self->state;
  st.in_flight = false;
  if (generation != st.generation || !st.pending) return next(self);  // a replay moved on meanwhile
  if (status >= 200 && status < 300) {
    st.cursor = st.pending->last;
    st.pending.reset();
    store_cursor(st);
    publish(st, [&](push_status& s) {
      s.cursor = st.cursor;
      s.last_error.clear();
      ++s.delivered_batches;
    });
    return next(self);
  }
  std::string why = status == 0 ? "no answer: " + error : "the receiver answered " + std::to_string(status);
  publish(st, [&](push_status& s) { s.last_error = why; });
  int n = st.pending->attempt;
  std::int64_t delay = std::min(st.ctx->max_retry_ms, st.ctx->first_retry_ms << std::min(n - 1, 20));
  st.retry_armed = true;
  self->delayed_send(self, std::chrono::milliseconds(delay), tick_atom::value);
}

caf::behavior dispatcher(caf::stateful_actor<dispatcher_state>* self, std::shared_ptr<const dispatch_context> ctx,
                         std::shared_ptr<dispatch_hub::shared> shared, std::string tenant, std::uint64_t cursor) {
  name_this_thread("parley-dispatch");
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.shared = std::move(shared);
  st.tenant = std::move(tenant);
  st.cursor = cursor;
  self->send(self, tick_atom::value);
  return {
      [self](tick_atom) {
        self->state.retry_armed = false;
        self->state.waiting_for_events = false;
        next(self);
      },
      [self](result_atom, std::uint64_t generation, unsigned status, const std::string& error) {
        on_result(self, generation, status, error);
      },
      [self](replay_atom, std::uint64_t cursor) {
        auto& st = self->state;
        st.cursor = cursor;
        st.pending.reset();
        ++st.generation;
        publish(st, [&](push_status& s) { s.cursor = cursor; });
        next(self);
      },
  };
}

}  // namespace

std::uint64_t load_push_cursor(const storage::store& db, const std::string& tenant) {
  auto stored = db.get(storage::family::meta, cursor_key(tenant));
  return stored ? std::strtoull(stored->body.c_str(), nullptr, 10) : 0;
}

namespace {

constexpr auto sync_interval = std::chrono::seconds(1);

void sync_dispatchers(caf::event_based_actor* self, const std::shared_ptr<const dispatch_context>& ctx,
                      dispatch_hub::table& table) {
  std::unordered_map<std::string, std::shared_ptr<const tenant_info>> wanted;
  for (const auto& t : ctx->dir->tenants()) {
    if (t->webhook && t->status == tenant_status::active) wanted[t->id] = t;
  }
  std::lock_guard lock(table.mutex);
  for (auto it = table.running.begin(); it != table.running.end();) {
    if (!wanted.contains(it->first)) {
      self->unlink_from(it->second.actor);
      self->send_exit(it->second.actor, caf::exit_reason::user_shutdown);
      it = table.running.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [id, info] : wanted) {
    if (auto it = table.running.find(id); it != table.running.end()) {
      std::lock_guard status_lock(it->second.state->mutex);
      it->second.state->status.url = info->webhook->url;
      continue;
    }
    auto state = std::make_shared<dispatch_hub::shared>();
    std::uint64_t cursor = load_push_cursor(*ctx->db, id);
    state->status.cursor = cursor;
    state->status.url = info->webhook->url;
    auto actor = self->spawn<caf::detached + caf::linked>(dispatcher, ctx, state, id, cursor);
    table.running.emplace(id, dispatch_hub::entry{actor, state});
  }
}

caf::behavior supervisor(caf::event_based_actor* self, std::shared_ptr<const dispatch_context> ctx,
                         std::shared_ptr<dispatch_hub::table> table) {
  self->send(self, tick_atom::value);
  return {
      [self, ctx, table](tick_atom) { sync_dispatchers(self, ctx, *table); },
      [self, ctx, table](idle_atom) {  // the once-a-second round
        sync_dispatchers(self, ctx, *table);
        self->delayed_send(self, sync_interval, idle_atom::value);
      },
  };
}

}  // namespace

dispatch_hub::dispatch_hub(caf::actor_system& sys, std::shared_ptr<const dispatch_context> ctx) : ctx_(std::move(ctx)) {
  supervisor_ = sys.spawn(supervisor, ctx_, table_);
  caf::anon_send(supervisor_, idle_atom::value);
}

dispatch_hub::~dispatch_hub() { stop(); }

void dispatch_hub::sync() {
  std::lock_guard lock(mutex_);
  if (supervisor_) caf::anon_send(supervisor_, tick_atom::value);
}

std::optional<push_status> dispatch_hub::status(const std::string& tenant) const {
  std::shared_ptr<shared> state;
  {
    std::lock_guard lock(table_->mutex);
    auto it = table_->running.find(tenant);
    if (it == table_->running.end()) return std::nullopt;
    state = it->second.state;
  }
  push_status copy;
  {
    std::lock_guard lock(state->mutex);
    copy = state->status;
  }
  if (auto newest = newest_event(*ctx_->db, tenant, ctx_->writer.group_writer().get())) copy.newest = *newest;
  return copy;
}

parley::status dispatch_hub::set_cursor(const std::string& tenant, std::uint64_t cursor, const std::string& request_id) {
  caf::actor actor;
  {
    std::lock_guard lock(table_->mutex);
    auto it = table_->running.find(tenant);
    if (it == table_->running.end()) return make_error(errc::not_found, "this tenant has no events webhook");
    actor = it->second.actor;
  }
  storage::write_group g;
  g.ops.push_back(storage::write_op::put(storage::family::meta, cursor_key(tenant), std::to_string(cursor)));
  g.ops.push_back(audit_op(audit_entry{ctx_->time->now_ms(), "events_webhook.replay", tenant, std::to_string(cursor), request_id}));
  auto committed = std::make_shared<std::promise<errc>>();
  auto future = committed->get_future();
  ctx_->writer.append(std::move(g), [committed](storage::commit_outcome o) { committed->set_value(o.code); });
  if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    return make_error(errc::overloaded, "the cursor could not be stored in time");
  }
  if (auto code = future.get(); code != errc::ok) return make_error(code, "the cursor could not be stored");
  caf::anon_send(actor, replay_atom::value, cursor);
  return {};
}

void dispatch_hub::stop() {
  {
    std::lock_guard lock(mutex_);
    if (supervisor_) caf::anon_send_exit(supervisor_, caf::exit_reason::user_shutdown);  // its links stop the dispatchers
    supervisor_ = nullptr;
  }
  std::lock_guard lock(table_->mutex);
  table_->running.clear();
}

}  // namespace parley::actors
