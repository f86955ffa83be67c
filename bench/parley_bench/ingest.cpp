#include "ingest.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "chart.hpp"
#include "payloads.hpp"
#include "histogram.hpp"
#include "http_client.hpp"
#include "pacer.hpp"

namespace parley::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

std::string json_field(const std::string& json, const std::string& key) {
  auto pos = json.find("\"" + key + "\":\"");
  if (pos == std::string::npos) return {};
  pos += key.size() + 4;
  return json.substr(pos, json.find('"', pos) - pos);
}

// Creates a tenant and one channel per provider through the admin API.
bool set_up_channels(const ingest_options& o, const std::vector<provider>& kinds, std::vector<channel_target>& out,
                     std::string& tenant_out, std::string& api_key_out) {
  auto admin = parse_url(o.admin);
  if (!admin) {
    std::fprintf(stderr, "parley-bench: --admin must be http://HOST:PORT\n");
    return false;
  }
  std::mt19937_64 rng(std::random_device{}());
  std::string tenant = "bench-" + std::to_string(rng() % 1'000'000'000);
  auto t = sync_request(*admin, "POST", "/v1/admin/tenants", o.admin_token, "{\"id\":\"" + tenant + "\"}");
  if (!t || t->first != 201) {
    std::fprintf(stderr, "parley-bench: creating tenant failed (%d)\n", t ? t->first : 0);
    return false;
  }
  tenant_out = tenant;
  api_key_out = json_field(t->second, "api_key");
  for (provider kind : kinds) {
    channel_target target{kind, {}, "bench-secret-" + std::to_string(rng())};
    if (kind == provider::postmark) target.secret = "bench-user:" + target.secret;
    auto c = sync_request(*admin, "POST", "/v1/admin/tenants/" + tenant + "/channels", o.admin_token,
                          channel_json(kind, target.secret));
    if (!c || c->first != 201) {
      std::fprintf(stderr, "parley-bench: creating a %s channel failed (%d)\n", std::string(provider_name(kind)).c_str(),
                   c ? c->first : 0);
      return false;
    }
    target.path = json_field(c->second, "webhook_path");
    if (target.path.empty()) return false;
    out.push_back(std::move(target));
  }
  return true;
}

struct shared_run {
  const ingest_options* o = nullptr;
  url target;
  std::vector<channel_target> targets;
  std::uint64_t run_id = 0;
  std::string tenant, api_key;            ///< set when the bench created its own tenant
  std::vector<std::string> acknowledged;  ///< provider ids answered 200 (guarded by mutex)
  clock_type::time_point start, stop_at;
  std::atomic<std::uint64_t> issued{0}, ok{0}, errors{0}, duplicates_sent{0};
  std::mutex mutex;
  histogram latency;          ///< whole run
  histogram window;           ///< since the last progress line
  std::map<int, std::uint64_t> statuses;
  std::atomic<bool> stopping{false};
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(asio::io_context& io, shared_run& run, std::size_t index)
      : run_(run),
        stream_(asio::make_strand(io)),
        timer_(stream_.get_executor()),
        index_(index),
        rng_(run.o->seed * 7919 + index),
        pacer_(run.o->rate, run.o->connections, index) {}

  void start(const tcp::resolver::results_type& endpoints) {
    endpoints_ = endpoints;
    stream_.async_connect(endpoints, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
      if (ec) {
        ++self->run_.errors;
        return;
      }
      self->schedule(self->pacer_.start(clock_type::now()));
    });
  }

 private:
  bool budget_left() {
    if (run_.stopping) return false;
    if (run_.o->count > 0) return run_.issued.fetch_add(1) < run_.o->count;
    if (clock_type::now() >= run_.stop_at) return false;
    ++run_.issued;
    return true;
  }

  // Sends the next request at its slot (see pacer.hpp), if the run has budget left.
  void schedule(clock_type::time_point due) {
    if (!budget_left()) return;
    if (due > clock_type::now()) {
      timer_.expires_at(due);
      timer_.async_wait([self = shared_from_this()](beast::error_code) { self->send(); });
      return;
    }
    send();
  }

  void send() {
    std::uint64_t n;
    bool duplicate = !sent_.empty() && std::uniform_real_distribution<double>(0, 1)(rng_) < run_.o->duplicates;
    if (duplicate) {
      n = sent_[std::uniform_int_distribution<std::size_t>(0, sent_.size() - 1)(rng_)];
      ++run_.duplicates_sent;
    } else {
      n = counter_++;
      if (sent_.size() < 4096) sent_.push_back(n);
      else sent_[n % sent_.size()] = n;
    }
    // The provider follows the message number, so a redelivery goes where the first went.
    const auto& target = run_.targets[n % run_.targets.size()];
    std::uint64_t contact = (index_ * 1'000'003 + n * 7919) % std::max<std::uint64_t>(run_.o->contacts, 1);
    auto webhook = make_webhook(target, message_seed{run_.run_id, index_, n, contact}, run_.o->body_bytes);
    current_id_ = webhook.provider_message_id;
    req_ = {};
    req_.method(http::verb::post);
    req_.target(target.path);
    req_.version(11);
    req_.set(http::field::host, run_.target.host);
    req_.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : webhook.headers) req_.set(name, value);
    req_.body() = std::move(webhook.body);
    req_.keep_alive(true);
    req_.prepare_payload();
    http::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->fail();
      self->res_ = {};
      http::async_read(self->stream_, self->buffer_, self->res_, [self](beast::error_code ec2, std::size_t) {
        if (ec2) return self->fail();
        self->done(static_cast<int>(self->res_.result_int()));
      });
    });
  }

  void done(int status) {
    // Latency from the intended send time: a fixed-rate run charges stalls to the
    // requests that waited behind them (no coordinated omission).
    auto now = clock_type::now();
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now - pacer_.intended()).count();
    {
      std::lock_guard lock(run_.mutex);
      run_.latency.record(static_cast<std::uint64_t>(micros));
      run_.window.record(static_cast<std::uint64_t>(micros));
      ++run_.statuses[status];
      if (status == 200) run_.acknowledged.push_back(std::move(current_id_));
    }
    if (status == 200) ++run_.ok;
    else ++run_.errors;
    auto due = pacer_.next(now);
    if (res_.keep_alive()) return schedule(due);
    // The server closes this connection after its answer (nginx does after
    // `keepalive_requests`): open a new one, as an HTTP client must, and go on.
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    stream_.async_connect(endpoints_, [self = shared_from_this(), due](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return self->fail();
      self->buffer_.clear();
      self->schedule(due);
    });
  }

  void fail() {
    ++run_.errors;
    {
      std::lock_guard lock(run_.mutex);
      ++run_.statuses[0];
    }
  }

  shared_run& run_;
  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  std::size_t index_;
  std::mt19937_64 rng_;
  pacer pacer_;
  tcp::resolver::results_type endpoints_;
  std::uint64_t counter_ = 0;
  std::string current_id_;  ///< provider id of the request in flight
  std::vector<std::uint64_t> sent_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

}  // namespace

int run_ingest(const ingest_options& o) {
  shared_run run;
  run.o = &o;
  auto target = parse_url(o.target);
  if (!target) {
    std::fprintf(stderr, "parley-bench: --target must be http://HOST:PORT\n");
    return 2;
  }
  run.target = *target;
  std::vector<provider> kinds;
  for (const auto& name : o.providers) {
    auto kind = parse_provider(name);
    if (!kind) {
      std::fprintf(stderr, "parley-bench: unknown provider '%s' (whatsapp, messenger, instagram, telegram, postmark)\n",
                   name.c_str());
      return 2;
    }
    kinds.push_back(*kind);
  }
  if (kinds.empty()) kinds.push_back(provider::whatsapp);
  if (!o.admin.empty()) {
    if (!set_up_channels(o, kinds, run.targets, run.tenant, run.api_key)) return 2;
  } else if (!o.channel_path.empty() && !o.secret.empty()) {
    if (kinds.size() != 1) {
      std::fprintf(stderr, "parley-bench: --channel-path serves one provider; give exactly one in --providers\n");
      return 2;
    }
    run.targets.push_back(channel_target{kinds.front(), o.channel_path, o.secret});
  } else {
    std::fprintf(stderr, "parley-bench: give --admin and --admin-token, or --channel-path and --secret\n");
    return 2;
  }
  run.run_id = std::random_device{}() % 1'000'000'000;
  std::string paths;
  for (const auto& t : run.targets) paths += (paths.empty() ? "" : ",") + t.path;

  asio::io_context io;
  tcp::resolver resolver(io);
  beast::error_code ec;
  auto endpoints = resolver.resolve(run.target.host, run.target.port, ec);
  if (ec) {
    std::fprintf(stderr, "parley-bench: cannot resolve %s\n", run.target.host.c_str());
    return 2;
  }
  run.start = clock_type::now();
  run.stop_at = run.start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.duration_s));
  std::vector<std::shared_ptr<connection>> conns;
  for (std::size_t i = 0; i < o.connections; ++i) {
    conns.push_back(std::make_shared<connection>(io, run, i));
    conns.back()->start(endpoints);
  }
  conns.clear();  // each connection keeps itself alive while it has work
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < std::max<std::size_t>(o.threads, 1); ++i) threads.emplace_back([&io] { io.run(); });

  // Progress: one line, rewritten every second, until the I/O threads run dry.
  std::atomic<bool> finished{false};
  std::vector<sample> timeline;  // written by the progress thread, read after it joined
  std::thread progress([&] {
    auto last = clock_type::now();
    std::uint64_t last_ok = 0;
    while (!finished) {
      std::this_thread::sleep_for(std::chrono::seconds(1));  // a display cadence, not synchronization
      auto now = clock_type::now();
      double dt = std::chrono::duration<double>(now - last).count();
      std::uint64_t okv = run.ok.load();
      histogram window;
      {
        std::lock_guard lock(run.mutex);
        window = run.window;
        run.window.reset();
      }
      timeline.push_back(sample{std::chrono::duration<double>(now - run.start).count(),
                                static_cast<double>(okv - last_ok) / dt, static_cast<double>(window.quantile(0.5)) / 1000.0,
                                static_cast<double>(window.quantile(0.99)) / 1000.0, run.errors.load()});
      if (!o.quiet) {
        double elapsed = std::chrono::duration<double>(now - run.start).count();
        std::fprintf(stderr, "\r%8.0f req/s  errors %-6llu  p50 %6.2f ms  p99 %7.2f ms  elapsed %5.1fs  remaining %5.1fs   ",
                     static_cast<double>(okv - last_ok) / dt, static_cast<unsigned long long>(run.errors.load()),
                     static_cast<double>(window.quantile(0.5)) / 1000.0, static_cast<double>(window.quantile(0.99)) / 1000.0,
                     elapsed, o.count > 0 ? 0.0 : std::max(0.0, o.duration_s - elapsed));
      }
      last = now;
      last_ok = okv;
    }
  });
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(clock_type::now() - run.start).count();
  finished = true;
  progress.join();
  if (!o.quiet) std::fprintf(stderr, "\n");

  const auto& h = run.latency;
  double rate = static_cast<double>(run.ok.load()) / elapsed;
  std::printf("parley-bench ingest: %s %s\n", o.target.c_str(), paths.c_str());
  std::printf("  connections %zu, %s, %.1f s, body %zu B, duplicates %.0f%%\n", o.connections,
              o.rate > 0 ? ("fixed rate " + std::to_string(static_cast<long>(o.rate)) + "/s").c_str() : "closed loop", elapsed,
              o.body_bytes, o.duplicates * 100);
  std::printf("  requests %llu  ok (200) %llu  errors %llu  duplicates sent %llu\n",
              static_cast<unsigned long long>(h.count()), static_cast<unsigned long long>(run.ok.load()),
              static_cast<unsigned long long>(run.errors.load()), static_cast<unsigned long long>(run.duplicates_sent.load()));
  std::printf("  throughput %.0f acknowledged webhooks/s\n", rate);
  std::printf("  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", h.quantile(0.5) / 1000.0,
              h.quantile(0.9) / 1000.0, h.quantile(0.99) / 1000.0, h.quantile(0.999) / 1000.0, h.max() / 1000.0);
  for (const auto& [code, n] : run.statuses) {
    if (code != 200) std::printf("  status %d: %llu\n", code, static_cast<unsigned long long>(n));
  }
  if (!o.json_file.empty()) {
    std::ofstream out(o.json_file);
    out << "{\"target\":\"" << o.target << "\",\"paths\":\"" << paths << "\",\"connections\":" << o.connections << ",\"rate\":" << o.rate
        << ",\"elapsed_s\":" << elapsed << ",\"requests\":" << h.count() << ",\"ok\":" << run.ok.load()
        << ",\"errors\":" << run.errors.load() << ",\"duplicates_sent\":" << run.duplicates_sent.load()
        << ",\"throughput\":" << rate << ",\"latency_us\":{\"p50\":" << h.quantile(0.5) << ",\"p90\":" << h.quantile(0.9)
        << ",\"p99\":" << h.quantile(0.99) << ",\"p999\":" << h.quantile(0.999) << ",\"max\":" << h.max() << "}"
        << ",\"timeline\":[";
    for (std::size_t i = 0; i < timeline.size(); ++i) {
      const auto& s = timeline[i];
      out << (i ? "," : "") << "{\"t\":" << s.t_s << ",\"rate\":" << s.rate << ",\"p50_ms\":" << s.p50_ms
          << ",\"p99_ms\":" << s.p99_ms << ",\"errors\":" << s.errors << "}";
    }
    out << "]";
    if (!run.api_key.empty()) out << ",\"tenant\":\"" << run.tenant << "\",\"api_key\":\"" << run.api_key << "\"";
    out << ",\"acknowledged\":[";
    for (std::size_t i = 0; i < run.acknowledged.size(); ++i) out << (i ? ",\"" : "\"") << run.acknowledged[i] << "\"";
    out << "]}\n";
  }
  if (!o.svg_file.empty() &&
      !write_svg(o.svg_file, "parley-bench ingest " + o.target + " (" + std::to_string(o.connections) +
                                 " connections)", timeline)) {
    std::fprintf(stderr, "parley-bench: cannot write %s\n", o.svg_file.c_str());
  }
  return run.errors.load() == 0 ? 0 : 1;
}

}  // namespace parley::bench
