// Fuzzes normalize_messenger (engine/providers/messenger/): the same bytes as a Messenger
// ("object":"page") and an Instagram ("object":"instagram") body, with a fixed page-id
// filter. Checks: no crash, leak or UB; the normalizer contract (fuzz_check.hpp).
// Seeds: tests/fuzz/corpus/fuzz_messenger/.
#include <cstddef>
#include <cstdint>

#include "engine/providers/provider.hpp"
#include "fuzz_check.hpp"

namespace {
const std::vector<std::string> k_accounts{"1234567890", "17841400000000000"};
constexpr std::string_view k_other =
    R"({"object":"page","entry":[{"id":"1234567890","messaging":[{"sender":{"id":"1"},"recipient":{"id":"2"},)"
    R"("timestamp":1,"message":{"mid":"m","text":"x"}}]}]})";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using parley::channel_type;
  using parley::engine::providers::normalize_messenger;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (const channel_type type : {channel_type::messenger, channel_type::instagram}) {
    parley::fuzz::check_with_accounts(
        [type](std::string_view b, const std::vector<std::string>& a) { return normalize_messenger(b, type, a); },
        body, k_other, k_accounts);
  }
  return 0;
}
