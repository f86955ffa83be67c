#include "simulate.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include "sim_providers.hpp"
#include "sim_state.hpp"
#include "status_pusher.hpp"

namespace parley::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::uint64_t max_body_bytes = 16u << 20;
constexpr auto idle_timeout = std::chrono::seconds(120);
constexpr auto write_timeout = std::chrono::seconds(30);

std::string_view view(beast::string_view s) { return {s.data(), s.size()}; }

std::chrono::microseconds micros(double ms) { return std::chrono::microseconds(std::llround(ms * 1000)); }

/// What every connection shares; outlives the I/O threads.
struct server {
  sim::sim_state& state;
  sim::status_pusher& pusher;
};

/// One client connection: reads requests one at a time, answers each (after the
/// configured latency, on a timer) and hands the status webhooks of an accepted send to
/// the pusher once its answer is written. Runs on its own strand.
class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket socket, server& srv) : stream_(std::move(socket)), delay_(stream_.get_executor()), srv_(srv) {}

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(max_body_bytes);
    stream_.expires_after(idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      keep_alive_ = false;
      sim::answer a;
      a.status = 413;
      a.body = R"({"error":{"code":"payload_too_large","message":"body over 16 MiB"}})";
      return respond(std::move(a), 0);
    }
    if (ec) return close();
    auto req = parser_->release();
    keep_alive_ = req.keep_alive();
    std::string_view target = view(req.target());
    std::string_view method = view(req.method_string());
    // The control API keeps answering while the provider is "down".
    if (auto a = srv_.state.control(method, target, req.body())) return respond(std::move(*a), 0);
    if (srv_.state.down()) {
      srv_.state.note_down_close();
      return close();
    }
    sim::request_view request;
    request.method = method;
    request.target = target;
    request.authorization = view(req[http::field::authorization]);
    request.postmark_token = view(req["X-Postmark-Server-Token"]);
    request.body = req.body();
    auto parsed = sim::parse_send(request);
    if (!parsed) {
      sim::answer a;
      a.status = 404;
      a.body = R"({"error":{"code":"not_found","message":"no simulated provider endpoint at this path"}})";
      return respond(std::move(a), 0);
    }
    auto admitted = srv_.state.admit(*parsed, req.body());
    auto a = sim::render_answer(*parsed, admitted.verdict);
    if (admitted.route) {
      auto steps = sim::status_steps(*parsed, admitted.verdict, *admitted.route);
      if (!steps.empty()) {
        job_.emplace();
        job_->kind = parsed->kind;
        job_->url = admitted.route->url;
        job_account_ = admitted.route->account;
        job_->delay = micros(admitted.status_delay_ms);
        job_->steps = std::move(steps);
      }
    }
    respond(std::move(a), admitted.latency_ms);
  }

  void respond(sim::answer a, double delay_ms) {
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(a.status));
    res_.set(http::field::server, "parley-bench-simulate");
    res_.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : a.headers) res_.set(name, value);
    res_.body() = std::move(a.body);
    res_.keep_alive(keep_alive_);
    res_.prepare_payload();
    if (delay_ms <= 0) return write();
    // The latency is a timer, never a blocked thread.
    delay_.expires_after(micros(delay_ms));
    delay_.async_wait([self = shared_from_this()](beast::error_code) { self->write(); });
  }

  void write() {
    stream_.expires_after(write_timeout);
    http::async_write(stream_, res_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    // The send was accepted whether or not the answer reached the client: a real
    // provider delivers it (and reports its statuses) either way.
    if (job_) {
      // Statuses go where the account's route points now, as a provider would post them.
      if (!job_account_.empty()) {
        if (auto url = srv_.state.route_url_now(job_->kind, job_account_)) job_->url = *url;
      }
      srv_.pusher.push(std::move(*job_));
      job_.reset();
    }
    if (ec || !keep_alive_) return close();
    read();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  asio::steady_timer delay_;
  server& srv_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  std::optional<sim::status_job> job_;
  std::string job_account_;  ///< the route's account, to find its URL when the answer goes out
  bool keep_alive_ = true;
};

/// Accepts connections, each served on its own strand. Even while "down" a connection is
/// taken: its request may be for the control API (a provider request on it is then
/// closed unanswered, see session::on_read).
class listener : public std::enable_shared_from_this<listener> {
 public:
  listener(asio::io_context& io, tcp::acceptor& acceptor, server& srv)
      : io_(io), acceptor_(acceptor), retry_(acceptor.get_executor()), srv_(srv) {}

  void accept() {
    acceptor_.async_accept(asio::make_strand(io_), [self = shared_from_this()](beast::error_code ec, tcp::socket s) {
      self->on_accept(ec, std::move(s));
    });
  }

 private:
  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors or similar: back off instead of spinning.
      retry_.expires_after(std::chrono::milliseconds(50));
      retry_.async_wait([self = shared_from_this()](beast::error_code) { self->accept(); });
      return;
    }
    std::make_shared<session>(std::move(socket), srv_)->start();
    accept();
  }

  asio::io_context& io_;
  tcp::acceptor& acceptor_;
  asio::steady_timer retry_;
  server& srv_;
};

bool split_host_port(const std::string& text, std::string& host, std::string& port) {
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') return false;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) return false;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  return !host.empty() && !port.empty() && port.find_first_not_of("0123456789") == std::string::npos &&
         port.size() <= 5 && std::stoul(port) <= 65535;
}

int bad_option(const char* message) {
  std::fprintf(stderr, "parley-bench simulate: %s\n", message);
  return 2;
}

}  // namespace

int run_simulate(const simulate_options& o) {
  if (o.threads == 0 || o.threads > 64) return bad_option("--threads must be 1..64");
  if (o.error_rate < 0 || o.error_rate > 1 || o.throttle_rate < 0 || o.throttle_rate > 1) {
    return bad_option("--error-rate and --throttle-rate must be in 0..1");
  }
  if (o.latency_ms < 0 || o.status_delay_ms < 0 || o.max_rate < 0 || o.status_retries < 0) {
    return bad_option("--latency, --status-delay, --max-rate and --status-retries must not be negative");
  }
  if (o.status_connections == 0) return bad_option("--status-connections must be at least 1");
  std::string host, port;
  if (!split_host_port(o.listen, host, port)) return bad_option("--listen must be HOST:PORT");
  std::optional<sim::status_route> default_route;
  if (!o.status_webhooks.empty()) {
    auto url = sim::parse_webhook_url(o.status_webhooks);
    if (!url) return bad_option("--status-webhooks must be http://[user:password@]HOST:PORT/path");
    default_route.emplace();
    default_route->url_text = o.status_webhooks;
    default_route->url = *url;
    default_route->secret = o.status_secret;
  }
  std::signal(SIGPIPE, SIG_IGN);

  asio::io_context io(static_cast<int>(o.threads));
  sim::pusher_options po;
  po.connections_per_destination = o.status_connections;
  po.max_queued_jobs = o.status_queue;
  po.retries = o.status_retries;
  sim::status_pusher pusher(io, po);
  sim::sim_settings defaults;
  defaults.latency_ms = o.latency_ms;
  defaults.error_rate = o.error_rate;
  defaults.throttle_rate = o.throttle_rate;
  defaults.max_rate = o.max_rate;
  defaults.status_delay_ms = o.status_delay_ms;
  sim::sim_state state(defaults, o.seed, o.record_limit, default_route, pusher);
  server srv{state, pusher};

  beast::error_code ec;
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(host, port, ec);
  if (ec || endpoints.empty()) return bad_option(("cannot resolve " + host).c_str());
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  tcp::acceptor acceptor(io);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "parley-bench simulate: cannot listen on %s: %s\n", o.listen.c_str(), ec.message().c_str());
    return 1;
  }
  auto bound = acceptor.local_endpoint();
  std::make_shared<listener>(io, acceptor, srv)->accept();

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](beast::error_code, int) { io.stop(); });

  std::string address = bound.address().to_string();
  if (bound.address().is_v6()) address = "[" + address + "]";
  std::printf("parley-bench simulate listening on %s:%u\n", address.c_str(), static_cast<unsigned>(bound.port()));
  std::fflush(stdout);

  // Progress: one line on stderr, rewritten every second.
  asio::steady_timer ticker(io);
  std::uint64_t last_requests = 0;
  auto status_totals = [&pusher] {
    sim::delivery_counters sum;
    for (auto p : {provider::whatsapp, provider::messenger, provider::instagram, provider::postmark}) {
      auto c = pusher.counters(p);
      sum.sent += c.sent;
      sum.failed += c.failed + c.dropped;
    }
    return sum;
  };
  std::function<void()> tick = [&] {
    ticker.expires_after(std::chrono::seconds(1));
    ticker.async_wait([&](beast::error_code wait_ec) {
      if (wait_ec) return;
      auto t = state.snapshot();
      auto s = status_totals();
      std::fprintf(stderr,
                   "\r%8llu req/s  accepted %-9llu throttled %-7llu errors %-7llu statuses sent %-9llu failed %-6llu ",
                   static_cast<unsigned long long>(t.requests - std::min(t.requests, last_requests)),
                   static_cast<unsigned long long>(t.accepted), static_cast<unsigned long long>(t.throttled),
                   static_cast<unsigned long long>(t.errors), static_cast<unsigned long long>(s.sent),
                   static_cast<unsigned long long>(s.failed));
      last_requests = t.requests;
      tick();
    });
  };
  if (!o.quiet) tick();

  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < o.threads; ++i) threads.emplace_back([&io] { io.run(); });
  for (auto& t : threads) t.join();

  if (!o.quiet) {
    auto t = state.snapshot();
    auto s = status_totals();
    std::fprintf(stderr,
                 "\nparley-bench simulate: %llu requests, %llu accepted, %llu throttled, %llu errors injected, status "
                 "webhooks %llu sent, %llu failed or dropped\n",
                 static_cast<unsigned long long>(t.requests), static_cast<unsigned long long>(t.accepted),
                 static_cast<unsigned long long>(t.throttled), static_cast<unsigned long long>(t.errors),
                 static_cast<unsigned long long>(s.sent), static_cast<unsigned long long>(s.failed));
  }
  return 0;
}

}  // namespace parley::bench
