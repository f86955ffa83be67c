#include "support/parley_fixture.hpp"

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace parley::testing {

namespace json = boost::json;

json_reply to_json_reply(const std::optional<http_reply>& r) {
  json_reply out;
  if (!r) return out;
  out.status = r->status;
  out.headers = r->headers;
  out.body = r->body;
  out.json = parse_json(r->body);
  return out;
}

namespace {

std::string with_query(const std::string& path, const std::string& query) {
  return path + (path.find('?') == std::string::npos ? "?" : "&") + query;
}

}  // namespace

// ---- process ------------------------------------------------------------------------------

void parley_fixture::SetUp() { start(); }

void parley_fixture::TearDown() {
  if (process_) stop();
}

void parley_fixture::start() {
  ASSERT_EQ(process_, nullptr) << "parleyd already running";
  auto opts = options();
  std::vector<std::string> args = {"--data-dir", data_dir(), "--public-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"};
  args.insert(args.end(), opts.extra_args.begin(), opts.extra_args.end());
  std::vector<std::string> env = {std::string("PARLEY_ADMIN_TOKEN=") + fixture_admin_token};
  env.insert(env.end(), opts.extra_env.begin(), opts.extra_env.end());
  // Each start writes its own log, so a restart keeps the earlier one for diagnosis.
  ++starts_;
  process_ = std::make_unique<child_process>(PARLEYD_PATH, args, env, log_path());
  auto line = process_->read_line(fixture_start_timeout_ms);
  ASSERT_TRUE(line.has_value()) << "no ready line; log:\n" << log();
  auto ready = parse_ready_line(*line);
  ASSERT_TRUE(ready.has_value()) << "bad ready line: " << *line;
  ready_ = *ready;
}

void parley_fixture::stop() {
  ASSERT_NE(process_, nullptr);
  process_->signal(SIGTERM);
  auto code = process_->wait_exit(fixture_start_timeout_ms);
  process_.reset();
  EXPECT_EQ(code, 0) << "parleyd did not exit 0 on SIGTERM; log:\n" << log();
}

void parley_fixture::restart() {
  stop();
  start();
}

void parley_fixture::kill9() {
  ASSERT_NE(process_, nullptr);
  process_->signal(SIGKILL);
  auto code = process_->wait_exit(fixture_start_timeout_ms);
  process_.reset();
  EXPECT_EQ(code, 128 + SIGKILL);
}

// ---- HTTP ---------------------------------------------------------------------------------

json_reply parley_fixture::admin(const std::string& method, const std::string& path, const std::string& body) const {
  std::vector<std::string> headers = {std::string("Authorization: Bearer ") + fixture_admin_token};
  if (!body.empty()) headers.emplace_back("Content-Type: application/json");
  return admin_raw(method, path, body, headers);
}

json_reply parley_fixture::admin_raw(const std::string& method, const std::string& path, const std::string& body,
                                     const std::vector<std::string>& headers) const {
  return to_json_reply(http_request(admin_addr(), method, path, body, headers));
}

std::string parley_fixture::create_tenant(const std::string& id) {
  auto r = admin("POST", "/v1/admin/tenants", R"({"id":")" + id + R"(","name":"Tenant )" + id + R"("})");
  EXPECT_EQ(r.status, 201) << r.body;
  return str(r.json, "api_key");
}

std::string parley_fixture::create_channel(const std::string& tenant, const std::string& json_body) {
  auto r = admin("POST", "/v1/admin/tenants/" + tenant + "/channels", json_body);
  EXPECT_EQ(r.status, 201) << r.body;
  return str(r.json, "id");
}

std::pair<std::string, std::string> parley_fixture::create_api_key(const std::string& tenant,
                                                                   const std::vector<std::string>& scopes) {
  json::array a;
  for (const auto& s : scopes) a.emplace_back(s);
  auto r = admin("POST", "/v1/admin/tenants/" + tenant + "/api-keys", json::serialize(json::object{{"scopes", a}}));
  EXPECT_EQ(r.status, 201) << r.body;
  return {str(r.json, "id"), str(r.json, "api_key")};
}

json_reply parley_fixture::tenant_get(const std::string& api_key, const std::string& path) const {
  std::vector<std::string> headers;
  if (!api_key.empty()) headers.push_back("Authorization: Bearer " + api_key);
  return to_json_reply(http_request(public_addr(), "GET", path, {}, headers));
}

json_reply parley_fixture::public_request(const std::string& method, const std::string& path, const std::string& body,
                                          const std::vector<std::string>& headers) const {
  return to_json_reply(http_request(public_addr(), method, path, body, headers));
}

std::vector<json::value> parley_fixture::all_conversations(const std::string& api_key) const {
  std::vector<json::value> out;
  std::string cursor;
  for (int page = 0; page < 10'000; ++page) {
    std::string path = "/v1/conversations?limit=500";
    if (!cursor.empty()) path = with_query(path, "cursor=" + url_encode(cursor));
    auto r = tenant_get(api_key, path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    if (r.status != 200) break;
    for (const auto& c : arr(r.json, "conversations")) out.push_back(c);
    cursor = str(r.json, "next_cursor");
    if (cursor.empty()) break;
  }
  return out;
}

std::vector<json::value> parley_fixture::all_messages(const std::string& api_key, const std::string& conversation_id) const {
  std::vector<json::value> out;
  std::string before;
  for (int page = 0; page < 10'000; ++page) {
    std::string path = "/v1/conversations/" + conversation_id + "/messages?limit=500";
    if (!before.empty()) path = with_query(path, "before=" + url_encode(before));
    auto r = tenant_get(api_key, path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    if (r.status != 200) break;
    for (const auto& m : arr(r.json, "messages")) out.push_back(m);
    const auto& next = member(r.json, "next_before");
    if (next.is_string()) before = std::string(next.as_string());
    else if (next.is_int64()) before = std::to_string(next.as_int64());
    else break;
  }
  return out;
}

std::vector<json::value> parley_fixture::all_events(const std::string& api_key, const std::string& after) const {
  std::vector<json::value> out;
  std::string cursor = after;
  for (int page = 0; page < 10'000; ++page) {
    std::string path = "/v1/events?limit=500";
    if (!cursor.empty()) path = with_query(path, "after=" + url_encode(cursor));
    auto r = tenant_get(api_key, path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    if (r.status != 200) break;
    const auto& events = arr(r.json, "events");
    for (const auto& e : events) out.push_back(e);
    auto next = str(r.json, "next_cursor");
    if (events.empty() || next.empty() || next == cursor) break;
    cursor = next;
  }
  return out;
}

std::string parley_fixture::events_cursor(const std::string& api_key) const {
  std::string cursor;
  for (int page = 0; page < 10'000; ++page) {
    std::string path = "/v1/events?limit=500";
    if (!cursor.empty()) path = with_query(path, "after=" + url_encode(cursor));
    auto r = tenant_get(api_key, path);
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) break;
    auto next = str(r.json, "next_cursor");
    if (arr(r.json, "events").empty() || next.empty()) break;
    cursor = next;
  }
  return cursor;
}

// ---- JSON helpers ---------------------------------------------------------------------

json::value parse_json(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec) return nullptr;
  return v;
}

const json::value& member(const json::value& v, std::string_view key) {
  static const json::value null_value;
  if (!v.is_object()) return null_value;
  auto it = v.as_object().find(key);
  return it == v.as_object().end() ? null_value : it->value();
}

std::string str(const json::value& v, std::string_view key) {
  const auto& m = member(v, key);
  return m.is_string() ? std::string(m.as_string()) : std::string();
}

std::int64_t num(const json::value& v, std::string_view key) {
  const auto& m = member(v, key);
  if (m.is_int64()) return m.as_int64();
  if (m.is_uint64()) return static_cast<std::int64_t>(m.as_uint64());
  return -1;
}

const json::array& arr(const json::value& v, std::string_view key) {
  static const json::array empty;
  const auto& m = member(v, key);
  return m.is_array() ? m.as_array() : empty;
}

std::string error_code(const json_reply& r) { return str(member(r.json, "error"), "code"); }

std::string url_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
std::int64_t unix_now_s() { return unix_now_ms() / 1000; }

std::int64_t parse_rfc3339_ms(const std::string& text) {
  std::tm tm{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) != 6) return -1;
  std::int64_t ms = 0;
  std::size_t pos = static_cast<std::size_t>(consumed);
  if (pos < text.size() && text[pos] == '.') {
    int digits = 0;
    ++pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (digits < 3) ms = ms * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    for (; digits < 3; ++digits) ms *= 10;
  }
  if (pos >= text.size() || (text[pos] != 'Z' && text[pos] != 'z')) return -1;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

}  // namespace parley::testing
