// Fuzzes normalize_telegram (engine/providers/telegram/) with the body as input. Checks:
// no crash, leak or UB; the normalizer contract (fuzz_check.hpp); one update is one
// message or one ignored update. Seeds: tests/fuzz/corpus/fuzz_telegram/.
#include <cstddef>
#include <cstdint>

#include "engine/providers/provider.hpp"
#include "fuzz_check.hpp"

namespace {
constexpr std::string_view k_other =
    R"({"update_id":1,"message":{"message_id":2,"from":{"id":3},"chat":{"id":3,"type":"private"},"date":4,"text":"x"}})";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using parley::fuzz::require;
  using parley::engine::providers::normalize_telegram;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  static const std::vector<std::string> no_accounts;
  const auto r = normalize_telegram(body);
  parley::fuzz::check_normalized(r, no_accounts);
  if (r.ok()) {
    const auto& w = r.value();
    require(w.messages.size() + w.ignored == 1 && w.statuses.empty());
    for (const auto& m : w.messages) require(m.account_id.empty() && !m.provider_message_id.empty());
  }
  (void)normalize_telegram(k_other);
  require(parley::fuzz::same(r, normalize_telegram(body)));
  return 0;
}
