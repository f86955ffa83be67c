#pragma once
/// The load engine shared by parley-bench's subcommands: N keep-alive connections, open
/// loop at a fixed rate (pacer.hpp; latency from each request's slot, so no coordinated
/// omission) or closed loop, for a duration or a count; one live progress line; a report,
/// `--json` and `--svg` at the end. What each request is comes from the subcommand.
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chart.hpp"
#include "histogram.hpp"

namespace parley::bench {

struct load_options {
  std::string target;  ///< http://HOST:PORT
  std::size_t connections = 16;
  double rate = 0;  ///< requests/s over all connections; 0 = closed loop
  double duration_s = 10;
  std::uint64_t count = 0;  ///< stop after this many requests (0: use duration)
  std::size_t threads = 1;
  bool quiet = false;
};

/// One request to send.
struct request_spec {
  std::string method = "POST";
  std::string path;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string tag;         ///< recorded when the answer is a success (e.g. the provider id)
  bool duplicate = false;  ///< counted as a redelivery
};

/// Writes `spec` as one HTTP/1.1 request (request line, `Host`, `Content-Type:
/// application/json`, the spec's headers, `Content-Length` when there is a body or the
/// method carries one, then the body) into `out`, replacing what it held but keeping its
/// capacity, so a connection reuses one buffer for all its requests. False, with `out`
/// cleared, when the method, path or a header holds a character that would split the
/// request (CR, LF, or a space in the method or path; a colon in a header name).
[[nodiscard]] bool serialize_request(const request_spec& spec, std::string_view host, std::string& out);

/// Builds request number `n` of connection `connection` (called on that connection's strand).
using request_maker = std::function<request_spec(std::size_t connection, std::uint64_t n, std::mt19937_64& rng)>;

struct load_result {
  double elapsed_s = 0;
  std::uint64_t ok = 0, errors = 0, duplicates = 0;
  histogram latency;
  std::map<int, std::uint64_t> statuses;  ///< 0: no answer (connection failed)
  std::vector<std::string> acknowledged;  ///< tags of successful requests
  std::vector<sample> timeline;
  [[nodiscard]] double throughput() const { return elapsed_s > 0 ? static_cast<double>(ok) / elapsed_s : 0; }
};

/// Runs the load; `success(status)` says which answers count as acknowledged.
[[nodiscard]] load_result run_load(const load_options& o, const request_maker& make,
                                   const std::function<bool(int)>& success);

/// The human summary (stdout).
void print_load_report(const std::string& title, const load_options& o, const load_result& r);

/// The common part of the `--json` object: everything but the closing brace, so callers
/// append their own fields.
[[nodiscard]] std::string load_json_fields(const load_options& o, const load_result& r);

}  // namespace parley::bench
