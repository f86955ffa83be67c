#pragma once
/// Shared checks for the libFuzzer targets in tests/fuzz/. A broken invariant calls
/// `__builtin_trap()`, which libFuzzer reports as a crash and saves the input.
///
/// Open bugs: invariants the product does not meet yet are checked only when
/// PARLEY_FUZZ_STRICT=1 is set (ops/fuzz.sh --strict), so the CI fuzz stage keeps
/// finding new problems instead of re-finding a known one; tests/fuzz/crashes/ holds one
/// input per open bug. Flip a check to `always` once its fix lands.
#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "parley/inbound.hpp"
#include "parley/result.hpp"

namespace parley::fuzz {

/// Traps (a libFuzzer crash) when `ok` is false.
inline void require(bool ok) {
  if (!ok) __builtin_trap();
}

/// True when PARLEY_FUZZ_STRICT=1: open-bug invariants are enforced too.
inline bool strict() {
  static const bool on = [] {
    const char* v = std::getenv("PARLEY_FUZZ_STRICT");
    return v != nullptr && std::string_view(v) == "1";
  }();
  return on;
}

/// `require` for an invariant with an open bug (see the header comment).
inline void require_open_bug(bool ok) {
  if (strict()) require(ok);
}

/// `s` is one complete, valid JSON object (what `details_json` promises).
inline bool is_json_object(std::string_view s) {
  if (s.size() < 2 || s.front() != '{' || s.back() != '}') return false;
  static simdjson::dom::parser parser;  // fuzz targets are single-threaded
  simdjson::dom::element root;
  if (parser.parse(s.data(), s.size()).get(root) != simdjson::SUCCESS) return false;
  return root.type() == simdjson::dom::element_type::OBJECT;
}

inline bool is_e164_or_empty(std::string_view p) {
  return p.empty() || (p.size() >= 2 && p.front() == '+' &&
                       std::all_of(p.begin() + 1, p.end(), [](char c) { return c >= '0' && c <= '9'; }));
}

inline bool has_upper_ascii(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

inline bool accepted(const std::vector<std::string>& accounts, const std::string& id) {
  return accounts.empty() || std::find(accounts.begin(), accounts.end(), id) != accounts.end();
}

inline bool same(const inbound_message& a, const inbound_message& b) {
  return a.provider_message_id == b.provider_message_id && a.account_id == b.account_id &&
         a.external_id == b.external_id && a.display_name == b.display_name &&
         a.phone_e164 == b.phone_e164 && a.email == b.email && a.timestamp_ms == b.timestamp_ms &&
         a.kind == b.kind && a.text == b.text && a.details_json == b.details_json &&
         a.reply_to == b.reply_to && a.outbound_echo == b.outbound_echo && a.edited == b.edited;
}

inline bool same(const inbound_status& a, const inbound_status& b) {
  return a.provider_message_id == b.provider_message_id && a.account_id == b.account_id &&
         a.recipient_id == b.recipient_id && a.status == b.status && a.timestamp_ms == b.timestamp_ms &&
         a.watermark_ms == b.watermark_ms && a.error_code == b.error_code &&
         a.error_message == b.error_message;
}

/// Two normalizations of the same body agree (the thread-local parser and buffer keep
/// no state from one body to the next).
inline bool same(const result<normalized_webhook>& a, const result<normalized_webhook>& b) {
  if (a.ok() != b.ok()) return false;
  if (!a.ok()) return a.code() == b.code() && a.err().message == b.err().message;
  const auto& x = a.value();
  const auto& y = b.value();
  return x.ignored == y.ignored && x.system_errors == y.system_errors &&
         std::equal(x.messages.begin(), x.messages.end(), y.messages.begin(), y.messages.end(),
                    [](const auto& m, const auto& n) { return same(m, n); }) &&
         std::equal(x.statuses.begin(), x.statuses.end(), y.statuses.begin(), y.statuses.end(),
                    [](const auto& s, const auto& t) { return same(s, t); });
}

/// The contract every normalizer keeps (engine/providers/README.md), whatever the body.
/// `accounts` is the account filter that was passed (empty: none).
inline void check_normalized(const result<normalized_webhook>& r,
                             const std::vector<std::string>& accounts) {
  if (!r.ok()) {
    // invalid_argument with a short fixed reason, never a quote of the body.
    require(r.code() == errc::invalid_argument);
    const std::string& why = r.err().message;
    require(!why.empty() && why.size() < 96);
    require(std::all_of(why.begin(), why.end(), [](char c) { return c >= 0x20 && c < 0x7f; }));
    return;
  }
  const normalized_webhook& w = r.value();
  for (const inbound_message& m : w.messages) {
    require(is_json_object(m.details_json));
    require(m.kind <= message_kind::unsupported);
    require(is_e164_or_empty(m.phone_e164));
    require(!has_upper_ascii(m.email));
    require(accepted(accounts, m.account_id));
    // Open bug: ids come from get_string (present, possibly ""), so an empty id reaches
    // dedup (every later empty-id message is dropped as a duplicate) and identity linking
    // (all empty-id customers merge into one). See tests/fuzz/crashes/README.md.
    require(!m.provider_message_id.empty());
    require(!m.external_id.empty());
  }
  for (const inbound_status& s : w.statuses) {
    require(s.status <= delivery_status::received);
    require(accepted(accounts, s.account_id));
    require(s.watermark_ms >= 0);
    // Open bug (as above): a per-message status must name its message; only
    // Messenger/Instagram watermarks may leave the id empty.
    require(s.watermark_ms > 0 || !s.provider_message_id.empty());
  }
}

/// Runs `normalize(body, accounts)` for `accounts` and for no filter, checking the
/// contract, that filtering only drops what the unfiltered run had, and that a second
/// run after parsing `other` (state left in the thread-local parser) gives the same.
template <class Normalize>
void check_with_accounts(Normalize normalize, std::string_view body, std::string_view other,
                         const std::vector<std::string>& accounts) {
  static const std::vector<std::string> no_filter;
  const auto filtered = normalize(body, accounts);
  check_normalized(filtered, accounts);
  const auto all = normalize(body, no_filter);
  check_normalized(all, no_filter);
  if (all.ok()) {
    // Skipped entries are never parsed, so the filtered run cannot fail where this passed.
    require(filtered.ok());
    require(filtered.value().messages.size() <= all.value().messages.size());
    require(filtered.value().statuses.size() <= all.value().statuses.size());
  }
  (void)normalize(other, accounts);
  require(same(filtered, normalize(body, accounts)));
}

}  // namespace parley::fuzz
