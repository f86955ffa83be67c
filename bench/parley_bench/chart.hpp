#pragma once
/// A run's timeline (one sample a second) and its SVG chart: throughput above, p50 and
/// p99 latency below, on a shared time axis. Plain SVG a browser or image viewer opens.
#include <string>
#include <vector>

namespace parley::bench {

struct sample {
  double t_s = 0;      ///< seconds since the run started
  double rate = 0;     ///< acknowledged requests per second in this second
  double p50_ms = 0;
  double p99_ms = 0;
  unsigned long long errors = 0;  ///< errors so far
};

/// Writes the chart; false when the file cannot be written.
bool write_svg(const std::string& path, const std::string& title, const std::vector<sample>& timeline);

}  // namespace parley::bench
