#include "payloads.hpp"

#include <openssl/evp.h>
#include <openssl/params.h>

#include <memory>

namespace parley::bench {
namespace {

// The filler text of `want` bytes; built once per size and thread (every request of a
// run has the same size, and the load generator shares the cores it measures).
const std::string& filler(std::size_t want) {
  static constexpr std::string_view words = "hello, I would like to know more about my order and delivery time ";
  thread_local std::string text;
  if (text.size() != want) {
    text.clear();
    text.reserve(want);
    while (text.size() < want) text.append(words.substr(0, std::min(words.size(), want - text.size())));
  }
  return text;
}

// head + text + tail of about `body_bytes` (text at least 8 characters).
std::string sized(const std::string& head, const std::string& tail, std::size_t body_bytes) {
  std::size_t fill = body_bytes > head.size() + tail.size() + 8 ? body_bytes - head.size() - tail.size() : 8;
  std::string body;
  body.reserve(head.size() + fill + tail.size());
  body.append(head).append(filler(fill)).append(tail);
  return body;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string id_text(const message_seed& s) {
  return std::to_string(s.run) + "." + std::to_string(s.connection) + "." + std::to_string(s.number);
}

}  // namespace

std::optional<provider> parse_provider(std::string_view name) {
  if (name == "whatsapp") return provider::whatsapp;
  if (name == "messenger") return provider::messenger;
  if (name == "instagram") return provider::instagram;
  if (name == "telegram") return provider::telegram;
  if (name == "postmark" || name == "email") return provider::postmark;
  return std::nullopt;
}

std::string_view provider_name(provider p) {
  switch (p) {
    case provider::whatsapp: return "whatsapp";
    case provider::messenger: return "messenger";
    case provider::instagram: return "instagram";
    case provider::telegram: return "telegram";
    case provider::postmark: return "postmark";
  }
  return "whatsapp";
}

std::string hmac_sha256_hex(const std::string& key, std::string_view data) {
  struct ctx_deleter {
    void operator()(EVP_MAC_CTX* c) const noexcept { EVP_MAC_CTX_free(c); }
  };
  thread_local std::string keyed_with;
  thread_local std::unique_ptr<EVP_MAC_CTX, ctx_deleter> ctx;
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (!ctx || keyed_with != key) {
    ctx.reset(EVP_MAC_CTX_new(mac));
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()};
    EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(), params);
    keyed_with = key;
  }
  unsigned char out[32];
  std::size_t len = 0;
  EVP_MAC_init(ctx.get(), nullptr, 0, nullptr);
  EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size());
  EVP_MAC_final(ctx.get(), out, &len, sizeof out);
  static constexpr char hex[] = "0123456789abcdef";
  std::string text;
  for (std::size_t i = 0; i < len; ++i) {
    text.push_back(hex[out[i] >> 4]);
    text.push_back(hex[out[i] & 15]);
  }
  return text;
}

signed_webhook make_webhook(const channel_target& target, const message_seed& seed, std::size_t body_bytes) {
  signed_webhook w;
  // Provider timestamps move with the message number (seconds), as real traffic does.
  std::int64_t ts = (seed.base_time_s > 0 ? seed.base_time_s : 1'790'000'000) + static_cast<std::int64_t>(seed.number % 100'000);
  switch (target.kind) {
    case provider::whatsapp: {
      std::string from = "1555" + std::to_string(1'000'000 + seed.contact);
      w.provider_message_id = "wamid.bench." + id_text(seed);
      w.body = sized(
          R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":")" +
              std::string(whatsapp_phone_number_id) + R"("},"contacts":[{"profile":{"name":"Load Tester"},"wa_id":")" + from +
              R"("}],"messages":[{"from":")" + from + R"(","id":")" + w.provider_message_id + R"(","timestamp":")" +
              std::to_string(ts) + R"(","text":{"body":")",
          R"("},"type":"text"}]},"field":"messages"}]}]})", body_bytes);
      w.headers.emplace_back("X-Hub-Signature-256", "sha256=" + hmac_sha256_hex(target.secret, w.body));
      break;
    }
    case provider::messenger:
    case provider::instagram: {
      bool ig = target.kind == provider::instagram;
      std::string page(ig ? instagram_account_id : messenger_page_id);
      std::string sender = std::to_string(7'000'000'000'000'000ULL + seed.contact);
      w.provider_message_id = "m_bench." + id_text(seed);
      std::string ms = std::to_string(ts * 1000);
      w.body = sized(std::string(R"({"object":")") + (ig ? "instagram" : "page") + R"(","entry":[{"id":")" + page +
                         R"(","time":)" + ms + R"(,"messaging":[{"sender":{"id":")" + sender + R"("},"recipient":{"id":")" +
                         page + R"("},"timestamp":)" + ms + R"(,"message":{"mid":")" + w.provider_message_id +
                         R"(","text":")",
                     R"("}}]}]})", body_bytes);
      w.headers.emplace_back("X-Hub-Signature-256", "sha256=" + hmac_sha256_hex(target.secret, w.body));
      break;
    }
    case provider::telegram: {
      // update_id is Telegram's dedup key: unique per run, connection and number.
      std::uint64_t update_id = (seed.run % 100'000) * 1'000'000'000'000ULL + seed.connection * 100'000'000ULL + seed.number;
      std::string user = std::to_string(1'000'000'000ULL + seed.contact);
      w.provider_message_id = std::to_string(update_id);
      w.body = sized(R"({"update_id":)" + w.provider_message_id + R"(,"message":{"message_id":)" +
                         std::to_string(seed.number + 1) + R"(,"from":{"id":)" + user +
                         R"(,"is_bot":false,"first_name":"Load"},"chat":{"id":)" + user + R"(,"type":"private"},"date":)" +
                         std::to_string(ts) + R"(,"text":")",
                     R"("}})", body_bytes);
      w.headers.emplace_back("X-Telegram-Bot-Api-Secret-Token", target.secret);
      break;
    }
    case provider::postmark: {
      w.provider_message_id = "pm-bench-" + id_text(seed);
      std::string from = "c" + std::to_string(seed.contact) + "@load.example";
      w.body = sized(R"({"MessageID":")" + w.provider_message_id + R"(","From":")" + from + R"(","FromName":"Load","FromFull":{"Email":")" +
                         from + R"(","Name":"Load"},"To":"inbox@bench.example","OriginalRecipient":"inbox@bench.example","Subject":"order question","Date":"Fri, 1 Aug 2026 16:45:32 +0000","Headers":[],"TextBody":")",
                     R"("})", body_bytes);
      w.headers.emplace_back("Authorization", "Basic " + base64(target.secret));
      break;
    }
  }
  return w;
}

std::string channel_json(provider p, const std::string& secret) {
  switch (p) {
    case provider::whatsapp:
      return R"({"type":"whatsapp","phone_number_ids":[")" + std::string(whatsapp_phone_number_id) + R"("],"app_secret":")" +
             secret + R"(","access_token":"bench","verify_token":"bench"})";
    case provider::messenger:
      return R"({"type":"messenger","page_ids":[")" + std::string(messenger_page_id) + R"("],"app_secret":")" + secret +
             R"(","access_token":"bench","verify_token":"bench"})";
    case provider::instagram:
      return R"({"type":"instagram","page_ids":[")" + std::string(instagram_account_id) + R"("],"app_secret":")" + secret +
             R"(","access_token":"bench","verify_token":"bench"})";
    case provider::telegram:
      return R"({"type":"telegram","bot_token":"123:bench","secret_token":")" + secret + R"("})";
    case provider::postmark: {
      auto colon = secret.find(':');
      return R"({"type":"email","from_address":"help@bench.example","server_token":"bench","inbound_username":")" +
             secret.substr(0, colon) + R"(","inbound_password":")" + secret.substr(colon + 1) + R"("})";
    }
  }
  return {};
}

}  // namespace parley::bench
