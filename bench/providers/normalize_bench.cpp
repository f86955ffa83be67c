// CPU cost of the webhook edge: Meta signature verification of a ~1 KiB body and the
// normalization of one typical text webhook per provider (simdjson DOM with a
// thread-local parser, plus building the normalized structs). Project target: ≤ 2 µs
// per WhatsApp normalize.
//
// Run: build/bench/parley_providers_bench --benchmark_min_time=0.5
//      (Release build; Debian's libbenchmark prints "Library was built as DEBUG": harmless)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "providers/provider.hpp"

namespace {

using namespace parley::engine::providers;

// A single inbound text as WhatsApp sends it (compact JSON, ~1 KiB with the text).
const std::string whatsapp_text = std::string(
    R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp",)"
    R"("metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},)"
    R"("contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],)"
    R"("messages":[{"from":"16505551234","id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",)"
    R"("timestamp":"1749416383","type":"text","text":{"body":")") +
    "Hi! I ordered the blue jacket last week (order #48213) and the tracking page still says the parcel is "
    "waiting at the sorting centre. Could you check whether it has left the warehouse and when I can expect it? "
    "I also wanted to ask if it comes in another colour, ideally dark green, and whether I could swap it if it "
    "arrives before Friday. My address has not changed since the order. I can send a photo of the receipt if "
    "that helps. Thanks a lot for your help, and sorry for the long message - it has been a busy week here. "
    "Kind regards, Sheena" +
    R"("}}]},"field":"messages"}]}]})";

const std::string messenger_text =
    R"({"object":"page","entry":[{"id":"1234567890","time":1458692752478,"messaging":[{"sender":{"id":"6783456789012345"},)"
    R"("recipient":{"id":"1234567890"},"timestamp":1458692752478,"message":{"mid":"m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P",)"
    R"("text":"Hello! Is the store on Main Street open on Sunday afternoon? I would like to pick up my order there."}}]}]})";

const std::string telegram_text =
    R"({"update_id":10000,"message":{"message_id":1365,"from":{"id":1111111,"is_bot":false,"first_name":"Ana","last_name":"Lima",)"
    R"("username":"analima","language_code":"pt-br"},"chat":{"id":1111111,"first_name":"Ana","last_name":"Lima","username":"analima",)"
    R"("type":"private"},"date":1441645532,"text":"Oi! Quero saber o status do meu pedido 48213, por favor."}})";

const std::string postmark_inbound =
    R"({"FromName":"Jane Doe","MessageStream":"inbound","From":"jane.doe@example.org","FromFull":{"Email":"jane.doe@example.org","Name":"Jane Doe","MailboxHash":""},)"
    R"("To":"support@inbound.acme.test","ToFull":[{"Email":"support@inbound.acme.test","Name":"","MailboxHash":""}],"Cc":"","Bcc":"",)"
    R"("OriginalRecipient":"support@inbound.acme.test","Subject":"Re: Your order #48213","MessageID":"73e6d360-66eb-11e1-8e72-a8904824019b",)"
    R"("ReplyTo":"","MailboxHash":"","Date":"Fri, 1 Aug 2014 16:45:32 -0400","TextBody":"Thanks, the new date works for me.\n\nOn Thu, Acme wrote:\n> Your order ships Friday.",)"
    R"("HtmlBody":"<p>Thanks, the new date works for me.</p>","StrippedTextReply":"Thanks, the new date works for me.","Tag":"",)"
    R"("Headers":[{"Name":"X-Spam-Status","Value":"No"},{"Name":"Message-ID","Value":"<CAHxhb1@mail.gmail.com>"},)"
    R"({"Name":"In-Reply-To","Value":"<msg_abc123@parley.example>"},{"Name":"References","Value":"<msg_abc123@parley.example>"}],"Attachments":[]})";

template <class Normalize>
void run_normalize(benchmark::State& state, const std::string& body, Normalize normalize) {
  for (auto _ : state) {
    auto r = normalize(body);
    if (!r.ok() || r->messages.size() != 1) std::abort();
    benchmark::DoNotOptimize(r->messages.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.counters["body_bytes"] = static_cast<double>(body.size());
}

void BM_VerifyMetaSignature1KiB(benchmark::State& state) {
  const std::string body = whatsapp_text.size() >= 1024 ? whatsapp_text.substr(0, 1024)
                                                        : whatsapp_text + std::string(1024 - whatsapp_text.size(), ' ');
  const std::string header = "sha256=" + hmac_sha256_hex("app-secret-0123456789abcdef", body);
  for (auto _ : state) {
    if (!verify_meta_signature("app-secret-0123456789abcdef", body, header)) std::abort();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_VerifyMetaSignature1KiB);

void BM_NormalizeWhatsAppText(benchmark::State& state) {
  const std::vector<std::string> accounts{"106540352242922"};
  run_normalize(state, whatsapp_text, [&](const std::string& b) { return normalize_whatsapp(b, accounts); });
}
BENCHMARK(BM_NormalizeWhatsAppText);

void BM_NormalizeMessengerText(benchmark::State& state) {
  const std::vector<std::string> accounts{"1234567890"};
  run_normalize(state, messenger_text,
                [&](const std::string& b) { return normalize_messenger(b, parley::channel_type::messenger, accounts); });
}
BENCHMARK(BM_NormalizeMessengerText);

void BM_NormalizeTelegramText(benchmark::State& state) {
  run_normalize(state, telegram_text, [](const std::string& b) { return normalize_telegram(b); });
}
BENCHMARK(BM_NormalizeTelegramText);

void BM_NormalizePostmarkInbound(benchmark::State& state) {
  run_normalize(state, postmark_inbound, [](const std::string& b) { return normalize_postmark_inbound(b); });
}
BENCHMARK(BM_NormalizePostmarkInbound);

}  // namespace

// ---- the send path: the provider request for one outbound message, and its answer ------

parley::outbound_payload sample_text() {
  parley::outbound_payload p;
  p.kind = parley::message_kind::text;
  p.to = "16505551234";
  p.text = "Hi Sheena, your order #48213 left the warehouse this morning and arrives on Friday.";
  return p;
}

void BM_BuildSendWhatsAppText(benchmark::State& state) {
  send_credentials creds;
  creds.type = parley::channel_type::whatsapp;
  creds.account_id = "106540352242922";
  creds.access_token = "EAAG-benchmark-token";
  auto payload = sample_text();
  for (auto _ : state) {
    auto call = build_send(creds, "https://graph.facebook.com/v21.0", payload);
    if (!call.ok()) std::abort();
    benchmark::DoNotOptimize(call->body.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_BuildSendWhatsAppText);

void BM_InterpretSendWhatsAppAccepted(benchmark::State& state) {
  const std::string answer =
      R"({"messaging_product":"whatsapp","contacts":[{"input":"16505551234","wa_id":"16505551234"}],)"
      R"("messages":[{"id":"wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"}]})";
  for (auto _ : state) {
    auto outcome = interpret_send(parley::channel_type::whatsapp, 200, answer, std::nullopt);
    if (outcome.result != parley::send_outcome::kind::accepted) std::abort();
    benchmark::DoNotOptimize(outcome.provider_message_id.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_InterpretSendWhatsAppAccepted);
