#include "send.hpp"

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>

#include "http_client.hpp"
#include "load.hpp"
#include "payloads.hpp"

namespace parley::bench {
namespace {

namespace json = boost::json;
using clock_type = std::chrono::steady_clock;

std::string recipient(std::uint64_t contact) { return "1555" + std::to_string(1'000'000 + contact); }

// What the run talks to: the tenant's key and channel, and (when the bench made them) the
// channel's webhook path and secret for inbound traffic and status routes.
struct setup {
  std::string api_key, channel_id, tenant;
  channel_target inbound;
};

// Creates a tenant and a WhatsApp channel sending to the simulator without pacing (W2 is
// "pacing unlimited").
bool set_up(const send_options& o, setup& s) {
  auto admin = parse_url(o.admin);
  auto pub = parse_url(o.target);
  if (!admin || !pub || o.simulator.empty()) {
    std::fprintf(stderr, "parley-bench: --admin, --target and --simulator must be http://HOST:PORT\n");
    return false;
  }
  std::mt19937_64 rng(std::random_device{}());
  s.tenant = "send-" + std::to_string(rng() % 1'000'000'000);
  auto t = sync_request(*admin, "POST", "/v1/admin/tenants", o.admin_token, "{\"id\":\"" + s.tenant + "\"}");
  if (!t || t->first != 201) {
    std::fprintf(stderr, "parley-bench: creating tenant failed (%d)\n", t ? t->first : 0);
    return false;
  }
  s.api_key = json_string_field(t->second, "api_key");
  std::string secret = "send-secret-" + std::to_string(rng());
  std::string channel = channel_json(provider::whatsapp, secret);
  channel = "{\"api_base\":\"" + o.simulator + "/v21.0\",\"outbound_per_second\":100000," + channel.substr(1);
  auto c = sync_request(*admin, "POST", "/v1/admin/tenants/" + s.tenant + "/channels", o.admin_token, channel);
  if (!c || c->first != 201) {
    std::fprintf(stderr, "parley-bench: creating the channel failed (%d)\n", c ? c->first : 0);
    return false;
  }
  s.channel_id = json_string_field(c->second, "id");
  s.inbound = channel_target{provider::whatsapp, json_string_field(c->second, "webhook_path"), secret};
  return true;
}

// Opens every recipient's 24-hour window with one signed inbound message each.
bool open_windows(const send_options& o, const setup& s) {
  load_options lo;
  lo.target = o.target;
  lo.connections = std::min<std::size_t>(16, std::max<std::uint64_t>(o.contacts, 1));
  lo.count = o.contacts;
  lo.quiet = true;
  std::uint64_t run = std::random_device{}() % 1'000'000;
  std::atomic<std::uint64_t> next_contact{0};
  request_maker make = [&](std::size_t c, std::uint64_t n, std::mt19937_64&) {
    std::uint64_t k = next_contact++;
    // Now-ish provider times: these messages must open windows that are still open.
    auto hook = make_webhook(s.inbound, message_seed{run, c, n, k, static_cast<std::int64_t>(std::time(nullptr))}, 256);
    request_spec spec;
    spec.path = s.inbound.path;
    spec.body = std::move(hook.body);
    spec.headers = std::move(hook.headers);
    return spec;
  };
  auto r = run_load(lo, make, [](int status) { return status == 200; });
  if (r.errors > 0) std::fprintf(stderr, "parley-bench: opening windows: %llu errors\n", static_cast<unsigned long long>(r.errors));
  return r.errors == 0;
}

std::string message_json(const send_options& o, const std::string& channel, std::uint64_t contact, std::uint64_t n) {
  json::object m{{"channel_id", channel}, {"to", recipient(contact)}, {"priority", o.priority}};
  if (o.type == "template") {
    m["type"] = "template";
    m["template"] = json::object{{"name", "order_update"}, {"language", "en_US"}};
  } else {
    m["type"] = "text";
    m["text"] = json::object{{"body", "Your order #" + std::to_string(n) + " has shipped and arrives tomorrow."}};
  }
  return json::serialize(m);
}

std::uint64_t simulator_accepted(const std::string& simulator) {
  auto sim = parse_url(simulator);
  if (!sim) return 0;
  auto r = sync_request(*sim, "GET", "/_sim/stats", "");
  if (!r || r->first != 200) return 0;
  boost::system::error_code ec;
  auto v = json::parse(r->second, ec);
  if (ec || !v.is_object()) return 0;
  const auto* a = v.as_object().if_contains("accepted");
  return a != nullptr && a->is_number() ? a->to_number<std::uint64_t>() : 0;
}

bool route_statuses(const send_options& o, const setup& s) {
  auto sim = parse_url(o.simulator);
  if (!sim) return false;
  json::object route{{"provider", "whatsapp"},
                     {"account", std::string(whatsapp_phone_number_id)},
                     {"url", o.target + s.inbound.path},
                     {"secret", s.inbound.secret}};
  auto r = sync_request(*sim, "POST", "/_sim/routes", "", json::serialize(route));
  return r && (r->first == 200 || r->first == 201);
}

struct send_run {
  load_options lo;
  load_result result;
  std::uint64_t accepted_messages = 0;
  double delivered_per_s = 0;
  double delivered_s = 0;  ///< until the simulator had every accepted message
};

send_run flood(const send_options& o, const setup& s, std::uint64_t sim_before) {
  send_run run;
  run.lo.target = o.target;
  run.lo.connections = o.connections;
  run.lo.rate = o.rate;
  run.lo.duration_s = o.duration_s;
  run.lo.count = o.count;
  run.lo.threads = o.threads;
  run.lo.quiet = o.quiet;
  std::size_t per_request = o.batch > 0 ? o.batch : 1;
  request_maker make = [&](std::size_t c, std::uint64_t n, std::mt19937_64&) {
    request_spec spec;
    spec.headers.emplace_back("Authorization", "Bearer " + s.api_key);
    auto contact_of = [&](std::uint64_t i) { return (c * 1'000'003 + i * 7919) % std::max<std::uint64_t>(o.contacts, 1); };
    if (o.batch == 0) {
      spec.path = "/v1/messages";
      spec.body = message_json(o, s.channel_id, contact_of(n), n);
    } else {
      spec.path = "/v1/messages/batch";
      spec.body = "{\"messages\":[";
      for (std::size_t i = 0; i < o.batch; ++i) {
        std::uint64_t k = n * o.batch + i;
        spec.body += (i ? "," : "") + message_json(o, s.channel_id, contact_of(k), k);
      }
      spec.body += "]}";
    }
    return spec;
  };
  auto start = clock_type::now();
  run.result = run_load(run.lo, make, [&](int status) { return o.batch > 0 ? status == 200 : status == 202; });
  run.accepted_messages = run.result.ok * per_request;
  if (!o.simulator.empty()) {
    // Delivered: the simulator has received every accepted message (or 60 s passed).
    auto deadline = clock_type::now() + std::chrono::seconds(60);
    while (simulator_accepted(o.simulator) - sim_before < run.accepted_messages && clock_type::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling another process
    }
    run.delivered_s = std::chrono::duration<double>(clock_type::now() - start).count();
    auto delivered = simulator_accepted(o.simulator) - sim_before;
    run.delivered_per_s = static_cast<double>(delivered) / run.delivered_s;
  }
  return run;
}

void report(const std::string& title, const send_options& o, const send_run& run) {
  print_load_report(title, run.lo, run.result);
  std::printf("  accepted messages %llu (%.0f/s)", static_cast<unsigned long long>(run.accepted_messages),
              static_cast<double>(run.accepted_messages) / std::max(run.result.elapsed_s, 1e-9));
  if (!o.simulator.empty()) std::printf("  delivered %.0f/s (all within %.1f s)", run.delivered_per_s, run.delivered_s);
  std::printf("\n");
}

std::string json_fields(const send_options& o, const setup& s, const send_run& run) {
  std::string out = load_json_fields(run.lo, run.result);
  out += ",\"batch\":" + std::to_string(o.batch) + ",\"accepted_messages\":" + std::to_string(run.accepted_messages) +
         ",\"accepted_per_s\":" + std::to_string(static_cast<double>(run.accepted_messages) / std::max(run.result.elapsed_s, 1e-9)) +
         ",\"delivered_per_s\":" + std::to_string(run.delivered_per_s) + ",\"tenant\":\"" + s.tenant + "\",\"api_key\":\"" +
         s.api_key + "\"";
  return out;
}

bool prepare(const send_options& o, setup& s) {
  if (!o.admin.empty()) return set_up(o, s) && open_windows(o, s);
  if (o.api_key.empty() || o.channel_id.empty()) {
    std::fprintf(stderr, "parley-bench: give --admin/--admin-token/--simulator, or --api-key and --channel-id\n");
    return false;
  }
  s.api_key = o.api_key;
  s.channel_id = o.channel_id;
  return true;
}

}  // namespace

int run_send(const send_options& o) {
  setup s;
  if (!prepare(o, s)) return 2;
  std::uint64_t before = o.simulator.empty() ? 0 : simulator_accepted(o.simulator);
  auto run = flood(o, s, before);
  report("parley-bench send: " + o.target + (o.batch > 0 ? " (batches of " + std::to_string(o.batch) + ")" : ""), o, run);
  if (!o.json_file.empty()) std::ofstream(o.json_file) << json_fields(o, s, run) << "}\n";
  if (!o.svg_file.empty()) write_svg(o.svg_file, "parley-bench send " + o.target, run.result.timeline);
  return run.result.errors == 0 ? 0 : 1;
}

int run_mixed(const send_options& o, const ingest_options& inbound) {
  if (o.admin.empty() || o.simulator.empty()) {
    std::fprintf(stderr, "parley-bench mixed: give --admin, --admin-token and --simulator\n");
    return 2;
  }
  setup s;
  if (!prepare(o, s) || !route_statuses(o, s)) return 2;
  // Inbound traffic goes to the same channel, from other customers than the send recipients.
  ingest_options in = inbound;
  in.target = o.target;
  in.admin.clear();
  in.channel_path = s.inbound.path;
  in.secret = s.inbound.secret;
  in.providers = {"whatsapp"};
  in.quiet = true;
  in.json_file.clear();
  in.svg_file.clear();
  int inbound_status = 0;
  std::thread inbound_thread([&] { inbound_status = run_ingest(in); });
  std::uint64_t before = simulator_accepted(o.simulator);
  auto run = flood(o, s, before);
  inbound_thread.join();
  report("parley-bench mixed: sends (" + std::to_string(3) + " status webhooks each come back) on " + o.target, o, run);
  if (!o.json_file.empty()) std::ofstream(o.json_file) << json_fields(o, s, run) << "}\n";
  if (!o.svg_file.empty()) write_svg(o.svg_file, "parley-bench mixed " + o.target, run.result.timeline);
  return run.result.errors == 0 && inbound_status == 0 ? 0 : 1;
}

}  // namespace parley::bench
