#include "registry/registry_actor.hpp"

#include <boost/json.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <openssl/sha.h>

#include <atomic>

#include "parley/hex.hpp"
#include "parley/ids.hpp"
#include "parley/storage/keys.hpp"
#include "parley/thread_name.hpp"

namespace parley::actors {
namespace {

namespace json = boost::json;
using storage::family;
using storage::meta_kind;

std::string meta_key(meta_kind kind, std::string_view a) { return storage::tenant_meta_key(kind, a); }
std::string meta_key(meta_kind kind, std::string_view a, std::string_view b) {
  return storage::key_builder().u8(static_cast<std::uint8_t>(kind)).str(a).str(b).take();
}
std::string meta_prefix(meta_kind kind) { return storage::key_builder().u8(static_cast<std::uint8_t>(kind)).take(); }

std::string str(const json::object& o, std::string_view k) {
  auto it = o.find(k);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}
std::int64_t num(const json::object& o, std::string_view k) {
  auto it = o.find(k);
  if (it == o.end()) return 0;
  if (it->value().is_int64()) return it->value().as_int64();
  if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().as_uint64());
  return 0;
}

// ---- meta record codecs -----------------------------------------------------------

std::string encode_tenant(const tenant_info& t) {
  json::object o;
  o["id"] = t.id;
  o["name"] = t.name;
  o["limits"] = json::object{{"send_requests_per_second", t.limits.send_requests_per_second},
                             {"monthly_outbound_quota", t.limits.monthly_outbound_quota}};
  o["retention"] = json::object{{"messages_days", t.retention.messages_days},
                                {"raw_webhooks_days", t.retention.raw_webhooks_days},
                                {"events_days", t.retention.events_days}};
  if (t.webhook) o["events_webhook"] = json::object{{"url", t.webhook->url}, {"secret", t.webhook->secret}};
  o["status"] = t.status == tenant_status::purging ? "purging" : "active";
  o["created_at_ms"] = t.created_at_ms;
  return json::serialize(o);
}

result<tenant_info> decode_tenant(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return make_error(errc::corruption, "tenant record does not parse");
  const auto& o = v.as_object();
  tenant_info t;
  t.id = str(o, "id");
  t.name = str(o, "name");
  if (auto it = o.find("limits"); it != o.end() && it->value().is_object()) {
    t.limits.send_requests_per_second = static_cast<std::uint32_t>(num(it->value().as_object(), "send_requests_per_second"));
    t.limits.monthly_outbound_quota = static_cast<std::uint64_t>(num(it->value().as_object(), "monthly_outbound_quota"));
  }
  if (auto it = o.find("retention"); it != o.end() && it->value().is_object()) {
    const auto& r = it->value().as_object();
    t.retention.messages_days = static_cast<std::uint32_t>(num(r, "messages_days"));
    t.retention.raw_webhooks_days = static_cast<std::uint32_t>(num(r, "raw_webhooks_days"));
    t.retention.events_days = static_cast<std::uint32_t>(num(r, "events_days"));
  }
  if (auto it = o.find("events_webhook"); it != o.end() && it->value().is_object()) {
    t.webhook = events_webhook{str(it->value().as_object(), "url"), str(it->value().as_object(), "secret")};
  }
  t.status = str(o, "status") == "purging" ? tenant_status::purging : tenant_status::active;
  t.created_at_ms = num(o, "created_at_ms");
  return t;
}

std::string encode_channel(const channel_info& c) {
  json::object o;
  o["id"] = c.id;
  o["tenant"] = c.tenant;
  o["type"] = std::string(to_string(c.type));
  o["name"] = c.name;
  json::array accounts;
  for (const auto& a : c.account_ids) accounts.emplace_back(a);
  o["account_ids"] = std::move(accounts);
  o["app_secret"] = c.app_secret;
  o["access_token"] = c.access_token;
  o["verify_token"] = c.verify_token;
  o["bot_token"] = c.bot_token;
  o["secret_token"] = c.secret_token;
  o["from_address"] = c.from_address;
  o["server_token"] = c.server_token;
  o["inbound_username"] = c.inbound_username;
  o["inbound_password"] = c.inbound_password;
  o["api_base"] = c.api_base;
  o["outbound_per_second"] = c.outbound_per_second;
  o["created_at_ms"] = c.created_at_ms;
  return json::serialize(o);
}

result<channel_info> decode_channel(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return make_error(errc::corruption, "channel record does not parse");
  const auto& o = v.as_object();
  channel_info c;
  c.id = str(o, "id");
  c.tenant = str(o, "tenant");
  auto type = parse_channel_type(str(o, "type"));
  if (!type) return make_error(errc::corruption, "channel record has an unknown type");
  c.type = *type;
  c.name = str(o, "name");
  if (auto it = o.find("account_ids"); it != o.end() && it->value().is_array()) {
    for (const auto& a : it->value().as_array()) {
      if (a.is_string()) c.account_ids.emplace_back(a.as_string());
    }
  }
  c.app_secret = str(o, "app_secret");
  c.access_token = str(o, "access_token");
  c.verify_token = str(o, "verify_token");
  c.bot_token = str(o, "bot_token");
  c.secret_token = str(o, "secret_token");
  c.from_address = str(o, "from_address");
  c.server_token = str(o, "server_token");
  c.inbound_username = str(o, "inbound_username");
  c.inbound_password = str(o, "inbound_password");
  c.api_base = str(o, "api_base");
  c.outbound_per_second = static_cast<std::uint32_t>(num(o, "outbound_per_second"));
  c.created_at_ms = num(o, "created_at_ms");
  return c;
}

std::string encode_key(const api_key_info& k) {
  json::object o{{"id", k.id}, {"tenant", k.tenant}, {"scopes", k.scopes}, {"created_at_ms", k.created_at_ms}};
  return json::serialize(o);
}

result<api_key_info> decode_key(std::string_view hash, std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return make_error(errc::corruption, "api key record does not parse");
  const auto& o = v.as_object();
  return api_key_info{str(o, "id"), str(o, "tenant"), std::string(hash), static_cast<std::uint8_t>(num(o, "scopes")),
                      num(o, "created_at_ms")};
}

// ---- shared steps ---------------------------------------------------------------------

caf::actor start_tenant(caf::actor_system& sys, const registry_context& ctx, const tenant_info& t) {
  auto tctx = std::make_shared<tenant_context>(ctx.tenant_defaults);
  tctx->tenant = t.id;
  tctx->inflight = std::make_shared<inflight_ids>();  // never shared between tenants
  tctx->usage = std::make_shared<usage_meter>();
  tctx->db = ctx.db;
  tctx->writer = ctx.writer;
  tctx->dir = ctx.dir;
  tctx->time = ctx.time;
  tctx->erasure_record = [tenant = t.id](const std::string& contact, const std::vector<std::string>& ids) {
    return erasure_record_op(erase_contact_job{tenant, contact, ids, {}});
  };
  return caf::actor_cast<caf::actor>(spawn_tenant(sys, std::move(tctx)));
}

// A new API key: "pk_" + 32 random base32 characters, returned once, stored hashed.
std::pair<api_key_info, std::string> new_key(const std::string& tenant, std::uint8_t scopes, std::int64_t now) {
  std::string key = generate_id("pk_") + generate_id("").substr(0, 12);
  api_key_info info{generate_id("key_"), tenant, hash_api_key(key), scopes, now};
  return {std::move(info), std::move(key)};
}

std::atomic<std::uint64_t> audit_sequence{0};

std::string audit_key(std::int64_t at_ms, std::uint64_t seq) {
  return storage::key_builder()
      .u8(static_cast<std::uint8_t>(meta_kind::audit))
      .u64(static_cast<std::uint64_t>(at_ms))
      .u64(seq)
      .take();
}

storage::write_op audit(const registry_context& ctx, std::string action, std::string tenant, std::string target,
                        const std::string& request_id) {
  return audit_op(audit_entry{ctx.time->now_ms(), std::move(action), std::move(tenant), std::move(target), request_id});
}

struct registry_state {
  std::shared_ptr<const registry_context> ctx;
  static inline const char* name = "registry";
};
using self_ptr = registry_actor::stateful_pointer<registry_state>;

void create_tenant(self_ptr self, create_tenant_cmd& cmd) {
  const auto& ctx = *self->state.ctx;
  auto& t = cmd.info;
  if (ctx.dir->tenant(t.id)) return cmd.done(make_error(errc::already_exists, "tenant exists"));  // also while purging
  // A purging tenant's id is reserved until its records are gone.
  if (auto stored = ctx.db->get(family::meta, meta_key(meta_kind::tenant, t.id)); stored || stored.code() == errc::key_destroyed) {
    return cmd.done(make_error(errc::already_exists, "tenant exists"));
  }
  t.created_at_ms = ctx.time->now_ms();
  t.status = tenant_status::active;
  if (auto st = ctx.db->create_tenant_key(t.id); !st) return cmd.done(std::move(st).err());
  auto [key, secret] = new_key(t.id, scope_send | scope_read, t.created_at_ms);
  std::vector<storage::write_op> ops = {
      storage::write_op::put(family::meta, meta_key(meta_kind::tenant, t.id), encode_tenant(t), true),
      storage::write_op::put(family::meta, meta_key(meta_kind::api_key, key.hash), encode_key(key)),
      audit(ctx, "tenant.create", t.id, t.id, cmd.request_id)};
  if (auto st = ctx.db->write(ops, true); !st) return cmd.done(std::move(st).err());
  ctx.retention->set_tenant(t.id, t.retention);
  auto info = std::make_shared<const tenant_info>(t);
  ctx.dir->put_tenant(info, start_tenant(self->system(), ctx, t));
  ctx.dir->put_key(std::make_shared<const api_key_info>(key));
  cmd.done(created_tenant{t, std::move(secret), key.id});
}

void delete_tenant(self_ptr self, delete_tenant_cmd& cmd) {
  const auto& ctx = *self->state.ctx;
  auto t = ctx.dir->tenant(cmd.id);
  if (!t) return cmd.done(make_error(errc::not_found, "no such tenant"));
  if (t->status == tenant_status::purging) return cmd.done(status{});
  // The data key goes first: from here on nothing of the tenant is readable.
  if (auto st = ctx.db->destroy_tenant_key(cmd.id); !st) return cmd.done(std::move(st).err());
  tenant_info purging = *t;
  purging.status = tenant_status::purging;
  purging.webhook.reset();
  std::vector<storage::write_op> ops;
  ops.push_back(storage::write_op::put(family::meta, meta_key(meta_kind::tenant, cmd.id), encode_tenant(purging)));
  std::vector<std::string> channel_ids;
  for (const auto& c : ctx.dir->channels_of(cmd.id)) {
    ops.push_back(storage::write_op::remove(family::meta, meta_key(meta_kind::channel, cmd.id, c->id)));
    channel_ids.push_back(c->id);
  }
  ops.push_back(purge_record_op(cmd.id, channel_ids));
  for (const auto& k : ctx.dir->keys_of(cmd.id)) {
    ops.push_back(storage::write_op::remove(family::meta, meta_key(meta_kind::api_key, k->hash)));
  }
  ops.push_back(audit(ctx, "tenant.delete", cmd.id, cmd.id, cmd.request_id));
  if (auto st = ctx.db->write(ops, true); !st) return cmd.done(std::move(st).err());
  // Its conversations end a batch at a time (see tenant_actor.hpp), not all at once.
  if (auto handle = ctx.dir->tenant_actor(cmd.id)) {
    caf::anon_send(caf::actor_cast<tenant_actor>(handle), purge_atom::value);
  }
  ctx.dir->remove_tenant(cmd.id);
  // Listed as purging (no channels, keys or actor) until its records are gone.
  ctx.dir->put_tenant(std::make_shared<const tenant_info>(purging), caf::actor());
  cmd.done(status{});
  // The records go in the background, at low priority, one purge at a time.
  if (ctx.purger) caf::anon_send(ctx.purger, purge_atom::value, purge_tenant_job{cmd.id, {}});
}

// Applies a PATCH: durable first, then the retention policy (which governs reads and
// compaction of the records already stored) and the directory.
void update_tenant(self_ptr self, update_tenant_cmd& cmd) {
  const auto& ctx = *self->state.ctx;
  auto current = ctx.dir->tenant(cmd.id);
  if (!current || current->status != tenant_status::active) return cmd.done(make_error(errc::not_found, "no such tenant"));
  tenant_info t = *current;
  const auto& p = cmd.patch;
  if (p.name) t.name = *p.name;
  if (p.send_requests_per_second) t.limits.send_requests_per_second = *p.send_requests_per_second;
  if (p.monthly_outbound_quota) t.limits.monthly_outbound_quota = *p.monthly_outbound_quota;
  if (p.messages_days) t.retention.messages_days = *p.messages_days;
  if (p.raw_webhooks_days) t.retention.raw_webhooks_days = *p.raw_webhooks_days;
  if (p.events_days) t.retention.events_days = *p.events_days;
  if (p.webhook) t.webhook = *p.webhook;
  std::vector<storage::write_op> ops = {
      storage::write_op::put(family::meta, meta_key(meta_kind::tenant, t.id), encode_tenant(t), true),
      audit(ctx, "tenant.update", t.id, t.id, cmd.request_id)};
  if (auto st = ctx.db->write(ops, true); !st) return cmd.done(std::move(st).err());
  ctx.retention->set_tenant(t.id, t.retention);
  ctx.dir->update_tenant(std::make_shared<const tenant_info>(t));
  cmd.done(t);
}

void create_channel(self_ptr self, create_channel_cmd& cmd) {
  const auto& ctx = *self->state.ctx;
  auto& c = cmd.info;
  if (auto t = ctx.dir->tenant(c.tenant); !t || t->status != tenant_status::active) {
    return cmd.done(make_error(errc::not_found, "no such tenant"));
  }
  c.id = generate_id("ch_");
  c.created_at_ms = ctx.time->now_ms();
  std::vector<storage::write_op> ops = {
      storage::write_op::put(family::meta, meta_key(meta_kind::channel, c.tenant, c.id), encode_channel(c), true),
      audit(ctx, "channel.create", c.tenant, c.id, cmd.request_id)};
  if (auto st = ctx.db->write(ops, true); !st) return cmd.done(std::move(st).err());
  ctx.dir->put_channel(std::make_shared<const channel_info>(c));
  cmd.done(c);
}

void delete_channel(self_ptr self, delete_channel_cmd& cmd) {
  const auto& ctx = *self->state.ctx;
  auto c = ctx.dir->channel(cmd.id);
  if (!c || c->tenant != cmd.tenant) return cmd.done(make_error(errc::not_found, "no such channel"));
  // Stop routing first so no webhook verifies against credentials being erased.
  ctx.dir->remove_channel(cmd.id);
  // Erased, not only hidden: the sealed credentials are compacted out of the files.
  if (auto st = ctx.db->erase_now(family::meta, meta_key(meta_kind::channel, cmd.tenant, cmd.id)); !st) {
    return cmd.done(std::move(st).err());
  }
  std::vector<storage::write_op> logged = {audit(ctx, "channel.delete", cmd.tenant, cmd.id, cmd.request_id)};
  if (auto st = ctx.db->write(logged, true); !st) {
    return cmd.done(std::move(st).err());
  }
  cmd.done(status{});
}

void create_key(self_ptr self, create_key_cmd& cmd) {
  const auto& ctx = *self->state.ctx;
  if (auto t = ctx.dir->tenant(cmd.tenant); !t || t->status != tenant_status::active) {
    return cmd.done(make_error(errc::not_found, "no such tenant"));
  }
  auto [key, secret] = new_key(cmd.tenant, cmd.scopes, ctx.time->now_ms());
  std::vector<storage::write_op> ops = {storage::write_op::put(family::meta, meta_key(meta_kind::api_key, key.hash), encode_key(key)),
                                        audit(ctx, "api_key.create", cmd.tenant, key.id, cmd.request_id)};
  if (auto st = ctx.db->write(ops, true); !st) return cmd.done(std::move(st).err());
  ctx.dir->put_key(std::make_shared<const api_key_info>(key));
  cmd.done(created_key{key, std::move(secret)});
}

void delete_key(self_ptr self, delete_key_cmd& cmd) {
  const auto& ctx = *self->state.ctx;
  for (const auto& k : ctx.dir->keys_of(cmd.tenant)) {
    if (k->id != cmd.id) continue;
    ctx.dir->remove_key(k->hash);  // stops working at once, even before the write
    std::vector<storage::write_op> ops = {storage::write_op::remove(family::meta, meta_key(meta_kind::api_key, k->hash)),
                                          audit(ctx, "api_key.delete", cmd.tenant, k->id, cmd.request_id)};
    if (auto st = ctx.db->write(ops, true); !st) return cmd.done(std::move(st).err());
    return cmd.done(status{});
  }
  cmd.done(make_error(errc::not_found, "no such api key"));
}

registry_actor::behavior_type registry_behavior(self_ptr self, std::shared_ptr<const registry_context> ctx) {
  self->state.ctx = std::move(ctx);
  name_this_thread("parley-registry");
  return {
      [self](command_atom, create_tenant_cmd& c) { create_tenant(self, c); },
      [self](command_atom, delete_tenant_cmd& c) { delete_tenant(self, c); },
      [self](command_atom, update_tenant_cmd& c) { update_tenant(self, c); },
      [self](command_atom, create_channel_cmd& c) { create_channel(self, c); },
      [self](command_atom, delete_channel_cmd& c) { delete_channel(self, c); },
      [self](command_atom, create_key_cmd& c) { create_key(self, c); },
      [self](command_atom, delete_key_cmd& c) { delete_key(self, c); },
  };
}

}  // namespace

storage::write_op audit_op(const audit_entry& e) {
  json::object o{{"at_ms", e.at_ms}, {"action", e.action}, {"tenant", e.tenant}, {"target", e.target},
                 {"request_id", e.request_id}};
  return storage::write_op::put(family::meta, audit_key(e.at_ms, ++audit_sequence), json::serialize(o));
}

result<std::vector<audit_entry>> read_audit(const storage::store& db, const std::string& tenant, std::size_t limit) {
  std::vector<audit_entry> out;
  std::string before;
  // Newest first, page by page, skipping other tenants' entries when filtering.
  while (out.size() < limit) {
    auto page = db.read_reverse(family::meta, meta_prefix(meta_kind::audit), before, 500);
    if (!page) return std::move(page).err();
    for (const auto& rec : *page) {
      boost::system::error_code ec;
      auto v = json::parse(rec.body, ec);
      if (ec || !v.is_object()) continue;
      const auto& o = v.as_object();
      audit_entry e;
      if (const auto* at = o.if_contains("at_ms"); at != nullptr && at->is_int64()) e.at_ms = at->as_int64();
      e.action = str(o, "action");
      e.tenant = str(o, "tenant");
      e.target = str(o, "target");
      e.request_id = str(o, "request_id");
      if (tenant.empty() || e.tenant == tenant) out.push_back(std::move(e));
      if (out.size() == limit) break;
    }
    if (page->size() < 500) break;
    before = page->back().key;
  }
  return out;
}

std::string hash_api_key(std::string_view key) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

status load_registry(caf::actor_system& sys, const std::shared_ptr<const registry_context>& ctx) {
  storage::record rec;
  auto tenants = ctx->db->scan(family::meta, meta_prefix(meta_kind::tenant));
  std::vector<tenant_info> loaded;
  while (tenants->next(rec)) {
    auto t = decode_tenant(rec.body);
    if (!t) return std::move(t).err();
    loaded.push_back(std::move(*t));
  }
  if (!tenants->error().ok()) {
    // A purging tenant's record is sealed under nothing (key destroyed) only if written
    // before; other errors are real.
    return tenants->error();
  }
  // Tenants first without their actors: a tenant actor starts by resuming its outbox,
  // whose sends look their channels up, so channels and keys must be in place before.
  for (const auto& t : loaded) {
    ctx->retention->set_tenant(t.id, t.retention);
    ctx->dir->put_tenant(std::make_shared<const tenant_info>(t), caf::actor());  // purging ones stay so
  }
  auto channels = ctx->db->scan(family::meta, meta_prefix(meta_kind::channel));
  while (channels->next(rec)) {
    auto c = decode_channel(rec.body);
    if (!c) return std::move(c).err();
    if (ctx->dir->tenant(c->tenant)) ctx->dir->put_channel(std::make_shared<const channel_info>(std::move(*c)));
  }
  if (!channels->error().ok()) return channels->error();
  auto keys = ctx->db->scan(family::meta, meta_prefix(meta_kind::api_key));
  while (keys->next(rec)) {
    storage::key_reader r(rec.key);
    (void)r.u8();
    auto hash = r.str();
    if (!hash) continue;
    auto k = decode_key(*hash, rec.body);
    if (!k) return std::move(k).err();
    if (ctx->dir->tenant(k->tenant)) ctx->dir->put_key(std::make_shared<const api_key_info>(std::move(*k)));
  }
  if (!keys->error().ok()) return keys->error();
  for (const auto& t : loaded) {
    if (t.status != tenant_status::purging) {
      ctx->dir->put_tenant(std::make_shared<const tenant_info>(t), start_tenant(sys, *ctx, t));
    }
  }
  return {};
}

registry_actor spawn_registry(caf::actor_system& sys, std::shared_ptr<const registry_context> ctx) {
  return sys.spawn<caf::detached>(registry_behavior, std::move(ctx));
}

void stop_tenants(const directory& dir) {
  for (const auto& t : dir.tenants()) {
    if (auto handle = dir.tenant_actor(t->id)) caf::anon_send_exit(handle, caf::exit_reason::user_shutdown);
  }
}

}  // namespace parley::actors
