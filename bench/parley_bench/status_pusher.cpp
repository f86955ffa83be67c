#include "status_pusher.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <charconv>
#include <deque>
#include <mutex>
#include <unordered_map>

namespace parley::bench::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t provider_count = 5;
constexpr auto connect_timeout = std::chrono::seconds(5);
constexpr auto request_timeout = std::chrono::seconds(30);

struct atomic_counters {
  std::atomic<std::uint64_t> sent{0}, failed{0}, dropped{0}, retried{0};
};

/// A job on its way: which step is next.
struct job_state {
  status_job job;
  std::size_t next = 0;
};

/// One webhook of a job, with its failure count.
struct attempt {
  std::shared_ptr<job_state> job;
  webhook_request request;
  int failures = 0;
  bool fresh_retry_used = false;  ///< a stale keep-alive connection gets one free retry
};

class destination;

}  // namespace

struct status_pusher::core {
  core(asio::io_context& io_context, pusher_options o) : io(io_context), options(o) {}

  atomic_counters& counters_for(provider p) { return by_provider[static_cast<std::size_t>(p) % provider_count]; }

  asio::io_context& io;
  pusher_options options;
  std::array<atomic_counters, provider_count> by_provider;
  std::atomic<std::size_t> queued_jobs{0};
  std::mutex mutex;  ///< guards `destinations`
  std::unordered_map<std::string, std::shared_ptr<destination>> destinations;
};

namespace {

using core = status_pusher::core;

/// One keep-alive connection of a destination's pool. Runs on the destination's strand.
class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(destination& dest, asio::strand<asio::io_context::executor_type> strand) : dest_(dest), stream_(strand) {}

  [[nodiscard]] bool busy() const { return busy_; }
  [[nodiscard]] bool connected() const { return connected_; }

  /// Sends `a` (connecting first when needed) and reports to the destination when done.
  void run(std::shared_ptr<attempt> a);

 private:
  void write();
  void done(beast::error_code ec, unsigned status);

  destination& dest_;  // the destination owns this connection and outlives it
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  std::shared_ptr<attempt> current_;
  bool busy_ = false;
  bool connected_ = false;
  bool reused_ = false;
};

/// A receiver (host:port): its queue of webhooks and its connection pool, on one strand.
class destination : public std::enable_shared_from_this<destination> {
 public:
  destination(core& c, tcp::resolver::results_type endpoints, std::string host)
      : core_(c), strand_(asio::make_strand(c.io)), endpoints_(std::move(endpoints)), host_(std::move(host)) {}

  const tcp::resolver::results_type& endpoints() const { return endpoints_; }
  const std::string& host() const { return host_; }

  /// Starts the job's next step after its delay (any thread).
  void schedule(std::shared_ptr<job_state> js) {
    auto self = shared_from_this();
    if (js->job.delay.count() <= 0) {
      asio::post(strand_, [self, js = std::move(js)]() mutable { self->enqueue(std::move(js)); });
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(strand_, js->job.delay);
    timer->async_wait([self, timer, js = std::move(js)](beast::error_code) mutable { self->enqueue(std::move(js)); });
  }

  /// A connection finished `a` (on the strand): count it, retry or move the job on.
  void finished(std::shared_ptr<attempt> a, bool ok) {
    auto& counters = core_.counters_for(a->job->job.kind);
    if (ok) {
      ++counters.sent;
      step_done(a->job);
    } else if (++a->failures <= core_.options.retries) {
      ++counters.retried;
      auto wait = core_.options.backoff * (1 << std::min(a->failures - 1, 10));
      auto timer = std::make_shared<asio::steady_timer>(strand_, wait);
      timer->async_wait([self = shared_from_this(), timer, a = std::move(a)](beast::error_code) mutable {
        self->queue_.push_front(std::move(a));  // it was due before anything queued since
        self->dispatch();
      });
    } else {
      ++counters.failed;
      step_done(a->job);
    }
    dispatch();
  }

 private:
  void enqueue(std::shared_ptr<job_state> js) {
    auto a = std::make_shared<attempt>();
    a->request = js->job.steps[js->next]();
    a->job = std::move(js);
    queue_.push_back(std::move(a));
    dispatch();
  }

  void step_done(const std::shared_ptr<job_state>& js) {
    if (++js->next < js->job.steps.size())
      schedule(js);
    else
      --core_.queued_jobs;
  }

  // Hands queued webhooks to idle connections (connected ones first), growing the pool
  // up to its bound.
  void dispatch() {
    while (!queue_.empty()) {
      connection* idle = nullptr;
      for (auto& c : pool_) {
        if (c->busy()) continue;
        if (c->connected()) {
          idle = c.get();
          break;
        }
        if (idle == nullptr) idle = c.get();
      }
      if (idle == nullptr) {
        if (pool_.size() >= core_.options.connections_per_destination) return;
        pool_.push_back(std::make_shared<connection>(*this, strand_));
        idle = pool_.back().get();
      }
      auto a = std::move(queue_.front());
      queue_.pop_front();
      idle->run(std::move(a));
    }
  }

  core& core_;
  asio::strand<asio::io_context::executor_type> strand_;
  tcp::resolver::results_type endpoints_;
  std::string host_;
  std::deque<std::shared_ptr<attempt>> queue_;
  std::vector<std::shared_ptr<connection>> pool_;
};

void connection::run(std::shared_ptr<attempt> a) {
  busy_ = true;
  current_ = std::move(a);
  const auto& w = current_->request;
  req_ = {};
  req_.method(http::verb::post);
  req_.target(w.target);
  req_.version(11);
  req_.set(http::field::host, dest_.host());
  req_.set(http::field::content_type, "application/json");
  req_.set(http::field::user_agent, "parley-bench-simulate");
  for (const auto& [name, value] : w.headers) req_.set(name, value);
  req_.body() = w.body;
  req_.keep_alive(true);
  req_.prepare_payload();
  if (connected_) {
    reused_ = true;
    write();
    return;
  }
  reused_ = false;
  buffer_.consume(buffer_.size());
  stream_.expires_after(connect_timeout);
  auto keep = dest_.shared_from_this();
  stream_.async_connect(dest_.endpoints(),
                        [self = shared_from_this(), keep](beast::error_code ec, const tcp::endpoint&) {
                          if (ec) return self->done(ec, 0);
                          self->connected_ = true;
                          self->write();
                        });
}

void connection::write() {
  stream_.expires_after(request_timeout);
  auto keep = dest_.shared_from_this();
  http::async_write(stream_, req_, [self = shared_from_this(), keep](beast::error_code ec, std::size_t) {
    if (ec) return self->done(ec, 0);
    self->res_ = {};
    http::async_read(self->stream_, self->buffer_, self->res_, [self, keep](beast::error_code ec2, std::size_t) {
      self->done(ec2, ec2 ? 0 : self->res_.result_int());
    });
  });
}

void connection::done(beast::error_code ec, unsigned status) {
  if (ec || !res_.keep_alive()) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    connected_ = false;
  }
  // A keep-alive connection the receiver closed while idle fails on first use: that is
  // no answer from the receiver, so try once more on a fresh connection before counting.
  if (ec && reused_ && !current_->fresh_retry_used) {
    current_->fresh_retry_used = true;
    auto a = std::move(current_);
    return run(std::move(a));
  }
  busy_ = false;
  auto a = std::move(current_);
  dest_.finished(std::move(a), !ec && status >= 200 && status < 300);
}

// %XX escapes of a URL's userinfo ("p%40ss" → "p@ss").
std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned v = 0;
    if (s[i] == '%' && i + 2 < s.size()) {
      auto [end, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc() && end == s.data() + i + 3) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace

std::optional<webhook_url> parse_webhook_url(std::string_view text) {
  constexpr std::string_view scheme = "http://";
  if (text.substr(0, scheme.size()) != scheme) return std::nullopt;
  text.remove_prefix(scheme.size());
  webhook_url u;
  auto slash = text.find('/');
  std::string_view authority = text.substr(0, slash);
  if (slash != std::string_view::npos) u.path = std::string(text.substr(slash));
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    u.userinfo = percent_decode(authority.substr(0, at));
    authority.remove_prefix(at + 1);
  }
  if (!authority.empty() && authority.front() == '[') {  // [v6]:port
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    u.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty()) {
      if (authority.front() != ':') return std::nullopt;
      u.port = std::string(authority.substr(1));
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    u.host = std::string(authority.substr(0, colon));
    u.port = std::string(authority.substr(colon + 1));
  } else {
    u.host = std::string(authority);
  }
  if (u.host.empty() || u.port.empty() || u.port.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return u;
}

status_pusher::status_pusher(asio::io_context& io, pusher_options options)
    : core_(std::make_shared<core>(io, options)) {}

status_pusher::~status_pusher() = default;

void status_pusher::push(status_job job) {
  auto& counters = core_->counters_for(job.kind);
  if (job.steps.empty()) return;
  if (core_->queued_jobs.load() >= core_->options.max_queued_jobs) {
    counters.dropped += job.steps.size();
    return;
  }
  std::string key = job.url.host + ":" + job.url.port;
  std::shared_ptr<destination> dest;
  {
    std::lock_guard lock(core_->mutex);
    auto it = core_->destinations.find(key);
    if (it == core_->destinations.end()) {
      // Once per destination; a loopback address or /etc/hosts name resolves at once.
      tcp::resolver resolver(core_->io);
      beast::error_code ec;
      auto endpoints = resolver.resolve(job.url.host, job.url.port, ec);
      if (ec) {
        counters.failed += job.steps.size();
        return;
      }
      std::string host = job.url.host.find(':') != std::string::npos ? "[" + job.url.host + "]" : job.url.host;
      it = core_->destinations.emplace(key, std::make_shared<destination>(*core_, endpoints, host + ":" + job.url.port))
               .first;
    }
    dest = it->second;
  }
  ++core_->queued_jobs;
  auto js = std::make_shared<job_state>();
  js->job = std::move(job);
  dest->schedule(std::move(js));
}

delivery_counters status_pusher::counters(provider p) const {
  const auto& c = core_->counters_for(p);
  delivery_counters out;
  out.sent = c.sent.load();
  out.failed = c.failed.load();
  out.dropped = c.dropped.load();
  out.retried = c.retried.load();
  return out;
}

void status_pusher::reset_counters() {
  for (auto& c : core_->by_provider) {
    c.sent = 0;
    c.failed = 0;
    c.dropped = 0;
    c.retried = 0;
  }
}

}  // namespace parley::bench::sim
