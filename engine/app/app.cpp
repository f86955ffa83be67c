#include "app/app.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <future>
#include <optional>
#include <thread>

#include "admin/admin_routes.hpp"
#include "admin/health_routes.hpp"
#include "tenant_api/tenant_routes.hpp"
#include "webhooks/webhook_routes.hpp"
#include "app/metrics.hpp"
#include "app/tls.hpp"
#include "delivery/delivery_actor.hpp"
#include "dispatcher/dispatcher_actor.hpp"
#include "retention/retention_actor.hpp"
#include "engine/http/client.hpp"
#include "engine/http/server.hpp"
#include "providers/provider.hpp"
#include "parley/actors/system.hpp"
#include "parley/thread_name.hpp"
#include "storage_writer/storage_writer.hpp"

namespace parley::engine {
namespace {

namespace asio = boost::asio;

// Everything the running process owns, declared in start-up order. `shutdown()` takes
// it down in the one safe order: listeners drained -> actors exited -> writer flushed ->
// I/O threads joined -> store closed.
class process {
 public:
  process(const config& cfg, const secrets& keys) : cfg_(cfg), keys_(keys), io_(static_cast<int>(cfg.io_threads)) {}
  ~process() { shutdown(); }

  int start() {
    auto log = spdlog::default_logger();
    // TLS files are configuration: check them before touching storage.
    std::shared_ptr<asio::ssl::context> tls;
    if (cfg_.tls_cert) {
      auto ctx = make_server_tls(*cfg_.tls_cert, *cfg_.tls_key);
      if (!ctx) {
        log->error("{}", ctx.err().message);
        return 2;
      }
      tls = *ctx;
    }

    retention_ = std::make_shared<storage::retention_policy>(system_clock::instance(), cfg_.dedup_window_hours);
    storage::store_options so;
    so.path = cfg_.data_dir + "/db";
    so.master_key = keys_.master_key;
    so.block_cache_bytes = cfg_.cache_mib << 20;
    so.retention = retention_;
    auto opened = storage::store::open(std::move(so));
    if (!opened) {
      log->error("cannot open storage: {}", opened.err().message);
      return 1;
    }
    db_ = std::move(*opened);
    if (auto st = db_->check_master_key(); !st) {
      log->error("{} (master key from {})", st.err().message, keys_.master_key_source);
      return 2;
    }

    storage::group_writer_options wo;
    wo.sync = cfg_.durability == durability_mode::sync;
    wo.on_commit = [this](const storage::commit_stats& s) { metrics_.observe_commit(s); };
    writer_ = std::make_shared<storage::group_writer>(*db_, wo);
    metrics_.set_writer_pending([w = writer_.get()] { return w->pending(); });

    // Everything that stores goes through the group-commit writer.
    runtime_.emplace(actors::system_options{cfg_.actor_threads});
    actors::storage_writer appender(writer_);
    readers_.emplace(cfg_.reader_threads, 4096, "parley-reader");

    // Outbound: one delivery actor per channel (spawned on first use) speaking the
    // providers' send APIs through one shared HTTP client.
    http_client_.emplace(http::client_options{});
    auto dctx = std::make_shared<actors::delivery_context>();
    dctx->dir = &directory_;
    dctx->time = &system_clock::instance();
    dctx->transport = [this](const actors::channel_info& ch, const outbound_payload& payload,
                             std::function<void(send_outcome)> done) { send_to_provider(ch, payload, std::move(done)); };
    deliveries_.emplace(runtime_->system(), dctx);

    // Tenants, channels and keys: loaded before the listeners open, so the first webhook
    // already finds its channel.
    auto rctx = std::make_shared<actors::registry_context>();
    rctx->db = db_;
    rctx->retention = retention_;
    rctx->writer = appender;
    rctx->dir = &directory_;
    rctx->time = &system_clock::instance();
    rctx->tenant_defaults.time = &system_clock::instance();
    rctx->tenant_defaults.conversation_idle_ms = static_cast<std::int64_t>(cfg_.conversation_idle_seconds) * 1000;
    rctx->tenant_defaults.stop_keywords = cfg_.stop_keywords;
    rctx->tenant_defaults.start_keywords = cfg_.start_keywords;
    rctx->tenant_defaults.deliver = [hub = &*deliveries_](storage::delivery_job job) { hub->enqueue(std::move(job)); };
    // Physical removal (retention sweeps, purges of deleted tenants, contact erasures):
    // one detached actor, one job at a time. It resumes stored erasures by itself.
    retention_ctx_ = std::make_shared<actors::retention_context>();
    retention_ctx_->db = db_;
    retention_ctx_->retention = retention_;
    retention_ctx_->dir = &directory_;
    retention_ctx_->time = &system_clock::instance();
    retention_ctx_->sweep_interval = std::chrono::seconds(cfg_.retention_sweep_seconds);
    retention_actor_ = actors::spawn_retention(runtime_->system(), retention_ctx_);
    add_retention_metrics(*retention_ctx_->counters);
    add_storage_engine_metrics();
    rctx->purger = retention_actor_;
    if (auto st = actors::load_registry(runtime_->system(), rctx); !st) {
      log->error("cannot load tenants and channels: {}", st.err().message);
      return 1;
    }
    for (const auto& t : directory_.tenants()) {  // purges a stop interrupted
      if (t->status == actors::tenant_status::purging) {
        caf::anon_send(retention_actor_, actors::purge_atom::value, actors::purge_tenant_job{t->id, {}});
      }
    }
    registry_ = actors::spawn_registry(runtime_->system(), rctx);
    background_.emplace(1, 64, "parley-export");
    // Its one thread runs exports below the priority of the threads serving live traffic.
    (void)background_->submit([] { (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10); });

    // Event push: a dispatcher per tenant with an events webhook, kept in step with the
    // tenants by the hub (new and deleted tenants, changed URLs).
    auto pctx = std::make_shared<actors::dispatch_context>();
    pctx->db = db_;
    pctx->writer = appender;
    pctx->dir = &directory_;
    pctx->time = &system_clock::instance();
    pctx->post = [this](std::string url, std::vector<std::pair<std::string, std::string>> headers, std::string body,
                        std::function<void(unsigned, std::string)> done) {
      http_call call;
      call.url = std::move(url);
      call.headers = std::move(headers);
      call.body = std::move(body);
      http_client_->send(std::move(call), [done = std::move(done)](result<http::client_response> r) {
        if (!r) return done(0, r.err().message);
        done(r->status, {});
      });
    };
    dispatch_.emplace(runtime_->system(), pctx);
    svc_.io = &io_;
    svc_.dir = &directory_;
    svc_.registry = registry_;
    svc_.readers = &*readers_;
    svc_.db = db_;
    svc_.writer = writer_;
    svc_.time = &system_clock::instance();
    svc_.admin_token = keys_.admin_token;
    svc_.webhooks = &webhook_counters_;
    svc_.dispatch = &*dispatch_;
    svc_.retention = retention_actor_;
    svc_.background = &*background_;
    svc_.max_webhooks_in_flight = cfg_.max_webhooks_in_flight;
    add_webhook_metrics();

    auto admin_routes = std::make_shared<http::router>();
    add_health_routes(*admin_routes, metrics_, readiness{&listeners_up_, [this](std::function<void(bool)> done) {
                                                           probe_storage(std::move(done));
                                                         }});
    add_admin_routes(*admin_routes, svc_);
    auto public_routes = std::make_shared<http::router>();
    add_webhook_routes(*public_routes, svc_);
    add_tenant_routes(*public_routes, svc_);
    add_send_routes(*public_routes, svc_);

    public_.emplace(io_, listener_options(cfg_.public_addr, tls, "public"), public_routes);
    admin_.emplace(io_, listener_options(cfg_.admin_addr, tls, "admin"), admin_routes);
    auto public_addr = public_->listen();
    if (!public_addr) {
      log->error("cannot listen on public address {}: {}", cfg_.public_addr.to_string(), public_addr.err().message);
      return 1;
    }
    auto admin_addr = admin_->listen();
    if (!admin_addr) {
      log->error("cannot listen on admin address {}: {}", cfg_.admin_addr.to_string(), admin_addr.err().message);
      return 1;
    }
    metrics_.add_listener("public", [this] { return public_->stats(); });
    metrics_.add_listener("admin", [this] { return admin_->stats(); });

    signals_.emplace(io_, SIGINT, SIGTERM);
    signals_->async_wait([this](const boost::system::error_code& ec, int signo) {
      if (!ec) begin_drain(signo);
    });
    for (std::size_t i = 0; i < cfg_.io_threads; ++i) {
      threads_.emplace_back([this] { io_.run(); });
      name_thread(threads_.back(), "parley-io");
    }
    listeners_up_ = true;
    log->info("listening public={} admin={} durability={} tls={}", *public_addr, *admin_addr,
              cfg_.durability == durability_mode::sync ? "sync" : "async", tls ? "on" : "off");
    std::printf("parleyd ready public=%s admin=%s data=%s\n", public_addr->c_str(), admin_addr->c_str(),
                cfg_.data_dir.c_str());
    std::fflush(stdout);
    return 0;
  }

  /// Blocks until a signal has drained both listeners.
  void wait() { drained_.get_future().wait(); }

  void shutdown() {
    if (shut_down_) return;
    shut_down_ = true;
    listeners_up_ = false;
    if (readers_) readers_->stop();
    if (background_) background_->stop();
    if (retention_ctx_) retention_ctx_->stopping->store(true);
    if (retention_actor_) {
      caf::anon_send_exit(retention_actor_, caf::exit_reason::user_shutdown);
      retention_actor_ = nullptr;
    }
    svc_.retention = nullptr;
    // Deliveries stop first: what they had not finished stays in the outbox for the next
    // start. The HTTP client then fails its calls still in flight (their results go to
    // actors that no longer listen).
    // The hubs go before the actor system: they hold actor handles, and a detached
    // actor's thread ends only when no handle remains.
    if (dispatch_) dispatch_->stop();
    if (deliveries_) deliveries_->stop();
    http_client_.reset();
    if (registry_) {
      caf::anon_send_exit(registry_, caf::exit_reason::user_shutdown);
      registry_ = nullptr;
    }
    actors::stop_tenants(directory_);
    directory_.clear();
    svc_.registry = nullptr;
    svc_.dispatch = nullptr;
    dispatch_.reset();
    runtime_.reset();  // waits for every actor to finish
    if (writer_) writer_->stop();  // commits everything accepted, then joins
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    signals_.reset();
    public_.reset();
    admin_.reset();
    if (db_) {
      if (auto st = db_->flush(); !st) spdlog::warn("final flush failed: {}", st.err().message);
    }
    writer_.reset();
    db_.reset();
  }

 private:
  http::server_options listener_options(const listen_address& addr, std::shared_ptr<asio::ssl::context> tls,
                                        std::string name) const {
    http::server_options o;
    o.host = addr.host;
    o.port = addr.port;
    o.max_body_bytes = cfg_.max_body_bytes;
    o.tls = std::move(tls);
    o.name = std::move(name);
    return o;
  }

  // One provider call: the channel's request built by its adapter, sent by the shared
  // client, the answer interpreted by the adapter. `done` runs on a client thread.
  void send_to_provider(const actors::channel_info& ch, const outbound_payload& payload,
                        std::function<void(send_outcome)> done) {
    providers::send_credentials creds;
    creds.type = ch.type;
    creds.account_id = ch.account_ids.empty() ? std::string() : ch.account_ids.front();
    creds.access_token = ch.access_token;
    creds.bot_token = ch.bot_token;
    creds.server_token = ch.server_token;
    creds.from_address = ch.from_address;
    std::string_view base = ch.api_base;
    if (base.empty()) {
      switch (ch.type) {
        case channel_type::telegram: base = cfg_.telegram_api_base; break;
        case channel_type::email: base = cfg_.postmark_api_base; break;
        default: base = cfg_.whatsapp_api_base; break;
      }
    }
    auto call = providers::build_send(creds, base, payload);
    if (!call) {
      send_outcome failed;
      failed.result = send_outcome::kind::failed;
      failed.error_code = "invalid_request";
      failed.error_message = call.err().message;
      return done(std::move(failed));
    }
    auto type = ch.type;
    http_client_->send(std::move(*call), [type, done = std::move(done)](result<http::client_response> r) {
      if (!r && r.code() == errc::invalid_argument) {
        // A request that can never go out (a malformed api_base, say): fail, don't retry.
        send_outcome failed;
        failed.result = send_outcome::kind::failed;
        failed.error_code = "invalid_request";
        failed.error_message = r.err().message;
        return done(std::move(failed));
      }
      if (!r) return done(providers::interpret_send(type, 0, r.err().message, std::nullopt));
      std::optional<std::string_view> retry_after;
      if (r->retry_after) retry_after = *r->retry_after;
      done(providers::interpret_send(type, r->status, r->body, retry_after));
    });
  }

  void probe_storage(std::function<void(bool)> done) {
    done(writer_ && db_ && db_->healthy() && writer_->healthy());
  }

  void begin_drain(int signo) {
    spdlog::info("signal={} draining in-flight requests", signo == SIGTERM ? "SIGTERM" : "SIGINT");
    listeners_up_ = false;
    public_->stop_accepting();
    admin_->stop_accepting();
    directory_.feeds().wake_all();  // long-polls answer now rather than hold the drain
    auto remaining = std::make_shared<std::atomic<int>>(2);
    auto one_done = [this, remaining] {
      if (remaining->fetch_sub(1) == 1) drained_.set_value();
    };
    public_->drain(one_done);
    admin_->drain(one_done);
  }

  void add_retention_metrics(const actors::retention_counters& r) {
    auto add = [this](std::string name, std::string help, const std::atomic<std::uint64_t>* v) {
      metrics_.add_value(std::move(name), std::move(help), true, [v] { return static_cast<double>(v->load()); });
    };
    add("parley_retention_sweeps_total", "Retention sweeps run (each compacts the files that may hold expired records).", &r.sweeps);
    add("parley_retention_ranges_compacted_total", "Key ranges the retention sweeps compacted.", &r.ranges_compacted);
    add("parley_retention_tenants_purged_total", "Deleted tenants whose records are physically gone.", &r.tenants_purged);
    add("parley_retention_contacts_erased_total", "Contact erasures finished (events, raw payloads, compaction).", &r.contacts_erased);
    add("parley_retention_errors_total", "Retention jobs that stopped on an error (retried at the next start).", &r.errors);
    metrics_.add_value("parley_retention_last_sweep_timestamp_seconds", "When the last retention sweep ran (unix seconds).", false,
                       [&r] { return static_cast<double>(r.last_sweep_ms.load()) / 1000.0; });
    metrics_.add_value("parley_retention_last_purge_timestamp_seconds",
                       "When the last purge of a deleted tenant finished (unix seconds; 0: none since start).", false,
                       [&r] { return static_cast<double>(r.last_purge_ms.load()) / 1000.0; });
  }

  void add_storage_engine_metrics() {
    auto add = [this](std::string name, std::string help, std::uint64_t storage::engine_stats::*field) {
      metrics_.add_value(std::move(name), std::move(help), false,
                         [this, field] { return static_cast<double>(db_->stats().*field); });
    };
    add("parley_storage_pending_compaction_bytes", "RocksDB's estimate of the bytes compactions still have to rewrite.",
        &storage::engine_stats::pending_compaction_bytes);
    add("parley_storage_compaction_pending_families",
        "Families with a compaction RocksDB wants to run (size triggers, or files it marked).",
        &storage::engine_stats::families_needing_compaction);
    add("parley_storage_running_compactions", "Compactions running now.", &storage::engine_stats::running_compactions);
    add("parley_storage_running_flushes", "Memtable flushes running now.", &storage::engine_stats::running_flushes);
    add("parley_storage_sst_bytes", "Size of the live SST files.", &storage::engine_stats::live_sst_bytes);
    add("parley_storage_memtable_bytes", "Memory held by memtables.", &storage::engine_stats::memtable_bytes);
    add("parley_storage_table_reader_bytes", "Memory of open table files outside the block cache.",
        &storage::engine_stats::table_reader_bytes);
    add("parley_storage_block_cache_bytes", "What the block cache holds now.", &storage::engine_stats::block_cache_bytes);
    add("parley_storage_block_cache_capacity_bytes", "The block cache's size (--cache-mib).",
        &storage::engine_stats::block_cache_capacity);
    add("parley_storage_trash_bytes", "Freed table files still waiting for their paced deletion.",
        &storage::engine_stats::trash_bytes);
    add("parley_storage_background_write_limit_bytes_per_second",
        "Write rate allowed to flushes and compactions while a purge, erasure or sweep runs; 0 when unlimited.",
        &storage::engine_stats::background_write_limit);
  }

  void add_webhook_metrics() {
    auto* c = &webhook_counters_;
    auto add = [this](std::string name, std::string help, bool counter, const std::atomic<std::uint64_t>* v) {
      metrics_.add_value(std::move(name), std::move(help), counter, [v] { return static_cast<double>(v->load()); });
    };
    add("parley_webhooks_accepted_total", "Webhooks answered 200 (stored or known duplicates).", true, &c->accepted);
    add("parley_webhooks_unauthorized_total", "Webhooks refused 401: bad signature, token or credentials.", true, &c->unauthorized);
    add("parley_webhooks_invalid_total", "Webhooks refused 400: not of the provider's shape.", true, &c->invalid);
    add("parley_webhooks_unknown_channel_total", "Webhooks refused 404: unknown or deleted channel.", true, &c->unknown_channel);
    add("parley_webhooks_unavailable_total", "Webhooks answered 503: overloaded or storage failed.", true, &c->overloaded);
    add("parley_webhooks_ignored_entries_total", "Entries skipped: other accounts, update kinds Parley ignores.", true, &c->ignored_entries);
    add("parley_webhooks_provider_errors_total", "System errors the providers reported in webhooks (WhatsApp errors[]).", true, &c->provider_errors);
    add("parley_webhooks_in_flight", "Webhooks accepted and not yet answered.", false, &c->in_flight);
    metrics_.add_value("parley_conversations_active", "Conversation actors currently active.", false,
                       [] { return static_cast<double>(actors::active_conversations()); });
    auto& d = actors::delivery_stats();
    add("parley_outbound_attempts_total", "Provider send calls made.", true, &d.attempts);
    add("parley_outbound_sent_total", "Outbound messages the providers accepted.", true, &d.sent);
    add("parley_outbound_failed_total", "Outbound messages that failed for good (expired included).", true, &d.failed);
    add("parley_outbound_retries_total", "Transient send failures scheduled for a retry.", true, &d.retries);
    add("parley_outbound_throttled_total", "Provider answers that said too fast (429 and throttling codes).", true, &d.throttled);
    metrics_.add_value("parley_outbound_queued", "Accepted messages waiting in delivery actors (scheduled and retrying included).",
                       false, [&d] { return static_cast<double>(d.queued.load()); });
  }

  const config& cfg_;
  const secrets& keys_;
  std::shared_ptr<storage::retention_policy> retention_;
  actors::directory directory_;
  std::optional<actors::blocking_pool> readers_;
  std::optional<actors::blocking_pool> background_;  // exports: one at a time, low priority
  std::shared_ptr<actors::retention_context> retention_ctx_;
  actors::retention_actor retention_actor_;
  actors::registry_actor registry_;
  services svc_;
  webhook_counters webhook_counters_;
  std::shared_ptr<storage::store> db_;
  std::shared_ptr<storage::group_writer> writer_;
  metrics metrics_;
  std::optional<actors::actor_runtime> runtime_;
  std::optional<http::client> http_client_;
  std::optional<actors::delivery_hub> deliveries_;
  std::optional<actors::dispatch_hub> dispatch_;
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{asio::make_work_guard(io_)};
  std::optional<http::server> public_;
  std::optional<http::server> admin_;
  std::optional<asio::signal_set> signals_;
  std::vector<std::thread> threads_;
  std::atomic<bool> listeners_up_{false};
  std::promise<void> drained_;
  bool shut_down_ = false;
};

}  // namespace

int run_parleyd(const config& cfg, const secrets& keys) {
  process p(cfg, keys);
  if (int status = p.start(); status != 0) return status;
  p.wait();
  p.shutdown();
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace parley::engine
