#pragma once
/// Date parsing for provider timestamps. Pure functions; nullopt when the text is not a
/// valid date of the format (callers decide whether that is an error or 0).
#include <cstdint>
#include <optional>
#include <string_view>

namespace parley::engine::providers::detail {

/// Days since 1970-01-01 of a proleptic Gregorian date; nullopt for a date that does
/// not exist (month 0 or 13, day 0, April 31st, February 29th outside leap years).
[[nodiscard]] std::optional<std::int64_t> days_since_epoch(int y, int m, int d) noexcept;

/// RFC 3339 / ISO 8601 date-time: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)`;
/// 't'/' ' for 'T' and 'z' accepted; without a zone the time is taken as UTC. Fractions
/// of any length are truncated to milliseconds (Postmark sends 7 digits).
[[nodiscard]] std::optional<std::int64_t> parse_iso8601_ms(std::string_view s) noexcept;

/// RFC 2822 / 5322 email `Date`: `[Day, ] D Mon YYYY HH:MM[:SS] zone [(comment)]`, zone
/// `±hhmm` or an obsolete name (UT, GMT, Z, EST, EDT, CST, CDT, MST, MDT, PST, PDT);
/// two-digit years map per RFC 5322 §4.3 (00–49 → 20xx, 50–99 → 19xx).
[[nodiscard]] std::optional<std::int64_t> parse_rfc2822_ms(std::string_view s) noexcept;

}  // namespace parley::engine::providers::detail
