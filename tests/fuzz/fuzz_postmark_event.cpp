// Fuzzes normalize_postmark_event (engine/providers/postmark/) with the body as input.
// Checks: no crash, leak or UB; the normalizer contract (fuzz_check.hpp); one body is one
// status or one ignored event, never a message. Seeds: tests/fuzz/corpus/fuzz_postmark_event/.
#include <cstddef>
#include <cstdint>

#include "engine/providers/provider.hpp"
#include "fuzz_check.hpp"

namespace {
constexpr std::string_view k_other = R"({"RecordType":"Delivery","MessageID":"m","Recipient":"a@b.c"})";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using parley::fuzz::require;
  using parley::engine::providers::normalize_postmark_event;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  static const std::vector<std::string> no_accounts;
  const auto r = normalize_postmark_event(body);
  parley::fuzz::check_normalized(r, no_accounts);
  if (r.ok()) {
    const auto& w = r.value();
    require(w.messages.empty() && w.statuses.size() + w.ignored == 1);
    for (const auto& s : w.statuses) {
      require(!s.provider_message_id.empty() && s.account_id.empty());
      require(!parley::fuzz::has_upper_ascii(s.recipient_id));
    }
  }
  (void)normalize_postmark_event(k_other);
  require(parley::fuzz::same(r, normalize_postmark_event(body)));
  return 0;
}
