#include "ingest.hpp"

#include <cstdio>
#include <fstream>
#include <random>
#include <vector>

#include "chart.hpp"
#include "http_client.hpp"
#include "load.hpp"
#include "payloads.hpp"

namespace parley::bench {
namespace {

// Creates a tenant and one channel per provider through the admin API.
bool set_up_channels(const ingest_options& o, const std::vector<provider>& kinds, std::vector<channel_target>& out,
                     std::string& tenant_out, std::string& api_key_out) {
  auto admin = parse_url(o.admin);
  if (!admin) {
    std::fprintf(stderr, "parley-bench: --admin must be http://HOST:PORT\n");
    return false;
  }
  std::mt19937_64 rng(std::random_device{}());
  std::string tenant = "bench-" + std::to_string(rng() % 1'000'000'000);
  auto t = sync_request(*admin, "POST", "/v1/admin/tenants", o.admin_token, "{\"id\":\"" + tenant + "\"}");
  if (!t || t->first != 201) {
    std::fprintf(stderr, "parley-bench: creating tenant failed (%d)\n", t ? t->first : 0);
    return false;
  }
  tenant_out = tenant;
  api_key_out = json_string_field(t->second, "api_key");
  for (provider kind : kinds) {
    channel_target target{kind, {}, "bench-secret-" + std::to_string(rng())};
    if (kind == provider::postmark) target.secret = "bench-user:" + target.secret;
    auto c = sync_request(*admin, "POST", "/v1/admin/tenants/" + tenant + "/channels", o.admin_token,
                          channel_json(kind, target.secret));
    if (!c || c->first != 201) {
      std::fprintf(stderr, "parley-bench: creating a %s channel failed (%d)\n", std::string(provider_name(kind)).c_str(),
                   c ? c->first : 0);
      return false;
    }
    target.path = json_string_field(c->second, "webhook_path");
    if (target.path.empty()) return false;
    out.push_back(std::move(target));
  }
  return true;
}

}  // namespace

int run_ingest(const ingest_options& o) {
  std::vector<provider> kinds;
  for (const auto& name : o.providers) {
    auto kind = parse_provider(name);
    if (!kind) {
      std::fprintf(stderr, "parley-bench: unknown provider '%s' (whatsapp, messenger, instagram, telegram, postmark)\n",
                   name.c_str());
      return 2;
    }
    kinds.push_back(*kind);
  }
  if (kinds.empty()) kinds.push_back(provider::whatsapp);
  auto target = parse_url(o.target);
  if (!target) {
    std::fprintf(stderr, "parley-bench: --target must be http://HOST:PORT\n");
    return 2;
  }
  std::vector<channel_target> targets;
  std::string tenant, api_key;
  if (!o.admin.empty()) {
    if (!set_up_channels(o, kinds, targets, tenant, api_key)) return 2;
  } else if (!o.channel_path.empty() && !o.secret.empty()) {
    if (kinds.size() != 1) {
      std::fprintf(stderr, "parley-bench: --channel-path serves one provider; give exactly one in --providers\n");
      return 2;
    }
    targets.push_back(channel_target{kinds.front(), o.channel_path, o.secret});
  } else {
    std::fprintf(stderr, "parley-bench: give --admin and --admin-token, or --channel-path and --secret\n");
    return 2;
  }
  std::uint64_t run_id = std::random_device{}() % 1'000'000'000;
  std::string paths;
  for (const auto& t : targets) paths += (paths.empty() ? "" : ",") + t.path;

  // Per connection: the message numbers it sent, for redeliveries (each connection's
  // maker runs on that connection's strand only).
  std::vector<std::vector<std::uint64_t>> sent(o.connections);
  std::vector<std::uint64_t> next_number(o.connections, 0);
  request_maker make = [&](std::size_t c, std::uint64_t, std::mt19937_64& rng) {
    auto& mine = sent[c];
    std::uint64_t n;
    bool duplicate = !mine.empty() && std::uniform_real_distribution<double>(0, 1)(rng) < o.duplicates;
    if (duplicate) {
      n = mine[std::uniform_int_distribution<std::size_t>(0, mine.size() - 1)(rng)];
    } else {
      n = next_number[c]++;
      if (mine.size() < 4096) mine.push_back(n);
      else mine[n % mine.size()] = n;
    }
    // The provider follows the message number, so a redelivery goes where the first went.
    const auto& t = targets[n % targets.size()];
    std::uint64_t contact = (c * 1'000'003 + n * 7919) % std::max<std::uint64_t>(o.contacts, 1);
    auto webhook = make_webhook(t, message_seed{run_id, c, n, contact, 0}, o.body_bytes);
    request_spec spec;
    spec.path = t.path;
    spec.body = std::move(webhook.body);
    spec.headers = std::move(webhook.headers);
    spec.tag = std::move(webhook.provider_message_id);
    spec.duplicate = duplicate;
    return spec;
  };
  load_options lo;
  lo.target = o.target;
  lo.connections = o.connections;
  lo.rate = o.rate;
  lo.duration_s = o.duration_s;
  lo.count = o.count;
  lo.threads = o.threads;
  lo.quiet = o.quiet;
  auto r = run_load(lo, make, [](int status) { return status == 200; });

  print_load_report("parley-bench ingest: " + o.target + " " + paths + " (body " + std::to_string(o.body_bytes) +
                        " B, duplicates " + std::to_string(static_cast<int>(o.duplicates * 100)) + "%)",
                    lo, r);
  if (!o.json_file.empty()) {
    std::ofstream out(o.json_file);
    out << load_json_fields(lo, r) << ",\"paths\":\"" << paths << "\"";
    if (!api_key.empty()) out << ",\"tenant\":\"" << tenant << "\",\"api_key\":\"" << api_key << "\"";
    out << ",\"acknowledged\":[";
    for (std::size_t i = 0; i < r.acknowledged.size(); ++i) out << (i ? ",\"" : "\"") << r.acknowledged[i] << "\"";
    out << "]}\n";
  }
  if (!o.svg_file.empty() &&
      !write_svg(o.svg_file, "parley-bench ingest " + o.target + " (" + std::to_string(o.connections) + " connections)",
                 r.timeline)) {
    std::fprintf(stderr, "parley-bench: cannot write %s\n", o.svg_file.c_str());
  }
  return r.errors == 0 ? 0 : 1;
}

}  // namespace parley::bench
