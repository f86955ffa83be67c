#pragma once
/// JSON views of stored records exactly as API.md shows them (GET /v1/messages/{id},
/// conversations, events). Shared by the conversation actor (event data) and the HTTP
/// edge (tenant API). Pure CPU.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "parley/json_writer.hpp"
#include "parley/storage/records.hpp"

namespace parley::actors {

/// A message object; `with_seq` adds "seq" (conversation pages).
[[nodiscard]] std::string render_message(const storage::message_record& m, std::string_view conversation_id,
                                         bool with_seq);
/// The same object appended to `out` (pages of many messages build one string).
void append_message(std::string& out, const storage::message_record& m, std::string_view conversation_id,
                    bool with_seq);
/// "identities": [{"channel_id", "channel_type", "external_id"}] as the API shows them.
void write_identities(json_writer& w, const std::vector<storage::identity_entry>& identities);
/// A conversation object; window "open" is judged at `now_ms`.
[[nodiscard]] std::string render_conversation(const storage::conversation_state& c, std::int64_t now_ms);
/// The stored body of an event that carries its data inline: {"type","at","data"}; the id
/// and cursor come from its key. Used for events without customer content (consent).
[[nodiscard]] std::string render_event(std::string_view type, std::int64_t at_ms, std::string_view data_json);
/// The stored body of a message event: {"type","at","ref":{"contact","seq"},"status"?}.
/// It names the message instead of copying it: nothing of the customer's content is
/// stored twice (so it needs no seal, and forgetting the message forgets it here too);
/// readers render the message when they read the feed.
[[nodiscard]] std::string render_event_ref(std::string_view type, std::int64_t at_ms, std::string_view contact,
                                           std::uint64_t seq, std::string_view status);

}  // namespace parley::actors
