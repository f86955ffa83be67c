#pragma once
/// `parley-bench verify`: proves exactly-once after an ingest run. It reads the run's
/// `--json` (the provider ids answered 200, and the tenant's API key when the bench made
/// its own tenant), pages through every conversation and message of the tenant through
/// the tenant API, and reports every acknowledged id that is missing and every id that
/// is stored more than once.
#include <string>

namespace parley::bench {

struct verify_options {
  std::string target = "http://127.0.0.1:8080";  ///< public listener
  std::string run_file;                          ///< the ingest run's --json
  std::string api_key;                           ///< overrides the run file's key
  std::string json_file;
  bool quiet = false;
};

/// 0 when every acknowledged webhook is stored exactly once, 1 on a loss or duplicate,
/// 2 when the run file or the API cannot be read.
int run_verify(const verify_options& options);

}  // namespace parley::bench
