// Fuzzes normalize_whatsapp (engine/providers/whatsapp/) with the body as input and a
// fixed phone_number_id filter. Checks: no crash, leak or UB; the normalizer contract
// (tests/fuzz/fuzz_check.hpp). Seeds: tests/fuzz/corpus/fuzz_whatsapp/.
#include <cstddef>
#include <cstdint>

#include "engine/providers/provider.hpp"
#include "fuzz_check.hpp"

namespace {
const std::vector<std::string> k_accounts{"106540352242922", "15550783881"};
constexpr std::string_view k_other =
    R"({"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":)"
    R"({"metadata":{"phone_number_id":"106540352242922"},"messages":[{"from":"1","id":"w","type":"text","text":{"body":"x"}}]}}]}]})";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  parley::fuzz::check_with_accounts(
      [](std::string_view b, const std::vector<std::string>& a) { return parley::engine::providers::normalize_whatsapp(b, a); },
      body, k_other, k_accounts);
  return 0;
}
