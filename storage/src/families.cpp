#include "parley/storage/families.hpp"

#include "parley/storage/keys.hpp"

namespace parley::storage {

std::string_view family_name(family f) noexcept {
  switch (f) {
    case family::messages: return "messages";
    case family::conversations: return "conversations";
    case family::identities: return "identities";
    case family::dedup: return "dedup";
    case family::raw_webhooks: return "raw_webhooks";
    case family::outbox: return "outbox";
    case family::events: return "events";
    case family::meta: return "meta";
  }
  return "unknown";
}

std::optional<std::string> tenant_of(family f, std::string_view key) {
  switch (f) {
    case family::dedup:
      return std::nullopt;
    case family::meta: {
      key_reader reader(key);
      auto kind = reader.u8();
      if (!kind) return std::nullopt;
      auto k = static_cast<meta_kind>(*kind);
      if (k == meta_kind::api_key || k == meta_kind::audit || k == meta_kind::master_check ||
          k == meta_kind::sequence_hwm) return std::nullopt;
      return reader.str();
    }
    default:
      return leading_string(key);
  }
}

}  // namespace parley::storage
