#pragma once
/// Pages of a tenant's event feed as API.md shows them: read by `GET /v1/events` and by
/// the event push dispatcher, so both deliver exactly the same events. Message events
/// name their message; it is read and rendered when the page is read (a forgotten message
/// shows as its ids with "forgotten": true). Blocking: RocksDB reads.
#include <cstdint>
#include <string>
#include <string_view>

#include "parley/result.hpp"
#include "parley/storage/group_writer.hpp"
#include "parley/storage/store.hpp"

namespace parley::actors {

struct event_page {
  std::string events_json = "[]";  ///< the "events" array: [{"id","cursor","type","at","data"}, ...]
  std::uint64_t last = 0;          ///< cursor of the last event in the page (`after` when empty)
  std::size_t count = 0;
};

/// Up to `limit` events after cursor `after` (0: from the oldest retained). With
/// `writer`, only durable events: none that a crash could still take back.
[[nodiscard]] result<event_page> read_event_page(const storage::store& db, std::string_view tenant, std::uint64_t after,
                                                 std::size_t limit, const storage::group_writer* writer = nullptr);

/// The cursor of the newest (with `writer`: newest durable) event of the tenant (0 when
/// the feed is empty).
[[nodiscard]] result<std::uint64_t> newest_event(const storage::store& db, std::string_view tenant,
                                                 const storage::group_writer* writer = nullptr);

}  // namespace parley::actors
