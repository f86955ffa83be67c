// The webhook hot path stage by stage, for the stages the storage and provider benches do
// not already cover (verify/normalize: parley_providers_bench; seal and group commit:
// parley_storage_bench). Together they show where a regression lives:
//
//   HTTP parse -> route -> verify -> normalize -> actor hop(s) -> record encode -> seal -> commit
//
// and for sends: outbox job encode here, provider request build/answer interpretation in
// parley_providers_bench.
//
// Run: build/bench/parley_engine_bench --benchmark_min_time=0.5
//      (Release build; Debian's libbenchmark prints "Library was built as DEBUG": harmless)
#include <benchmark/benchmark.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <cstdlib>
#include <string>

#include "engine/http/request_parse.hpp"
#include "tenant_api/tenant_routes.hpp"
#include "webhooks/webhook_routes.hpp"
#include "parley/actors/views.hpp"
#include "parley/storage/records.hpp"

namespace {

using namespace parley;

// A signed WhatsApp webhook as it reaches the public listener (~1.2 KiB with headers).
std::string webhook_request() {
  std::string body(R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":)"
                   R"({"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881",)"
                   R"("phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],)"
                   R"("messages":[{"from":"16505551234","id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",)"
                   R"("timestamp":"1749416383","type":"text","text":{"body":")");
  body += std::string(700, 'x');
  body += R"("}}]},"field":"messages"}]}]})";
  return "POST /webhooks/whatsapp/ch_0123456789abcdef HTTP/1.1\r\n"
         "Host: 127.0.0.1:8080\r\n"
         "User-Agent: facebookexternalua\r\n"
         "Content-Type: application/json\r\n"
         "X-Hub-Signature-256: sha256=4a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

void BM_HttpParseWebhook(benchmark::State& state) {
  const std::string raw = webhook_request();
  for (auto _ : state) {
    auto r = engine::http::parse_request_bytes(raw, 1 << 20, 16 << 10);
    if (!r.ok()) std::abort();
    benchmark::DoNotOptimize(r->body.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * raw.size()));
}
BENCHMARK(BM_HttpParseWebhook);

// Routing a webhook through parleyd's whole public table (webhooks, tenant API, sends),
// as the server does for every request. Handlers are registered but never called, so
// the services they would use can stay empty.
void BM_RouteWebhook(benchmark::State& state) {
  const engine::services svc{};
  engine::http::router routes;
  engine::add_webhook_routes(routes, svc);
  engine::add_tenant_routes(routes, svc);
  engine::add_send_routes(routes, svc);
  for (auto _ : state) {
    auto m = routes.match(engine::http::method::post, "/webhooks/whatsapp/ch_01j9z3k4m5n6p7q8r9s0t1v2w3");
    if (m.target == nullptr) std::abort();
    benchmark::DoNotOptimize(m.params.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_RouteWebhook);

storage::message_record sample_message() {
  storage::message_record m;
  m.id = "msg_cv_0123456789abcdef_42";
  m.seq = 42;
  m.channel_id = "ch_0123456789abcdef";
  m.text = std::string(700, 'x');
  m.provider_message_id = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=";
  m.external_id = "16505551234";
  m.provider_ts_ms = 1749416383000;
  m.created_at_ms = 1749416383123;
  return m;
}

// The stored message record (FlatBuffers), before the envelope and seal.
void BM_EncodeMessageRecord(benchmark::State& state) {
  auto m = sample_message();
  for (auto _ : state) {
    auto bytes = storage::encode(m);
    benchmark::DoNotOptimize(bytes.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_EncodeMessageRecord);

void BM_DecodeMessageRecord(benchmark::State& state) {
  auto bytes = storage::encode(sample_message());
  for (auto _ : state) {
    auto m = storage::decode_message(bytes);
    if (!m.ok()) std::abort();
    benchmark::DoNotOptimize(m->id.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_DecodeMessageRecord);

// The conversation state is rewritten with every message (seq, window, counters).
void BM_EncodeConversationState(benchmark::State& state) {
  storage::conversation_state c;
  c.contact_id = "ct_0123456789abcdef";
  c.last_seq = 42;
  c.message_count = 42;
  c.display_name = "Sheena Nelson";
  c.phone_e164 = "+16505551234";
  c.channel("ch_0123456789abcdef", channel_type::whatsapp).window_expires_ms = 1749502783000;
  c.identities.push_back({"ch_0123456789abcdef", channel_type::whatsapp, "16505551234"});
  for (auto _ : state) {
    auto bytes = storage::encode(c);
    benchmark::DoNotOptimize(bytes.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_EncodeConversationState);

// The JSON a reader of the event feed or the messages API gets for one message.
void BM_RenderMessageJson(benchmark::State& state) {
  auto m = sample_message();
  for (auto _ : state) {
    auto json = actors::render_message(m, "cv_0123456789abcdef", true);
    benchmark::DoNotOptimize(json.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_RenderMessageJson);

// The outbox job stored with every accepted send (and read back when it is resumed).
void BM_EncodeDeliveryJob(benchmark::State& state) {
  storage::delivery_job job;
  job.tenant = "acme";
  job.channel_id = "ch_0123456789abcdef";
  job.contact = "ct_0123456789abcdef";
  job.seq = 42;
  job.accepted_at_ms = 1749416383123;
  job.payload.to = "16505551234";
  job.payload.text = std::string(120, 'x');
  for (auto _ : state) {
    auto bytes = storage::encode(job);
    auto back = storage::decode_delivery_job(bytes);
    if (!back) std::abort();
    benchmark::DoNotOptimize(back->seq);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel("encode + decode");
}
BENCHMARK(BM_EncodeDeliveryJob);

// One request/response between two actors: what each hop of the ingest path
// (edge -> tenant -> conversation -> storage writer) costs in hand-off and wake-up.
// Arg 0: the callee runs on the scheduler; arg 1: it is detached (own thread), like the
// tenant and storage-writer actors.
void BM_ActorHop(benchmark::State& state) {
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  auto echo = [](caf::event_based_actor*) -> caf::behavior {
    return {[](std::uint64_t x) { return x + 1; }};
  };
  caf::actor callee = state.range(0) == 0 ? sys.spawn(echo) : sys.spawn<caf::detached>(echo);
  caf::scoped_actor self{sys};
  std::uint64_t n = 0;
  for (auto _ : state) {
    self->request(callee, caf::infinite, n)
        .receive([&](std::uint64_t r) { n = r; }, [](const caf::error&) { std::abort(); });
  }
  benchmark::DoNotOptimize(n);
  self->send_exit(callee, caf::exit_reason::user_shutdown);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(state.range(0) == 0 ? "scheduled callee" : "detached callee");
}
BENCHMARK(BM_ActorHop)->Arg(0)->Arg(1)->UseRealTime();

}  // namespace
