// The simulator's control API (sim_state's `/_sim/*` half): config, reset, sends, stats
// and routes, JSON in and out.
#include "sim_state.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace parley::bench::sim {

namespace json = boost::json;

namespace {

constexpr provider all_providers[] = {provider::whatsapp, provider::messenger, provider::instagram, provider::telegram,
                                      provider::postmark};

std::size_t index_of(provider p) { return static_cast<std::size_t>(p) % 5; }

answer json_answer(int status, const json::value& v) {
  answer a;
  a.status = status;
  a.body = json::serialize(v);
  return a;
}

// The control API's errors, in Parley's own shape.
answer control_error(int status, std::string_view code, const std::string& message) {
  return json_answer(status, json::object{{"error", json::object{{"code", code}, {"message", message}}}});
}

std::optional<double> number(const json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return std::nullopt;
}

// Whole numbers render as integers ("5", not "5E0").
json::value number_json(double v) {
  if (std::abs(v) < 1e15 && v == static_cast<double>(static_cast<std::int64_t>(v)))
    return json::value(static_cast<std::int64_t>(v));
  return json::value(v);
}

std::optional<std::string> text(const json::value& v) {
  if (const auto* s = v.if_string()) return std::string(*s);
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  return std::nullopt;
}

// One entry of `rules`; an error message naming the field when it is not a valid rule.
std::optional<outcome_rule> parse_rule(const json::value& v, std::string& error) {
  const auto* o = v.if_object();
  if (o == nullptr) {
    error = "rules[] entries must be objects";
    return std::nullopt;
  }
  outcome_rule r;
  for (const auto& [key, value] : *o) {
    auto n = number(value);
    bool integral = n && std::abs(*n) < 1e15 && *n == static_cast<double>(static_cast<std::int64_t>(*n));
    if (key == "recipient" && text(value)) {
      r.recipient = *text(value);
    } else if (key == "provider" && value.is_string()) {
      auto p = parse_provider(value.get_string());
      if (!p) {
        error = "rules[].provider must be whatsapp, messenger, instagram, telegram or postmark";
        return std::nullopt;
      }
      r.provider = std::string(provider_name(*p));
    } else if (key == "http_status" && integral && *n >= 100 && *n <= 599) {
      r.http_status = static_cast<int>(*n);
    } else if (key == "code" && integral) {
      r.code = static_cast<std::int64_t>(*n);
    } else if (key == "message" && value.is_string()) {
      r.message = std::string(value.get_string());
    } else if (key == "details" && value.is_string()) {
      r.details = std::string(value.get_string());
    } else if (key == "retry_after" && integral && *n >= 0) {
      r.retry_after = static_cast<int>(*n);
    } else if (key == "times" && integral && *n >= 0) {
      r.times = static_cast<std::int64_t>(*n);
    } else {
      error = "rules[]." + std::string(key) + " is unknown or invalid";
      return std::nullopt;
    }
  }
  if (r.recipient.empty()) {
    error = "rules[].recipient is required";
    return std::nullopt;
  }
  return r;
}

json::object rule_json(const outcome_rule& r) {
  return json::object{
      {"recipient", r.recipient}, {"provider", r.provider}, {"http_status", r.http_status}, {"code", r.code},
      {"message", r.message},     {"details", r.details},   {"retry_after", r.retry_after}, {"times", r.times}};
}

json::object route_json(const status_route& r) {
  return json::object{{"provider", r.account.empty() ? "*" : provider_name(r.kind)},
                      {"account", r.account.empty() ? "*" : r.account},
                      {"url", r.url_text},
                      {"secret", r.secret.empty() ? "" : "set"},
                      {"access_token", r.access_token.empty() ? "" : "set"}};
}

}  // namespace

// ---- control API ------------------------------------------------------------------------

std::optional<answer> sim_state::control(std::string_view method, std::string_view target, std::string_view body) {
  if (target.substr(0, 6) != "/_sim/") return std::nullopt;
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  auto wrong_method = [&] {
    return control_error(405, "method_not_allowed", std::string(method) + " not allowed on " + std::string(path));
  };
  if (path == "/_sim/config") {
    if (method == "GET") {
      std::lock_guard lock(mutex_);
      return get_config();
    }
    if (method == "POST") return post_config(body);
    return wrong_method();
  }
  if (path == "/_sim/reset") {
    if (method != "POST") return wrong_method();
    reset();
    return json_answer(200, json::object{{"status", "ok"}});
  }
  if (path == "/_sim/sends") return method == "GET" ? get_sends(query) : wrong_method();
  if (path == "/_sim/stats") return method == "GET" ? get_stats() : wrong_method();
  if (path == "/_sim/routes") {
    if (method == "POST") return post_route(body);
    if (method == "GET") return get_routes();
    if (method == "DELETE") {
      std::lock_guard lock(mutex_);
      routes_.clear();
      return json_answer(200, json::object{{"status", "ok"}});
    }
    return wrong_method();
  }
  return control_error(404, "not_found", "no control endpoint " + std::string(path));
}

answer sim_state::get_config() const {
  json::array rules;
  for (const auto& r : rules_) rules.push_back(rule_json(r));
  return json_answer(200, json::object{{"latency_ms", number_json(settings_.latency_ms)},
                                       {"error_rate", number_json(settings_.error_rate)},
                                       {"throttle_rate", number_json(settings_.throttle_rate)},
                                       {"max_rate", number_json(settings_.max_rate)},
                                       {"status_delay_ms", number_json(settings_.status_delay_ms)},
                                       {"down", settings_.down},
                                       {"rules", std::move(rules)}});
}

answer sim_state::post_config(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return control_error(400, "invalid_json", "the body must be a JSON object");
  std::unique_lock lock(mutex_);
  sim_settings s = settings_;
  std::optional<std::vector<outcome_rule>> rules;
  for (const auto& [key, value] : v.get_object()) {
    auto n = number(value);
    bool share = n && *n >= 0 && *n <= 1;
    bool non_negative = n && *n >= 0;
    if (key == "latency_ms" && non_negative)
      s.latency_ms = *n;
    else if (key == "error_rate" && share)
      s.error_rate = *n;
    else if (key == "throttle_rate" && share)
      s.throttle_rate = *n;
    else if (key == "max_rate" && non_negative)
      s.max_rate = *n;
    else if (key == "status_delay_ms" && non_negative)
      s.status_delay_ms = *n;
    else if (key == "down" && value.is_bool())
      s.down = value.get_bool();
    else if (key == "rules" && value.is_array()) {
      rules.emplace();
      for (const auto& entry : value.get_array()) {
        std::string error;
        auto rule = parse_rule(entry, error);
        if (!rule) return control_error(400, "invalid_request", error);
        rules->push_back(std::move(*rule));
      }
    } else {
      return control_error(400, "invalid_request",
                           std::string(key) +
                               " is unknown or out of range (latency_ms, error_rate, throttle_rate, "
                               "max_rate, status_delay_ms, down, rules)");
    }
  }
  settings_ = s;
  down_ = s.down;
  if (rules) rules_ = std::move(*rules);
  return get_config();
}

answer sim_state::post_route(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return control_error(400, "invalid_json", "the body must be a JSON object");
  const auto& o = v.get_object();
  auto str = [&](std::string_view key) -> std::string {
    const auto* f = o.if_contains(key);
    auto t = f != nullptr ? text(*f) : std::nullopt;
    return t ? *t : std::string();
  };
  status_route r;
  auto kind = parse_provider(str("provider"));
  if (!kind || *kind == provider::telegram) {
    return control_error(400, "invalid_request", "provider must be whatsapp, messenger, instagram or postmark");
  }
  r.kind = *kind;
  r.account = str("account");
  if (r.account.empty()) return control_error(400, "invalid_request", "account is required");
  r.url_text = str("url");
  auto url = parse_webhook_url(r.url_text);
  if (!url) return control_error(400, "invalid_request", "url must be http://HOST:PORT/path");
  r.url = *url;
  r.secret = str("secret");
  r.access_token = str("access_token");
  json::object shown = route_json(r);
  std::lock_guard lock(mutex_);
  routes_[{r.kind, r.account}] = std::move(r);
  return json_answer(201, shown);
}

answer sim_state::get_routes() const {
  json::array list;
  std::lock_guard lock(mutex_);
  for (const auto& [key, r] : routes_) list.push_back(route_json(r));
  json::value fallback = default_route_ ? json::value(route_json(*default_route_)) : json::value(nullptr);
  return json_answer(200, json::object{{"routes", std::move(list)}, {"default", std::move(fallback)}});
}

answer sim_state::get_sends(std::string_view query) const {
  std::uint64_t since = 0;
  for (std::string_view rest = query; !rest.empty();) {
    auto amp = rest.find('&');
    auto pair = rest.substr(0, amp);
    if (pair.substr(0, 6) == "since=") {
      auto digits = pair.substr(6);
      auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), since);
      if (err != std::errc() || end != digits.data() + digits.size()) {
        return control_error(400, "invalid_request", "since must be a record index");
      }
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  json::array list;
  {
    std::lock_guard lock(mutex_);
    std::uint64_t from = std::max(since, first_record_index_);
    for (std::uint64_t i = from; i < first_record_index_ + records_.size(); ++i) {
      const auto& r = records_[i - first_record_index_];
      list.push_back(json::object{{"index", i},
                                  {"provider", provider_name(r.kind)},
                                  {"account", r.account},
                                  {"recipient", r.recipient},
                                  {"type", r.type},
                                  {"body", r.body},
                                  {"provider_message_id", r.provider_message_id},
                                  {"received_at_us", r.received_at_us},
                                  {"status", r.status}});
    }
  }
  return json_answer(200, list);
}

answer sim_state::get_stats() const {
  json::object providers;
  counters total;
  delivery_counters webhooks;
  std::uint64_t recorded = 0;
  {
    std::lock_guard lock(mutex_);
    recorded = first_record_index_ + records_.size();
    for (provider p : all_providers) {
      const auto& c = by_provider_[index_of(p)];
      auto w = pusher_.counters(p);
      providers[provider_name(p)] = json::object{{"requests", c.requests},
                                                 {"accepted", c.accepted},
                                                 {"refused", c.refused},
                                                 {"rule_matched", c.rule_matched},
                                                 {"throttled", c.throttled},
                                                 {"errors_injected", c.errors_injected},
                                                 {"status_webhooks_sent", w.sent},
                                                 {"status_webhooks_failed", w.failed},
                                                 {"status_webhooks_dropped", w.dropped},
                                                 {"status_webhooks_retried", w.retried},
                                                 {"status_webhooks_unrouted", c.unrouted}};
      total.requests += c.requests;
      total.accepted += c.accepted;
      total.refused += c.refused;
      total.rule_matched += c.rule_matched;
      total.throttled += c.throttled;
      total.errors_injected += c.errors_injected;
      total.unrouted += c.unrouted;
      webhooks.sent += w.sent;
      webhooks.failed += w.failed;
      webhooks.dropped += w.dropped;
      webhooks.retried += w.retried;
    }
  }
  return json_answer(200, json::object{{"requests", total.requests},
                                       {"accepted", total.accepted},
                                       {"refused", total.refused},
                                       {"rule_matched", total.rule_matched},
                                       {"throttled", total.throttled},
                                       {"errors_injected", total.errors_injected},
                                       {"status_webhooks_sent", webhooks.sent},
                                       {"status_webhooks_failed", webhooks.failed},
                                       {"status_webhooks_dropped", webhooks.dropped},
                                       {"status_webhooks_retried", webhooks.retried},
                                       {"status_webhooks_unrouted", total.unrouted},
                                       {"down_closed", down_closed_.load()},
                                       {"recorded_sends", recorded},
                                       {"providers", std::move(providers)}});
}

void sim_state::reset() {
  std::lock_guard lock(mutex_);
  settings_ = defaults_;
  down_ = defaults_.down;
  rules_.clear();
  buckets_.clear();
  telegram_ids_.clear();
  records_.clear();
  first_record_index_ = 0;
  for (auto& c : by_provider_) c = counters{};
  rng_.seed(seed_);
  down_closed_ = 0;
  pusher_.reset_counters();
  // id_counter_ keeps counting: provider ids stay unique across resets.
}

}  // namespace parley::bench::sim
