#include "parley/storage/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>

namespace parley::storage {
namespace {

struct cipher_ctx_deleter {
  void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
};

const EVP_CIPHER* aes_256_gcm() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

// Contexts per thread, one for sealing and one for opening, set up with the cipher once:
// each use then only sets the key and nonce. Choosing the cipher again on every record
// (EVP_CIPHER_CTX_new, or an init that names the cipher) costs an allocation and
// OpenSSL's parameter lookups, a third of a 1 KiB seal.
EVP_CIPHER_CTX* make_ctx(int encrypt) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr || aes_256_gcm() == nullptr ||
      EVP_CipherInit_ex2(ctx, aes_256_gcm(), nullptr, nullptr, encrypt, nullptr) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

// A thread's context for one direction, and the key it was last given. Setting a key
// expands it (and costs OpenSSL's parameter handling); a thread mostly seals or opens
// under one tenant's key in a row, so a record under the same key only sets its nonce.
// The copy is compared in constant time and wiped with the thread.
struct keyed_ctx {
  std::unique_ptr<EVP_CIPHER_CTX, cipher_ctx_deleter> ctx;
  std::array<unsigned char, aead_key_bytes> key{};
  bool has_key = false;

  explicit keyed_ctx(int encrypt) : ctx(make_ctx(encrypt)) {}
  ~keyed_ctx() { OPENSSL_cleanse(key.data(), key.size()); }
  keyed_ctx(const keyed_ctx&) = delete;
  keyed_ctx& operator=(const keyed_ctx&) = delete;

  // The key to pass to an init call: null when the context already holds `k`.
  const unsigned char* key_for_init(const aead_key& k) {
    if (has_key && CRYPTO_memcmp(key.data(), k.data(), key.size()) == 0) return nullptr;
    std::copy_n(k.data(), key.size(), key.data());
    has_key = true;
    return k.data();
  }
  // After a failed init or use the context's state is unknown: set the key next time.
  void forget() { has_key = false; }
};

keyed_ctx& thread_seal_ctx() {
  thread_local keyed_ctx ctx(1);
  return ctx;
}

keyed_ctx& thread_open_ctx() {
  thread_local keyed_ctx ctx(0);
  return ctx;
}

// Random nonces, drawn from OpenSSL's generator 128 at a time per thread: one RAND_bytes
// call costs more than sealing 1 KiB, and each nonce stays as random (and as unlikely
// to repeat) as one drawn alone. Each is handed out once. Nonces are not secret: they
// are stored in front of every sealed value.
void next_nonce(unsigned char* out) {
  struct pool {
    std::array<unsigned char, aead_nonce_bytes * 128> bytes{};
    std::size_t used = sizeof(bytes);
  };
  thread_local pool p;
  if (p.used == p.bytes.size()) {
    if (RAND_bytes(p.bytes.data(), static_cast<int>(p.bytes.size())) != 1) std::abort();
    p.used = 0;
  }
  std::copy_n(p.bytes.data() + p.used, aead_nonce_bytes, out);
  p.used += aead_nonce_bytes;
}

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// GCM takes its AAD in any number of updates before the text.
bool add_aad(EVP_CIPHER_CTX* ctx, aad_parts aad, bool encrypt) {
  int len = 0;
  for (std::string_view part : {aad.head, aad.tail}) {
    if (part.empty()) continue;
    int ok = encrypt ? EVP_EncryptUpdate(ctx, nullptr, &len, bytes(part), static_cast<int>(part.size()))
                     : EVP_DecryptUpdate(ctx, nullptr, &len, bytes(part), static_cast<int>(part.size()));
    if (ok != 1) return false;
  }
  return true;
}

}  // namespace

aead_key::~aead_key() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

aead_key aead_key::random() {
  aead_key key;
  if (RAND_bytes(key.bytes_.data(), static_cast<int>(key.bytes_.size())) != 1) {
    std::abort();  // no safe way to continue without randomness
  }
  return key;
}

result<aead_key> aead_key::from_bytes(std::string_view raw) {
  if (raw.size() != aead_key_bytes) {
    return make_error(errc::invalid_argument, "a key must be exactly 32 bytes");
  }
  aead_key key;
  std::copy(raw.begin(), raw.end(), key.bytes_.begin());
  return key;
}

result<aead_key> aead_key::from_base64(std::string_view text) {
  auto raw = base64_decode(text);
  if (!raw) return make_error(errc::invalid_argument, "the key is not valid base64");
  auto key = from_bytes(*raw);
  OPENSSL_cleanse(raw->data(), raw->size());
  if (!key) return make_error(errc::invalid_argument, "the key must be base64 of exactly 32 bytes");
  return key;
}

std::string aead_key::to_base64() const { return base64_encode(view()); }

status seal(const aead_key& key, aad_parts aad, std::string_view plaintext, std::string& out) {
  keyed_ctx& kc = thread_seal_ctx();
  EVP_CIPHER_CTX* ctx = kc.ctx.get();
  if (ctx == nullptr) return make_error(errc::internal, "no AES-256-GCM");
  std::size_t base = out.size();
  out.resize(base + aead_nonce_bytes + plaintext.size() + aead_tag_bytes);
  auto* nonce = reinterpret_cast<unsigned char*>(out.data() + base);
  next_nonce(nonce);
  auto* ciphertext = nonce + aead_nonce_bytes;
  int len = 0;
  bool ok = EVP_EncryptInit_ex2(ctx, nullptr, kc.key_for_init(key), nonce, nullptr) == 1 &&
            add_aad(ctx, aad, true) &&
            EVP_EncryptUpdate(ctx, ciphertext, &len, bytes(plaintext), static_cast<int>(plaintext.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx, ciphertext + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(aead_tag_bytes),
                                ciphertext + plaintext.size()) == 1;
  if (!ok) {
    kc.forget();
    out.resize(base);
    return make_error(errc::internal, "AES-256-GCM seal failed");
  }
  return {};
}

status open(const aead_key& key, aad_parts aad, std::string_view sealed, std::string& out) {
  if (sealed.size() < aead_overhead) return make_error(errc::corruption, "sealed value too short");
  keyed_ctx& kc = thread_open_ctx();
  EVP_CIPHER_CTX* ctx = kc.ctx.get();
  if (ctx == nullptr) return make_error(errc::internal, "no AES-256-GCM");
  const auto* nonce = bytes(sealed);
  std::size_t text_len = sealed.size() - aead_overhead;
  const auto* ciphertext = nonce + aead_nonce_bytes;
  // EVP wants a mutable tag pointer; copy the 16 bytes rather than cast away const.
  unsigned char tag[aead_tag_bytes];
  std::copy(ciphertext + text_len, ciphertext + text_len + aead_tag_bytes, tag);
  std::size_t base = out.size();
  out.resize(base + text_len);
  auto* plain = reinterpret_cast<unsigned char*>(out.data() + base);
  int len = 0;
  bool ok = EVP_DecryptInit_ex2(ctx, nullptr, kc.key_for_init(key), nonce, nullptr) == 1 &&
            add_aad(ctx, aad, false) &&
            EVP_DecryptUpdate(ctx, plain, &len, ciphertext, static_cast<int>(text_len)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(aead_tag_bytes), tag) == 1 &&
            EVP_DecryptFinal_ex(ctx, plain + len, &len) == 1;
  if (!ok) {
    kc.forget();
    OPENSSL_cleanse(out.data() + base, text_len);
    out.resize(base);
    return make_error(errc::corruption, "sealed value failed authentication");
  }
  return {};
}

std::string base64_encode(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(raw), static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

result<std::string> base64_decode(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  if (text.empty() || text.size() % 4 != 0) {
    return make_error(errc::invalid_argument, "base64 length must be a multiple of 4");
  }
  std::string out(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(text), static_cast<int>(text.size()));
  if (n < 0) return make_error(errc::invalid_argument, "invalid base64");
  // EVP_DecodeBlock counts padding as zero bytes: trim them.
  std::size_t len = static_cast<std::size_t>(n);
  if (text.back() == '=') --len;
  if (text[text.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::abort();
  }
  return out;
}

}  // namespace parley::storage
