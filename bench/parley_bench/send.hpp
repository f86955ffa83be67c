#pragma once
/// `parley-bench send` (W2 of BENCH.md): floods `POST /v1/messages` (or `/batch`) through
/// the tenant API and reports accepted sends/s; with `--simulator` it also waits until the
/// provider simulator has received every accepted message and reports delivered/s.
///
/// `parley-bench mixed` (W3): the same sends with the simulator posting the three status
/// webhooks of every send back to the engine, plus inbound webhooks at the same time.
#include <cstdint>
#include <string>

#include "ingest.hpp"

namespace parley::bench {

struct send_options {
  std::string target = "http://127.0.0.1:8080";  ///< public listener
  std::string api_key;                           ///< an existing tenant's key (scope send) ...
  std::string channel_id;                        ///< ... and its channel
  std::string admin;                             ///< or: set up a tenant and a WhatsApp channel here
  std::string admin_token;
  std::string simulator;  ///< http://HOST:PORT of `parley-bench simulate`: the channel's api_base, delivered/s
  std::size_t connections = 16;
  double rate = 0;
  double duration_s = 10;
  std::uint64_t count = 0;
  std::uint64_t contacts = 1'000;  ///< recipients (their windows are opened first)
  std::size_t batch = 0;           ///< >0: POST /v1/messages/batch with this many messages
  std::string type = "text";       ///< text or template
  std::string priority = "conversational";
  std::size_t threads = 1;
  std::string json_file;
  std::string svg_file;
  bool quiet = false;
};

int run_send(const send_options& options);

/// W3: `send` (statuses routed back) and `ingest` (inbound) at once; `inbound_rate` 0
/// means as fast as answers come.
int run_mixed(const send_options& send, const ingest_options& inbound);

}  // namespace parley::bench
