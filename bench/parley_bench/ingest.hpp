#pragma once
/// `parley-bench ingest`: floods a webhook receiver with correctly signed provider
/// webhooks over keep-alive connections and measures acknowledged throughput and
/// latency. Works against Parley or any endpoint speaking the providers' formats.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace parley::bench {

struct ingest_options {
  std::string target = "http://127.0.0.1:8080";  ///< public listener base URL
  std::string admin;          ///< admin base URL: set up a tenant and channel there
  std::string admin_token;
  std::string channel_path;   ///< or use an existing channel: /webhooks/whatsapp/ch_…
  std::string secret;         ///< its secret: Meta app secret, Telegram secret token, Postmark "user:password"
  std::vector<std::string> providers = {"whatsapp"};  ///< the mix; requests go round-robin
  std::size_t connections = 16;
  double rate = 0;            ///< requests/s; 0 = closed loop, as fast as answers come
  double duration_s = 10;
  std::uint64_t count = 0;    ///< stop after this many requests (0: use duration)
  std::uint64_t contacts = 10'000;
  double duplicates = 0;      ///< share of requests that redeliver an earlier wamid
  std::size_t body_bytes = 1024;
  std::size_t threads = 1;    ///< client I/O threads
  std::string json_file;
  std::string svg_file;  ///< chart of throughput and p50/p99 over time
  bool quiet = false;
  std::uint64_t seed = 1;
};

/// Runs the load; returns the process exit status (0 ok, 1 errors seen, 2 bad setup).
int run_ingest(const ingest_options& options);

}  // namespace parley::bench
