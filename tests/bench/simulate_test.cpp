// parley-bench simulate, the real binary as a child process on 127.0.0.1:0: each
// provider's send API (success shapes, ids, auth and validation errors), outcome rules,
// throttles, injected errors, `down`, latency, the control API, and the status webhooks
// it pushes to an in-test receiver (order, HMAC signatures, Basic auth, retries).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace parley::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using headers_t = std::vector<std::pair<std::string, std::string>>;

constexpr int start_timeout_ms = 30'000;
constexpr auto event_timeout = 30s;  // generous: a loaded 2-core machine

// ---- JSON and crypto helpers --------------------------------------------------------------

const json::value& at(const json::value& v, std::string_view pointer) {
  static const json::value null_value;
  boost::system::error_code ec;
  const json::value* found = v.find_pointer(pointer, ec);
  return found != nullptr ? *found : null_value;
}

std::string str(const json::value& v, std::string_view pointer) {
  const auto& f = at(v, pointer);
  return f.is_string() ? std::string(f.get_string()) : std::string();
}

std::int64_t num(const json::value& v, std::string_view pointer) {
  const auto& f = at(v, pointer);
  if (f.is_int64()) return f.get_int64();
  if (f.is_uint64()) return static_cast<std::int64_t>(f.get_uint64());
  if (f.is_double()) return static_cast<std::int64_t>(f.get_double());
  return -1;
}

json::value parse(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return ec ? json::value(nullptr) : v;
}

// Computed here with one-shot HMAC(), independently of the simulator's own code.
std::string hmac_hex(const std::string& key, const std::string& body) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), out, &len);
  static constexpr char hex[] = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < len; ++i) {
    s.push_back(hex[out[i] >> 4]);
    s.push_back(hex[out[i] & 15]);
  }
  return s;
}

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// ---- a small keep-alive HTTP client ---------------------------------------------------------

struct reply {
  int status = 0;
  std::map<std::string, std::string> headers;  ///< lowercase names
  std::string body;
  json::value json;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

/// One connection, reused for every request (so keep-alive is exercised); nullopt when
/// the server closed it without an answer.
class client {
 public:
  explicit client(std::string host_port) : host_port_(std::move(host_port)) {}

  std::optional<reply> request(const std::string& method, const std::string& target, const std::string& body = {},
                               const headers_t& headers = {}) {
    try {
      if (!stream_) {
        stream_.emplace(io_);
        auto colon = host_port_.rfind(':');
        tcp::resolver resolver(io_);
        stream_->expires_after(30s);
        stream_->connect(resolver.resolve(host_port_.substr(0, colon), host_port_.substr(colon + 1)));
      }
      http::request<http::string_body> req{http::string_to_verb(method), target, 11};
      req.set(http::field::host, host_port_);
      req.set(http::field::content_type, "application/json");
      for (const auto& [k, v] : headers) req.set(k, v);
      req.body() = body;
      req.keep_alive(true);
      req.prepare_payload();
      stream_->expires_after(30s);
      http::write(*stream_, req);
      http::response<http::string_body> res;
      http::read(*stream_, buffer_, res);
      reply r;
      r.status = static_cast<int>(res.result_int());
      for (const auto& f : res) {
        std::string name(f.name_string());
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        r.headers[name] = std::string(f.value());
      }
      r.body = res.body();
      r.json = parse(r.body);
      if (!res.keep_alive()) stream_.reset();
      return r;
    } catch (const std::exception&) {
      stream_.reset();
      return std::nullopt;
    }
  }

 private:
  std::string host_port_;
  asio::io_context io_;
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
};

// ---- the status webhook receiver --------------------------------------------------------

struct received {
  std::string target;
  std::map<std::string, std::string> headers;  ///< lowercase names
  std::string body;
  json::value json;
  int answered = 200;
};

/// A Beast server on 127.0.0.1:0 recording every request (keep-alive, one I/O thread).
/// `fail_next(n)` answers the next n requests 503.
class webhook_receiver {
 public:
  webhook_receiver() {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen();
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~webhook_receiver() {
    io_.stop();
    thread_.join();
  }
  webhook_receiver(const webhook_receiver&) = delete;
  webhook_receiver& operator=(const webhook_receiver&) = delete;

  std::string url(const std::string& path, const std::string& userinfo = {}) const {
    return "http://" + (userinfo.empty() ? "" : userinfo + "@") +
           "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  void fail_next(int n) {
    std::lock_guard lock(mutex_);
    fail_left_ = n;
  }
  /// Waits until at least `n` requests arrived (or the deadline); all received so far.
  std::vector<received> wait_for(std::size_t n) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, event_timeout, [&] { return got_.size() >= n; });
    return got_;
  }

 private:
  struct connection : std::enable_shared_from_this<connection> {
    connection(tcp::socket s, webhook_receiver& o) : socket(std::move(s)), owner(o) {}
    void read() {
      req = {};
      http::async_read(socket, buffer, req, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return;
        received r;
        r.target = std::string(self->req.target());
        for (const auto& f : self->req) {
          std::string name(f.name_string());
          std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
          r.headers[name] = std::string(f.value());
        }
        r.body = self->req.body();
        r.json = parse(r.body);
        int status = self->owner.record(std::move(r));
        self->res = {};
        self->res.version(11);
        self->res.result(static_cast<unsigned>(status));
        self->res.body() = "{}";
        self->res.keep_alive(self->req.keep_alive());
        self->res.prepare_payload();
        http::async_write(self->socket, self->res, [self](beast::error_code ec2, std::size_t) {
          if (!ec2 && self->res.keep_alive()) self->read();
        });
      });
    }
    tcp::socket socket;
    webhook_receiver& owner;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::response<http::string_body> res;
  };

  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket s) {
      if (ec) return;
      std::make_shared<connection>(std::move(s), *this)->read();
      accept();
    });
  }

  int record(received r) {
    std::lock_guard lock(mutex_);
    if (fail_left_ > 0) {
      --fail_left_;
      r.answered = 503;
    }
    int status = r.answered;
    got_.push_back(std::move(r));
    cv_.notify_all();
    return status;
  }

  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<received> got_;
  int fail_left_ = 0;
};

// ---- the fixture: one simulator per test ------------------------------------------------------

std::string wa_text(const std::string& to, const std::string& body = "hello") {
  return R"({"messaging_product":"whatsapp","recipient_type":"individual","to":")" + to +
         R"(","type":"text","text":{"body":")" + body + R"("}})";
}
std::string fb_text(const std::string& psid) {
  return R"({"recipient":{"id":")" + psid + R"("},"messaging_type":"RESPONSE","message":{"text":"hi"}})";
}
std::string tg_text(const std::string& chat_json, const std::string& text = "hi") {
  return R"({"chat_id":)" + chat_json + R"(,"text":")" + text + R"("})";
}
std::string pm_email(const std::string& to) {
  return R"({"From":"help@acme.example","To":")" + to +
         R"(","Subject":"Your order","TextBody":"Shipped.","MessageStream":"outbound"})";
}

const headers_t wa_auth = {{"Authorization", "Bearer wa-token"}};
const headers_t pm_auth = {{"X-Postmark-Server-Token", "pm-server-token"}};

class Simulator : public ::testing::Test {
 protected:
  virtual std::vector<std::string> extra_args() { return {}; }

  void SetUp() override {
    std::vector<std::string> args = {"simulate", "--listen", "127.0.0.1:0", "--quiet", "--threads", "2"};
    auto extra = extra_args();
    args.insert(args.end(), extra.begin(), extra.end());
    process_ =
        std::make_unique<child_process>(PARLEY_BENCH_PATH, args, std::vector<std::string>{}, dir_.sub("sim.log"));
    auto line = process_->read_line(start_timeout_ms);
    ASSERT_TRUE(line.has_value()) << "no listening line; log:\n" << read_file(dir_.sub("sim.log"));
    const std::string prefix = "parley-bench simulate listening on 127.0.0.1:";
    ASSERT_EQ(line->rfind(prefix, 0), 0u) << *line;
    addr_ = line->substr(prefix.size() - std::string("127.0.0.1:").size());
    client_.emplace(addr_);
  }

  void TearDown() override {
    if (!process_ || addr_.empty()) return;
    process_->signal(SIGTERM);
    EXPECT_EQ(process_->wait_exit(start_timeout_ms), 0) << read_file(dir_.sub("sim.log"));
  }

  /// One request on the fixture's keep-alive connection; a failed test when no answer.
  reply call(const std::string& method, const std::string& target, const std::string& body = {},
             const headers_t& headers = {}) {
    auto r = client_->request(method, target, body, headers);
    EXPECT_TRUE(r.has_value()) << method << " " << target << ": no answer";
    return r.value_or(reply{});
  }
  void configure(const std::string& body) {
    auto r = call("POST", "/_sim/config", body);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  void add_route(const std::string& provider, const std::string& account, const std::string& url,
                 const std::string& secret, const std::string& access_token = {}) {
    json::object o{{"provider", provider}, {"account", account}, {"url", url}, {"secret", secret}};
    if (!access_token.empty()) o["access_token"] = access_token;
    auto r = call("POST", "/_sim/routes", json::serialize(o));
    ASSERT_EQ(r.status, 201) << r.body;
  }
  json::value stats() { return call("GET", "/_sim/stats").json; }
  /// Polls the stats until `pred` holds or the deadline passes; the last stats.
  template <typename Pred>
  json::value stats_until(Pred pred) {
    auto deadline = std::chrono::steady_clock::now() + event_timeout;
    json::value s = stats();
    while (!pred(s) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);  // poll interval, not synchronisation
      s = stats();
    }
    return s;
  }

  temp_dir dir_;
  webhook_receiver receiver_;
  std::unique_ptr<child_process> process_;
  std::string addr_;              ///< the simulator's HOST:PORT
  std::optional<client> client_;  ///< one keep-alive connection for `call`
};

// ---- providers: success shapes, auth, validation -----------------------------------------

TEST_F(Simulator, WhatsAppSendReturnsContactAndUniqueWamidWithOrWithoutVersion) {
  auto a = call("POST", "/v19.0/1065/messages", wa_text("+15550001111"), wa_auth);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.header("content-type"), "application/json");
  EXPECT_EQ(str(a.json, "/messaging_product"), "whatsapp");
  EXPECT_EQ(str(a.json, "/contacts/0/input"), "+15550001111");
  EXPECT_EQ(str(a.json, "/contacts/0/wa_id"), "15550001111");
  std::string first = str(a.json, "/messages/0/id");
  EXPECT_EQ(first.rfind("wamid.", 0), 0u) << first;

  auto b = call("POST", "/1065/messages", wa_text("15550001111"), wa_auth);
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_NE(str(b.json, "/messages/0/id"), first);

  auto t = call(
      "POST", "/v20.0/1065/messages",
      R"({"messaging_product":"whatsapp","to":"15550001111","type":"template","template":{"name":"order_update","language":{"code":"en_US"}}})",
      wa_auth);
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_EQ(str(t.json, "/messages/0/message_status"), "accepted");
}

TEST_F(Simulator, WhatsAppWithoutTokenIs401GraphError) {
  auto r = call("POST", "/v19.0/1065/messages", wa_text("15550001111"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(str(r.json, "/error/type"), "OAuthException");
  EXPECT_EQ(num(r.json, "/error/code"), 190);
  EXPECT_FALSE(str(r.json, "/error/message").empty());
  EXPECT_FALSE(str(r.json, "/error/fbtrace_id").empty());
}

TEST_F(Simulator, WhatsAppMalformedOrIncompleteBodiesAre400) {
  for (const std::string& body :
       {std::string("{not json"), std::string(R"({"messaging_product":"whatsapp","type":"text","text":{"body":"x"}})"),
        std::string(R"({"messaging_product":"whatsapp","to":"1555","type":"text","text":{}})"),
        std::string(R"({"messaging_product":"whatsapp","to":"1555","type":"image","image":{}})"),
        std::string(R"({"messaging_product":"whatsapp","to":"1555","type":"hologram"})")}) {
    auto r = call("POST", "/v19.0/1065/messages", body, wa_auth);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    EXPECT_EQ(num(r.json, "/error/code"), 100) << r.body;
    EXPECT_FALSE(str(r.json, "/error/error_data/details").empty()) << r.body;
  }
}

TEST_F(Simulator, MessengerSendTakesQueryOrBearerTokenAndReturnsMid) {
  auto a = call("POST", "/v19.0/200300400/messages?access_token=page-token", fb_text("7001"));
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(str(a.json, "/recipient_id"), "7001");
  std::string mid = str(a.json, "/message_id");
  EXPECT_EQ(mid.rfind("m_", 0), 0u) << mid;

  auto b = call("POST", "/v19.0/me/messages", fb_text("7001"), {{"Authorization", "Bearer page-token"}});
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_NE(str(b.json, "/message_id"), mid);

  auto typing = call("POST", "/v19.0/me/messages", R"({"recipient":{"id":"7001"},"sender_action":"typing_on"})",
                     {{"Authorization", "Bearer page-token"}});
  ASSERT_EQ(typing.status, 200) << typing.body;
  EXPECT_EQ(str(typing.json, "/recipient_id"), "7001");
  EXPECT_TRUE(at(typing.json, "/message_id").is_null());

  auto no_token = call("POST", "/v19.0/200300400/messages", fb_text("7001"));
  EXPECT_EQ(no_token.status, 401);
  EXPECT_EQ(num(no_token.json, "/error/code"), 190);

  auto no_type = call("POST", "/v19.0/200300400/messages?access_token=t",
                      R"({"recipient":{"id":"7001"},"message":{"text":"hi"}})");
  EXPECT_EQ(no_type.status, 400);
  EXPECT_EQ(num(no_type.json, "/error/code"), 100);
  auto empty = call("POST", "/v19.0/200300400/messages?access_token=t",
                    R"({"recipient":{"id":"7001"},"messaging_type":"RESPONSE","message":{}})");
  EXPECT_EQ(empty.status, 400);
}

TEST_F(Simulator, TelegramMessageIdsIncreasePerChat) {
  const std::string path = "/bot123456:ABC-def/sendMessage";
  auto a = call("POST", path, tg_text("42", "one"));
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(at(a.json, "/ok"), json::value(true));
  EXPECT_EQ(num(a.json, "/result/message_id"), 1);
  EXPECT_EQ(num(a.json, "/result/chat/id"), 42);
  EXPECT_EQ(str(a.json, "/result/text"), "one");
  EXPECT_GT(num(a.json, "/result/date"), 1'600'000'000);
  EXPECT_EQ(num(call("POST", path, tg_text("42")).json, "/result/message_id"), 2);
  EXPECT_EQ(num(call("POST", path, tg_text("\"43\"")).json, "/result/message_id"), 1);
  EXPECT_EQ(num(call("POST", path, tg_text("42")).json, "/result/message_id"), 3);
  // Another bot has its own counters.
  EXPECT_EQ(num(call("POST", "/bot999:zzz/sendMessage", tg_text("42")).json, "/result/message_id"), 1);

  auto photo = call("POST", "/bot123456:ABC-def/sendPhoto",
                    R"({"chat_id":42,"photo":"https://x.example/a.jpg","caption":"look"})");
  ASSERT_EQ(photo.status, 200) << photo.body;
  EXPECT_EQ(num(photo.json, "/result/message_id"), 4);
  EXPECT_EQ(str(photo.json, "/result/caption"), "look");
  EXPECT_FALSE(str(photo.json, "/result/photo/0/file_id").empty());

  auto bad_token = call("POST", "/botnot-a-token/sendMessage", tg_text("42"));
  EXPECT_EQ(bad_token.status, 401);
  EXPECT_EQ(at(bad_token.json, "/ok"), json::value(false));
  EXPECT_EQ(num(bad_token.json, "/error_code"), 401);
  auto no_text = call("POST", path, R"({"chat_id":42})");
  EXPECT_EQ(no_text.status, 400);
  EXPECT_EQ(num(no_text.json, "/error_code"), 400);
  EXPECT_FALSE(str(no_text.json, "/description").empty());
  EXPECT_EQ(call("POST", path, "{oops").status, 400);
}

TEST_F(Simulator, PostmarkSendReturnsUuidAndOwnErrors) {
  auto a = call("POST", "/email", pm_email("jane@customer.example"), pm_auth);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(str(a.json, "/To"), "jane@customer.example");
  EXPECT_EQ(num(a.json, "/ErrorCode"), 0);
  EXPECT_EQ(str(a.json, "/Message"), "OK");
  EXPECT_FALSE(str(a.json, "/SubmittedAt").empty());
  std::string id = str(a.json, "/MessageID");
  EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"))) << id;
  EXPECT_NE(str(call("POST", "/email", pm_email("jane@customer.example"), pm_auth).json, "/MessageID"), id);

  auto no_token = call("POST", "/email", pm_email("jane@customer.example"));
  EXPECT_EQ(no_token.status, 401);
  EXPECT_EQ(num(no_token.json, "/ErrorCode"), 10);
  auto no_to = call("POST", "/email", R"({"From":"help@acme.example","TextBody":"x"})", pm_auth);
  EXPECT_EQ(no_to.status, 422);
  EXPECT_EQ(num(no_to.json, "/ErrorCode"), 300);
  auto no_from = call("POST", "/email", R"({"To":"jane@customer.example","TextBody":"x"})", pm_auth);
  EXPECT_EQ(no_from.status, 422);
  EXPECT_EQ(num(no_from.json, "/ErrorCode"), 300);
  auto malformed = call("POST", "/email", "{\"From\":", pm_auth);
  EXPECT_EQ(malformed.status, 422);
  EXPECT_EQ(num(malformed.json, "/ErrorCode"), 402);
}

TEST_F(Simulator, UnknownPathIs404) { EXPECT_EQ(call("GET", "/nothing/here").status, 404); }

// ---- rules, throttles, errors, down, latency ------------------------------------------------

TEST_F(Simulator, RulesAnswerPerRecipientWithProviderErrorsAndRetryHints) {
  configure(R"({"rules":[
    {"recipient":"15550002222","http_status":400,"code":131047},
    {"recipient":"15550004444","http_status":400,"code":131026,"message":"Message undeliverable"},
    {"recipient":"15550003333","http_status":429,"code":130429,"retry_after":2,"times":1},
    {"recipient":"bounce@customer.example","provider":"postmark","http_status":422,"code":406},
    {"recipient":"77","provider":"telegram","http_status":429,"retry_after":5}]})");

  auto window = call("POST", "/v19.0/1065/messages", wa_text("15550002222"), wa_auth);
  EXPECT_EQ(window.status, 400);
  EXPECT_EQ(num(window.json, "/error/code"), 131047);
  EXPECT_NE(str(window.json, "/error/message").find("Re-engagement"), std::string::npos) << window.body;
  auto undeliverable = call("POST", "/v19.0/1065/messages", wa_text("+1 555 000 4444"), wa_auth);
  EXPECT_EQ(num(undeliverable.json, "/error/code"), 131026) << undeliverable.body;
  EXPECT_EQ(call("POST", "/v19.0/1065/messages", wa_text("15550009999"), wa_auth).status, 200);

  // A throttle rule for one attempt: 429 with a retry hint, then the next send goes through.
  auto throttled = call("POST", "/v19.0/1065/messages", wa_text("15550003333"), wa_auth);
  EXPECT_EQ(throttled.status, 429);
  EXPECT_EQ(num(throttled.json, "/error/code"), 130429);
  EXPECT_EQ(throttled.header("retry-after"), "2");
  EXPECT_EQ(call("POST", "/v19.0/1065/messages", wa_text("15550003333"), wa_auth).status, 200);

  auto inactive = call("POST", "/email", pm_email("bounce@customer.example"), pm_auth);
  EXPECT_EQ(inactive.status, 422);
  EXPECT_EQ(num(inactive.json, "/ErrorCode"), 406);
  EXPECT_EQ(call("POST", "/email", pm_email("ok@customer.example"), pm_auth).status, 200);

  auto slow = call("POST", "/bot1:a/sendMessage", tg_text("77"));
  EXPECT_EQ(slow.status, 429);
  EXPECT_EQ(at(slow.json, "/ok"), json::value(false));
  EXPECT_EQ(num(slow.json, "/error_code"), 429);
  EXPECT_EQ(num(slow.json, "/parameters/retry_after"), 5);
  EXPECT_EQ(slow.header("retry-after"), "5");

  EXPECT_EQ(at(call("GET", "/_sim/config").json, "/rules").as_array().size(), 4u);  // the one-shot rule is used up
}

TEST_F(Simulator, MaxRateThrottlesEachSenderAccountOnItsOwn) {
  configure(R"({"max_rate":3})");
  int ok = 0, throttled = 0;
  for (int i = 0; i < 12; ++i) {
    auto r = call("POST", "/v19.0/1065/messages", wa_text("1555000" + std::to_string(i)), wa_auth);
    if (r.status == 200) ++ok;
    if (r.status == 429) {
      ++throttled;
      EXPECT_EQ(num(r.json, "/error/code"), 130429);
      EXPECT_EQ(r.header("retry-after"), "1");
    }
  }
  EXPECT_GE(ok, 3);  // a second's worth of burst
  EXPECT_GE(throttled, 1);
  EXPECT_EQ(ok + throttled, 12);
  // Another phone number id has its own budget.
  EXPECT_EQ(call("POST", "/v19.0/2065/messages", wa_text("15550001111"), wa_auth).status, 200);
  reply tg;
  for (int i = 0; i < 12 && tg.status != 429; ++i) tg = call("POST", "/bot1:a/sendMessage", tg_text("42"));
  ASSERT_EQ(tg.status, 429) << tg.body;
  EXPECT_EQ(num(tg.json, "/parameters/retry_after"), 1);
  EXPECT_EQ(tg.header("retry-after"), "1");
}

TEST_F(Simulator, ThrottleRateAnswersEachProvidersThrottle) {
  configure(R"({"throttle_rate":1})");
  auto wa = call("POST", "/v19.0/1065/messages", wa_text("15550001111"), wa_auth);
  EXPECT_EQ(wa.status, 429);
  EXPECT_EQ(num(wa.json, "/error/code"), 130429);
  EXPECT_NE(str(wa.json, "/error/message").find("Rate limit hit"), std::string::npos);
  auto fb = call("POST", "/v19.0/200300400/messages?access_token=t", fb_text("7001"));
  EXPECT_EQ(fb.status, 429);
  EXPECT_EQ(num(fb.json, "/error/code"), 613);
  auto tg = call("POST", "/bot1:a/sendMessage", tg_text("42"));
  EXPECT_EQ(tg.status, 429);
  EXPECT_EQ(num(tg.json, "/parameters/retry_after"), 1);
  EXPECT_EQ(tg.header("retry-after"), "1");
  auto pm = call("POST", "/email", pm_email("jane@customer.example"), pm_auth);
  EXPECT_EQ(pm.status, 429);
  auto s = stats();
  EXPECT_EQ(num(s, "/throttled"), 4);
  EXPECT_EQ(num(s, "/providers/whatsapp/throttled"), 1);
  EXPECT_EQ(num(s, "/accepted"), 0);
}

TEST_F(Simulator, ErrorRateAnswersTransient5xx) {
  configure(R"({"error_rate":1})");
  for (int i = 0; i < 4; ++i) {
    auto wa = call("POST", "/v19.0/1065/messages", wa_text("15550001111"), wa_auth);
    EXPECT_TRUE(wa.status == 500 || wa.status == 503) << wa.status;
    EXPECT_GT(num(wa.json, "/error/code"), 0) << wa.body;
    auto tg = call("POST", "/bot1:a/sendMessage", tg_text("42"));
    EXPECT_TRUE(tg.status == 500 || tg.status == 503) << tg.status;
    EXPECT_EQ(at(tg.json, "/ok"), json::value(false));
  }
  EXPECT_EQ(num(stats(), "/errors_injected"), 8);
}

TEST_F(Simulator, DownClosesProviderConnectionsWithoutAnswerButKeepsControl) {
  client kept(addr_);
  ASSERT_EQ(kept.request("POST", "/v19.0/1065/messages", wa_text("15550001111"), wa_auth)->status, 200);
  configure(R"({"down":true})");
  // A new connection and a kept-alive one alike: closed, no answer.
  client fresh(addr_);
  EXPECT_FALSE(fresh.request("POST", "/v19.0/1065/messages", wa_text("15550001111"), wa_auth).has_value());
  EXPECT_FALSE(kept.request("POST", "/bot1:a/sendMessage", tg_text("42")).has_value());
  // The control API still answers, on a new connection too.
  client control(addr_);
  auto s = control.request("GET", "/_sim/stats");
  ASSERT_TRUE(s.has_value());
  EXPECT_GE(num(s->json, "/down_closed"), 2);
  EXPECT_EQ(num(s->json, "/requests"), 1);

  ASSERT_TRUE(control.request("POST", "/_sim/config", R"({"down":false})").has_value());
  client back(addr_);
  auto r = back.request("POST", "/v19.0/1065/messages", wa_text("15550001111"), wa_auth);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
}

TEST_F(Simulator, LatencyIsAddedToProviderAnswers) {
  configure(R"({"latency_ms":150})");
  auto start = std::chrono::steady_clock::now();
  auto r = call("POST", "/v19.0/1065/messages", wa_text("15550001111"), wa_auth);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 200);
  EXPECT_GE(elapsed, 150ms);
}

TEST_F(Simulator, KeepAliveConnectionServesManyRequests) {
  client c(addr_);
  for (int i = 0; i < 20; ++i) {
    auto r = c.request("POST", "/email", pm_email("jane@customer.example"), pm_auth);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    EXPECT_NE(r->header("connection"), "close");
  }
}

// ---- control API ------------------------------------------------------------------------------

TEST_F(Simulator, SendsRecordsEveryRequestWithItsAnswer) {
  std::string wa_body = wa_text("15550001111", "first");
  auto ok = call("POST", "/v19.0/1065/messages", wa_body, wa_auth);
  call("POST", "/v19.0/1065/messages", wa_text("15550001111"));  // 401
  auto tg = call("POST", "/bot1:a/sendMessage", tg_text("42"));
  auto pm = call("POST", "/email", pm_email("jane@customer.example"), pm_auth);

  auto sends = call("GET", "/_sim/sends").json;
  ASSERT_TRUE(sends.is_array()) << sends;
  ASSERT_EQ(sends.as_array().size(), 4u);
  EXPECT_EQ(str(sends, "/0/provider"), "whatsapp");
  EXPECT_EQ(str(sends, "/0/account"), "1065");
  EXPECT_EQ(str(sends, "/0/recipient"), "15550001111");
  EXPECT_EQ(str(sends, "/0/type"), "text");
  EXPECT_EQ(str(sends, "/0/body"), wa_body);
  EXPECT_EQ(str(sends, "/0/provider_message_id"), str(ok.json, "/messages/0/id"));
  EXPECT_EQ(num(sends, "/0/status"), 200);
  EXPECT_GT(num(sends, "/0/received_at_us"), 0);
  EXPECT_EQ(num(sends, "/1/status"), 401);
  EXPECT_EQ(str(sends, "/2/provider"), "telegram");
  EXPECT_EQ(str(sends, "/2/account"), "1:a");
  EXPECT_EQ(str(sends, "/2/provider_message_id"), "1");
  EXPECT_EQ(str(sends, "/3/provider"), "postmark");
  EXPECT_EQ(str(sends, "/3/provider_message_id"), str(pm.json, "/MessageID"));
  EXPECT_LE(num(sends, "/0/received_at_us"), num(sends, "/3/received_at_us"));

  auto later = call("GET", "/_sim/sends?since=3").json;
  ASSERT_EQ(later.as_array().size(), 1u);
  EXPECT_EQ(num(later, "/0/index"), 3);
}

TEST_F(Simulator, StatsCountPerProvider) {
  call("POST", "/v19.0/1065/messages", wa_text("15550001111"), wa_auth);
  call("POST", "/v19.0/1065/messages", wa_text("15550001111"));
  call("POST", "/bot1:a/sendMessage", tg_text("42"));
  auto s = stats();
  EXPECT_EQ(num(s, "/requests"), 3);
  EXPECT_EQ(num(s, "/accepted"), 2);
  EXPECT_EQ(num(s, "/refused"), 1);
  EXPECT_EQ(num(s, "/providers/whatsapp/requests"), 2);
  EXPECT_EQ(num(s, "/providers/whatsapp/refused"), 1);
  EXPECT_EQ(num(s, "/providers/telegram/accepted"), 1);
  EXPECT_EQ(num(s, "/providers/whatsapp/status_webhooks_unrouted"), 1);  // no route: no statuses
  EXPECT_EQ(num(s, "/status_webhooks_sent"), 0);
}

TEST_F(Simulator, ResetClearsSendsCountersRulesAndConfig) {
  configure(R"({"latency_ms":5,"rules":[{"recipient":"15550002222","code":131047}]})");
  auto before = call("POST", "/v19.0/1065/messages", wa_text("15550001111"), wa_auth);
  EXPECT_EQ(call("POST", "/v19.0/1065/messages", wa_text("15550002222"), wa_auth).status, 400);
  ASSERT_EQ(call("POST", "/_sim/reset").status, 200);
  EXPECT_TRUE(call("GET", "/_sim/sends").json.as_array().empty());
  EXPECT_EQ(num(stats(), "/requests"), 0);
  auto config = call("GET", "/_sim/config").json;
  EXPECT_EQ(num(config, "/latency_ms"), 0);
  EXPECT_TRUE(at(config, "/rules").as_array().empty());
  EXPECT_EQ(call("POST", "/v19.0/1065/messages", wa_text("15550002222"), wa_auth).status, 200);
  auto after = call("POST", "/v19.0/1065/messages", wa_text("15550001111"), wa_auth);
  EXPECT_NE(str(after.json, "/messages/0/id"), str(before.json, "/messages/0/id"));  // ids stay unique
}

TEST_F(Simulator, ControlApiRejectsBadInput) {
  EXPECT_EQ(call("POST", "/_sim/config", R"({"error_rate":2})").status, 400);
  EXPECT_EQ(call("POST", "/_sim/config", R"({"bogus":1})").status, 400);
  EXPECT_EQ(call("POST", "/_sim/config", R"({"rules":[{"code":1}]})").status, 400);
  auto bad = call("POST", "/_sim/config", "{nope");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(str(bad.json, "/error/code"), "invalid_json");
  EXPECT_EQ(call("POST", "/_sim/routes", R"({"provider":"telegram","account":"1","url":"http://127.0.0.1:1/"})").status,
            400);
  EXPECT_EQ(call("POST", "/_sim/routes", R"({"provider":"whatsapp","account":"1","url":"ftp://x"})").status, 400);
  EXPECT_EQ(call("GET", "/_sim/nothing").status, 404);
  add_route("whatsapp", "1065", "http://127.0.0.1:9/wa", "top-secret");
  auto routes = call("GET", "/_sim/routes");
  EXPECT_EQ(str(routes.json, "/routes/0/account"), "1065");
  EXPECT_EQ(str(routes.json, "/routes/0/secret"), "set");
  EXPECT_EQ(routes.body.find("top-secret"), std::string::npos);
  EXPECT_EQ(call("DELETE", "/_sim/stats").status, 405);
  // A rejected config changes nothing.
  EXPECT_EQ(num(call("GET", "/_sim/config").json, "/error_rate"), 0);
}

// ---- status webhooks ---------------------------------------------------------------------------

TEST_F(Simulator, WhatsAppStatusesArriveSentDeliveredReadAndSigned) {
  add_route("whatsapp", "1065", receiver_.url("/webhooks/whatsapp/ch_x"), "s3cret");
  std::vector<std::string> wamids;
  for (int i = 0; i < 3; ++i) {
    auto r = call("POST", "/v19.0/1065/messages", wa_text("1555000111" + std::to_string(i)), wa_auth);
    ASSERT_EQ(r.status, 200) << r.body;
    wamids.push_back(str(r.json, "/messages/0/id"));
  }
  auto got = receiver_.wait_for(9);
  ASSERT_EQ(got.size(), 9u);
  std::map<std::string, std::vector<std::string>> order;
  for (const auto& w : got) {
    EXPECT_EQ(w.target, "/webhooks/whatsapp/ch_x");
    EXPECT_EQ(w.headers.at("x-hub-signature-256"), "sha256=" + hmac_hex("s3cret", w.body));
    EXPECT_EQ(str(w.json, "/object"), "whatsapp_business_account");
    EXPECT_EQ(str(w.json, "/entry/0/changes/0/field"), "messages");
    EXPECT_EQ(str(w.json, "/entry/0/changes/0/value/metadata/phone_number_id"), "1065");
    const auto& st = at(w.json, "/entry/0/changes/0/value/statuses/0");
    EXPECT_EQ(str(st, "/recipient_id").rfind("1555000111", 0), 0u);
    EXPECT_TRUE(std::regex_match(str(st, "/timestamp"), std::regex("[0-9]{10}"))) << str(st, "/timestamp");
    order[str(st, "/id")].push_back(str(st, "/status"));
  }
  for (const auto& id : wamids) {
    EXPECT_EQ(order[id], (std::vector<std::string>{"sent", "delivered", "read"})) << id;
  }
  auto s = stats_until([](const json::value& v) { return num(v, "/status_webhooks_sent") >= 9; });
  EXPECT_EQ(num(s, "/status_webhooks_sent"), 9);
  EXPECT_EQ(num(s, "/providers/whatsapp/status_webhooks_sent"), 9);
  EXPECT_EQ(num(s, "/status_webhooks_failed"), 0);
}

TEST_F(Simulator, MessengerAndInstagramStatusesAreDeliveryThenReadAndSigned) {
  add_route("messenger", "200300400", receiver_.url("/webhooks/messenger/ch_m"), "fb-secret", "page-token");
  add_route("instagram", "17841400000000999", receiver_.url("/webhooks/instagram/ch_i"), "ig-secret");
  auto fb = call("POST", "/v19.0/me/messages", fb_text("7001"), {{"Authorization", "Bearer page-token"}});
  ASSERT_EQ(fb.status, 200) << fb.body;
  auto got = receiver_.wait_for(2);
  auto ig = call("POST", "/v19.0/17841400000000999/messages?access_token=t", fb_text("8001"));
  ASSERT_EQ(ig.status, 200) << ig.body;
  got = receiver_.wait_for(4);
  ASSERT_EQ(got.size(), 4u);
  std::int64_t sent_ms = num(call("GET", "/_sim/sends").json, "/0/received_at_us") / 1000;

  const auto& d = got[0];
  EXPECT_EQ(d.target, "/webhooks/messenger/ch_m");
  EXPECT_EQ(d.headers.at("x-hub-signature-256"), "sha256=" + hmac_hex("fb-secret", d.body));
  EXPECT_EQ(str(d.json, "/object"), "page");
  EXPECT_EQ(str(d.json, "/entry/0/id"), "200300400");
  EXPECT_EQ(str(d.json, "/entry/0/messaging/0/sender/id"), "7001");
  EXPECT_EQ(str(d.json, "/entry/0/messaging/0/delivery/mids/0"), str(fb.json, "/message_id"));
  EXPECT_GE(num(d.json, "/entry/0/messaging/0/delivery/watermark"), sent_ms);
  EXPECT_GE(num(got[1].json, "/entry/0/messaging/0/read/watermark"), sent_ms);
  EXPECT_EQ(got[1].headers.at("x-hub-signature-256"), "sha256=" + hmac_hex("fb-secret", got[1].body));

  EXPECT_EQ(got[2].target, "/webhooks/instagram/ch_i");
  EXPECT_EQ(str(got[2].json, "/object"), "instagram");
  EXPECT_EQ(got[2].headers.at("x-hub-signature-256"), "sha256=" + hmac_hex("ig-secret", got[2].body));
  EXPECT_EQ(str(got[2].json, "/entry/0/messaging/0/delivery/mids/0"), str(ig.json, "/message_id"));
  EXPECT_FALSE(at(got[3].json, "/entry/0/messaging/0/read").is_null());

  auto sends = call("GET", "/_sim/sends").json;
  EXPECT_EQ(str(sends, "/0/account"), "200300400");  // `me` resolved through the route's token
  EXPECT_EQ(str(sends, "/1/provider"), "instagram");
}

TEST_F(Simulator, RuleWithSuccessStatusFailsTheMessageLater) {
  add_route("whatsapp", "1065", receiver_.url("/wa"), "s3cret");
  configure(R"({"rules":[{"recipient":"15550005555","http_status":200,"code":131026}]})");
  auto r = call("POST", "/v19.0/1065/messages", wa_text("15550005555"), wa_auth);
  ASSERT_EQ(r.status, 200) << r.body;
  auto got = receiver_.wait_for(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(str(got[0].json, "/entry/0/changes/0/value/statuses/0/status"), "sent");
  const auto& failed = at(got[1].json, "/entry/0/changes/0/value/statuses/0");
  EXPECT_EQ(str(failed, "/status"), "failed");
  EXPECT_EQ(str(failed, "/id"), str(r.json, "/messages/0/id"));
  EXPECT_EQ(num(failed, "/errors/0/code"), 131026);
}

TEST_F(Simulator, FailingReceiverIsRetriedAndOrderIsKept) {
  add_route("whatsapp", "1065", receiver_.url("/wa"), "s3cret");
  receiver_.fail_next(2);
  ASSERT_EQ(call("POST", "/v19.0/1065/messages", wa_text("15550001111"), wa_auth).status, 200);
  auto got = receiver_.wait_for(5);
  ASSERT_EQ(got.size(), 5u);
  std::vector<std::string> delivered;
  for (const auto& w : got) {
    if (w.answered == 200) delivered.push_back(str(w.json, "/entry/0/changes/0/value/statuses/0/status"));
  }
  EXPECT_EQ(delivered, (std::vector<std::string>{"sent", "delivered", "read"}));
  EXPECT_EQ(str(got[0].json, "/entry/0/changes/0/value/statuses/0/status"), "sent");
  auto s = stats_until([](const json::value& v) { return num(v, "/status_webhooks_sent") >= 3; });
  EXPECT_EQ(num(s, "/status_webhooks_retried"), 2);
  EXPECT_EQ(num(s, "/status_webhooks_failed"), 0);
}

TEST_F(Simulator, ManySendsOverSeveralConnectionsAllGetTheirStatuses) {
  add_route("whatsapp", "1065", receiver_.url("/wa"), "s3cret");
  constexpr int per_thread = 150, threads = 4;
  std::vector<std::thread> workers;
  std::atomic<int> ok{0};
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      client c(addr_);
      for (int i = 0; i < per_thread; ++i) {
        auto r =
            c.request("POST", "/v19.0/1065/messages", wa_text(std::to_string(15550000000 + t * 1000 + i)), wa_auth);
        if (r && r->status == 200) ++ok;
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(ok.load(), per_thread * threads);
  auto got = receiver_.wait_for(3 * per_thread * threads);
  EXPECT_EQ(got.size(), static_cast<std::size_t>(3 * per_thread * threads));
  std::map<std::string, std::vector<std::string>> order;
  for (const auto& w : got) {
    const auto& st = at(w.json, "/entry/0/changes/0/value/statuses/0");
    order[str(st, "/id")].push_back(str(st, "/status"));
  }
  EXPECT_EQ(order.size(), static_cast<std::size_t>(per_thread * threads));
  for (const auto& [id, statuses] : order) {
    EXPECT_EQ(statuses, (std::vector<std::string>{"sent", "delivered", "read"})) << id;
  }
}

// With a default route from the flags, every account's statuses go to one receiver.
class SimulatorDefaultRoute : public Simulator {
 protected:
  std::vector<std::string> extra_args() override {
    return {"--status-webhooks", receiver_.url("/webhooks/postmark/ch_1/events", "pm-user:pm-pass"),
            "--status-secret",   "meta-secret",
            "--latency",         "40ms",
            "--status-delay",    "1ms"};
  }
};

TEST_F(SimulatorDefaultRoute, PostmarkDeliveryCarriesBasicAuthFromTheUrl) {
  auto r = call("POST", "/email", pm_email("jane@customer.example"), pm_auth);
  ASSERT_EQ(r.status, 200) << r.body;
  auto got = receiver_.wait_for(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].target, "/webhooks/postmark/ch_1/events");
  EXPECT_EQ(got[0].headers.at("authorization"), "Basic " + base64("pm-user:pm-pass"));
  EXPECT_EQ(str(got[0].json, "/RecordType"), "Delivery");
  EXPECT_EQ(str(got[0].json, "/MessageID"), str(r.json, "/MessageID"));
  EXPECT_EQ(str(got[0].json, "/Recipient"), "jane@customer.example");
  EXPECT_FALSE(str(got[0].json, "/DeliveredAt").empty());
}

TEST_F(SimulatorDefaultRoute, FlagsSetTheDefaultsResetReturnsTo) {
  auto config = call("GET", "/_sim/config").json;
  EXPECT_EQ(num(config, "/latency_ms"), 40);
  EXPECT_EQ(num(config, "/status_delay_ms"), 1);
  auto start = std::chrono::steady_clock::now();
  auto r = call("POST", "/v19.0/555/messages", wa_text("15550001111"), wa_auth);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 40ms);
  ASSERT_EQ(r.status, 200);
  auto got = receiver_.wait_for(3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].headers.at("x-hub-signature-256"), "sha256=" + hmac_hex("meta-secret", got[0].body));
  EXPECT_EQ(str(got[0].json, "/entry/0/changes/0/value/metadata/phone_number_id"), "555");
  configure(R"({"latency_ms":0})");
  ASSERT_EQ(call("POST", "/_sim/reset").status, 200);
  EXPECT_EQ(num(call("GET", "/_sim/config").json, "/latency_ms"), 40);
}

// A receiver that is gone: each status is tried, retried once, then counted as failed.
class SimulatorUnreachable : public Simulator {
 protected:
  std::vector<std::string> extra_args() override { return {"--status-retries", "1"}; }
};

TEST_F(SimulatorUnreachable, UndeliverableStatusesAreGivenUpAndCounted) {
  std::uint16_t closed_port = 0;
  {
    asio::io_context io;
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = a.local_endpoint().port();
  }  // closed again: connections to it are refused
  add_route("whatsapp", "1065", "http://127.0.0.1:" + std::to_string(closed_port) + "/wa", "s3cret");
  ASSERT_EQ(call("POST", "/v19.0/1065/messages", wa_text("15550001111"), wa_auth).status, 200);
  auto s = stats_until([](const json::value& v) { return num(v, "/status_webhooks_failed") >= 3; });
  EXPECT_EQ(num(s, "/status_webhooks_failed"), 3);
  EXPECT_EQ(num(s, "/status_webhooks_retried"), 3);
  EXPECT_EQ(num(s, "/status_webhooks_sent"), 0);
}

// ---- the process --------------------------------------------------------------------------

TEST(SimulatorProcess, HelpExitsZeroAndBadFlagsExitTwo) {
  temp_dir dir;
  auto run = [&](const std::vector<std::string>& args) {
    child_process p(PARLEY_BENCH_PATH, args, {}, dir.sub("err.log"));
    while (p.read_line(start_timeout_ms)) {
    }
    return p.wait_exit(start_timeout_ms);
  };
  EXPECT_EQ(run({"simulate", "--help"}), 0);
  EXPECT_EQ(run({"simulate", "--bogus"}), 2);
  EXPECT_EQ(run({"simulate", "--error-rate", "2"}), 2);
  EXPECT_EQ(run({"simulate", "--latency", "5 parsecs"}), 2);
  EXPECT_EQ(run({"simulate", "--listen", "no-port"}), 2);
  EXPECT_EQ(run({"simulate", "--status-webhooks", "https://x/"}), 2);
}

TEST(SimulatorProcess, SigintStopsItCleanly) {
  temp_dir dir;
  child_process p(PARLEY_BENCH_PATH, {"simulate", "--listen", "127.0.0.1:0"}, {}, dir.sub("err.log"));
  auto line = p.read_line(start_timeout_ms);
  ASSERT_TRUE(line.has_value()) << read_file(dir.sub("err.log"));
  p.signal(SIGINT);
  EXPECT_EQ(p.wait_exit(start_timeout_ms), 0) << read_file(dir.sub("err.log"));
}

}  // namespace
}  // namespace parley::testing
