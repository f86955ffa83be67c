#include "retention/retention_actor.hpp"

#include <boost/json.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "parley/actors/directory.hpp"
#include "parley/storage/keys.hpp"
#include "parley/storage/records.hpp"
#include "parley/thread_name.hpp"
#include "registry/registry_actor.hpp"

namespace parley::actors {
namespace {

namespace json = boost::json;
using storage::family;
using storage::meta_kind;

std::string erasure_key(std::string_view tenant, std::string_view contact) {
  return storage::key_builder().u8(static_cast<std::uint8_t>(meta_kind::erasure)).str(tenant).str(contact).take();
}

bool stopping(const retention_context& ctx) { return ctx.stopping->load(std::memory_order_relaxed); }

// Deletes the keys of `doomed` from `f` in batches of 512 (one durable write each).
status erase_keys(storage::store& db, family f, std::vector<std::string>& doomed) {
  for (std::size_t at = 0; at < doomed.size(); at += 512) {
    std::vector<storage::write_op> ops;
    for (std::size_t n = at; n < std::min(doomed.size(), at + 512); ++n) {
      ops.push_back(storage::write_op::remove(f, std::move(doomed[n])));
    }
    if (auto st = db.write(ops, true); !st) return st;
  }
  doomed.clear();
  return {};
}

// Deletes every record under `prefix` of `f` whose body `matches` (scanned on a snapshot,
// deleted in batches afterwards).
status erase_matching(storage::store& db, family f, const std::string& prefix,
                      const std::function<bool(const std::string&)>& matches) {
  std::vector<std::string> doomed;
  auto cursor = db.scan(f, prefix);
  storage::record rec;
  while (cursor->next(rec)) {
    if (matches(rec.body)) doomed.push_back(rec.key);
  }
  if (!cursor->error().ok() && cursor->error().code() != errc::key_destroyed) return cursor->error();
  cursor.reset();
  return erase_keys(db, f, doomed);
}

// Does a stored event name `contact`? Message events carry {"ref":{"contact"}}, others
// name it in their data ("contact_id").
bool event_names(std::string_view body, const std::string& contact) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return false;
  const auto& o = v.as_object();
  if (const auto* ref = o.if_contains("ref"); ref != nullptr && ref->is_object()) {
    if (const auto* c = ref->as_object().if_contains("contact"); c != nullptr && c->is_string() && c->as_string() == contact) {
      return true;
    }
  }
  if (const auto* data = o.if_contains("data"); data != nullptr && data->is_object()) {
    if (const auto* c = data->as_object().if_contains("contact_id"); c != nullptr && c->is_string() && c->as_string() == contact) {
      return true;
    }
  }
  return false;
}

// Does a raw provider payload name one of these ids? They appear as JSON strings (or, for
// Telegram user ids, as bare numbers), so the id is matched with its delimiters.
bool raw_names(std::string_view body, const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    if (id.empty()) continue;
    for (std::size_t at = body.find(id); at != std::string_view::npos; at = body.find(id, at + 1)) {
      auto is_id_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '@' || c == '-' || c == '+'; };
      bool starts = at == 0 || !is_id_char(body[at - 1]);
      std::size_t end = at + id.size();
      bool ends = end == body.size() || !is_id_char(body[end]);
      if (starts && ends) return true;
    }
  }
  return false;
}

struct retention_state {
  std::shared_ptr<const retention_context> ctx;
  static inline const char* name = "retention";
};
using self_ptr = retention_actor::stateful_pointer<retention_state>;

void run_sweep(const retention_context& ctx) {
  auto swept = ctx.db->compact_expired();
  ++ctx.counters->sweeps;
  ctx.counters->last_sweep_ms = ctx.time->now_ms();
  if (!swept) {
    ++ctx.counters->errors;
    spdlog::warn("retention sweep failed: {}", swept.err().message);
    return;
  }
  ctx.counters->ranges_compacted += swept->ranges_compacted;
}

// Stored erasures that did not finish before the last stop.
std::vector<erase_contact_job> stored_erasures(const retention_context& ctx) {
  std::vector<erase_contact_job> out;
  auto cursor = ctx.db->scan(family::meta, storage::key_builder().u8(static_cast<std::uint8_t>(meta_kind::erasure)).take());
  storage::record rec;
  while (cursor->next(rec)) {
    boost::system::error_code ec;
    auto v = json::parse(rec.body, ec);
    if (ec || !v.is_object()) continue;
    erase_contact_job job;
    const auto& o = v.as_object();
    if (const auto* t = o.if_contains("tenant"); t != nullptr && t->is_string()) job.tenant = std::string(t->as_string());
    if (const auto* c = o.if_contains("contact"); c != nullptr && c->is_string()) job.contact = std::string(c->as_string());
    if (const auto* ids = o.if_contains("external_ids"); ids != nullptr && ids->is_array()) {
      for (const auto& id : ids->as_array()) {
        if (id.is_string()) job.external_ids.emplace_back(id.as_string());
      }
    }
    if (!job.tenant.empty() && !job.contact.empty()) out.push_back(std::move(job));
  }
  return out;
}

retention_actor::behavior_type retention_behavior(self_ptr self, std::shared_ptr<const retention_context> ctx) {
  self->state.ctx = std::move(ctx);
  name_this_thread("parley-retain");
  // This actor's own thread (detached) yields to the threads that serve live traffic.
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10);
  // Resume what the last run left unfinished: tenants still purging, erasures stored.
  for (const auto& t : self->state.ctx->dir->tenants()) {
    if (t->status == tenant_status::purging) self->send(self, purge_atom::value, purge_tenant_job{t->id, {}});
  }
  for (auto& job : stored_erasures(*self->state.ctx)) self->send(self, erase_atom::value, std::move(job));
  self->delayed_send(self, self->state.ctx->sweep_interval, sweep_atom::value);
  return {
      [self](sweep_atom) {
        const auto& ctx = *self->state.ctx;
        if (stopping(ctx)) return;
        run_sweep(ctx);
        self->delayed_send(self, ctx.sweep_interval, sweep_atom::value);
      },
      [self](purge_atom, purge_tenant_job& job) {
        const auto& ctx = *self->state.ctx;
        if (stopping(ctx)) return;
        auto st = purge_tenant_records(ctx, job.tenant);
        if (!st) {
          ++ctx.counters->errors;
          spdlog::warn("purge of tenant {} stopped: {} (resumed at the next start)", job.tenant, st.err().message);
        }
        if (job.done) job.done(st);
      },
      [self](erase_atom, erase_contact_job& job) {
        const auto& ctx = *self->state.ctx;
        if (stopping(ctx)) return;
        auto st = finish_contact_erasure(ctx, job);
        if (!st) {
          ++ctx.counters->errors;
          spdlog::warn("erasure of a contact of tenant {} stopped: {} (resumed at the next start)", job.tenant,
                       st.err().message);
        }
        if (job.done) job.done(st);
      },
  };
}

}  // namespace

storage::write_op erasure_record_op(const erase_contact_job& job) {
  json::array ids;
  for (const auto& id : job.external_ids) ids.emplace_back(id);
  json::object o{{"tenant", job.tenant}, {"contact", job.contact}, {"external_ids", std::move(ids)}};
  return storage::write_op::put(family::meta, erasure_key(job.tenant, job.contact), json::serialize(o), true);
}

storage::write_op purge_record_op(const std::string& tenant, const std::vector<std::string>& channel_ids) {
  json::array ids;
  for (const auto& id : channel_ids) ids.emplace_back(id);
  // Not sealed: the tenant's key is destroyed before the purge runs.
  return storage::write_op::put(family::meta, storage::tenant_meta_key(meta_kind::purge, tenant), json::serialize(json::object{{"channels", std::move(ids)}}));
}

namespace {

// True when any key under one of the ranges can still be read (written after its range delete).
result<bool> any_visible(const storage::store& db, const std::vector<std::pair<family, std::string>>& ranges) {
  for (const auto& [f, prefix] : ranges) {
    auto n = db.count_physical(f, prefix);
    if (!n) return std::move(n).err();
    if (*n > 0) return true;
  }
  return false;
}

}  // namespace

status purge_tenant_records(const retention_context& ctx, const std::string& tenant) {
  auto& db = *ctx.db;
  auto started = std::chrono::steady_clock::now();
  auto hold = db.hold_maintenance();  // background I/O makes way for live commits until done
  // Channels whose dedup entries are still to go (kept by the delete).
  std::vector<std::string> channels;
  if (auto rec = db.get(family::meta, storage::tenant_meta_key(meta_kind::purge, tenant)); rec) {
    boost::system::error_code ec;
    auto v = json::parse(rec->body, ec);
    if (!ec && v.is_object()) {
      if (const auto* ids = v.as_object().if_contains("channels"); ids != nullptr && ids->is_array()) {
        for (const auto& id : ids->as_array()) {
          if (id.is_string()) channels.emplace_back(id.as_string());
        }
      }
    }
  } else if (rec.code() != errc::not_found) {
    return std::move(rec).err();
  }
  const std::string prefix = storage::key_builder().str(tenant).take();
  std::vector<std::pair<family, std::string>> ranges;
  for (family f : {family::messages, family::conversations, family::identities, family::raw_webhooks, family::outbox,
                   family::events}) {
    ranges.emplace_back(f, prefix);
  }
  for (const auto& ch : channels) ranges.emplace_back(family::dedup, storage::key_builder().str(ch).take());
  ranges.emplace_back(family::dedup, storage::idempotency_prefix(tenant));
  for (meta_kind kind : {meta_kind::usage, meta_kind::push_cursor, meta_kind::channel, meta_kind::erasure}) {
    ranges.emplace_back(family::meta, storage::tenant_meta_key(kind, tenant));
  }
  ranges.emplace_back(family::meta, storage::key_builder()
                                        .u8(static_cast<std::uint8_t>(meta_kind::sequence_hwm))
                                        .u8(static_cast<std::uint8_t>(family::events))
                                        .str(storage::event_prefix(tenant))
                                        .take());
  // A commit of the tenant's last moments (a webhook in flight when it was deleted) can
  // land after the first pass's range deletes; then it is visible above them and a second
  // pass removes it. Usually nothing is left, and the second flush and compactions, as
  // costly as the first for other tenants' latency, are skipped.
  for (int pass = 0; pass < 2; ++pass) {
    if (stopping(ctx)) return make_error(errc::shutting_down, "stopping");
    if (pass > 0) {
      auto left = any_visible(db, ranges);
      if (!left) return std::move(left).err();
      if (!*left) break;
    }
    if (auto st = db.purge(ranges); !st) return st;
  }
  // Last: the tenant record (and the purge record). From here the id is free.
  std::vector<storage::write_op> ops = {
      storage::write_op::remove(family::meta, storage::tenant_meta_key(meta_kind::tenant, tenant)),
      storage::write_op::remove(family::meta, storage::tenant_meta_key(meta_kind::purge, tenant)),
      audit_op(audit_entry{ctx.time->now_ms(), "tenant.purged", tenant, tenant, {}})};
  if (auto st = db.write(ops, true); !st) return st;
  if (auto st = db.compact_range(family::meta, storage::tenant_meta_key(meta_kind::tenant, tenant),
                                 storage::prefix_successor(storage::tenant_meta_key(meta_kind::tenant, tenant)));
      !st) {
    return st;
  }
  ctx.retention->remove_tenant(tenant);
  if (auto t = ctx.dir->tenant(tenant); t && t->status == tenant_status::purging) ctx.dir->remove_tenant(tenant);
  ctx.counters->last_purge_ms = ctx.time->now_ms();
  ++ctx.counters->tenants_purged;
  spdlog::info("tenant {} purged in {:.1f} s", tenant,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (ctx.on_purged) ctx.on_purged(tenant);
  return {};
}

status finish_contact_erasure(const retention_context& ctx, const erase_contact_job& job) {
  auto& db = *ctx.db;
  auto hold = db.hold_maintenance();  // one hold across the scans and compactions below
  const std::string tenant_prefix = storage::key_builder().str(job.tenant).take();
  // Events that name the contact (their bodies are not sealed: references and ids only).
  if (auto st = erase_matching(db, family::events, storage::event_prefix(job.tenant),
                               [&](const std::string& body) { return event_names(body, job.contact); });
      !st) {
    return st;
  }
  if (stopping(ctx)) return make_error(errc::shutting_down, "stopping");
  // Raw webhooks that name one of the contact's ids. A payload that also carries other
  // customers' messages goes too: erasure wins over keeping a debugging copy.
  if (auto st = erase_matching(db, family::raw_webhooks, tenant_prefix,
                               [&](const std::string& body) { return raw_names(body, job.external_ids); });
      !st) {
    return st;
  }
  if (stopping(ctx)) return make_error(errc::shutting_down, "stopping");
  // Physically: the erased message range, the contact's state and identities, and the
  // events and raw payloads just deleted.
  if (auto st = db.flush(); !st) return st;
  auto messages = storage::message_prefix(job.tenant, job.contact);
  for (auto [f, begin, end] : {std::tuple{family::messages, messages, storage::prefix_successor(messages)},
                               std::tuple{family::conversations, tenant_prefix, storage::prefix_successor(tenant_prefix)},
                               std::tuple{family::identities, tenant_prefix, storage::prefix_successor(tenant_prefix)},
                               std::tuple{family::outbox, messages, storage::prefix_successor(messages)},
                               std::tuple{family::events, tenant_prefix, storage::prefix_successor(tenant_prefix)},
                               std::tuple{family::raw_webhooks, tenant_prefix, storage::prefix_successor(tenant_prefix)}}) {
    if (stopping(ctx)) return make_error(errc::shutting_down, "stopping");
    if (auto st = db.compact_range(f, begin, end); !st) return st;
    hold.refresh();
  }
  if (auto st = db.erase_now(family::meta, erasure_key(job.tenant, job.contact)); !st) return st;
  ++ctx.counters->contacts_erased;
  return {};
}

retention_actor spawn_retention(caf::actor_system& sys, std::shared_ptr<const retention_context> ctx) {
  return sys.spawn<caf::detached>(retention_behavior, std::move(ctx));
}

}  // namespace parley::actors
