#pragma once
/// Identifiers. Tenant ids are chosen by operators; every other id is generated: a type
/// prefix (`ch_`, `ct_`, `cv_`, `msg_`, `key_`, `ev_`) and 20 random base32 characters
/// (100 bits), so ids are unguessable and never collide in practice.
#include <string>
#include <string_view>

namespace parley {

/// True when `id` is a valid operator-chosen tenant id: `[a-z0-9-]{1,64}`.
[[nodiscard]] bool is_valid_tenant_id(std::string_view id) noexcept;

/// A new random id with the given prefix (e.g. "ch_"), from the OpenSSL CSPRNG.
[[nodiscard]] std::string generate_id(std::string_view prefix);

/// True when `id` has the prefix and a well-formed generated tail.
[[nodiscard]] bool is_generated_id(std::string_view id, std::string_view prefix) noexcept;

}  // namespace parley
