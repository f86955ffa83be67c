// Tests of the outbound HTTP client (engine/http/client.hpp) over real sockets on
// 127.0.0.1: the project's own server (plain and TLS) as the peer, plus a listening
// socket that never accepts (a server that never answers) and a small scripted Beast
// server that closes kept-alive connections behind the client's back. No test sleeps to
// synchronize: they wait on futures and condition variables with generous deadlines.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/http/client.hpp"
#include "engine/http/server.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_material.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using namespace parley::engine::http;  // NOLINT(google-build-using-namespace)
using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace)
using parley::errc;
using parley::http_call;
using parley::result;
using tcp = asio::ip::tcp;

/// Upper bound for anything a test waits on; only hit when something is broken.
constexpr auto k_deadline = 20s;

// ---- peers ---------------------------------------------------------------------------------

/// The project's server on 127.0.0.1:0 over two I/O threads; drained when destroyed.
class server_harness {
 public:
  server_harness(server_options options, std::shared_ptr<router> routes) {
    options.host = "127.0.0.1";
    options.port = 0;
    srv_ = std::make_unique<server>(io_, std::move(options), std::move(routes));
    auto bound = srv_->listen();
    if (!bound.ok()) throw std::runtime_error("listen failed: " + bound.err().message);
    port_ = std::stoi(bound->substr(bound->rfind(':') + 1));
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~server_harness() {
    std::promise<void> drained;
    srv_->drain([&drained] { drained.set_value(); });
    drained.get_future().wait_for(k_deadline);
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  server_harness(const server_harness&) = delete;
  server_harness& operator=(const server_harness&) = delete;

  [[nodiscard]] server_stats stats() const { return srv_->stats(); }
  [[nodiscard]] std::string url(std::string_view scheme, std::string_view path) const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::unique_ptr<server> srv_;
  int port_ = 0;
  std::vector<std::thread> threads_;
};

/// Requests a handler holds unanswered, so tests control when (or whether) they complete.
class held_requests {
 public:
  handler hold() {
    return [this](std::shared_ptr<const request>, responder r) {
      std::lock_guard lock(mu_);
      held_.push_back(std::move(r));
      max_held_ = std::max(max_held_, held_.size());
      cv_.notify_all();
    };
  }
  /// Waits until at least `n` are held.
  bool wait_for(std::size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, k_deadline, [&] { return held_.size() >= n; });
  }
  /// Answers every held request with `body`.
  void release_all(const std::string& body) {
    std::vector<responder> out;
    {
      std::lock_guard lock(mu_);
      out.swap(held_);
    }
    for (auto& r : out) r.send(response::json(200, body));
  }
  std::size_t max_held() {
    std::lock_guard lock(mu_);
    return max_held_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<responder> held_;
  std::size_t max_held_ = 0;
};

/// A socket that listens but never accepts: connects succeed (the kernel completes them)
/// and requests are never answered. `close()` turns its port into a refusing one.
class silent_listener {
 public:
  silent_listener() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
  [[nodiscard]] std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/x";
  }
  void close() { acceptor_.close(); }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
};

/// A Beast server that promises keep-alive but does not keep it: in `close_after_answer`
/// mode it closes each connection right after its first answer (a peer whose idle
/// timeout is shorter than the client's); in `drop_second_request` mode it reads a
/// second request on a connection and closes without answering (the race where a server
/// closes an idle connection just as the client reuses it).
class closing_server {
 public:
  enum class mode { close_after_answer, drop_second_request };

  explicit closing_server(mode m) : mode_(m), acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~closing_server() {
    asio::post(io_, [this] { acceptor_.close(); });
    work_.reset();
    thread_.join();
  }
  closing_server(const closing_server&) = delete;
  closing_server& operator=(const closing_server&) = delete;

  [[nodiscard]] std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/c";
  }
  [[nodiscard]] int accepted() const { return accepted_.load(); }

 private:
  struct conn {
    explicit conn(tcp::socket s) : stream(std::move(s)) {}
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> req;
    bhttp::response<bhttp::string_body> res;
    int number = 0;
    int requests = 0;
  };

  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket s) {
      if (ec) return;
      auto c = std::make_shared<conn>(std::move(s));
      c->number = ++accepted_;
      c->stream.expires_after(k_deadline);
      serve(c);
      accept();
    });
  }

  void serve(const std::shared_ptr<conn>& c) {
    c->req = {};
    bhttp::async_read(c->stream, c->buffer, c->req, [this, c](beast::error_code e, std::size_t) {
      if (e) return;
      if (++c->requests == 2 && mode_ == mode::drop_second_request) return close(*c);
      c->res = {};
      c->res.result(bhttp::status::ok);
      c->res.version(11);
      c->res.keep_alive(true);
      c->res.body() = "conn " + std::to_string(c->number);
      c->res.prepare_payload();
      bhttp::async_write(c->stream, c->res, [this, c](beast::error_code, std::size_t) {
        if (mode_ == mode::close_after_answer) return close(*c);
        serve(c);
      });
    });
  }

  static void close(conn& c) {
    beast::error_code ignored;
    c.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    c.stream.socket().close(ignored);
  }

  const mode mode_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  tcp::acceptor acceptor_;
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// ---- helpers -------------------------------------------------------------------------------

/// Routes: POST /echo reports what the server saw; GET /limited answers 429 with
/// Retry-After; GET /big answers `big_size` bytes.
std::shared_ptr<router> routes(held_requests* held = nullptr) {
  auto r = std::make_shared<router>();
  r->add(method::post, "/echo", [](std::shared_ptr<const request> req, responder out) {
    std::string body = "host=" + std::string(req->header("Host").value_or("-")) +
                       ";ua=" + std::string(req->header("User-Agent").value_or("-")) +
                       ";ct=" + std::string(req->header("Content-Type").value_or("-")) +
                       ";x=" + std::string(req->header("X-Test").value_or("-")) +
                       ";len=" + std::string(req->header("Content-Length").value_or("-")) + ";q=" + req->query +
                       ";body=" + req->body;
    out.send(response::json(201, std::move(body)));
  });
  r->add(method::get, "/ping", [](auto, responder out) { out.send(response::json(200, "pong")); });
  r->add(method::get, "/limited", [](auto, responder out) {
    auto res = response::error(429, "rate_limited", "slow down");
    res.headers.emplace_back("Retry-After", "7");
    out.send(std::move(res));
  });
  r->add(method::get, "/big", [](auto, responder out) { out.send(response::json(200, std::string(1000, 'b'))); });
  if (held != nullptr) r->add(method::post, "/hold", held->hold());
  return r;
}

http_call make_call(std::string url, std::string method = "GET", std::string body = {}) {
  http_call c;
  c.method = std::move(method);
  c.url = std::move(url);
  c.body = std::move(body);
  return c;
}

/// A `done` that fulfils a future.
struct completion {
  std::shared_ptr<std::promise<result<client_response>>> promise =
      std::make_shared<std::promise<result<client_response>>>();
  std::future<result<client_response>> future = promise->get_future();

  [[nodiscard]] std::function<void(result<client_response>)> callback() const {
    return [p = promise](result<client_response> r) { p->set_value(std::move(r)); };
  }
  /// The result, or an internal error when it did not come within the deadline.
  result<client_response> get() {
    if (future.wait_for(k_deadline) != std::future_status::ready) {
      ADD_FAILURE() << "call did not complete";
      return parley::make_error(errc::internal, "no completion");
    }
    return future.get();
  }
};

result<client_response> call_sync(client& c, http_call call) {
  completion done;
  c.send(std::move(call), done.callback());
  return done.get();
}

std::string describe(const result<client_response>& r) {
  return r.ok() ? "status " + std::to_string(r->status)
                : std::string(parley::to_string(r.code())) + ": " + r.err().message;
}

// ---- tests ---------------------------------------------------------------------------------

TEST(HttpClient, PostsBodyWithHeadersAndReturnsStatusAndBody) {
  server_harness h({}, routes());
  client c;
  auto call = make_call(h.url("http", "/echo?a=1&b=%20"), "POST", "{\"hello\":\"world\"}");
  call.headers = {{"Content-Type", "application/json"}, {"X-Test", "yes"}};
  const auto r = call_sync(c, std::move(call));
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(r->status, 201U);
  const std::string port = h.url("", "").substr(std::string("://127.0.0.1:").size());
  EXPECT_EQ(r->body, "host=127.0.0.1:" + port +
                         ";ua=parley;ct=application/json;x=yes;len=17;q=a=1&b=%20;body={\"hello\":\"world\"}");
  EXPECT_FALSE(r->retry_after.has_value());
}

TEST(HttpClient, ReturnsRetryAfterAndErrorStatusesAsResponses) {
  server_harness h({}, routes());
  client c;
  const auto r = call_sync(c, make_call(h.url("http", "/limited")));
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(r->status, 429U);
  EXPECT_EQ(r->retry_after, "7");
  EXPECT_NE(r->body.find("rate_limited"), std::string::npos);
  const auto missing = call_sync(c, make_call(h.url("http", "/nowhere")));
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404U);
}

TEST(HttpClient, SequentialCallsReuseOneKeepAliveConnection) {
  server_harness h({}, routes());
  client c;
  for (int i = 0; i < 5; ++i) {
    const auto r = call_sync(c, make_call(h.url("http", "/ping")));
    ASSERT_TRUE(r.ok()) << describe(r);
    EXPECT_EQ(r->body, "pong");
  }
  // Chained: each `done` sends the next call, and finds the connection idle again.
  std::promise<int> chain_done;
  std::function<void(int)> next;
  next = [&](int left) {
    c.send(make_call(h.url("http", "/ping")), [&, left](result<client_response> r) {
      if (!r.ok() || left == 1) return chain_done.set_value(r.ok() ? 0 : -1);
      next(left - 1);
    });
  };
  next(3);
  auto f = chain_done.get_future();
  ASSERT_EQ(f.wait_for(k_deadline), std::future_status::ready);
  EXPECT_EQ(f.get(), 0);
  EXPECT_EQ(h.stats().connections_accepted, 1U);
  EXPECT_EQ(c.stats().connections_opened, 1U);
  EXPECT_EQ(c.stats().connections_reused, 7U);
}

TEST(HttpClient, ConcurrentCallsAreBoundedPerOriginAndQueued) {
  held_requests held;
  server_harness h({}, routes(&held));
  client_options opts;
  opts.max_connections_per_host = 2;
  opts.threads = 2;
  client c(opts);
  std::vector<completion> calls(6);
  for (auto& done : calls) c.send(make_call(h.url("http", "/hold"), "POST", "x"), done.callback());
  // Three rounds: two requests reach the server, are answered, then the next two.
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(held.wait_for(2)) << "round " << round;
    EXPECT_LE(h.stats().connections_accepted, 2U);
    held.release_all("round " + std::to_string(round));
  }
  for (auto& done : calls) {
    const auto r = done.get();
    ASSERT_TRUE(r.ok()) << describe(r);
    EXPECT_EQ(r->status, 200U);
  }
  EXPECT_EQ(held.max_held(), 2U);
  EXPECT_EQ(h.stats().connections_accepted, 2U);
  EXPECT_EQ(c.stats().connections_opened, 2U);
}

TEST(HttpClient, SilentServerTimesOutWithinTheRequestTimeout) {
  silent_listener silent;
  client_options opts;
  opts.request_timeout = 300ms;
  client c(opts);
  const auto start = std::chrono::steady_clock::now();
  const auto r = call_sync(c, make_call(silent.url(), "POST", "hello"));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), errc::io_error);
  EXPECT_NE(r.err().message.find("timeout"), std::string::npos) << r.err().message;
  EXPECT_EQ(r.err().message.find("/x"), std::string::npos);  // never the path
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 10s);
}

TEST(HttpClient, RefusedConnectionIsAnError) {
  silent_listener gone;
  const auto url = gone.url();
  gone.close();
  client c;
  const auto r = call_sync(c, make_call(url));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), errc::io_error);
  EXPECT_NE(r.err().message.find("cannot connect"), std::string::npos) << r.err().message;
  EXPECT_EQ(c.stats().errors, 1U);
}

TEST(HttpClient, BadUrlsMethodsAndHeadersAreInvalidArguments) {
  client c;
  for (const char* url : {"ftp://example.com/x", "not a url", "/relative", "http://", "http://h:99999/"}) {
    const auto r = call_sync(c, make_call(url));
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.code(), errc::invalid_argument) << url;
  }
  auto bad_method = make_call("http://127.0.0.1:1/", "GE T");
  EXPECT_EQ(call_sync(c, std::move(bad_method)).code(), errc::invalid_argument);
  auto injected = make_call("http://127.0.0.1:1/");
  injected.headers = {{"X-A", "v\r\nX-Evil: 1"}};
  EXPECT_EQ(call_sync(c, std::move(injected)).code(), errc::invalid_argument);
}

TEST(HttpClient, ResponseOverTheLimitIsAnError) {
  server_harness h({}, routes());
  client_options opts;
  opts.max_response_bytes = 100;
  client c(opts);
  const auto r = call_sync(c, make_call(h.url("http", "/big")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), errc::io_error);
  EXPECT_NE(r.err().message.find("max_response_bytes"), std::string::npos) << r.err().message;
  // The connection was dropped, not reused with half a body in it.
  const auto ok = call_sync(c, make_call(h.url("http", "/ping")));
  ASSERT_TRUE(ok.ok()) << describe(ok);
  EXPECT_EQ(ok->body, "pong");
}

TEST(HttpClient, ConnectionClosedByServerAfterAnswerIsReplaced) {
  closing_server peer(closing_server::mode::close_after_answer);
  client c;
  for (int i = 1; i <= 3; ++i) {
    const auto r = call_sync(c, make_call(peer.url()));
    ASSERT_TRUE(r.ok()) << describe(r);
    EXPECT_EQ(r->body, "conn " + std::to_string(i));
  }
  EXPECT_EQ(peer.accepted(), 3);
}

TEST(HttpClient, ReusedConnectionClosedBeforeAnyAnswerIsRetriedOnceOnAFreshOne) {
  closing_server peer(closing_server::mode::drop_second_request);
  client c;
  auto r = call_sync(c, make_call(peer.url(), "POST", "one"));
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(r->body, "conn 1");
  r = call_sync(c, make_call(peer.url(), "POST", "two"));  // conn 1 drops it; conn 2 answers
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(r->body, "conn 2");
  EXPECT_EQ(c.stats().retried_on_fresh, 1U);
  EXPECT_EQ(peer.accepted(), 2);
  // The same again: conn 2 drops its second request, the retry on conn 3 is answered.
  r = call_sync(c, make_call(peer.url(), "POST", "three"));
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(r->body, "conn 3");
  EXPECT_EQ(c.stats().retried_on_fresh, 2U);
}

class HttpClientTls : public ::testing::Test {
 protected:
  HttpClientTls() : material_(parley::testing::make_self_signed()) {
    auto tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    tls->use_certificate_chain(asio::buffer(material_.cert_pem));
    tls->use_private_key(asio::buffer(material_.key_pem), asio::ssl::context::pem);
    server_options opts;
    opts.tls = tls;
    server_ = std::make_unique<server_harness>(opts, routes());
    ca_file_ = dir_.sub("ca.pem");
    std::ofstream(ca_file_) << material_.cert_pem;
  }

  parley::testing::tls_material material_;
  parley::testing::temp_dir dir_;
  std::string ca_file_;
  std::unique_ptr<server_harness> server_;
};

TEST_F(HttpClientTls, TrustedCaWorksAndKeepsTheConnection) {
  client_options opts;
  opts.ca_file = ca_file_;
  client c(opts);
  for (int i = 0; i < 3; ++i) {
    auto call = make_call(server_->url("https", "/echo"), "POST", "secret");
    const auto r = call_sync(c, std::move(call));
    ASSERT_TRUE(r.ok()) << describe(r);
    EXPECT_EQ(r->status, 201U);
    EXPECT_NE(r->body.find(";body=secret"), std::string::npos);
  }
  EXPECT_EQ(server_->stats().connections_accepted, 1U);
}

TEST_F(HttpClientTls, UntrustedCertificateFailsVerification) {
  client c;  // system store only: the self-signed certificate is unknown
  const auto r = call_sync(c, make_call(server_->url("https", "/ping")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), errc::unauthorized) << r.err().message;
  EXPECT_NE(r.err().message.find("verification failed"), std::string::npos) << r.err().message;
}

TEST_F(HttpClientTls, HostNameMismatchFailsVerification) {
  client_options opts;
  opts.ca_file = ca_file_;
  client c(opts);
  // "127.1" resolves to 127.0.0.1 but is checked as a name, and the certificate names
  // only localhost and the address 127.0.0.1: a trusted certificate for another host.
  std::string url = server_->url("https", "/ping");
  url.replace(url.find("127.0.0.1"), 9, "127.1");
  const auto r = call_sync(c, make_call(url));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), errc::unauthorized) << r.err().message;
}

TEST_F(HttpClientTls, MissingCaFileFailsEveryHttpsCall) {
  client_options opts;
  opts.ca_file = dir_.sub("missing.pem");
  client c(opts);
  const auto r = call_sync(c, make_call(server_->url("https", "/ping")));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("ca_file"), std::string::npos) << r.err().message;
}

TEST(HttpClient, DestructorCompletesInFlightAndQueuedCallsWithShuttingDown) {
  held_requests held;
  server_harness h({}, routes(&held));
  std::vector<completion> calls(4);
  client_options opts;
  opts.max_connections_per_host = 2;
  auto c = std::make_unique<client>(opts);
  for (auto& done : calls) c->send(make_call(h.url("http", "/hold"), "POST", "x"), done.callback());
  ASSERT_TRUE(held.wait_for(2));  // two in flight at the server, two queued in the client

  // Destroyed on another thread so that a hang fails loudly instead of blocking the run.
  std::promise<void> gone;
  std::thread destroyer([&] {
    c.reset();
    gone.set_value();
  });
  if (gone.get_future().wait_for(k_deadline) != std::future_status::ready) {
    ADD_FAILURE() << "~client did not return";
    std::abort();
  }
  destroyer.join();
  for (auto& done : calls) {
    // Every `done` ran before the destructor returned.
    ASSERT_EQ(done.future.wait_for(0s), std::future_status::ready);
    const auto r = done.get();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), errc::shutting_down) << r.err().message;
  }
  held.release_all("late");  // answers for connections the client already closed
}

TEST(HttpClient, ManySendingThreadsAllComplete) {
  server_harness h({}, routes());
  client_options opts;
  opts.threads = 2;
  opts.max_connections_per_host = 4;
  client c(opts);
  constexpr int k_senders = 4;
  constexpr int k_per_sender = 25;
  std::atomic<int> ok{0};
  std::vector<std::thread> senders;
  std::vector<std::vector<completion>> results;
  for (int s = 0; s < k_senders; ++s) results.emplace_back(k_per_sender);
  for (int s = 0; s < k_senders; ++s) {
    senders.emplace_back([&, s] {
      for (auto& done : results[s]) c.send(make_call(h.url("http", "/ping")), done.callback());
    });
  }
  for (auto& t : senders) t.join();
  for (auto& per : results) {
    for (auto& done : per) {
      const auto r = done.get();
      if (r.ok() && r->status == 200) ++ok;
    }
  }
  EXPECT_EQ(ok.load(), k_senders * k_per_sender);
  EXPECT_LE(h.stats().connections_accepted, 4U);
}

}  // namespace
