#pragma once
/// Lowercase hexadecimal: tokens, key hashes, cursors.
#include <optional>
#include <string>
#include <string_view>

namespace parley {

[[nodiscard]] std::string to_hex(std::string_view bytes);
/// The bytes of lowercase or uppercase hex; nullopt on odd length or a non-hex character.
[[nodiscard]] std::optional<std::string> from_hex(std::string_view text);

}  // namespace parley
