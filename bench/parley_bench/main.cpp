// parley-bench: load generator for Parley (and any endpoint speaking the providers'
// webhook formats). Subcommands: ingest (this issue); send, simulate, mixed and verify
// arrive with the load-testing issue.
#include <CLI/CLI.hpp>

#include <charconv>

#include "ingest.hpp"
#include "simulate.hpp"
#include "verify.hpp"

namespace {

// "30s", "500ms", "2m" or a plain number of seconds.
bool parse_duration(const std::string& text, double& seconds) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || v < 0) return false;
  std::string unit(end, text.data() + text.size());
  if (unit.empty() || unit == "s") seconds = v;
  else if (unit == "ms") seconds = v / 1000;
  else if (unit == "m") seconds = v * 60;
  else return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"parley-bench: signed provider webhook load and measurements", "parley-bench"};
  app.require_subcommand(1);
  parley::bench::ingest_options in;
  std::string duration = "10s";
  auto* ingest = app.add_subcommand("ingest", "flood a target with signed provider webhooks");
  ingest->add_option("--target", in.target, "public listener base URL (http://HOST:PORT)");
  ingest->add_option("--admin", in.admin, "admin base URL: create a tenant and channel for the run");
  ingest->add_option("--admin-token", in.admin_token, "admin bearer token (with --admin)");
  ingest->add_option("--channel-path", in.channel_path, "existing webhook path (/webhooks/whatsapp/ch_…)");
  ingest->add_option("--secret", in.secret, "that channel's secret (Meta app secret, Telegram secret token, Postmark user:password)");
  ingest->add_option("--providers", in.providers, "provider mix, comma-separated: whatsapp,messenger,instagram,telegram,postmark")
      ->delimiter(',');
  ingest->add_option("--connections", in.connections, "keep-alive connections (default 16)");
  ingest->add_option("--rate", in.rate, "requests per second, 0 = as fast as answers come (default 0)");
  ingest->add_option("--duration", duration, "run time, e.g. 30s (default 10s)");
  ingest->add_option("--count", in.count, "stop after this many requests instead");
  ingest->add_option("--contacts", in.contacts, "distinct senders (default 10000)");
  ingest->add_option("--duplicates", in.duplicates, "share of redeliveries of earlier wamids, 0..1 (default 0)");
  ingest->add_option("--body-bytes", in.body_bytes, "approximate webhook body size (default 1024)");
  ingest->add_option("--threads", in.threads, "client I/O threads (default 1)");
  ingest->add_option("--json", in.json_file, "write every figure (and a per-second timeline) to this file");
  ingest->add_option("--svg", in.svg_file, "write a chart of throughput and p50/p99 over time to this file");
  ingest->add_flag("--quiet", in.quiet, "no live progress line");
  parley::bench::verify_options ver;
  auto* verify = app.add_subcommand("verify", "prove an ingest run stored every acknowledged webhook exactly once");
  verify->add_option("--target", ver.target, "public listener base URL (http://HOST:PORT)");
  verify->add_option("--run", ver.run_file, "the ingest run's --json file")->required();
  verify->add_option("--api-key", ver.api_key, "tenant API key (default: the one the run created)");
  verify->add_option("--json", ver.json_file, "write the figures to this file");
  verify->add_flag("--quiet", ver.quiet, "no progress output");
  parley::bench::simulate_options sim;
  std::string sim_latency = "0ms", sim_status_delay = "0ms";
  auto* simulate = app.add_subcommand(
      "simulate", "provider simulator: WhatsApp, Messenger/Instagram, Telegram and Postmark send APIs with status webhooks");
  simulate->add_option("--listen", sim.listen, "HOST:PORT to listen on; port 0 picks a free one (default 127.0.0.1:8090)");
  simulate->add_option("--threads", sim.threads, "I/O threads (default 2)");
  simulate->add_option("--latency", sim_latency, "added delay before every provider answer, e.g. 5ms (default 0ms)");
  simulate->add_option("--error-rate", sim.error_rate, "share of sends answered with a transient 500/503, 0..1 (default 0)");
  simulate->add_option("--throttle-rate", sim.throttle_rate, "share of sends answered 429 throttled, 0..1 (default 0)");
  simulate->add_option("--max-rate", sim.max_rate, "per sender account: sends/s beyond this are throttled, 0 = unlimited");
  simulate->add_option("--status-webhooks", sim.status_webhooks,
                       "default status webhook URL for every account (http://[user:password@]HOST:PORT/path)");
  simulate->add_option("--status-secret", sim.status_secret, "its secret: Meta app secret, or Postmark user:password");
  simulate->add_option("--status-delay", sim_status_delay, "delay before each status webhook, e.g. 20ms (default 0ms)");
  simulate->add_option("--status-connections", sim.status_connections,
                       "keep-alive connections per webhook destination (default 16)");
  simulate->add_option("--status-queue", sim.status_queue,
                       "status jobs queued at most; more are dropped and counted (default 100000)");
  simulate->add_option("--status-retries", sim.status_retries,
                       "retries of a failed status webhook, with doubling backoff (default 3)");
  simulate->add_option("--record-limit", sim.record_limit,
                       "sends kept for GET /_sim/sends, oldest dropped first; 0 = all (default 100000)");
  simulate->add_option("--seed", sim.seed, "seed of the injected throttles and errors (default 1)");
  simulate->add_flag("--quiet", sim.quiet, "no progress line");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (ingest->parsed() && !parse_duration(duration, in.duration_s)) {
    std::fprintf(stderr, "parley-bench: --duration must look like 30s, 500ms or 2m\n");
    return 2;
  }
  if (ingest->parsed() && (in.duplicates < 0 || in.duplicates > 1 || in.connections == 0)) {
    std::fprintf(stderr, "parley-bench: --duplicates must be in 0..1 and --connections at least 1\n");
    return 2;
  }
  if (simulate->parsed()) {
    double latency_s = 0, status_delay_s = 0;
    if (!parse_duration(sim_latency, latency_s) || !parse_duration(sim_status_delay, status_delay_s)) {
      std::fprintf(stderr, "parley-bench: --latency and --status-delay must look like 5ms, 1s or 0\n");
      return 2;
    }
    sim.latency_ms = latency_s * 1000;
    sim.status_delay_ms = status_delay_s * 1000;
    return parley::bench::run_simulate(sim);
  }
  if (verify->parsed()) return parley::bench::run_verify(ver);
  if (ingest->parsed()) return parley::bench::run_ingest(in);
  return 2;
}
