// The Beast/Asio half of the HTTP component: the listener (accept loop, connection
// registry, drain) and one session per connection, templated over plain TCP and TLS.
//
// Threading: the listener's acceptor lives on its own strand; every session lives on
// its own strand (the socket's executor). A session's state is only touched on its
// strand; the listener's registry is guarded by a mutex; counters are relaxed atomics.
#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <limits>
#include <mutex>
#include <random>
#include <type_traits>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "engine/http/server.hpp"
#include "engine/http/request_building.hpp"

namespace parley::engine::http {

namespace {

using detail::lowercase;
using detail::sane_request_id;
using detail::split_target;
using detail::to_method;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using error_code = beast::error_code;

/// First read on an idle connection: enough for most whole requests.
constexpr std::size_t k_first_read_bytes = 4096;
/// An idle connection keeps at most this much read buffer (memory per idle client).
constexpr std::size_t k_idle_buffer_capacity = 16 << 10;
/// After our last response on a closing connection, how long we keep reading (and
/// discarding) so unread client bytes do not turn our close into a reset that could
/// destroy the response in flight.
constexpr std::chrono::milliseconds k_linger{1000};
/// Back-off after a failed accept (e.g. out of file descriptors) so we do not spin.
constexpr std::chrono::milliseconds k_accept_retry{50};

struct counters {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> active{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> responses_2xx{0};
  std::atomic<std::uint64_t> responses_4xx{0};
  std::atomic<std::uint64_t> responses_5xx{0};
  std::atomic<std::uint64_t> timeouts{0};
  std::array<std::atomic<std::uint64_t>, server_stats::handling_buckets> handling{};
  std::atomic<std::uint64_t> handling_ns{0};

  void record_handling(std::chrono::steady_clock::duration d) noexcept {
    auto ns = static_cast<std::uint64_t>(std::max<std::int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(), 0));
    // Bucket i ends at 250 µs << i: the bucket is the bit width of the whole 250 µs steps.
    constexpr std::uint64_t first_bound_ns = 250'000;
    std::size_t b = ns <= first_bound_ns ? 0 : static_cast<std::size_t>(std::bit_width((ns - 1) / first_bound_ns));
    b = std::min(b, handling.size() - 1);
    handling[b].fetch_add(1, std::memory_order_relaxed);
    handling_ns.fetch_add(ns, std::memory_order_relaxed);
  }
};

void bump(std::atomic<std::uint64_t>& c) noexcept { c.fetch_add(1, std::memory_order_relaxed); }

/// 16 hex chars. Not a secret, only unique enough to correlate logs: a per-thread PRNG.
std::string generate_request_id() {
  thread_local std::mt19937_64 rng{(std::uint64_t{std::random_device{}()} << 32) ^
                                   std::random_device{}()};
  static constexpr char k_hex[] = "0123456789abcdef";
  std::uint64_t v = rng();
  std::string id(16, '0');
  for (auto& c : id) {
    c = k_hex[v & 0xf];
    v >>= 4;
  }
  return id;
}

bool is_http_parse_error(const error_code& ec) noexcept {
  static const auto& category = bhttp::make_error_code(bhttp::error::bad_target).category();
  return ec.category() == category && ec != bhttp::error::end_of_stream &&
         ec != bhttp::error::partial_message;
}

// A whole response as it goes on the wire: status line, the handler's headers, Server,
// X-Request-Id, Connection when it differs from the version's default, and for statuses
// that carry one the type, length and (unless HEAD, which announces GET's length) body.
// Written by hand into one buffer: a Beast serializer per response cost more than the
// rest of the write. Header names and values come from handlers, never from a client
// (the client's request id is echoed only once sane_request_id accepts it).
void serialize(const response& r, unsigned version, std::string_view request_id, bool keep_alive, bool head,
               std::string& out) {
  const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(r.status));
  const bool bodyless_status = r.status == 204 || r.status == 304 || r.status < 200;
  const bool body = !bodyless_status && !head;
  std::size_t size = 64 + reason.size() + r.content_type.size() + request_id.size() + (body ? r.body.size() : 0);
  for (const auto& [name, value] : r.headers) size += name.size() + value.size() + 4;
  out.clear();
  out.reserve(size);
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(r.status);
  out += ' ';
  out.append(reason.data(), reason.size());
  out += "\r\n";
  auto field = [&out](std::string_view name, std::string_view value) {
    out.append(name);
    out += ": ";
    out.append(value);
    out += "\r\n";
  };
  for (const auto& [name, value] : r.headers) field(name, value);
  field("Server", "parley");
  field("X-Request-Id", request_id);
  if (version == 10 && keep_alive) field("Connection", "keep-alive");
  if (version != 10 && !keep_alive) field("Connection", "close");
  if (!bodyless_status) {
    if (!r.content_type.empty()) field("Content-Type", r.content_type);
    field("Content-Length", std::to_string(r.body.size()));
  }
  out += "\r\n";
  if (body) out += r.body;
}

/// What the listener and a responder's sink need from a session, whatever its stream.
class session_base : public std::enable_shared_from_this<session_base> {
 public:
  explicit session_base(asio::any_io_executor ex) : ex_(std::move(ex)) {}
  virtual ~session_base() = default;
  session_base(const session_base&) = delete;
  session_base& operator=(const session_base&) = delete;

  /// Starts the session (handshake or first read). Posted once by the listener.
  virtual void start() = 0;

  [[nodiscard]] const asio::any_io_executor& executor() const noexcept { return ex_; }

  /// Thread-safe: the session closes if idle, else after answering its current request.
  void stop() {
    asio::post(ex_, [self = shared_from_this()] { self->on_stop(); });
  }

  /// Thread-safe: hands a handler's answer for request `generation` to the strand.
  void post_answer(std::uint64_t generation, response r) {
    asio::post(ex_, [self = shared_from_this(), generation, r = std::move(r)]() mutable {
      self->on_answer(generation, std::move(r));
    });
  }

 protected:
  virtual void on_stop() = 0;
  virtual void on_answer(std::uint64_t generation, response r) = 0;

  asio::any_io_executor ex_;  // the connection's strand
};

}  // namespace

/// One request's answer channel. The atomic makes "first send wins" hold across all
/// responder copies and threads; the session then checks the request is still current.
class responder::sink {
 public:
  sink(std::shared_ptr<session_base> session, std::uint64_t generation)
      : session_(std::move(session)), generation_(generation) {}
  sink(const sink&) = delete;
  sink& operator=(const sink&) = delete;

  ~sink() {
    if (sent_.exchange(true)) return;
    try {
      session_->post_answer(generation_,
                            response::error(500, "internal", "handler dropped the request"));
    } catch (...) {  // NOLINT(bugprone-empty-catch): out of memory; the handler timeout answers
    }
  }

  void send(response r) {
    if (sent_.exchange(true)) return;
    session_->post_answer(generation_, std::move(r));
  }

 private:
  std::shared_ptr<session_base> session_;
  std::uint64_t generation_;
  std::atomic<bool> sent_{false};
};

void responder::send(response r) const {
  if (sink_) sink_->send(std::move(r));
}

namespace {

/// Accept loop, connection registry and drain bookkeeping of one listener.
class listener : public std::enable_shared_from_this<listener> {
 public:
  listener(asio::io_context& io, server_options options, std::shared_ptr<const router> routes)
      : io_(io),
        options_(std::move(options)),
        routes_(routes ? std::move(routes) : std::make_shared<const router>()),
        acceptor_(asio::make_strand(io)),
        accept_retry_(acceptor_.get_executor()) {}

  result<std::string> listen();
  void stop_accepting();
  void drain(std::function<void()> done);
  server_stats stats() const;

  [[nodiscard]] const server_options& options() const noexcept { return options_; }
  [[nodiscard]] const router& routes() const noexcept { return *routes_; }
  [[nodiscard]] counters& count() noexcept { return counters_; }
  /// Called exactly once per admitted session, when its socket is closed.
  void on_session_closed(std::uint64_t id);

 private:
  void do_accept();
  void on_accept(error_code ec, tcp::socket socket);
  void admit(tcp::socket socket);
  void on_acceptor_closed();
  /// Takes the drain callbacks if draining is complete. Caller holds mutex_.
  std::vector<std::function<void()>> take_finished_drain_locked();
  void run_on_io(std::vector<std::function<void()>> callbacks);

  asio::io_context& io_;
  server_options options_;
  std::shared_ptr<const router> routes_;
  tcp::acceptor acceptor_;  // only touched on its strand (after listen())
  asio::steady_timer accept_retry_;
  counters counters_;

  mutable std::mutex mutex_;  // guards everything below
  std::unordered_map<std::uint64_t, std::weak_ptr<session_base>> sessions_;
  std::uint64_t next_id_ = 0;
  bool listening_ = false;
  bool stopping_ = false;
  bool acceptor_closed_ = true;  // nothing to wait for until listen() succeeds
  std::vector<std::function<void()>> drain_waiters_;
};

/// One connection. `Stream` is `beast::tcp_stream` or `beast::ssl_stream<tcp_stream>`.
/// Requests are served strictly one after another: the next one is read only after the
/// previous response was written, which keeps pipelined responses in order.
template <class Stream>
class session final : public session_base {
 public:
  session(std::shared_ptr<listener> owner, std::uint64_t id, tcp::socket&& socket,
          std::string remote)
      : session_base(socket.get_executor()),
        owner_(std::move(owner)),
        opts_(owner_->options()),
        id_(id),
        remote_(std::move(remote)),
        stream_(make_stream(std::move(socket), opts_)),
        handler_timer_(ex_) {}

  void start() override;

 private:
  static constexpr bool k_tls = !std::is_same_v<Stream, beast::tcp_stream>;

  enum class phase : std::uint8_t { fresh, handshake, idle, reading, handling, writing, closing, closed };

  static Stream make_stream(tcp::socket&& socket, const server_options& opts) {
    if constexpr (k_tls) {
      return Stream(std::move(socket), *opts.tls);
    } else {
      return Stream(std::move(socket));
    }
  }

  std::shared_ptr<session> self() { return std::static_pointer_cast<session>(shared_from_this()); }
  beast::tcp_stream& tcp_layer() { return beast::get_lowest_layer(stream_); }

  void on_handshake(error_code ec);
  void wait_for_request();
  void on_first_bytes(error_code ec, std::size_t n);
  void read_header();
  void on_header(error_code ec, std::size_t n);
  void send_continue();
  void read_body();
  bool parse_buffered_body();
  void on_body(error_code ec, std::size_t n);
  void on_read_error(error_code ec);
  void dispatch();
  void invoke(const handler& h, std::shared_ptr<request> req);
  void on_answer(std::uint64_t generation, response r) override;
  void on_handler_timeout(std::uint64_t generation);
  void reject(unsigned status, std::string_view code, std::string_view message);
  void respond(response r);
  void respond_streamed(response r);
  void pull_piece();
  void on_piece(result<std::string> piece);
  void on_written(error_code ec, std::size_t n);
  void close_gracefully();
  void linger();
  void close_now();
  void on_stop() override;

  std::shared_ptr<listener> owner_;
  const server_options& opts_;  // owned by owner_
  std::uint64_t id_;
  std::string remote_;
  Stream stream_;
  beast::flat_buffer buffer_;  // reused across requests; holds pipelined bytes
  std::optional<detail::request_reader> parser_;
  std::string out_;  // a whole (not streamed) response, status line to body
  // A streamed response: its header, serializer, source and the piece being written.
  bhttp::response<bhttp::empty_body> stream_res_;
  std::optional<bhttp::response_serializer<bhttp::empty_body>> stream_sr_;
  std::shared_ptr<body_stream> source_;
  std::string piece_;
  bhttp::response<bhttp::empty_body> continue_res_{bhttp::status::continue_, 11};
  asio::steady_timer handler_timer_;

  phase phase_ = phase::fresh;
  bool draining_ = false;       // stop requested: answer the current request, then close
  bool first_request_ = true;   // a new connection gets header_timeout, not idle_timeout
  bool keep_alive_ = false;     // the current request allows another one after it
  bool close_after_write_ = false;
  bool head_ = false;
  unsigned version_ = 11;
  std::string request_id_;
  std::uint64_t generation_ = 0;  // which request a late answer belongs to
  std::chrono::steady_clock::time_point received_{};  // the current request was read whole
  bool answered_ = false;
};

// ---- session: reading ------------------------------------------------------------------

template <class Stream>
void session<Stream>::start() {
  if (phase_ != phase::fresh) return;  // stopped before it started
  if constexpr (k_tls) {
    phase_ = phase::handshake;
    tcp_layer().expires_after(opts_.header_timeout);
    stream_.async_handshake(asio::ssl::stream_base::server,
                            beast::bind_front_handler(&session::on_handshake, self()));
  } else {
    wait_for_request();
  }
}

template <class Stream>
void session<Stream>::on_handshake(error_code ec) {
  // A timeout is counted even when a drain closed the session between the timer closing
  // the socket and this handler running: the connection did time out.
  if (ec == beast::error::timeout) bump(owner_->count().timeouts);
  if (phase_ == phase::closed) return;
  if (ec) return close_now();
  wait_for_request();
}

// Waiting for the first byte of a request is "idle" (idle_timeout on keep-alive, closed
// by stop_accepting); once bytes arrived the header gets header_timeout.
template <class Stream>
void session<Stream>::wait_for_request() {
  phase_ = phase::idle;
  if (draining_) return close_gracefully();
  if (buffer_.size() > 0) return read_header();  // pipelined request already buffered
  if (buffer_.capacity() > k_idle_buffer_capacity) buffer_.shrink_to_fit();
  tcp_layer().expires_after(first_request_ ? opts_.header_timeout : opts_.idle_timeout);
  stream_.async_read_some(buffer_.prepare(k_first_read_bytes),
                          beast::bind_front_handler(&session::on_first_bytes, self()));
}

template <class Stream>
void session<Stream>::on_first_bytes(error_code ec, std::size_t n) {
  // A new connection that never sends is a slowloris; a quiet keep-alive one is normal.
  // Counted before the closed check, as in on_handshake.
  if (ec == beast::error::timeout && first_request_) bump(owner_->count().timeouts);
  if (phase_ == phase::closed) return;
  buffer_.commit(n);
  if (ec) return close_now();
  read_header();
}

template <class Stream>
void session<Stream>::read_header() {
  phase_ = phase::reading;
  request_id_.clear();
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(opts_.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  parser_->body_limit(opts_.max_body_bytes);
  tcp_layer().expires_after(opts_.header_timeout);
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           beast::bind_front_handler(&session::on_header, self()));
}

template <class Stream>
void session<Stream>::on_header(error_code ec, std::size_t) {
  if (ec) return on_read_error(ec);
  if (const auto id = parser_->request_id(); sane_request_id(id)) request_id_.assign(id);
  if (parser_->is_done()) return dispatch();
  if (parser_->expects_continue()) return send_continue();
  if (parse_buffered_body()) return;
  read_body();
}

// A small body usually arrives with its header: parse what is buffered now rather than
// start a read (with its timer) that would complete at once. False: more bytes are
// needed, read_body() goes on from where the parser stopped.
template <class Stream>
bool session<Stream>::parse_buffered_body() {
  parser_->eager(true);
  error_code ec;
  while (buffer_.size() > 0 && !parser_->is_done()) {
    const std::size_t n = parser_->put(buffer_.data(), ec);
    buffer_.consume(n);
    if (ec == bhttp::error::need_more) return false;
    if (ec) {
      on_read_error(ec);
      return true;
    }
    if (n == 0) return false;
  }
  if (!parser_->is_done()) return false;
  dispatch();
  return true;
}

// Clients such as curl wait (a second) for "100 Continue" before sending a large body.
template <class Stream>
void session<Stream>::send_continue() {
  tcp_layer().expires_after(opts_.body_timeout);
  bhttp::async_write(stream_, continue_res_, [self = self()](error_code ec, std::size_t) {
    if (ec) return self->close_now();
    self->read_body();
  });
}

template <class Stream>
void session<Stream>::read_body() {
  tcp_layer().expires_after(opts_.body_timeout);
  bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&session::on_body, self()));
}

template <class Stream>
void session<Stream>::on_body(error_code ec, std::size_t) {
  if (ec) return on_read_error(ec);
  dispatch();
}

template <class Stream>
void session<Stream>::on_read_error(error_code ec) {
  if (ec == beast::error::timeout) bump(owner_->count().timeouts);  // as in on_handshake
  if (phase_ == phase::closed) return;
  if (ec == bhttp::error::body_limit) {
    return reject(413, "payload_too_large",
                  "request body exceeds " + std::to_string(opts_.max_body_bytes) + " bytes");
  }
  if (ec == bhttp::error::header_limit) {
    return reject(431, "headers_too_large", "request header exceeds the limit");
  }
  if (ec == beast::error::timeout) return close_now();
  if (is_http_parse_error(ec)) return reject(400, "bad_request", "malformed HTTP request");
  close_now();  // the client went away (EOF, reset, TLS truncation): nobody to answer
}

// ---- session: handling ------------------------------------------------------------------

template <class Stream>
void session<Stream>::dispatch() {
  keep_alive_ = parser_->keep_alive();
  version_ = parser_->version();
  const auto verb = parser_->method();
  head_ = verb == bhttp::verb::head;
  auto req = std::make_shared<request>(parser_->take());
  parser_.reset();
  bump(owner_->count().requests);
  received_ = std::chrono::steady_clock::now();
  if (request_id_.empty()) request_id_ = generate_request_id();
  if (verb == bhttp::verb::unknown) {
    return respond(response::error(501, "not_implemented", "unknown HTTP method"));
  }

  split_target(req->target, *req);
  req->request_id = request_id_;
  req->remote_address = remote_;

  auto match = owner_->routes().match(req->verb, req->path);
  if (match.target == nullptr) {
    if (match.status == 405) {
      auto r = response::error(405, "method_not_allowed", "method not allowed on this path");
      r.headers.emplace_back("Allow", std::move(match.allow));
      return respond(std::move(r));
    }
    return respond(response::error(404, "not_found", "no route for this path"));
  }
  req->params = std::move(match.params);
  invoke(*match.target, std::move(req));
}

template <class Stream>
void session<Stream>::invoke(const handler& h, std::shared_ptr<request> req) {
  phase_ = phase::handling;
  answered_ = false;
  const auto generation = ++generation_;
  handler_timer_.expires_after(opts_.handler_timeout);
  handler_timer_.async_wait([self = self(), generation](error_code ec) {
    if (!ec) self->on_handler_timeout(generation);
  });
  auto s = std::make_shared<responder::sink>(shared_from_this(), generation);
  try {
    h(std::move(req), responder(s));
  } catch (...) {
    // Nothing may escape onto the io_context; a handler that already answered wins.
    s->send(response::error(500, "internal", "handler failed"));
  }
}

template <class Stream>
void session<Stream>::on_answer(std::uint64_t generation, response r) {
  // Late answers (after a 503, or after the connection died) are dropped here.
  if (generation != generation_ || phase_ != phase::handling || answered_) return;
  answered_ = true;
  handler_timer_.cancel();
  respond(std::move(r));
}

template <class Stream>
void session<Stream>::on_handler_timeout(std::uint64_t generation) {
  if (generation != generation_ || phase_ != phase::handling || answered_) return;
  answered_ = true;
  bump(owner_->count().timeouts);
  auto r = response::error(503, "unavailable", "the request was not handled in time");
  r.headers.emplace_back("Retry-After", "1");
  respond(std::move(r));
}

// ---- session: writing and closing -------------------------------------------------------

template <class Stream>
void session<Stream>::reject(unsigned status, std::string_view code, std::string_view message) {
  // The fields parsed before the error still carry the client's id, if any.
  if (request_id_.empty() && parser_) {
    if (const auto id = parser_->request_id(); sane_request_id(id)) request_id_.assign(id);
  }
  parser_.reset();
  keep_alive_ = false;  // the stream position is unknown after a bad request
  head_ = false;
  version_ = 11;
  if (request_id_.empty()) request_id_ = generate_request_id();
  respond(response::error(status, code, message));
}

template <class Stream>
void session<Stream>::respond(response r) {
  phase_ = phase::writing;
  close_after_write_ = !keep_alive_ || draining_;
  auto& counters = owner_->count();
  bump(r.status >= 500 ? counters.responses_5xx
       : r.status >= 400 ? counters.responses_4xx
                         : counters.responses_2xx);  // 1xx/3xx are rare enough to fold in
  if (received_ != std::chrono::steady_clock::time_point{}) {
    counters.record_handling(std::chrono::steady_clock::now() - received_);
    received_ = {};
  }

  if (r.stream && !head_ && r.status >= 200 && r.status != 204 && r.status != 304) return respond_streamed(std::move(r));

  serialize(r, version_, request_id_, !close_after_write_, head_, out_);
  tcp_layer().expires_after(opts_.body_timeout);  // a client that never reads must not pin us
  asio::async_write(stream_, asio::buffer(out_), beast::bind_front_handler(&session::on_written, self()));
}

template <class Stream>
void session<Stream>::respond_streamed(response r) {
  source_ = std::move(r.stream);
  stream_res_ = {};
  stream_res_.version(version_);
  stream_res_.result(r.status);
  for (auto& [name, value] : r.headers) stream_res_.insert(name, value);
  stream_res_.set(bhttp::field::server, "parley");
  stream_res_.set("X-Request-Id", request_id_);
  if (!r.content_type.empty()) stream_res_.set(bhttp::field::content_type, r.content_type);
  stream_res_.keep_alive(!close_after_write_);
  stream_res_.chunked(true);
  stream_sr_.emplace(stream_res_);
  tcp_layer().expires_after(opts_.body_timeout);
  bhttp::async_write_header(stream_, *stream_sr_, [self = self()](error_code ec, std::size_t) {
    if (ec) {
      self->source_.reset();
      return self->close_now();
    }
    self->pull_piece();
  });
}

template <class Stream>
void session<Stream>::pull_piece() {
  if (phase_ == phase::closed || !source_) return;
  // The source may answer on any thread; the piece is handled on this strand.
  source_->next([self = self()](result<std::string> piece) {
    asio::post(self->executor(), [self, piece = std::move(piece)]() mutable { self->on_piece(std::move(piece)); });
  });
}

template <class Stream>
void session<Stream>::on_piece(result<std::string> piece) {
  if (phase_ == phase::closed) return;
  // A failed source, or a stop while streaming: abort rather than end the body cleanly,
  // so the client cannot take a partial body for the whole one.
  if (!piece || draining_) {
    source_.reset();
    return close_now();
  }
  tcp_layer().expires_after(opts_.body_timeout);
  if (piece->empty()) {
    source_.reset();
    stream_sr_.reset();
    asio::async_write(stream_, bhttp::make_chunk_last(), [self = self()](error_code ec, std::size_t n) {
      self->on_written(ec, n);
    });
    return;
  }
  piece_ = std::move(*piece);
  asio::async_write(stream_, bhttp::make_chunk(asio::buffer(piece_)), [self = self()](error_code ec, std::size_t) {
    std::string().swap(self->piece_);
    if (ec) {
      if (ec == beast::error::timeout) bump(self->owner_->count().timeouts);
      self->source_.reset();
      return self->close_now();
    }
    self->pull_piece();
  });
}

template <class Stream>
void session<Stream>::on_written(error_code ec, std::size_t) {
  if (out_.capacity() > k_idle_buffer_capacity) std::string().swap(out_);  // do not hold a large body while idle
  if (ec) {
    if (ec == beast::error::timeout) bump(owner_->count().timeouts);
    return close_now();
  }
  if (close_after_write_) return close_gracefully();
  first_request_ = false;
  wait_for_request();
}

template <class Stream>
void session<Stream>::close_gracefully() {
  phase_ = phase::closing;
  tcp_layer().expires_after(std::min<std::chrono::milliseconds>(k_linger, opts_.header_timeout));
  if constexpr (k_tls) {
    stream_.async_shutdown([self = self()](error_code) { self->close_now(); });
  } else {
    error_code ec;
    tcp_layer().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close_now();
    buffer_.clear();
    linger();
  }
}

// Reads and discards until the client closes or the linger deadline passes.
template <class Stream>
void session<Stream>::linger() {
  stream_.async_read_some(buffer_.prepare(k_first_read_bytes),
                          [self = self()](error_code ec, std::size_t) {
                            if (ec) return self->close_now();
                            self->linger();
                          });
}

template <class Stream>
void session<Stream>::close_now() {
  if (phase_ == phase::closed) return;
  phase_ = phase::closed;
  handler_timer_.cancel();
  error_code ec;
  tcp_layer().socket().shutdown(tcp::socket::shutdown_both, ec);
  tcp_layer().close();
  parser_.reset();
  owner_->on_session_closed(id_);
}

template <class Stream>
void session<Stream>::on_stop() {
  draining_ = true;
  // Only connections with no request under way close now; the rest see draining_ when
  // they answer and send `Connection: close`.
  if (phase_ == phase::fresh || phase_ == phase::handshake || phase_ == phase::idle) close_now();
}

// ---- listener ---------------------------------------------------------------------------

result<std::string> listener::listen() {
  std::string host = options_.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  error_code ec;
  auto address = host == "localhost" ? asio::ip::address(asio::ip::address_v4::loopback())
                                     : asio::ip::make_address(host, ec);
  if (ec) {
    return make_error(errc::invalid_argument, "http listener '" + options_.name +
                                                  "': bad host '" + options_.host + "'");
  }
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || listening_) {
      return make_error(errc::shutting_down, "http listener '" + options_.name +
                                                 "': already listening or stopped");
    }
    listening_ = true;
  }
  const tcp::endpoint endpoint(address, options_.port);
  const auto fail = [&](std::string_view what) {
    error_code ignored;
    acceptor_.close(ignored);
    std::lock_guard lock(mutex_);
    listening_ = false;
    return make_error(errc::io_error, "http listener '" + options_.name + "': " + std::string(what) +
                                          " " + options_.host + ":" + std::to_string(options_.port) +
                                          ": " + ec.message());
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("reuse_address");
  acceptor_.bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  const auto local = acceptor_.local_endpoint(ec);
  if (ec) return fail("local_endpoint");
  {
    std::lock_guard lock(mutex_);
    acceptor_closed_ = false;
  }
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] { self->do_accept(); });
  const auto addr = local.address();
  return (addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string()) + ":" +
         std::to_string(local.port());
}

void listener::do_accept() {
  acceptor_.async_accept(asio::make_strand(io_),
                         beast::bind_front_handler(&listener::on_accept, shared_from_this()));
}

void listener::on_accept(error_code ec, tcp::socket socket) {
  if (!acceptor_.is_open()) return;  // stop_accepting() closed it
  if (ec == asio::error::connection_aborted) return do_accept();  // that client gave up
  if (ec) {
    // Typically EMFILE/ENFILE: retrying at once would spin a core.
    accept_retry_.expires_after(k_accept_retry);
    accept_retry_.async_wait([self = shared_from_this()](error_code wait_ec) {
      if (!wait_ec && self->acceptor_.is_open()) self->do_accept();
    });
    return;
  }
  try {
    admit(std::move(socket));
  } catch (const std::exception&) {
    // Out of memory or a TLS context that cannot make a session: drop this one
    // connection (the socket closes as it unwinds), keep accepting.
  }
  do_accept();
}

void listener::admit(tcp::socket socket) {
  error_code ec;
  socket.set_option(tcp::no_delay(true), ec);  // responses go out in one write: no Nagle wait
  const auto remote = socket.remote_endpoint(ec);
  std::string remote_address = ec ? std::string() : remote.address().to_string();

  std::lock_guard lock(mutex_);
  if (stopping_) {
    socket.close(ec);
    return;
  }
  if (sessions_.size() >= options_.max_connections) {
    bump(counters_.rejected);
    socket.close(ec);
    return;
  }
  const auto id = next_id_++;
  std::shared_ptr<session_base> s;
  if (options_.tls) {
    s = std::make_shared<session<beast::ssl_stream<beast::tcp_stream>>>(
        shared_from_this(), id, std::move(socket), std::move(remote_address));
  } else {
    s = std::make_shared<session<beast::tcp_stream>>(shared_from_this(), id, std::move(socket),
                                                     std::move(remote_address));
  }
  sessions_.emplace(id, s);
  bump(counters_.accepted);
  bump(counters_.active);
  // Posted under the lock so a concurrent stop() is queued on the strand after start().
  asio::post(s->executor(), [s] { s->start(); });
}

void listener::stop_accepting() {
  std::vector<std::shared_ptr<session_base>> live;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    live.reserve(sessions_.size());
    for (const auto& [id, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (const auto& s : live) s->stop();
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] { self->on_acceptor_closed(); });
}

void listener::on_acceptor_closed() {
  error_code ec;
  acceptor_.close(ec);
  accept_retry_.cancel();
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard lock(mutex_);
    acceptor_closed_ = true;
    ready = take_finished_drain_locked();
  }
  run_on_io(std::move(ready));
}

void listener::drain(std::function<void()> done) {
  stop_accepting();
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard lock(mutex_);
    drain_waiters_.push_back(std::move(done));
    ready = take_finished_drain_locked();
  }
  run_on_io(std::move(ready));
}

void listener::on_session_closed(std::uint64_t id) {
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard lock(mutex_);
    sessions_.erase(id);
    counters_.active.fetch_sub(1, std::memory_order_relaxed);
    ready = take_finished_drain_locked();
  }
  run_on_io(std::move(ready));
}

std::vector<std::function<void()>> listener::take_finished_drain_locked() {
  std::vector<std::function<void()>> ready;
  if (stopping_ && acceptor_closed_ && sessions_.empty()) ready.swap(drain_waiters_);
  return ready;
}

void listener::run_on_io(std::vector<std::function<void()>> callbacks) {
  for (auto& cb : callbacks) {
    if (cb) asio::post(io_, std::move(cb));
  }
}

server_stats listener::stats() const {
  const auto load = [](const std::atomic<std::uint64_t>& c) { return c.load(std::memory_order_relaxed); };
  server_stats s;
  s.connections_accepted = load(counters_.accepted);
  s.connections_rejected = load(counters_.rejected);
  s.connections_active = load(counters_.active);
  s.requests = load(counters_.requests);
  s.responses_2xx = load(counters_.responses_2xx);
  s.responses_4xx = load(counters_.responses_4xx);
  s.responses_5xx = load(counters_.responses_5xx);
  s.timeouts = load(counters_.timeouts);
  for (std::size_t i = 0; i < s.handling_counts.size(); ++i) s.handling_counts[i] = load(counters_.handling[i]);
  s.handling_seconds_sum = static_cast<double>(load(counters_.handling_ns)) / 1e9;
  return s;
}

}  // namespace

// ---- server -------------------------------------------------------------------------------

struct server::impl : listener {
  using listener::listener;
};

server::server(boost::asio::io_context& io, server_options options,
               std::shared_ptr<const router> routes)
    : impl_(std::make_shared<impl>(io, std::move(options), std::move(routes))) {}

// Pending operations keep the listener alive; stopping makes sure it does not keep
// accepting if the io_context happens to run on.
server::~server() { impl_->stop_accepting(); }

result<std::string> server::listen() { return impl_->listen(); }

void server::stop_accepting() { impl_->stop_accepting(); }

void server::drain(std::function<void()> done) { impl_->drain(std::move(done)); }

server_stats server::stats() const { return impl_->stats(); }

}  // namespace parley::engine::http
