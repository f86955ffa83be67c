#pragma once
/// The provider-neutral form of an outbound message, and what a provider's send API said
/// about it. The tenant API turns `POST /v1/messages` into an `outbound_payload`; the
/// conversation stores it in the outbox; the delivery actor hands it to the provider
/// adapter (engine/providers/<name>/), which builds the provider's request and
/// interprets its answer as a `send_outcome`.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "parley/inbound.hpp"

namespace parley {

/// What the business asked to send, validated by the API.
struct outbound_payload {
  message_kind kind = message_kind::text;  ///< text, template_message, email, image, document
  std::string to;                          ///< recipient: wa_id, PSID, IGSID, Telegram chat id, email address
  std::string text;                        ///< text body; caption for media; email text part
  std::string template_name;               ///< template: name
  std::string template_language;           ///< template: language code, e.g. "en_US"
  std::string template_components_json;    ///< template: the `components` array as JSON ("" when absent)
  std::string media_url;                   ///< image/document: public URL of the file
  std::string filename;                    ///< document: file name shown to the recipient
  std::string email_subject;               ///< email: subject
  std::string email_html;                  ///< email: HTML part ("" when absent)
  std::string reply_to_provider_id;        ///< provider id of the message this answers (context)
  std::string messaging_type = "RESPONSE"; ///< Messenger/Instagram: RESPONSE, UPDATE or MESSAGE_TAG
  std::string tag;                         ///< Messenger/Instagram MESSAGE_TAG, e.g. HUMAN_AGENT
};

/// One HTTP request to a provider, ready to send.
struct http_call {
  std::string method = "POST";
  std::string url;  ///< absolute: https://host[:port]/path?query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

/// What came of one send attempt.
struct send_outcome {
  enum class kind : std::uint8_t {
    accepted,   ///< the provider took it; provider_message_id is set
    retry,      ///< transient (connect error, timeout, 5xx, throttled): try again later
    failed,     ///< permanent: the message fails with error_code / error_message
  };
  kind result = kind::retry;
  std::string provider_message_id;
  std::int64_t retry_after_ms = 0;  ///< the provider's own delay hint (Retry-After, retry_after), 0 if none
  bool throttled = false;           ///< the provider said "too fast": the channel should slow down
  std::string error_code;           ///< provider's code as text ("131026"), or ours ("window_closed", "expired")
  std::string error_message;
};

}  // namespace parley
