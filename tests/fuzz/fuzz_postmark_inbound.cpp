// Fuzzes normalize_postmark_inbound (engine/providers/postmark/) with the body as input.
// Checks: no crash, leak or UB; the normalizer contract (fuzz_check.hpp); exactly one
// email message with lowercased addresses. Seeds: tests/fuzz/corpus/fuzz_postmark_inbound/.
#include <cstddef>
#include <cstdint>

#include "engine/providers/provider.hpp"
#include "fuzz_check.hpp"

namespace {
constexpr std::string_view k_other = R"({"MessageID":"m","From":"A <a@b.c>","TextBody":"x"})";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using parley::fuzz::require;
  using parley::engine::providers::normalize_postmark_inbound;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  static const std::vector<std::string> no_accounts;
  const auto r = normalize_postmark_inbound(body);
  parley::fuzz::check_normalized(r, no_accounts);
  if (r.ok()) {
    const auto& w = r.value();
    require(w.messages.size() == 1 && w.statuses.empty() && w.ignored == 0);
    const auto& m = w.messages.front();
    require(m.kind == parley::message_kind::email && m.email == m.external_id);
    require(!parley::fuzz::has_upper_ascii(m.account_id) && !parley::fuzz::has_upper_ascii(m.external_id));
  }
  (void)normalize_postmark_inbound(k_other);
  require(parley::fuzz::same(r, normalize_postmark_inbound(body)));
  return 0;
}
