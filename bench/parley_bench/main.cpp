// parley-bench: load generator for Parley (and any endpoint speaking the providers'
// webhook formats). Subcommands: ingest, send, mixed, simulate and verify.
#include <CLI/CLI.hpp>

#include <charconv>

#include "ingest.hpp"
#include "send.hpp"
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
  // send (W2) and mixed (W3) share their flags.
  parley::bench::send_options snd;
  std::string send_duration = "10s";
  parley::bench::ingest_options mixed_in;
  std::string mixed_inbound_duration;
  auto add_send_flags = [&](CLI::App* cmd) {
    cmd->add_option("--target", snd.target, "public listener base URL (http://HOST:PORT)");
    cmd->add_option("--api-key", snd.api_key, "an existing tenant's API key (scope send)");
    cmd->add_option("--channel-id", snd.channel_id, "the channel to send on (with --api-key)");
    cmd->add_option("--admin", snd.admin, "admin base URL: create a tenant and a WhatsApp channel for the run");
    cmd->add_option("--admin-token", snd.admin_token, "admin bearer token (with --admin)");
    cmd->add_option("--simulator", snd.simulator, "parley-bench simulate base URL: the channel's provider; measures delivered/s");
    cmd->add_option("--connections", snd.connections, "keep-alive connections (default 16)");
    cmd->add_option("--rate", snd.rate, "requests per second, 0 = as fast as answers come (default 0)");
    cmd->add_option("--duration", send_duration, "run time, e.g. 30s (default 10s)");
    cmd->add_option("--count", snd.count, "stop after this many requests instead");
    cmd->add_option("--contacts", snd.contacts, "recipients; with --admin their windows are opened first (default 1000)");
    cmd->add_option("--batch", snd.batch, "send through /v1/messages/batch, this many messages per request");
    cmd->add_option("--type", snd.type, "text (default) or template");
    cmd->add_option("--priority", snd.priority, "conversational (default) or bulk");
    cmd->add_option("--threads", snd.threads, "client I/O threads (default 1)");
    cmd->add_option("--json", snd.json_file, "write every figure to this file");
    cmd->add_option("--svg", snd.svg_file, "write a chart of throughput and p50/p99 over time to this file");
    cmd->add_flag("--quiet", snd.quiet, "no live progress line");
  };
  auto* send = app.add_subcommand("send", "flood POST /v1/messages (or /batch) through the tenant API (W2)");
  add_send_flags(send);
  auto* mixed = app.add_subcommand("mixed", "sends, the three status webhooks each causes, and inbound webhooks together (W3)");
  add_send_flags(mixed);
  mixed->add_option("--inbound-rate", mixed_in.rate, "inbound webhooks per second, 0 = as fast as answers come (default 0)");
  mixed->add_option("--inbound-connections", mixed_in.connections, "inbound keep-alive connections (default 16)");
  mixed->add_option("--inbound-contacts", mixed_in.contacts, "distinct inbound senders (default 10000)");
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
  if (send->parsed() || mixed->parsed()) {
    if (!parse_duration(send_duration, snd.duration_s) || snd.connections == 0) {
      std::fprintf(stderr, "parley-bench: --duration must look like 30s, 500ms or 2m and --connections at least 1\n");
      return 2;
    }
    if (snd.type != "text" && snd.type != "template") {
      std::fprintf(stderr, "parley-bench: --type is text or template\n");
      return 2;
    }
    if (send->parsed()) return parley::bench::run_send(snd);
    mixed_in.duration_s = snd.duration_s;
    mixed_in.count = 0;
    return parley::bench::run_mixed(snd, mixed_in);
  }
  if (verify->parsed()) return parley::bench::run_verify(ver);
  if (ingest->parsed()) return parley::bench::run_ingest(in);
  return 2;
}
