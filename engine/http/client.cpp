// The Beast/Asio half of the outbound client: URL parsing, per-origin connection pools
// and one `connection` per pooled socket that runs calls one after another.
//
// Threading: every connection lives on its own strand (its sockets, resolver and timer
// use it as executor), so a connection's members are only touched there. The pools, the
// registry of live connections and `stopping_` are guarded by `impl::mu`; counters are
// relaxed atomics. `done` callbacks run on the connection's strand after the connection
// went back to its pool, so a callback that sends again can reuse it.
#include "engine/http/client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "parley/thread_name.hpp"

namespace parley::engine::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = beast::error_code;
using steady = std::chrono::steady_clock;
using request_message = bhttp::request<bhttp::string_body>;

/// Response headers larger than this are an error (providers send a few hundred bytes).
constexpr std::uint32_t k_max_response_header_bytes = 64 << 10;

/// Where a call goes, from its URL.
struct origin {
  bool tls = false;
  bool ip_literal = false;  ///< no SNI for addresses (RFC 6066 allows host names only)
  std::string host;         ///< to resolve, verify and name in errors (IPv6 without brackets)
  std::string port;
  std::string host_header;  ///< `Host` value: host, bracketed for IPv6, ":port" when not the default
  std::string target;       ///< path and query

  /// The pool key: scheme, lowercased host, port.
  [[nodiscard]] std::string key() const {
    std::string k = tls ? "https://" : "http://";
    for (char c : host) k.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    k.push_back(':');
    k.append(port);
    return k;
  }
  /// "host:port" for error messages (never the path: it may hold a bot token).
  [[nodiscard]] std::string where() const { return host + ":" + port; }
};

result<origin> parse_url(std::string_view url) {
  namespace urls = boost::urls;
  const auto parsed = urls::parse_absolute_uri(url);
  // Messages never quote the URL: its path may hold a credential.
  if (!parsed) return make_error(errc::invalid_argument, "malformed URL");
  const urls::url_view& u = *parsed;
  origin o;
  if (u.scheme_id() == urls::scheme::https) {
    o.tls = true;
  } else if (u.scheme_id() != urls::scheme::http) {
    return make_error(errc::invalid_argument, "URL scheme must be http or https");
  }
  switch (u.host_type()) {
    case urls::host_type::name:
      o.host = u.host_address();
      break;
    case urls::host_type::ipv4:
    case urls::host_type::ipv6:
      o.host = u.host_address();
      o.ip_literal = true;
      break;
    default:
      return make_error(errc::invalid_argument, "URL has no usable host");
  }
  if (o.host.empty()) return make_error(errc::invalid_argument, "URL has no usable host");
  o.host_header = u.host_type() == urls::host_type::ipv6 ? "[" + o.host + "]" : o.host;
  const std::string_view default_port = o.tls ? "443" : "80";
  if (u.has_port() && !u.port().empty()) {
    const std::string_view text = u.port();
    unsigned number = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc{} || end != text.data() + text.size() || number == 0 || number > 65535) {
      return make_error(errc::invalid_argument, "URL port is invalid");
    }
    o.port = std::to_string(number);
    if (o.port != default_port) o.host_header += ":" + o.port;
  } else {
    o.port = std::string(default_port);
  }
  o.target = u.encoded_path().empty() ? std::string("/") : std::string(u.encoded_path());
  if (u.has_query()) o.target += "?" + std::string(u.encoded_query());
  return o;
}

/// Header names are tokens; values may not carry CR, LF or NUL (no header injection).
bool valid_header(std::string_view name, std::string_view value) noexcept {
  if (name.empty()) return false;
  const bool name_ok = std::all_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != ':' && c != '(' && c != ')' && c != ',' && c != ';' && c != '"' && c != '/' &&
           c != '[' && c != ']' && c != '?' && c != '=' && c != '{' && c != '}' && c != '\\' && c != '<' && c != '>' &&
           c != '@';
  });
  return name_ok && value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

/// One call on its way.
struct job {
  origin where;
  request_message req;
  steady::time_point deadline;
  std::function<void(result<client_response>)> done;
};

struct counters {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> opened{0};
  std::atomic<std::uint64_t> reused{0};
  std::atomic<std::uint64_t> retried{0};
  std::atomic<std::uint64_t> errors{0};
};

void bump(std::atomic<std::uint64_t>& c) noexcept { c.fetch_add(1, std::memory_order_relaxed); }

class connection;

/// The connections of one origin. Guarded by the client's mutex.
struct pool {
  std::vector<std::shared_ptr<connection>> idle;  ///< connected, waiting (most recent last)
  std::size_t open = 0;                           ///< connections of this origin that exist (idle or busy)
  std::deque<job> queue;                          ///< calls waiting for a connection (FIFO)
};

/// Shared state of a client; outlives every connection (`shutdown` joins the threads).
struct client_state {
  explicit client_state(client_options o);
  client_state(const client_state&) = delete;
  client_state& operator=(const client_state&) = delete;
  ~client_state() = default;
  void shutdown();

  client_options opts;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  ssl::context tls{ssl::context::tls_client};
  std::string tls_error;  ///< set when the TLS context could not be set up: https calls fail with it
  counters stats;

  std::mutex mu;
  bool stopping = false;                                              // guarded by mu
  std::unordered_map<std::string, std::unique_ptr<pool>> pools;       // guarded by mu
  std::unordered_map<std::uint64_t, std::weak_ptr<connection>> live;  // guarded by mu
  std::uint64_t next_id = 0;                                          // guarded by mu

  std::vector<std::thread> threads;
};

/// "timeout after N ms" with the phase it happened in.
std::string timeout_message(const client_options& o, const origin& where, std::string_view phase) {
  return "timeout (" + std::to_string(o.request_timeout.count()) + " ms request deadline) " + std::string(phase) + " " +
         where.where();
}

/// One keep-alive connection of a pool, running one call at a time on its strand. It
/// reconnects itself when its socket went away, so a pool slot is one object.
class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(client_state& owner, pool& home, std::uint64_t id, bool use_tls)
      : owner_(owner),
        pool_(home),
        id_(id),
        tls_(use_tls),
        strand_(asio::make_strand(owner.io)),
        resolver_(strand_),
        resolve_timer_(strand_) {}

  ~connection() {
    std::lock_guard lock(owner_.mu);
    owner_.live.erase(id_);
  }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Hands a call to this connection (taken from the idle list or just created). Any thread.
  void assign(job j) {
    asio::post(strand_, [self = shared_from_this(), j = std::move(j)]() mutable { self->on_assign(std::move(j)); });
  }

  /// Aborts whatever runs: the call completes with shutting_down. Any thread.
  void stop() {
    asio::post(strand_, [self = shared_from_this()] { self->on_stop(); });
  }

 private:
  // ---- streams -------------------------------------------------------------------------

  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*secure_) : *plain_; }

  template <class F>
  void with_stream(F&& f) {
    if (tls_) {
      f(*secure_);
    } else {
      f(*plain_);
    }
  }

  [[nodiscard]] bool has_stream() const { return tls_ ? secure_ != nullptr : plain_ != nullptr; }

  /// Closes the socket (pending operations complete with an error). The stream objects
  /// are replaced only in `connect`, when nothing is pending on them.
  void close_socket() {
    connected_ = false;
    if (!has_stream()) return;
    error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().socket().close(ignored);
  }

  // ---- one call ------------------------------------------------------------------------

  void on_assign(job j) {
    job_.emplace(std::move(j));
    retried_ = false;
    // An idle watch is pending: cancel it; `on_watch` continues with the job.
    if (watching_) {
      lowest().cancel();
      return;
    }
    begin();
  }

  void begin() {
    if (stopped_) return fail(errc::shutting_down, "client is shutting down");
    if (steady::now() >= job_->deadline) {
      return fail(errc::io_error, timeout_message(owner_.opts, job_->where, "waiting for a connection to"));
    }
    if (connected_) {
      reused_ = true;
      bump(owner_.stats.reused);
      write();
    } else {
      connect();
    }
  }

  void connect() {
    reused_ = false;
    if (tls_ && !owner_.tls_error.empty()) return fail(errc::io_error, owner_.tls_error);
    // Nothing is pending on the old stream (we run from a completion or a fresh start).
    plain_.reset();
    secure_.reset();
    if (tls_) {
      secure_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(strand_, owner_.tls);
    } else {
      plain_ = std::make_unique<beast::tcp_stream>(strand_);
    }
    connect_deadline_ = std::min(job_->deadline, steady::now() + owner_.opts.connect_timeout);
    resolve_timed_out_ = false;
    resolve_timer_.expires_at(connect_deadline_);
    resolve_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec) return;  // cancelled: the resolve finished first
      self->resolve_timed_out_ = true;
      self->resolver_.cancel();
    });
    resolver_.async_resolve(job_->where.host, job_->where.port,
                            [self = shared_from_this()](error_code ec, tcp::resolver::results_type results) {
                              self->on_resolve(ec, std::move(results));
                            });
  }

  void on_resolve(error_code ec, const tcp::resolver::results_type& results) {
    resolve_timer_.cancel();
    if (stopped_) return fail(errc::shutting_down, "client is shutting down");
    if (resolve_timed_out_) return fail(errc::io_error, "connect timeout resolving " + job_->where.where());
    if (ec) return fail(errc::io_error, "cannot resolve " + job_->where.where() + ": " + ec.message());
    lowest().expires_at(connect_deadline_);
    lowest().async_connect(results,
                           [self = shared_from_this()](error_code e, const tcp::endpoint&) { self->on_connect(e); });
  }

  void on_connect(error_code ec) {
    if (stopped_) return fail(errc::shutting_down, "client is shutting down");
    if (ec == beast::error::timeout) return fail(errc::io_error, "connect timeout to " + job_->where.where());
    if (ec) return fail(errc::io_error, "cannot connect to " + job_->where.where() + ": " + ec.message());
    bump(owner_.stats.opened);
    if (!tls_) {
      connected_ = true;
      return write();
    }
    const origin& where = job_->where;
    if (!where.ip_literal && SSL_set_tlsext_host_name(secure_->native_handle(), where.host.c_str()) != 1) {
      return fail(errc::io_error, "TLS: cannot set SNI for " + where.where());
    }
    if (owner_.opts.verify_peer) secure_->set_verify_callback(ssl::host_name_verification(where.host));
    lowest().expires_at(connect_deadline_);
    secure_->async_handshake(ssl::stream_base::client,
                             [self = shared_from_this()](error_code e) { self->on_handshake(e); });
  }

  void on_handshake(error_code ec) {
    if (stopped_) return fail(errc::shutting_down, "client is shutting down");
    if (ec == beast::error::timeout) return fail(errc::io_error, "TLS handshake timeout with " + job_->where.where());
    if (ec) {
      const long verify = SSL_get_verify_result(secure_->native_handle());
      const bool verify_failed = verify != X509_V_OK || (ec.category() == asio::error::get_ssl_category() &&
                                                         ERR_GET_REASON(static_cast<unsigned long>(ec.value())) ==
                                                             SSL_R_CERTIFICATE_VERIFY_FAILED);
      if (verify_failed) {
        const char* why = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : "host name mismatch";
        return fail(errc::unauthorized, "TLS certificate verification failed for " + job_->where.where() + ": " + why);
      }
      return fail(errc::io_error, "TLS handshake with " + job_->where.where() + " failed: " + ec.message());
    }
    connected_ = true;
    write();
  }

  void write() {
    lowest().expires_at(job_->deadline);
    with_stream([this](auto& s) {
      bhttp::async_write(s, job_->req, [self = shared_from_this()](error_code ec, std::size_t) { self->on_write(ec); });
    });
  }

  void on_write(error_code ec) {
    if (stopped_) return fail(errc::shutting_down, "client is shutting down");
    if (ec) {
      if (may_retry(ec)) return retry_fresh();
      if (ec == beast::error::timeout)
        return fail(errc::io_error, timeout_message(owner_.opts, job_->where, "writing to"));
      return fail(errc::io_error, "write to " + job_->where.where() + " failed: " + ec.message());
    }
    buffer_.clear();
    parser_.emplace();
    parser_->body_limit(owner_.opts.max_response_bytes);
    parser_->header_limit(k_max_response_header_bytes);
    parser_->skip(job_->req.method() == bhttp::verb::head);
    with_stream([this](auto& s) {
      bhttp::async_read(s, buffer_, *parser_,
                        [self = shared_from_this()](error_code e, std::size_t) { self->on_read(e); });
    });
  }

  void on_read(error_code ec) {
    if (stopped_) return fail(errc::shutting_down, "client is shutting down");
    if (ec) {
      if (!parser_->got_some() && may_retry(ec)) return retry_fresh();
      if (ec == bhttp::error::body_limit) {
        return fail(errc::io_error, "response from " + job_->where.where() + " exceeds max_response_bytes (" +
                                        std::to_string(owner_.opts.max_response_bytes) + ")");
      }
      if (ec == beast::error::timeout)
        return fail(errc::io_error, timeout_message(owner_.opts, job_->where, "reading from"));
      return fail(errc::io_error, "read from " + job_->where.where() + " failed: " + ec.message());
    }
    // Reusable only when the server keeps it open and sent nothing beyond this response.
    const bool keep = parser_->keep_alive() && buffer_.size() == 0;
    auto res = parser_->release();
    parser_.reset();
    if (!keep) close_socket();
    client_response out;
    out.status = res.result_int();
    out.body = std::move(res.body());
    if (auto it = res.find(bhttp::field::retry_after); it != res.end()) out.retry_after = std::string(it->value());
    complete(std::move(out));
  }

  /// A pooled connection the server closed meanwhile fails on write or before the first
  /// response byte: the request was not processed, so one retry on a fresh one is safe.
  [[nodiscard]] bool may_retry(const error_code& ec) const {
    return reused_ && !retried_ && !stopped_ && ec != beast::error::timeout;
  }

  void retry_fresh() {
    retried_ = true;
    bump(owner_.stats.retried);
    close_socket();
    connect();
  }

  void fail(errc code, std::string message) {
    close_socket();
    parser_.reset();
    bump(owner_.stats.errors);
    complete(make_error(stopped_ ? errc::shutting_down : code,
                        stopped_ ? std::string("client is shutting down") : std::move(message)));
  }

  /// Ends the current call: the connection goes back to its pool (or takes the next
  /// queued call) first, then `done` runs, so a `done` that sends again finds it idle.
  void complete(result<client_response> r) {
    auto done = std::move(job_->done);
    job_.reset();
    release();
    done(std::move(r));
  }

  /// After a call: take the next queued call, else park in the idle list, else go away.
  void release() {
    std::vector<job> expired;
    bool parked = false;
    {
      std::lock_guard lock(owner_.mu);
      if (owner_.stopping || stopped_) {
        --pool_.open;
      } else {
        while (!pool_.queue.empty()) {
          job next = std::move(pool_.queue.front());
          pool_.queue.pop_front();
          if (steady::now() >= next.deadline) {
            expired.push_back(std::move(next));
            continue;
          }
          job_.emplace(std::move(next));
          break;
        }
        if (!job_) {
          if (connected_) {
            pool_.idle.push_back(shared_from_this());
            parked = true;
          } else {
            --pool_.open;
          }
        }
      }
    }
    for (auto& j : expired) {
      bump(owner_.stats.errors);
      j.done(make_error(errc::io_error, timeout_message(owner_.opts, j.where, "waiting for a connection to")));
    }
    if (job_) {
      retried_ = false;
      // Posted, not called: a run of calls failing at once must not recurse.
      asio::post(strand_, [self = shared_from_this()] { self->begin(); });
    } else if (parked) {
      watch();
    } else {
      close_socket();
    }
  }

  // ---- idle ----------------------------------------------------------------------------

  /// While idle, a one-byte read notices the server closing (or the idle timeout).
  void watch() {
    watching_ = true;
    lowest().expires_after(owner_.opts.idle_timeout);
    with_stream([this](auto& s) {
      s.async_read_some(asio::buffer(&watch_byte_, 1),
                        [self = shared_from_this()](error_code ec, std::size_t) { self->on_watch(ec); });
    });
  }

  void on_watch(error_code ec) {
    watching_ = false;
    if (job_) {
      // Taken for a call while watching. Anything but our own cancel means the socket is
      // no longer usable (closed by the server, unexpected bytes): begin on a fresh one.
      if (ec != asio::error::operation_aborted) close_socket();
      return begin();
    }
    close_socket();
    std::lock_guard lock(owner_.mu);
    const auto it = std::find(pool_.idle.begin(), pool_.idle.end(), shared_from_this());
    if (it != pool_.idle.end()) {
      pool_.idle.erase(it);
      --pool_.open;
    }
    // Not in the list: a sender took it just now and its `assign` is queued on our
    // strand; it will find us disconnected and connect afresh.
  }

  void on_stop() {
    stopped_ = true;
    resolver_.cancel();
    resolve_timer_.cancel();
    if (has_stream()) lowest().cancel();
  }

  client_state& owner_;
  pool& pool_;
  const std::uint64_t id_;
  const bool tls_;
  asio::strand<asio::io_context::executor_type> strand_;
  tcp::resolver resolver_;
  asio::steady_timer resolve_timer_;
  std::unique_ptr<beast::tcp_stream> plain_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
  std::optional<job> job_;
  steady::time_point connect_deadline_;
  bool connected_ = false;
  bool watching_ = false;
  bool stopped_ = false;
  bool reused_ = false;   ///< the current attempt runs on a pooled connection
  bool retried_ = false;  ///< the current call already had its retry
  bool resolve_timed_out_ = false;
  char watch_byte_ = 0;
};

}  // namespace

// ---- client ----------------------------------------------------------------------------

struct client::impl {
  explicit impl(client_options o) : state(std::move(o)) {}
  client_state state;
};

client_state::client_state(client_options o) : opts(std::move(o)) {
  error_code ec;
  tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                  ec);
  tls.set_default_verify_paths(ec);
  if (ec) tls_error = "TLS: cannot load the system trust store: " + ec.message();
  if (!opts.ca_file.empty()) {
    tls.load_verify_file(opts.ca_file, ec);
    if (ec) tls_error = "TLS: cannot load ca_file " + opts.ca_file + ": " + ec.message();
  }
  tls.set_verify_mode(opts.verify_peer ? ssl::verify_peer : ssl::verify_none, ec);
  if (opts.max_connections_per_host == 0) opts.max_connections_per_host = 1;
  const std::size_t n = std::max<std::size_t>(opts.threads, 1);
  threads.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    threads.emplace_back([this] { io.run(); });
    name_thread(threads.back(), "parley-client");
  }
}

void client_state::shutdown() {
  std::vector<job> queued;
  std::vector<std::shared_ptr<connection>> conns;
  {
    std::lock_guard lock(mu);
    stopping = true;
    for (auto& [key, p] : pools) {
      for (auto& j : p->queue) queued.push_back(std::move(j));
      p->queue.clear();
    }
    for (auto& [id, weak] : live) {
      if (auto c = weak.lock()) conns.push_back(std::move(c));
    }
  }
  for (auto& j : queued) {
    asio::post(io, [done = std::move(j.done)] { done(make_error(errc::shutting_down, "client is shutting down")); });
  }
  for (auto& c : conns) c->stop();
  conns.clear();
  // Every pending operation was cancelled; the threads return once their handlers ran.
  work.reset();
  for (auto& t : threads) {
    if (t.get_id() == std::this_thread::get_id()) std::terminate();  // destroyed from a `done`: a bug
    t.join();
  }
  // Idle connections hold sockets on `io`: release them while it still exists. Their
  // destructors take `mu`, so the pools are moved out first.
  std::unordered_map<std::string, std::unique_ptr<pool>> gone;
  {
    std::lock_guard lock(mu);
    gone.swap(pools);
  }
  for (auto& [key, p] : gone) p->idle.clear();
}

client::client(client_options options) : impl_(std::make_unique<impl>(std::move(options))) {}

client::~client() { impl_->state.shutdown(); }

void client::send(parley::http_call call, std::function<void(result<client_response>)> done) {
  client_state& self = impl_->state;
  bump(self.stats.requests);
  auto reject = [&self, &done](errc code, std::string message) {
    bump(self.stats.errors);
    asio::post(self.io,
               [done = std::move(done), code, message = std::move(message)] { done(make_error(code, message)); });
  };

  auto where = parse_url(call.url);
  if (!where.ok()) return reject(where.code(), where.err().message);
  if (where->tls && !self.tls_error.empty()) return reject(errc::io_error, self.tls_error);
  const auto verb = bhttp::string_to_verb(call.method);
  if (verb == bhttp::verb::unknown) return reject(errc::invalid_argument, "unknown HTTP method");

  job j;
  j.req.method(verb);
  j.req.target(where->target);
  j.req.version(11);
  for (const auto& [name, value] : call.headers) {
    if (!valid_header(name, value)) return reject(errc::invalid_argument, "invalid header name or value");
    j.req.insert(name, value);
  }
  if (j.req.find(bhttp::field::host) == j.req.end()) j.req.set(bhttp::field::host, where->host_header);
  if (j.req.find(bhttp::field::user_agent) == j.req.end()) j.req.set(bhttp::field::user_agent, "parley");
  j.req.body() = std::move(call.body);
  j.req.prepare_payload();
  j.deadline = steady::now() + self.opts.request_timeout;
  j.done = std::move(done);
  j.where = std::move(*where);

  std::shared_ptr<connection> target;
  {
    std::lock_guard lock(self.mu);
    if (!self.stopping) {
      auto& slot = self.pools[j.where.key()];
      if (!slot) slot = std::make_unique<pool>();
      pool& p = *slot;
      if (!p.idle.empty()) {
        target = std::move(p.idle.back());
        p.idle.pop_back();
      } else if (p.open < self.opts.max_connections_per_host) {
        ++p.open;
        const std::uint64_t id = ++self.next_id;
        target = std::make_shared<connection>(self, p, id, j.where.tls);
        self.live.emplace(id, target);
      } else {
        p.queue.push_back(std::move(j));
        return;
      }
    }
  }
  if (!target) {
    // Only a `done` running during shutdown can get here; answered outside the lock.
    done = std::move(j.done);
    return reject(errc::shutting_down, "client is shutting down");
  }
  target->assign(std::move(j));
}

client_stats client::stats() const {
  const auto& c = impl_->state.stats;
  client_stats s;
  s.requests = c.requests.load(std::memory_order_relaxed);
  s.connections_opened = c.opened.load(std::memory_order_relaxed);
  s.connections_reused = c.reused.load(std::memory_order_relaxed);
  s.retried_on_fresh = c.retried.load(std::memory_order_relaxed);
  s.errors = c.errors.load(std::memory_order_relaxed);
  return s;
}

}  // namespace parley::engine::http
