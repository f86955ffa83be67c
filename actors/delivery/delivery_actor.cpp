#include "delivery/delivery_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <deque>
#include <queue>
#include <random>
#include <unordered_set>
#include <vector>

#include "parley/actors/directory.hpp"
#include "tenant/tenant_actor.hpp"

namespace parley::actors {

double default_outbound_rate(channel_type type) noexcept {
  switch (type) {
    case channel_type::whatsapp: return 80;
    case channel_type::messenger:
    case channel_type::instagram: return 40;
    case channel_type::telegram: return 30;
    case channel_type::email: return 50;
  }
  return 30;
}

std::int64_t recipient_gap_ms(channel_type type) noexcept { return type == channel_type::telegram ? 1'000 : 0; }

delivery_counters& delivery_stats() noexcept {
  static delivery_counters counters;
  return counters;
}

namespace {

constexpr int conversational = 0;
constexpr int bulk = 1;

// Something that becomes ready at `due_ms`: a scheduled or retried job, or a recipient
// whose per-recipient gap has passed.
struct timed {
  std::int64_t due_ms = 0;
  std::uint64_t order = 0;  ///< ties: first in, first out
  bool is_retry = false;
  storage::delivery_job job;  ///< the job (scheduled or retried)
  std::string wake_recipient; ///< or: a recipient to make ready again
  int wake_class = conversational;
  bool operator>(const timed& o) const { return due_ms != o.due_ms ? due_ms > o.due_ms : order > o.order; }
};

struct delivery_state {
  std::shared_ptr<const delivery_context> ctx;
  std::string channel_id;
  // Per class: recipients with waiting jobs (in arrival order) and their jobs.
  std::deque<std::string> ready[2];
  std::unordered_map<std::string, std::deque<storage::delivery_job>> waiting[2];
  std::unordered_set<std::string> queued_in[2];  ///< recipients currently listed in ready[c]
  std::deque<storage::delivery_job> retry_ready;   ///< retries that are due: first in line
  std::unordered_set<std::string> busy;            ///< recipients with a job in flight or in retry
  std::unordered_map<std::string, std::int64_t> last_sent_ms;
  std::unordered_map<std::string, int> attempts;   ///< contact|seq -> failed attempts so far
  std::priority_queue<timed, std::vector<timed>, std::greater<>> timers;
  std::uint64_t order = 0;
  std::size_t in_flight = 0;
  double tokens = 1;
  std::int64_t refill_ms = 0;
  std::int64_t paused_until_ms = 0;
  bool tick_armed = false;
  std::int64_t tick_due_ms = 0;
  std::mt19937_64 rng{std::random_device{}()};
  static inline const char* name = "delivery";
};

using self_ptr = delivery_actor::stateful_pointer<delivery_state>;

std::string job_key(const storage::delivery_job& j) { return j.contact + "|" + std::to_string(j.seq); }

double channel_rate(const channel_info& ch) {
  return ch.outbound_per_second > 0 ? static_cast<double>(ch.outbound_per_second) : default_outbound_rate(ch.type);
}

void make_ready(delivery_state& st, int c, const std::string& recipient) {
  if (st.busy.contains(recipient)) return;  // listed again when its send finishes
  auto it = st.waiting[c].find(recipient);
  if (it == st.waiting[c].end() || it->second.empty()) return;
  if (st.queued_in[c].insert(recipient).second) st.ready[c].push_back(recipient);
}

void add_waiting(delivery_state& st, storage::delivery_job job) {
  int c = job.bulk ? bulk : conversational;
  auto recipient = job.payload.to;
  st.waiting[c][recipient].push_back(std::move(job));
  make_ready(st, c, recipient);
}

// `sent_at_ms`: when the accepted call went out. It becomes the message's provider time:
// never later than the provider's own, so Messenger/Instagram watermarks (everything
// sent before T is delivered/read) cover it.
void report(self_ptr self, const storage::delivery_job& job, send_outcome outcome, std::int64_t sent_at_ms = 0) {
  auto& stats = delivery_stats();
  --stats.queued;
  if (outcome.result == send_outcome::kind::accepted) ++stats.sent;
  else ++stats.failed;
  auto tenant = caf::actor_cast<tenant_actor>(self->state.ctx->dir->tenant_actor(job.tenant));
  if (!tenant) return;  // tenant gone (deleted): its records go with it
  send_result r;
  r.job = job;
  r.outcome = std::move(outcome);
  r.at_ms = sent_at_ms > 0 ? sent_at_ms : self->state.ctx->time->now_ms();
  self->send(tenant, result_atom::value, std::move(r));
}

send_outcome failure(std::string code, std::string message) {
  send_outcome o;
  o.result = send_outcome::kind::failed;
  o.error_code = std::move(code);
  o.error_message = std::move(message);
  return o;
}

// A recipient's send is over (success or final failure): their next message may go.
void release(delivery_state& st, const std::string& recipient) {
  st.busy.erase(recipient);
  make_ready(st, conversational, recipient);
  make_ready(st, bulk, recipient);
}

void arm_tick(self_ptr self, std::int64_t due_ms) {
  auto& st = self->state;
  if (st.tick_armed && st.tick_due_ms <= due_ms) return;
  st.tick_armed = true;
  st.tick_due_ms = due_ms;
  auto wait = std::max<std::int64_t>(1, due_ms - st.ctx->time->now_ms());
  self->delayed_send(self, std::chrono::milliseconds(wait), tick_atom::value);
}

// The next job allowed to go now, or nullopt. Recipients still inside their per-recipient
// gap are put to sleep until it has passed.
std::optional<storage::delivery_job> next_job(self_ptr self, std::int64_t now, std::int64_t gap_ms) {
  auto& st = self->state;
  if (!st.retry_ready.empty()) {
    auto job = std::move(st.retry_ready.front());
    st.retry_ready.pop_front();
    return job;
  }
  for (int c : {conversational, bulk}) {
    while (!st.ready[c].empty()) {
      auto recipient = std::move(st.ready[c].front());
      st.ready[c].pop_front();
      st.queued_in[c].erase(recipient);
      if (st.busy.contains(recipient)) continue;
      auto it = st.waiting[c].find(recipient);
      if (it == st.waiting[c].end() || it->second.empty()) continue;
      if (gap_ms > 0) {
        auto last = st.last_sent_ms.find(recipient);
        if (last != st.last_sent_ms.end() && now < last->second + gap_ms) {
          timed t;
          t.due_ms = last->second + gap_ms;
          t.order = st.order++;
          t.wake_recipient = recipient;
          t.wake_class = c;
          st.timers.push(std::move(t));
          continue;
        }
      }
      auto job = std::move(it->second.front());
      it->second.pop_front();
      if (it->second.empty()) st.waiting[c].erase(it);
      st.busy.insert(recipient);
      return job;
    }
  }
  return std::nullopt;
}

bool has_work(const delivery_state& st) {
  return !st.retry_ready.empty() || !st.ready[conversational].empty() || !st.ready[bulk].empty();
}

// Sends whatever pacing allows now and arms the timer for what comes next.
void pump(self_ptr self) {
  auto& st = self->state;
  std::int64_t now = st.ctx->time->now_ms();
  while (!st.timers.empty() && st.timers.top().due_ms <= now) {
    timed t = st.timers.top();
    st.timers.pop();
    if (!t.wake_recipient.empty()) make_ready(st, t.wake_class, t.wake_recipient);
    else if (t.is_retry) st.retry_ready.push_back(std::move(t.job));
    else add_waiting(st, std::move(t.job));
  }
  auto channel = st.ctx->dir->channel(st.channel_id);
  if (!channel) {
    // The channel was deleted: nothing of it can be sent any more.
    while (auto job = next_job(self, now, 0)) {
      report(self, *job, failure("channel_not_found", "the channel was deleted before the message was sent"));
      st.busy.erase(job->payload.to);
    }
    return;
  }
  double rate = channel_rate(*channel);
  double capacity = std::max(1.0, rate / 10);  // small bursts: the rate holds over any window
  if (st.refill_ms == 0) st.refill_ms = now;
  st.tokens = std::min(capacity, st.tokens + static_cast<double>(now - st.refill_ms) * rate / 1000.0);
  st.refill_ms = now;
  std::int64_t gap = recipient_gap_ms(channel->type);
  while (has_work(st) && st.in_flight < st.ctx->max_in_flight && now >= st.paused_until_ms && st.tokens >= 1) {
    auto job = next_job(self, now, gap);
    if (!job) break;
    if (job->expires_at_ms > 0 && now > job->expires_at_ms) {
      report(self, *job, failure("expired", "not sent within valid_for_seconds"));
      st.attempts.erase(job_key(*job));
      release(st, job->payload.to);
      continue;
    }
    st.tokens -= 1;
    ++st.in_flight;
    ++delivery_stats().attempts;
    st.last_sent_ms[job->payload.to] = now;
    auto me = caf::actor_cast<delivery_actor>(self);
    auto payload = job->payload;
    st.ctx->transport(*channel, payload, [me, job = std::move(*job), now](send_outcome outcome) mutable {
      caf::anon_send(me, result_atom::value, attempt_done{std::move(job), std::move(outcome), now});
    });
  }
  // When can something happen next?
  std::int64_t next = -1;
  if (has_work(st) && st.in_flight < st.ctx->max_in_flight) {
    std::int64_t token_at = st.tokens >= 1 ? now : now + static_cast<std::int64_t>(std::ceil((1 - st.tokens) * 1000 / rate));
    next = std::max(token_at, st.paused_until_ms);
  }
  if (!st.timers.empty()) next = next < 0 ? st.timers.top().due_ms : std::min(next, st.timers.top().due_ms);
  if (next >= 0) arm_tick(self, std::max(next, now + 1));
  if (st.last_sent_ms.size() > 100'000) {
    // Forget gaps that have long passed (bounded memory with many recipients).
    for (auto it = st.last_sent_ms.begin(); it != st.last_sent_ms.end();) {
      it = now - it->second > gap + 1000 ? st.last_sent_ms.erase(it) : std::next(it);
    }
  }
}

void on_deliver(self_ptr self, storage::delivery_job& job) {
  auto& st = self->state;
  ++delivery_stats().queued;
  if (job.not_before_ms > st.ctx->time->now_ms()) {
    timed t;
    t.due_ms = job.not_before_ms;
    t.order = st.order++;
    t.job = std::move(job);
    st.timers.push(std::move(t));
  } else {
    add_waiting(st, std::move(job));
  }
  pump(self);
}

void on_attempt(self_ptr self, attempt_done& done) {
  auto& st = self->state;
  --st.in_flight;
  auto& job = done.job;
  auto& o = done.outcome;
  std::int64_t now = st.ctx->time->now_ms();
  if (o.result == send_outcome::kind::retry) {
    int n = ++st.attempts[job_key(job)];
    ++delivery_stats().retries;
    if (o.throttled) ++delivery_stats().throttled;
    if (now - job.accepted_at_ms > st.ctx->give_up_after_ms) {
      report(self, job, failure(o.error_code.empty() ? "undeliverable" : o.error_code,
                                "gave up after " + std::to_string(n) + " attempts: " + o.error_message));
    } else {
      // Exponential backoff with jitter, or the provider's own delay when it named one.
      std::int64_t backoff = std::min(st.ctx->max_retry_ms, st.ctx->first_retry_ms << std::min(n - 1, 20));
      std::int64_t delay = o.retry_after_ms > 0
                               ? o.retry_after_ms
                               : std::uniform_int_distribution<std::int64_t>(backoff / 2, backoff)(st.rng);
      if (o.throttled) st.paused_until_ms = std::max(st.paused_until_ms, now + std::max<std::int64_t>(delay, 1'000));
      if (job.expires_at_ms > 0 && now + delay > job.expires_at_ms) {
        report(self, job, failure("expired", "not sent within valid_for_seconds"));
      } else {
        timed t;
        t.due_ms = now + delay;
        t.order = st.order++;
        t.is_retry = true;
        t.job = std::move(job);
        st.timers.push(std::move(t));  // the recipient stays busy: their later messages wait
        pump(self);
        return;
      }
    }
  } else {
    report(self, job, std::move(o), done.started_ms);
  }
  st.attempts.erase(job_key(job));
  release(st, job.payload.to);
  pump(self);
}

delivery_actor::behavior_type delivery_behavior(self_ptr self, std::shared_ptr<const delivery_context> ctx,
                                                std::string channel_id) {
  self->state.ctx = std::move(ctx);
  self->state.channel_id = std::move(channel_id);
  return {
      [self](deliver_atom, storage::delivery_job& job) { on_deliver(self, job); },
      [self](result_atom, attempt_done& done) { on_attempt(self, done); },
      [self](tick_atom) {
        self->state.tick_armed = false;
        pump(self);
      },
  };
}

}  // namespace

namespace {

caf::behavior delivery_router(caf::event_based_actor* self, std::shared_ptr<const delivery_context> ctx) {
  auto actors = std::make_shared<std::unordered_map<std::string, delivery_actor>>();
  return {
      [self, ctx, actors](deliver_atom, storage::delivery_job& job) {
        auto it = actors->find(job.channel_id);
        if (it == actors->end()) {
          it = actors->emplace(job.channel_id, self->spawn<caf::linked>(delivery_behavior, ctx, job.channel_id)).first;
        }
        self->send(it->second, deliver_atom::value, std::move(job));
      },
  };
}

}  // namespace

delivery_hub::delivery_hub(caf::actor_system& sys, std::shared_ptr<const delivery_context> ctx)
    : router_(sys.spawn(delivery_router, std::move(ctx))) {}

void delivery_hub::enqueue(storage::delivery_job job) {
  std::lock_guard lock(mutex_);
  if (!router_) return;  // stopped: the job stays in the outbox and is sent after the next start
  caf::anon_send(router_, deliver_atom::value, std::move(job));
}

void delivery_hub::stop() {
  std::lock_guard lock(mutex_);
  if (router_) caf::anon_send_exit(router_, caf::exit_reason::user_shutdown);
  router_ = nullptr;
}

}  // namespace parley::actors
