#pragma once
/// The process's Prometheus metrics (served by the admin listener at /metrics):
/// storage commit latency and batch size, HTTP listener counters and the standard
/// process_* metrics. prometheus-cpp stays behind this header.
#include <functional>
#include <memory>
#include <string>

#include "engine/http/server.hpp"
#include "parley/storage/group_writer.hpp"

namespace parley::engine {

class metrics {
 public:
  metrics();
  ~metrics();
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  /// Records one group commit. Called on the storage writer thread; lock-free.
  void observe_commit(const storage::commit_stats& stats);
  /// Exposes a listener's counters under label listener=`name`. `read` is called at
  /// scrape time from an I/O thread and must stay valid while metrics are rendered.
  void add_listener(std::string name, std::function<http::server_stats()> read);
  /// Exposes the storage writer's queue depth.
  void set_writer_pending(std::function<std::size_t()> read);
  /// Exposes a value read at scrape time (counter when `counter`, else gauge).
  void add_value(std::string name, std::string help, bool counter, std::function<double()> read);
  /// Prometheus text exposition format.
  [[nodiscard]] std::string render() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace parley::engine
