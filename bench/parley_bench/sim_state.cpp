#include "sim_state.hpp"

#include <algorithm>
#include <cstdio>

namespace parley::bench::sim {

namespace {

std::size_t index_of(provider p) { return static_cast<std::size_t>(p) % 5; }

std::uint64_t mix64(std::uint64_t z) {  // splitmix64 finalizer: a bijection, so distinct in → distinct out
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

sim_state::sim_state(const sim_settings& defaults, std::uint64_t seed, std::size_t record_limit,
                     std::optional<status_route> default_route, status_pusher& pusher)
    : defaults_(defaults),
      seed_(seed),
      record_limit_(record_limit),
      default_route_(std::move(default_route)),
      pusher_(pusher),
      id_nonce_(std::random_device{}() * 0x100000001ULL ^ std::random_device{}()),
      settings_(defaults),
      rng_(seed) {
  down_ = defaults.down;
}

// ---- provider requests -------------------------------------------------------------------

admission sim_state::admit(parsed_send& send, std::string_view raw_body) {
  admission out;
  decision& d = out.verdict;
  d.at_unix_us = unix_now_us();
  send_record record;
  record.body = std::string(raw_body);  // copied before taking the lock
  std::lock_guard lock(mutex_);
  out.latency_ms = settings_.latency_ms;
  out.status_delay_ms = settings_.status_delay_ms;
  resolve_graph_account(send);
  auto& c = by_provider_[index_of(send.kind)];
  ++c.requests;
  if (send.refusal.status != 0) {
    d.kind = outcome::refused;
    d.http_status = send.refusal.status;
    ++c.refused;
  } else if (auto rule = match_rule(send); rule && rule->http_status >= 300) {
    d.kind = outcome::rule;
    d.http_status = rule->http_status;
    d.code = rule->code;
    d.message = rule->message;
    d.details = rule->details;
    d.retry_after = rule->retry_after;
    fill_rule_defaults(send.kind, d);
    ++c.rule_matched;
  } else if (settings_.max_rate > 0 && !take_token(send, d.at_unix_us)) {
    d.kind = outcome::throttled;
    fill_throttle(send.kind, d);
    ++c.throttled;
  } else {
    double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (u < settings_.throttle_rate) {
      d.kind = outcome::throttled;
      fill_throttle(send.kind, d);
      ++c.throttled;
    } else if (u < settings_.throttle_rate + settings_.error_rate) {
      d.kind = outcome::error;
      d.http_status = (rng_() & 1) != 0 ? 503 : 500;
      fill_transient_error(send.kind, d);
      ++c.errors_injected;
    } else {
      d.kind = outcome::accepted;
      d.http_status = 200;
      ++c.accepted;
      if (send.kind == provider::telegram)
        d.telegram_message_id = ++telegram_ids_[send.account + "/" + send.recipient];
      else
        d.provider_message_id = next_id(send.kind);
      if (rule) {
        ++c.rule_matched;
        if (rule->code != 0) {  // accepted now, failed later
          d.fails_later = true;
          d.code = rule->code;
          d.message = rule->message;
          d.details = rule->details;
          fill_rule_defaults(send.kind, d);
        }
      }
      if (send.expects_statuses && send.kind != provider::telegram) {
        out.route = find_route(send.kind, send.account);
        if (!out.route) ++c.unrouted;
      }
    }
  }
  record.kind = send.kind;
  record.account = send.account;
  record.recipient = send.recipient;
  record.type = send.type;
  record.provider_message_id = send.kind == provider::telegram && d.telegram_message_id > 0
                                   ? std::to_string(d.telegram_message_id)
                                   : d.provider_message_id;
  record.received_at_us = d.at_unix_us;
  record.status = d.http_status;
  records_.push_back(std::move(record));
  if (record_limit_ > 0 && records_.size() > record_limit_) {
    records_.pop_front();
    ++first_record_index_;
  }
  return out;
}

std::optional<outcome_rule> sim_state::match_rule(const parsed_send& send) {
  std::string name(provider_name(send.kind));
  for (auto it = rules_.begin(); it != rules_.end(); ++it) {
    if (!it->provider.empty() && it->provider != name) continue;
    bool same = it->recipient == send.recipient || (send.kind == provider::whatsapp && !it->recipient.empty() &&
                                                    digits_only(it->recipient) == digits_only(send.recipient));
    if (!same) continue;
    outcome_rule hit = *it;
    if (it->times > 0 && --it->times == 0) rules_.erase(it);
    return hit;
  }
  return std::nullopt;
}

// A token bucket per sender account: one second's worth of burst, refilled at max_rate.
bool sim_state::take_token(const parsed_send& send, std::int64_t now_us) {
  double rate = settings_.max_rate;
  double capacity = std::max(rate, 1.0);
  auto [it, fresh] = buckets_.try_emplace(std::string(provider_name(send.kind)) + "/" + send.account);
  auto& b = it->second;
  if (fresh)
    b.tokens = capacity;
  else
    b.tokens = std::min(capacity, b.tokens + rate * static_cast<double>(now_us - b.last_us) / 1e6);
  b.last_us = now_us;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

std::optional<webhook_url> sim_state::route_url_now(provider kind, const std::string& account) const {
  std::lock_guard lock(mutex_);
  if (auto it = routes_.find({kind, account}); it != routes_.end()) return it->second.url;
  return std::nullopt;
}

std::optional<status_route> sim_state::find_route(provider kind, const std::string& account) const {
  if (auto it = routes_.find({kind, account}); it != routes_.end()) return it->second;
  if (default_route_) {
    status_route r = *default_route_;
    r.kind = kind;
    return r;
  }
  return std::nullopt;
}

// Graph paths do not say Messenger or Instagram (nor which page `me` is): the route
// table does; failing that, Instagram account ids start with 17841.
void sim_state::resolve_graph_account(parsed_send& send) const {
  bool graph = send.kind == provider::messenger || send.kind == provider::instagram || send.graph_guess;
  if (!graph) return;
  if (send.account == "me" && !send.access_token.empty()) {
    for (const auto& [key, route] : routes_) {
      if ((key.first == provider::messenger || key.first == provider::instagram) &&
          route.access_token == send.access_token) {
        send.account = route.account;
        send.kind = route.kind;
        return;
      }
    }
  }
  bool messenger = routes_.count({provider::messenger, send.account}) > 0;
  bool instagram = routes_.count({provider::instagram, send.account}) > 0;
  if (send.graph_guess) {
    if (routes_.count({provider::whatsapp, send.account}) == 0 && (messenger || instagram)) {
      send.kind = messenger ? provider::messenger : provider::instagram;
    }
    return;
  }
  if (instagram || (!messenger && send.account.rfind("17841", 0) == 0))
    send.kind = provider::instagram;
  else
    send.kind = provider::messenger;
}

std::string sim_state::next_id(provider kind) {
  std::uint64_t n = ++id_counter_;
  char buf[96];
  switch (kind) {
    case provider::whatsapp:
      std::snprintf(buf, sizeof buf, "wamid.HBgLSIM%016llX%010llu", static_cast<unsigned long long>(id_nonce_),
                    static_cast<unsigned long long>(n));
      break;
    case provider::messenger:
    case provider::instagram:
      std::snprintf(buf, sizeof buf, "m_sim%016llx_%llu", static_cast<unsigned long long>(id_nonce_),
                    static_cast<unsigned long long>(n));
      break;
    default: {
      // A version-4-looking UUID, unique per (run, n): the nonce on top, a bijection of n below.
      std::uint64_t hi = (id_nonce_ & ~0xF000ULL) | 0x4000ULL;
      std::uint64_t lo = mix64(n + id_nonce_);
      std::snprintf(buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx", static_cast<unsigned long long>(hi >> 32),
                    static_cast<unsigned long long>((hi >> 16) & 0xFFFF), static_cast<unsigned long long>(hi & 0xFFFF),
                    static_cast<unsigned long long>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
      break;
    }
  }
  return buf;
}

sim_state::totals sim_state::snapshot() const {
  std::lock_guard lock(mutex_);
  totals t;
  for (const auto& c : by_provider_) {
    t.requests += c.requests;
    t.accepted += c.accepted;
    t.throttled += c.throttled;
    t.errors += c.errors_injected;
  }
  return t;
}

}  // namespace parley::bench::sim
