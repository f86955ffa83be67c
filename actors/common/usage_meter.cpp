#include "parley/actors/usage_meter.hpp"

#include <boost/json.hpp>

#include <cmath>

#include "parley/json_writer.hpp"

namespace parley::actors {

std::string_view to_string(usage_counter c) noexcept {
  switch (c) {
    case usage_counter::inbound: return "inbound";
    case usage_counter::outbound: return "outbound";
    case usage_counter::delivered: return "delivered";
    case usage_counter::failed: return "failed";
    case usage_counter::duplicates: return "duplicates";
  }
  return "unknown";
}

std::size_t latency_bucket(std::int64_t ms) noexcept {
  if (ms < 1) return 0;
  // 8 buckets per octave: bucket = 8 * log2(ms), clamped.
  auto b = static_cast<std::size_t>(std::floor(8.0 * std::log2(static_cast<double>(ms)))) + 1;
  return std::min(b, latency_buckets - 1);
}

namespace {
// A bucket's representative latency: the geometric middle of its bounds.
double bucket_value(std::size_t b) {
  if (b == 0) return 0.5;
  double lo = std::exp2(static_cast<double>(b - 1) / 8.0);
  double hi = std::exp2(static_cast<double>(b) / 8.0);
  return std::sqrt(lo * hi);
}
}  // namespace

void usage_day::merge(const usage_day& other) {
  for (std::size_t i = 0; i < counts.size(); ++i) counts[i] += other.counts[i];
  for (std::size_t i = 0; i < latency.size(); ++i) latency[i] += other.latency[i];
}

std::optional<double> usage_day::latency_percentile(double p) const {
  std::uint64_t total = 0;
  for (auto n : latency) total += n;
  if (total == 0) return std::nullopt;
  auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(total)));
  rank = std::max<std::uint64_t>(rank, 1);
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < latency.size(); ++b) {
    seen += latency[b];
    if (seen >= rank) return std::round(bucket_value(b) * 10.0) / 10.0;
  }
  return bucket_value(latency.size() - 1);
}

bool usage_day::empty() const {
  for (auto n : counts) {
    if (n != 0) return false;
  }
  for (auto n : latency) {
    if (n != 0) return false;
  }
  return true;
}

std::string usage_day::encode() const {
  boost::json::object o;
  for (std::size_t i = 0; i < counts.size(); ++i) o[to_string(static_cast<usage_counter>(i))] = counts[i];
  boost::json::object lat;  // sparse: bucket index -> count
  for (std::size_t b = 0; b < latency.size(); ++b) {
    if (latency[b] != 0) lat[std::to_string(b)] = latency[b];
  }
  o["latency"] = std::move(lat);
  return boost::json::serialize(o);
}

result<usage_day> usage_day::decode(std::string_view json) {
  boost::system::error_code ec;
  auto v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) return make_error(errc::corruption, "usage record does not parse");
  usage_day d;
  const auto& o = v.as_object();
  for (std::size_t i = 0; i < d.counts.size(); ++i) {
    if (const auto* n = o.if_contains(to_string(static_cast<usage_counter>(i))); n != nullptr && n->is_number()) {
      d.counts[i] = n->to_number<std::uint64_t>();
    }
  }
  if (const auto* lat = o.if_contains("latency"); lat != nullptr && lat->is_object()) {
    for (const auto& [k, n] : lat->as_object()) {
      auto b = std::strtoul(std::string(k).c_str(), nullptr, 10);
      if (b < d.latency.size() && n.is_number()) d.latency[b] = n.to_number<std::uint32_t>();
    }
  }
  return d;
}

std::string utc_day(std::int64_t ms) { return std::string(rfc3339(ms).view().substr(0, 10)); }

void usage_meter::add(usage_counter c, std::int64_t at_ms, std::uint64_t n) {
  if (n == 0) return;
  auto day = utc_day(at_ms);
  std::lock_guard lock(mutex_);
  pending_[day].counts[static_cast<std::size_t>(c)] += n;
}

void usage_meter::add_reply_latency(std::int64_t at_ms, std::int64_t latency_ms) {
  auto day = utc_day(at_ms);
  auto b = latency_bucket(latency_ms);
  std::lock_guard lock(mutex_);
  ++pending_[day].latency[b];
}

std::map<std::string, usage_day> usage_meter::take() {
  std::lock_guard lock(mutex_);
  std::map<std::string, usage_day> out;
  out.swap(pending_);
  return out;
}

}  // namespace parley::actors
