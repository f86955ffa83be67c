#include "load.hpp"

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "http_client.hpp"
#include "pacer.hpp"

namespace parley::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

struct shared_run {
  const load_options* o = nullptr;
  const request_maker* make = nullptr;
  const std::function<bool(int)>* success = nullptr;
  url target;
  clock_type::time_point start, stop_at;
  std::atomic<std::uint64_t> issued{0}, ok{0}, errors{0}, duplicates{0};
  std::mutex mutex;
  histogram latency;  ///< whole run
  histogram window;   ///< since the last progress line
  std::map<int, std::uint64_t> statuses;
  std::vector<std::string> acknowledged;
};

// An answer's status line and framing, nothing else: the load engine needs the status
// and whether the connection stays open. Unlike a response message, it keeps no header
// fields or body (Beast allocates a node per field), so reading an answer allocates
// nothing; the body is still read to its end, chunked or not, and counted.
class status_parser : public http::basic_parser<false> {
 public:
  [[nodiscard]] int status() const { return status_; }

 private:
  void on_request_impl(http::verb, beast::string_view, beast::string_view, int, beast::error_code&) override {}
  void on_response_impl(int code, beast::string_view, int, beast::error_code&) override { status_ = code; }
  void on_field_impl(http::field, beast::string_view, beast::string_view, beast::error_code&) override {}
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, beast::error_code&) override {}
  std::size_t on_body_impl(beast::string_view body, beast::error_code&) override { return body.size(); }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, beast::error_code&) override {
    return body.size();
  }
  void on_finish_impl(beast::error_code&) override {}

  int status_ = 0;
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(asio::io_context& io, shared_run& run, std::size_t index)
      : run_(run),
        // A strand only when several threads run the context: with one (the default)
        // the connection's handlers are already serial, and a strand's bookkeeping is
        // paid on every completion.
        stream_(run.o->threads > 1 ? asio::any_io_executor(asio::make_strand(io))
                                   : asio::any_io_executor(io.get_executor())),
        timer_(stream_.get_executor()),
        index_(index),
        rng_(index * 7919 + 17),
        pacer_(run.o->rate, run.o->connections, index) {}

  void start(const tcp::resolver::results_type& endpoints) {
    endpoints_ = endpoints;
    stream_.async_connect(endpoints, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return self->fail();
      self->schedule(self->pacer_.start(clock_type::now()));
    });
  }

 private:
  bool budget_left() {
    if (run_.o->count > 0) return run_.issued.fetch_add(1) < run_.o->count;
    if (clock_type::now() >= run_.stop_at) return false;
    ++run_.issued;
    return true;
  }

  // Sends the next request at its slot (see pacer.hpp), if the run has budget left.
  void schedule(clock_type::time_point due) {
    if (!budget_left()) return;
    if (due > clock_type::now()) {
      timer_.expires_at(due);
      timer_.async_wait([self = shared_from_this()](beast::error_code) { self->send(); });
      return;
    }
    send();
  }

  void send() {
    auto spec = (*run_.make)(index_, counter_++, rng_);
    if (spec.duplicate) ++run_.duplicates;
    tag_ = std::move(spec.tag);
    // Written by hand into the connection's one buffer: Beast's serializer (a heap node
    // per header field, buffer-sequence views) cost the client more than the rest of a
    // request, on the cores it shares with the server under test.
    if (!serialize_request(spec, run_.target.host, out_)) return fail();
    asio::async_write(stream_, asio::buffer(out_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->fail();
      self->res_.emplace();
      http::async_read(self->stream_, self->buffer_, *self->res_, [self](beast::error_code ec2, std::size_t) {
        if (ec2) return self->fail();
        self->done(self->res_->status());
      });
    });
  }

  void done(int status) {
    auto now = clock_type::now();
    auto micros = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(now - pacer_.intended()).count());
    bool good = (*run_.success)(status);
    {
      std::lock_guard lock(run_.mutex);
      run_.latency.record(micros);
      run_.window.record(micros);
      ++run_.statuses[status];
      if (good && !tag_.empty()) run_.acknowledged.push_back(std::move(tag_));
    }
    if (good) ++run_.ok;
    else ++run_.errors;
    auto due = pacer_.next(now);
    if (res_->keep_alive()) return schedule(due);
    // The server closes this connection after its answer (nginx does after
    // `keepalive_requests`): open a new one, as an HTTP client must, and go on.
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    stream_.async_connect(endpoints_, [self = shared_from_this(), due](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return self->fail();
      self->buffer_.clear();
      self->schedule(due);
    });
  }

  void fail() {
    ++run_.errors;
    std::lock_guard lock(run_.mutex);
    ++run_.statuses[0];
  }

  shared_run& run_;
  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  std::size_t index_;
  std::mt19937_64 rng_;
  pacer pacer_;
  tcp::resolver::results_type endpoints_;
  std::uint64_t counter_ = 0;
  std::string tag_;
  beast::flat_buffer buffer_;
  std::string out_;  ///< the request being written; its capacity is kept between requests
  std::optional<status_parser> res_;  ///< a fresh one per answer (a parser reads one message)
};

}  // namespace

bool serialize_request(const request_spec& spec, std::string_view host, std::string& out) {
  out.clear();
  auto splits = [](std::string_view v, std::string_view bad) { return v.find_first_of(bad) != std::string_view::npos; };
  if (spec.method.empty() || splits(spec.method, " \r\n") || spec.path.empty() || splits(spec.path, " \r\n") ||
      splits(host, "\r\n")) {
    return false;
  }
  for (const auto& [name, value] : spec.headers) {
    if (name.empty() || splits(name, ":\r\n ") || splits(value, "\r\n")) return false;
  }
  const bool carries_body =
      !spec.body.empty() || spec.method == "POST" || spec.method == "PUT" || spec.method == "PATCH";
  std::size_t size = spec.method.size() + spec.path.size() + host.size() + spec.body.size() + 96;
  for (const auto& [name, value] : spec.headers) size += name.size() + value.size() + 4;
  out.reserve(size);
  out.append(spec.method).append(" ").append(spec.path).append(" HTTP/1.1\r\nHost: ");
  out.append(host).append("\r\nContent-Type: application/json\r\n");
  for (const auto& [name, value] : spec.headers) out.append(name).append(": ").append(value).append("\r\n");
  if (carries_body) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, spec.body.size()).ptr;
    out.append("Content-Length: ").append(digits, end).append("\r\n");
  }
  out.append("\r\n").append(spec.body);
  return true;
}

load_result run_load(const load_options& o, const request_maker& make, const std::function<bool(int)>& success) {
  load_result out;
  shared_run run;
  run.o = &o;
  run.make = &make;
  run.success = &success;
  auto target = parse_url(o.target);
  if (!target) {
    out.errors = 1;
    return out;
  }
  run.target = *target;
  asio::io_context io;
  tcp::resolver resolver(io);
  beast::error_code ec;
  auto endpoints = resolver.resolve(run.target.host, run.target.port, ec);
  if (ec) {
    out.errors = 1;
    return out;
  }
  run.start = clock_type::now();
  run.stop_at = run.start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.duration_s));
  for (std::size_t i = 0; i < o.connections; ++i) std::make_shared<connection>(io, run, i)->start(endpoints);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < std::max<std::size_t>(o.threads, 1); ++i) threads.emplace_back([&io] { io.run(); });

  // Progress: one line, rewritten every second, until the I/O threads run dry.
  std::atomic<bool> finished{false};
  std::thread progress([&] {
    auto last = clock_type::now();
    std::uint64_t last_ok = 0;
    while (!finished) {
      std::this_thread::sleep_for(std::chrono::seconds(1));  // a display cadence, not synchronization
      auto now = clock_type::now();
      double dt = std::chrono::duration<double>(now - last).count();
      std::uint64_t okv = run.ok.load();
      histogram window;
      {
        std::lock_guard lock(run.mutex);
        window = run.window;
        run.window.reset();
      }
      double elapsed = std::chrono::duration<double>(now - run.start).count();
      double rate = static_cast<double>(okv - last_ok) / dt;
      double p50 = static_cast<double>(window.quantile(0.5)) / 1000.0;
      double p99 = static_cast<double>(window.quantile(0.99)) / 1000.0;
      out.timeline.push_back(sample{elapsed, rate, p50, p99, run.errors.load()});
      if (!o.quiet) {
        std::fprintf(stderr, "\r%8.0f req/s  errors %-6llu  p50 %6.2f ms  p99 %7.2f ms  elapsed %5.1fs  remaining %5.1fs   ",
                     rate, static_cast<unsigned long long>(run.errors.load()), p50, p99, elapsed,
                     o.count > 0 ? 0.0 : std::max(0.0, o.duration_s - elapsed));
      }
      last = now;
      last_ok = okv;
    }
  });
  for (auto& t : threads) t.join();
  out.elapsed_s = std::chrono::duration<double>(clock_type::now() - run.start).count();
  finished = true;
  progress.join();
  if (!o.quiet) std::fprintf(stderr, "\n");
  out.ok = run.ok.load();
  out.errors = run.errors.load();
  out.duplicates = run.duplicates.load();
  out.latency = run.latency;
  out.statuses = std::move(run.statuses);
  out.acknowledged = std::move(run.acknowledged);
  return out;
}

void print_load_report(const std::string& title, const load_options& o, const load_result& r) {
  const auto& h = r.latency;
  std::printf("%s\n", title.c_str());
  std::printf("  connections %zu, %s, %.1f s\n", o.connections,
              o.rate > 0 ? ("fixed rate " + std::to_string(static_cast<long>(o.rate)) + "/s").c_str() : "closed loop",
              r.elapsed_s);
  std::printf("  requests %llu  ok %llu  errors %llu  duplicates sent %llu\n", static_cast<unsigned long long>(h.count()),
              static_cast<unsigned long long>(r.ok), static_cast<unsigned long long>(r.errors),
              static_cast<unsigned long long>(r.duplicates));
  std::printf("  throughput %.0f acknowledged requests/s\n", r.throughput());
  std::printf("  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", h.quantile(0.5) / 1000.0,
              h.quantile(0.9) / 1000.0, h.quantile(0.99) / 1000.0, h.quantile(0.999) / 1000.0, h.max() / 1000.0);
  for (const auto& [code, n] : r.statuses) {
    std::printf("  status %d: %llu\n", code, static_cast<unsigned long long>(n));
  }
}

std::string load_json_fields(const load_options& o, const load_result& r) {
  const auto& h = r.latency;
  std::ostringstream out;
  out << "{\"target\":\"" << o.target << "\",\"connections\":" << o.connections << ",\"rate\":" << o.rate
      << ",\"elapsed_s\":" << r.elapsed_s << ",\"requests\":" << h.count() << ",\"ok\":" << r.ok
      << ",\"errors\":" << r.errors << ",\"duplicates_sent\":" << r.duplicates << ",\"throughput\":" << r.throughput()
      << ",\"latency_us\":{\"p50\":" << h.quantile(0.5) << ",\"p90\":" << h.quantile(0.9) << ",\"p99\":" << h.quantile(0.99)
      << ",\"p999\":" << h.quantile(0.999) << ",\"max\":" << h.max() << "},\"statuses\":{";
  bool first = true;
  for (const auto& [code, n] : r.statuses) {
    out << (first ? "" : ",") << "\"" << code << "\":" << n;
    first = false;
  }
  out << "},\"timeline\":[";
  for (std::size_t i = 0; i < r.timeline.size(); ++i) {
    const auto& s = r.timeline[i];
    out << (i ? "," : "") << "{\"t\":" << s.t_s << ",\"rate\":" << s.rate << ",\"p50_ms\":" << s.p50_ms
        << ",\"p99_ms\":" << s.p99_ms << ",\"errors\":" << s.errors << "}";
  }
  out << "]";
  return out.str();
}

}  // namespace parley::bench
