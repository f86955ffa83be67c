#include "app/metrics.hpp"

#include <dirent.h>
#include <dlfcn.h>
#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <mutex>
#include <optional>
#include <sstream>
#include <vector>

namespace parley::engine {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily gauge_family(std::string name, std::string help, double value, MetricType type = MetricType::Gauge) {
  MetricFamily f{std::move(name), std::move(help), type, {}};
  ClientMetric m;
  if (type == MetricType::Counter) m.counter.value = value;
  else m.gauge.value = value;
  f.metric.push_back(std::move(m));
  return f;
}

// process_* metrics as the Prometheus client libraries define them, read from /proc.
class process_collector final : public prometheus::Collectable {
 public:
  process_collector() {
    std::ifstream stat("/proc/self/stat");
    std::string line;
    std::getline(stat, line);
    auto fields = split_stat(line);
    double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    double boot = boot_time();
    if (fields.size() > 21) start_time_ = boot + std::stod(fields[21]) / ticks;
  }

  std::vector<MetricFamily> Collect() const override {
    std::vector<MetricFamily> out;
    std::ifstream stat("/proc/self/stat");
    std::string line;
    std::getline(stat, line);
    auto fields = split_stat(line);
    double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    if (fields.size() > 23) {
      double cpu = (std::stod(fields[13]) + std::stod(fields[14])) / ticks;
      out.push_back(gauge_family("process_cpu_seconds_total", "User and system CPU time spent in seconds.", cpu, MetricType::Counter));
      out.push_back(gauge_family("process_virtual_memory_bytes", "Virtual memory size in bytes.", std::stod(fields[22])));
      out.push_back(gauge_family("process_resident_memory_bytes", "Resident memory size in bytes.", std::stod(fields[23]) * page));
    }
    out.push_back(gauge_family("process_open_fds", "Number of open file descriptors.", static_cast<double>(open_fds())));
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
      out.push_back(gauge_family("process_max_fds", "Maximum number of open file descriptors.", static_cast<double>(limit.rlim_cur)));
    }
    out.push_back(gauge_family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", start_time_));
    collect_heap(out);
    return out;
  }

 private:
  // Fields of /proc/self/stat, numbered from 0 = pid; the command name may hold spaces,
  // so split after its closing parenthesis.
  static std::vector<std::string> split_stat(const std::string& line) {
    std::vector<std::string> fields;
    auto close = line.rfind(')');
    if (close == std::string::npos) return fields;
    fields.push_back(line.substr(0, line.find(' ')));
    fields.push_back(line.substr(line.find('(') + 1, close - line.find('(') - 1));
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    while (rest >> field) fields.push_back(field);
    return fields;
  }
  static double boot_time() {
    std::ifstream stat("/proc/stat");
    std::string key;
    while (stat >> key) {
      if (key == "btime") {
        double t = 0;
        stat >> t;
        return t;
      }
    }
    return 0;
  }
  static std::size_t open_fds() {
    std::size_t n = 0;
    if (DIR* dir = opendir("/proc/self/fd")) {
      while (readdir(dir) != nullptr) ++n;
      closedir(dir);
    }
    return n >= 3 ? n - 3 : 0;  // ".", ".." and the directory's own fd
  }
  // The allocator, and with jemalloc (parleyd's release build links it) what its heap
  // holds. mallctl is looked up at run time, so the figures appear whenever jemalloc
  // serves the process, linked or preloaded; with glibc's malloc there is only the info.
  void collect_heap(std::vector<MetricFamily>& out) const {
    using mallctl_fn = int (*)(const char*, void*, std::size_t*, void*, std::size_t);
    static const auto mallctl = reinterpret_cast<mallctl_fn>(dlsym(RTLD_DEFAULT, "mallctl"));
    MetricFamily info{
        "parley_heap_allocator_info", "The memory allocator serving the process (value 1).", MetricType::Gauge, {}};
    ClientMetric m;
    m.label.push_back({"allocator", mallctl != nullptr ? "jemalloc" : "glibc"});
    m.gauge.value = 1;
    info.metric.push_back(std::move(m));
    out.push_back(std::move(info));
    if (mallctl == nullptr) return;
    std::uint64_t epoch = 1;
    std::size_t size = sizeof(epoch);
    if (mallctl("epoch", &epoch, &size, &epoch, size) != 0) return;  // refreshes the statistics
    auto read = [&](const char* name) -> std::optional<double> {
      std::size_t value = 0;
      std::size_t n = sizeof(value);
      if (mallctl(name, &value, &n, nullptr, 0) != 0) return std::nullopt;
      return static_cast<double>(value);
    };
    if (auto v = read("stats.allocated")) {
      out.push_back(
          gauge_family("parley_heap_allocated_bytes", "Bytes the application holds allocated (jemalloc).", *v));
    }
    if (auto v = read("stats.resident")) {
      out.push_back(gauge_family(
          "parley_heap_resident_bytes",
          "Bytes of physical memory the allocator holds, freed pages not yet returned included (jemalloc).", *v));
    }
  }

  double start_time_ = 0;
};

// HTTP listener counters and other values read at scrape time.
class callback_collector final : public prometheus::Collectable {
 public:
  void add_listener(std::string name, std::function<http::server_stats()> read) {
    std::lock_guard lock(mutex_);
    listeners_.emplace_back(std::move(name), std::move(read));
  }
  void add_value(std::string name, std::string help, bool counter, std::function<double()> read) {
    std::lock_guard lock(mutex_);
    values_.push_back(value_source{std::move(name), std::move(help), counter, std::move(read)});
  }
  void set_pending(std::function<std::size_t()> read) {
    std::lock_guard lock(mutex_);
    pending_ = std::move(read);
  }

  std::vector<MetricFamily> Collect() const override {
    std::lock_guard lock(mutex_);
    MetricFamily requests{"parley_http_requests_total", "HTTP requests received, by listener.", MetricType::Counter, {}};
    MetricFamily responses{"parley_http_responses_total", "HTTP responses sent, by listener and status class.", MetricType::Counter, {}};
    MetricFamily active{"parley_http_connections_active", "Open HTTP connections, by listener.", MetricType::Gauge, {}};
    MetricFamily accepted{"parley_http_connections_accepted_total", "HTTP connections accepted, by listener.", MetricType::Counter, {}};
    MetricFamily rejected{"parley_http_connections_rejected_total", "Connections closed at accept because the listener was at its connection limit.", MetricType::Counter, {}};
    MetricFamily timeouts{"parley_http_timeouts_total", "Connections closed by a header, body or idle timeout.", MetricType::Counter, {}};
    MetricFamily handling{"parley_http_request_duration_seconds",
                          "Time from a request read whole to its response started, by listener (queueing inside parleyd included).",
                          MetricType::Histogram, {}};
    for (const auto& listener : listeners_) {
      const std::string& name = listener.first;  // not a structured binding: clang 14 cannot capture those
      auto s = listener.second();
      auto add = [&](MetricFamily& f, double v, std::vector<ClientMetric::Label> extra = {}) {
        ClientMetric m;
        m.label.push_back({"listener", name});
        for (auto& l : extra) m.label.push_back(std::move(l));
        if (f.type == MetricType::Counter) m.counter.value = v;
        else m.gauge.value = v;
        f.metric.push_back(std::move(m));
      };
      add(requests, static_cast<double>(s.requests));
      add(responses, static_cast<double>(s.responses_2xx), {{"class", "2xx"}});
      add(responses, static_cast<double>(s.responses_4xx), {{"class", "4xx"}});
      add(responses, static_cast<double>(s.responses_5xx), {{"class", "5xx"}});
      add(active, static_cast<double>(s.connections_active));
      add(accepted, static_cast<double>(s.connections_accepted));
      add(rejected, static_cast<double>(s.connections_rejected));
      add(timeouts, static_cast<double>(s.timeouts));
      ClientMetric h;
      h.label.push_back({"listener", name});
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < s.handling_counts.size(); ++i) {
        cumulative += s.handling_counts[i];
        bool last = i + 1 == s.handling_counts.size();
        h.histogram.bucket.push_back({cumulative, last ? std::numeric_limits<double>::infinity() : http::handling_bucket_bound(i)});
      }
      h.histogram.sample_count = cumulative;
      h.histogram.sample_sum = s.handling_seconds_sum;
      handling.metric.push_back(std::move(h));
    }
    std::vector<MetricFamily> out = {requests, responses, active, accepted, rejected, timeouts, handling};
    for (const auto& v : values_) {
      out.push_back(gauge_family(v.name, v.help, v.read(), v.counter ? MetricType::Counter : MetricType::Gauge));
    }
    if (pending_) {
      out.push_back(gauge_family("parley_storage_writer_pending_groups", "Append groups queued for the next commits.",
                                 static_cast<double>(pending_())));
    }
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, std::function<http::server_stats()>>> listeners_;
  std::function<std::size_t()> pending_;
  struct value_source {
    std::string name, help;
    bool counter;
    std::function<double()> read;
  };
  std::vector<value_source> values_;
};

prometheus::Histogram::BucketBoundaries exponential(double start, double factor, int count) {
  prometheus::Histogram::BucketBoundaries b;
  for (int i = 0; i < count; ++i, start *= factor) b.push_back(start);
  return b;
}

}  // namespace

struct metrics::impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::shared_ptr<process_collector> process = std::make_shared<process_collector>();
  std::shared_ptr<callback_collector> callbacks = std::make_shared<callback_collector>();
  prometheus::Histogram* commit_seconds = nullptr;
  prometheus::Histogram* batch_groups = nullptr;
  prometheus::Histogram* batch_records = nullptr;
  prometheus::Counter* records = nullptr;
  prometheus::Counter* bytes = nullptr;
  prometheus::Counter* duplicates = nullptr;
  prometheus::Counter* failures = nullptr;
};

metrics::metrics() : impl_(std::make_unique<impl>()) {
  auto& r = *impl_->registry;
  impl_->commit_seconds = &prometheus::BuildHistogram()
                               .Name("parley_storage_commit_seconds")
                               .Help("Time of one group commit: the WriteBatch write including its WAL fsync.")
                               .Register(r)
                               .Add({}, exponential(0.00005, 2, 16));
  impl_->batch_groups = &prometheus::BuildHistogram()
                             .Name("parley_storage_commit_batch_groups")
                             .Help("Append groups (e.g. webhooks) per group commit.")
                             .Register(r)
                             .Add({}, exponential(1, 2, 13));
  impl_->batch_records = &prometheus::BuildHistogram()
                              .Name("parley_storage_commit_batch_records")
                              .Help("Records written per group commit.")
                              .Register(r)
                              .Add({}, exponential(1, 2, 15));
  impl_->records = &prometheus::BuildCounter().Name("parley_storage_records_written_total").Help("Records written.").Register(r).Add({});
  impl_->bytes = &prometheus::BuildCounter().Name("parley_storage_bytes_written_total").Help("Key and value bytes written.").Register(r).Add({});
  impl_->duplicates = &prometheus::BuildCounter()
                           .Name("parley_storage_duplicates_total")
                           .Help("Append groups refused because a dedup guard key was already stored.")
                           .Register(r)
                           .Add({});
  impl_->failures = &prometheus::BuildCounter().Name("parley_storage_commit_failures_total").Help("Group commits that failed.").Register(r).Add({});
}

metrics::~metrics() = default;

void metrics::observe_commit(const storage::commit_stats& s) {
  if (s.records > 0) {
    impl_->commit_seconds->Observe(std::chrono::duration<double>(s.write_time).count());
    impl_->batch_records->Observe(static_cast<double>(s.records));
  }
  impl_->batch_groups->Observe(static_cast<double>(s.groups));
  impl_->records->Increment(static_cast<double>(s.records));
  impl_->bytes->Increment(static_cast<double>(s.bytes));
  impl_->duplicates->Increment(static_cast<double>(s.duplicates));
  if (!s.ok) impl_->failures->Increment();
}

void metrics::add_listener(std::string name, std::function<http::server_stats()> read) {
  impl_->callbacks->add_listener(std::move(name), std::move(read));
}

void metrics::add_value(std::string name, std::string help, bool counter, std::function<double()> read) {
  impl_->callbacks->add_value(std::move(name), std::move(help), counter, std::move(read));
}

void metrics::set_writer_pending(std::function<std::size_t()> read) { impl_->callbacks->set_pending(std::move(read)); }

std::string metrics::render() const {
  auto families = impl_->registry->Collect();
  // prometheus-cpp's Registry only holds its own families; custom collectors are
  // collected here.
  for (const prometheus::Collectable* c : {static_cast<const prometheus::Collectable*>(impl_->callbacks.get()),
                                           static_cast<const prometheus::Collectable*>(impl_->process.get())}) {
    auto extra = c->Collect();
    families.insert(families.end(), std::make_move_iterator(extra.begin()), std::make_move_iterator(extra.end()));
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace parley::engine
