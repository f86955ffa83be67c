// parley-jetstream-pub: the JetStream peer of BENCH.md. Publishes messages of a fixed
// size to a NATS JetStream file-storage stream, each with a unique `Nats-Msg-Id` (so the
// stream's duplicate window is exercised like Parley's dedup), publish-with-ack: a
// publish counts when the stream's ack arrives. N connections each keep one publish in
// flight, closed loop, like parley-bench's keep-alive connections and redis-benchmark's
// clients.
//
// It speaks the NATS client protocol directly (CONNECT, HPUB with a reply inbox, MSG),
// about 200 lines, so the comparison needs no client library outside Debian.
//
//   nats-server -js -sd /tmp/js -p 14222 &
//   build/bench/parley-jetstream-pub --port 14222 --connections 64 --duration 10 --bytes 1024
#include <CLI/CLI.hpp>

#include <boost/asio.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "parley_bench/histogram.hpp"

namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

struct options {
  std::string host = "127.0.0.1";
  std::string port = "4222";
  std::string stream = "PARLEYBENCH";
  std::size_t connections = 64;
  double duration_s = 10;
  std::size_t bytes = 1024;
  std::string json_file;
};

struct totals {
  std::atomic<std::uint64_t> acked{0}, errors{0};
  std::mutex mutex;
  parley::bench::histogram latency;
  clock_type::time_point stop_at;
};

// One protocol line ("\r\n" stripped) from the connection.
awaitable<std::string> read_line(tcp::socket& s, asio::streambuf& buf) {
  std::size_t n = co_await asio::async_read_until(s, buf, "\r\n", use_awaitable);
  std::string line(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + static_cast<std::ptrdiff_t>(n - 2));
  buf.consume(n);
  co_return line;
}

// The payload of a MSG/HMSG whose header line said it is `size` bytes long.
awaitable<std::string> read_payload(tcp::socket& s, asio::streambuf& buf, std::size_t size) {
  if (buf.size() < size + 2) co_await asio::async_read(s, buf, asio::transfer_exactly(size + 2 - buf.size()), use_awaitable);
  std::string payload(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + static_cast<std::ptrdiff_t>(size));
  buf.consume(size + 2);
  co_return payload;
}

// Waits for the next message delivered to our inbox, answering server PINGs meanwhile.
// Returns its payload (for HMSG: headers and body), or throws on -ERR.
awaitable<std::string> next_message(tcp::socket& s, asio::streambuf& buf) {
  for (;;) {
    std::string line = co_await read_line(s, buf);
    if (line.rfind("MSG ", 0) == 0 || line.rfind("HMSG ", 0) == 0) {
      std::size_t size = std::stoul(line.substr(line.rfind(' ') + 1));
      co_return co_await read_payload(s, buf, size);
    }
    if (line == "PING") co_await asio::async_write(s, asio::buffer(std::string("PONG\r\n")), use_awaitable);
    else if (line.rfind("-ERR", 0) == 0) throw std::runtime_error("nats: " + line);
    // INFO, +OK, PONG: nothing to do.
  }
}

awaitable<void> handshake(tcp::socket& s, asio::streambuf& buf, const std::string& inbox) {
  (void)co_await read_line(s, buf);  // INFO
  std::string hello =
      R"(CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1,"name":"parley-bench"})"
      "\r\nSUB " + inbox + ".* 1\r\nPING\r\n";
  co_await asio::async_write(s, asio::buffer(hello), use_awaitable);
  for (;;) {
    std::string line = co_await read_line(s, buf);
    if (line == "PONG") break;
    if (line.rfind("-ERR", 0) == 0) throw std::runtime_error("nats: " + line);
  }
}

awaitable<void> publisher(tcp::endpoint ep, const options& o, totals& t, std::size_t index, bool create_stream) {
  tcp::socket s(co_await asio::this_coro::executor);
  co_await s.async_connect(ep, use_awaitable);
  s.set_option(tcp::no_delay(true));
  asio::streambuf buf;
  std::string inbox = "_INBOX.pb" + std::to_string(index);
  co_await handshake(s, buf, inbox);
  if (create_stream) {
    // File storage, a 2-minute duplicate window (nanoseconds), the server's default fsync.
    std::string config = R"({"name":")" + o.stream + R"(","subjects":["parleybench.>"],"storage":"file",)"
                         R"("duplicate_window":120000000000})";
    std::string pub = "PUB $JS.API.STREAM.CREATE." + o.stream + " " + inbox + ".create " + std::to_string(config.size()) +
                      "\r\n" + config + "\r\n";
    co_await asio::async_write(s, asio::buffer(pub), use_awaitable);
    std::string answer = co_await next_message(s, buf);
    if (answer.find("\"error\"") != std::string::npos && answer.find("already in use") == std::string::npos) {
      throw std::runtime_error("stream create: " + answer);
    }
    co_return;
  }
  std::string body(o.bytes, 'x');
  std::uint64_t n = 0;
  while (clock_type::now() < t.stop_at) {
    std::string headers = "NATS/1.0\r\nNats-Msg-Id: " + std::to_string(index) + "-" + std::to_string(n++) + "\r\n\r\n";
    std::string frame = "HPUB parleybench.in " + inbox + ".a " + std::to_string(headers.size()) + " " +
                        std::to_string(headers.size() + body.size()) + "\r\n" + headers + body + "\r\n";
    auto sent = clock_type::now();
    co_await asio::async_write(s, asio::buffer(frame), use_awaitable);
    std::string ack = co_await next_message(s, buf);
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - sent).count();
    // A PubAck is {"stream":…,"seq":…}; anything else (an error, "no responders") is a failure.
    if (ack.find("\"seq\"") == std::string::npos || ack.find("\"error\"") != std::string::npos) {
      ++t.errors;
      continue;
    }
    ++t.acked;
    std::lock_guard lock(t.mutex);
    t.latency.record(static_cast<std::uint64_t>(micros));
  }
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"parley-jetstream-pub: JetStream publish-with-ack load (the durable-log peer of BENCH.md)"};
  app.add_option("--host", o.host, "nats-server host (default 127.0.0.1)");
  app.add_option("--port", o.port, "nats-server port (default 4222)");
  app.add_option("--stream", o.stream, "stream to create (file storage) and publish to");
  app.add_option("--connections", o.connections, "connections, one publish in flight each (default 64)");
  app.add_option("--duration", o.duration_s, "seconds (default 10)");
  app.add_option("--bytes", o.bytes, "message size (default 1024)");
  app.add_option("--json", o.json_file, "write the figures to this file");
  CLI11_PARSE(app, argc, argv);

  asio::io_context io;
  tcp::resolver resolver(io);
  auto ep = *resolver.resolve(o.host, o.port).begin();
  totals t;
  std::string failure;
  auto on_done = [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      ++t.errors;
      if (failure.empty()) failure = ex.what();
    }
  };
  asio::co_spawn(io, publisher(ep, o, t, 0, true), on_done);
  io.run();
  if (!failure.empty()) {
    std::fprintf(stderr, "parley-jetstream-pub: %s\n", failure.c_str());
    return 1;
  }
  io.restart();
  auto start = clock_type::now();
  t.stop_at = start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.duration_s));
  for (std::size_t i = 0; i < o.connections; ++i) asio::co_spawn(io, publisher(ep, o, t, i + 1, false), on_done);
  io.run();
  double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
  double rate = static_cast<double>(t.acked.load()) / elapsed;
  std::printf("parley-jetstream-pub: %zu connections, %zu B, %.1f s: %llu acked, %llu errors, %.0f acked publishes/s\n",
              o.connections, o.bytes, elapsed, static_cast<unsigned long long>(t.acked.load()),
              static_cast<unsigned long long>(t.errors.load()), rate);
  std::printf("  latency ms: p50 %.2f  p99 %.2f  p99.9 %.2f\n", t.latency.quantile(0.5) / 1000.0,
              t.latency.quantile(0.99) / 1000.0, t.latency.quantile(0.999) / 1000.0);
  if (!failure.empty()) std::fprintf(stderr, "parley-jetstream-pub: %s\n", failure.c_str());
  if (!o.json_file.empty()) {
    std::ofstream out(o.json_file);
    out << "{\"throughput\":" << rate << ",\"acked\":" << t.acked.load() << ",\"errors\":" << t.errors.load()
        << ",\"latency_us\":{\"p50\":" << t.latency.quantile(0.5) << ",\"p99\":" << t.latency.quantile(0.99)
        << ",\"p999\":" << t.latency.quantile(0.999) << "}}\n";
  }
  return t.errors.load() == 0 ? 0 : 1;
}
