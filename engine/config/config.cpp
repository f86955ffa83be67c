#include "config/config.hpp"

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

namespace parley::engine {

std::size_t half_the_cores() noexcept { return std::max<std::size_t>(1, std::thread::hardware_concurrency() / 2); }

namespace {

const std::set<std::string> log_levels = {"trace", "debug", "info", "warn", "error", "off"};

result<durability_mode> parse_durability(std::string_view text) {
  if (text == "sync") return durability_mode::sync;
  if (text == "async") return durability_mode::async;
  return make_error(errc::invalid_argument, "durability must be sync or async, not '" + std::string(text) + "'");
}

// The values every source can set, as text until validated.
struct raw_settings {
  std::optional<std::string> data_dir, public_addr, admin_addr, durability, log_level, tls_cert, tls_key;
  std::optional<std::int64_t> max_body_bytes, dedup_window_hours, io_threads, actor_threads, conversation_idle_seconds,
      max_webhooks_in_flight, retention_sweep_seconds, cache_mib;
  std::optional<std::vector<std::string>> stop_keywords, start_keywords;
  std::optional<std::string> whatsapp_api_base, telegram_api_base, postmark_api_base;
};

template <class T>
void overlay(std::optional<T>& into, const std::optional<T>& from) {
  if (from) into = from;
}

void overlay(raw_settings& into, const raw_settings& from) {
  overlay(into.data_dir, from.data_dir);
  overlay(into.public_addr, from.public_addr);
  overlay(into.admin_addr, from.admin_addr);
  overlay(into.durability, from.durability);
  overlay(into.log_level, from.log_level);
  overlay(into.tls_cert, from.tls_cert);
  overlay(into.tls_key, from.tls_key);
  overlay(into.max_body_bytes, from.max_body_bytes);
  overlay(into.dedup_window_hours, from.dedup_window_hours);
  overlay(into.io_threads, from.io_threads);
  overlay(into.actor_threads, from.actor_threads);
  overlay(into.conversation_idle_seconds, from.conversation_idle_seconds);
  overlay(into.max_webhooks_in_flight, from.max_webhooks_in_flight);
  overlay(into.retention_sweep_seconds, from.retention_sweep_seconds);
  overlay(into.cache_mib, from.cache_mib);
  overlay(into.stop_keywords, from.stop_keywords);
  overlay(into.start_keywords, from.start_keywords);
  overlay(into.whatsapp_api_base, from.whatsapp_api_base);
  overlay(into.telegram_api_base, from.telegram_api_base);
  overlay(into.postmark_api_base, from.postmark_api_base);
}

result<std::int64_t> parse_int(std::string_view name, std::string_view text) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return make_error(errc::invalid_argument, std::string(name) + " must be an integer, not '" + std::string(text) + "'");
  }
  return v;
}

result<raw_settings> from_env(const env_lookup& env) {
  raw_settings s;
  s.data_dir = env("PARLEY_DATA_DIR");
  s.public_addr = env("PARLEY_PUBLIC_ADDR");
  s.admin_addr = env("PARLEY_ADMIN_ADDR");
  s.durability = env("PARLEY_DURABILITY");
  s.log_level = env("PARLEY_LOG_LEVEL");
  s.tls_cert = env("PARLEY_TLS_CERT");
  s.tls_key = env("PARLEY_TLS_KEY");
  struct int_var { const char* name; std::optional<std::int64_t>* into; };
  for (auto [name, into] : {int_var{"PARLEY_MAX_BODY_BYTES", &s.max_body_bytes},
                            int_var{"PARLEY_DEDUP_WINDOW_HOURS", &s.dedup_window_hours},
                            int_var{"PARLEY_IO_THREADS", &s.io_threads},
                            int_var{"PARLEY_ACTOR_THREADS", &s.actor_threads},
                            int_var{"PARLEY_CONVERSATION_IDLE_SECONDS", &s.conversation_idle_seconds},
                            int_var{"PARLEY_MAX_WEBHOOKS_IN_FLIGHT", &s.max_webhooks_in_flight},
                            int_var{"PARLEY_RETENTION_SWEEP_SECONDS", &s.retention_sweep_seconds},
                            int_var{"PARLEY_CACHE_MIB", &s.cache_mib}}) {
    if (auto text = env(name)) {
      auto v = parse_int(name, *text);
      if (!v) return std::move(v).err();
      *into = *v;
    }
  }
  return s;
}

// A TOML array of non-empty strings, or nullopt.
std::optional<std::vector<std::string>> string_array(const toml::node& node) {
  const auto* arr = node.as_array();
  if (arr == nullptr || arr->empty()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& item : *arr) {
    auto v = item.value<std::string>();
    if (!v || v->empty()) return std::nullopt;
    out.push_back(*v);
  }
  return out;
}

result<raw_settings> from_toml(const std::string& path) {
  toml::table doc;
  try {
    doc = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return make_error(errc::invalid_argument, "config file " + path + " line " + std::to_string(where.line) + ": " +
                                                  std::string(e.description()));
  }
  raw_settings s;
  std::string problem;
  auto take_string = [&](const toml::node& node, std::string_view key, std::optional<std::string>& into) {
    if (auto v = node.value<std::string>()) into = *v;
    else problem = "config key " + std::string(key) + " must be a string";
  };
  auto take_int = [&](const toml::node& node, std::string_view key, std::optional<std::int64_t>& into) {
    if (auto v = node.value<std::int64_t>()) into = *v;
    else problem = "config key " + std::string(key) + " must be an integer";
  };
  for (auto&& [k, node] : doc) {
    std::string key(k.str());
    if (key == "data_dir") take_string(node, key, s.data_dir);
    else if (key == "public_addr") take_string(node, key, s.public_addr);
    else if (key == "admin_addr") take_string(node, key, s.admin_addr);
    else if (key == "durability") take_string(node, key, s.durability);
    else if (key == "log_level") take_string(node, key, s.log_level);
    else if (key == "tls_cert") take_string(node, key, s.tls_cert);
    else if (key == "tls_key") take_string(node, key, s.tls_key);
    else if (key == "max_body_bytes") take_int(node, key, s.max_body_bytes);
    else if (key == "dedup_window_hours") take_int(node, key, s.dedup_window_hours);
    else if (key == "io_threads") take_int(node, key, s.io_threads);
    else if (key == "actor_threads") take_int(node, key, s.actor_threads);
    else if (key == "conversation_idle_seconds") take_int(node, key, s.conversation_idle_seconds);
    else if (key == "cache_mib") take_int(node, key, s.cache_mib);
    else if (key == "retention_sweep_seconds") take_int(node, key, s.retention_sweep_seconds);
    else if (key == "max_webhooks_in_flight") take_int(node, key, s.max_webhooks_in_flight);
    else if (key == "stop_keywords" || key == "start_keywords") {
      auto words = string_array(node);
      if (!words) problem = "config key " + key + " must be a non-empty array of strings";
      else (key == "stop_keywords" ? s.stop_keywords : s.start_keywords) = std::move(*words);
    }
    else if (key == "providers" && node.is_table()) {
      for (auto&& [pk, pnode] : *node.as_table()) {
        std::string pkey(pk.str());
        if (pkey == "whatsapp_api_base") take_string(pnode, "providers.whatsapp_api_base", s.whatsapp_api_base);
        else if (pkey == "telegram_api_base") take_string(pnode, "providers.telegram_api_base", s.telegram_api_base);
        else if (pkey == "postmark_api_base") take_string(pnode, "providers.postmark_api_base", s.postmark_api_base);
        else problem = "unknown config key providers." + pkey;
      }
    } else {
      // A typo must not silently fall back to a default.
      problem = "unknown config key " + key;
    }
    if (!problem.empty()) return make_error(errc::invalid_argument, "config file " + path + ": " + problem);
  }
  return s;
}

result<std::int64_t> in_range(std::string_view name, std::int64_t v, std::int64_t lo, std::int64_t hi) {
  if (v < lo || v > hi) {
    return make_error(errc::invalid_argument,
                      std::string(name) + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  return v;
}

result<config> validate(config cfg, const raw_settings& s) {
  if (s.data_dir) {
    if (s.data_dir->empty()) return make_error(errc::invalid_argument, "data dir must not be empty");
    cfg.data_dir = *s.data_dir;
  }
  for (auto [text, into, name] : {std::tuple{&s.public_addr, &cfg.public_addr, "public address"},
                                  std::tuple{&s.admin_addr, &cfg.admin_addr, "admin address"}}) {
    if (!*text) continue;
    auto addr = parse_listen_address(**text);
    if (!addr) return make_error(errc::invalid_argument, std::string(name) + ": " + addr.err().message);
    *into = *addr;
  }
  if (s.durability) {
    auto d = parse_durability(*s.durability);
    if (!d) return std::move(d).err();
    cfg.durability = *d;
  }
  if (s.log_level) {
    if (!log_levels.contains(*s.log_level)) {
      return make_error(errc::invalid_argument,
                        "log level must be one of trace, debug, info, warn, error, off; not '" + *s.log_level + "'");
    }
    cfg.log_level = *s.log_level;
  }
  cfg.tls_cert = s.tls_cert;
  cfg.tls_key = s.tls_key;
  if (cfg.tls_cert.has_value() != cfg.tls_key.has_value()) {
    return make_error(errc::invalid_argument, "TLS needs both a certificate (--tls-cert) and a key (--tls-key)");
  }
  for (const auto* file : {&cfg.tls_cert, &cfg.tls_key}) {
    std::error_code ec;
    if (*file && !std::filesystem::is_regular_file(**file, ec)) {
      return make_error(errc::invalid_argument, "TLS file " + **file + " does not exist or is not a file");
    }
  }
  if (s.max_body_bytes) {
    auto v = in_range("max_body_bytes", *s.max_body_bytes, 1024, 64LL << 20);
    if (!v) return std::move(v).err();
    cfg.max_body_bytes = static_cast<std::size_t>(*v);
  }
  if (s.dedup_window_hours) {
    auto v = in_range("dedup_window_hours", *s.dedup_window_hours, 1, 24 * 365);
    if (!v) return std::move(v).err();
    cfg.dedup_window_hours = static_cast<std::uint32_t>(*v);
  }
  if (s.io_threads) {
    auto v = in_range("io_threads", *s.io_threads, 1, 64);
    if (!v) return std::move(v).err();
    cfg.io_threads = static_cast<std::size_t>(*v);
  }
  if (s.actor_threads) {
    auto v = in_range("actor_threads", *s.actor_threads, 1, 64);
    if (!v) return std::move(v).err();
    cfg.actor_threads = static_cast<std::size_t>(*v);
  }
  if (s.max_webhooks_in_flight) {
    auto v = in_range("max_webhooks_in_flight", *s.max_webhooks_in_flight, 1, 1'000'000);
    if (!v) return std::move(v).err();
    cfg.max_webhooks_in_flight = static_cast<std::uint64_t>(*v);
  }
  if (s.conversation_idle_seconds) {
    auto v = in_range("conversation_idle_seconds", *s.conversation_idle_seconds, 1, 86'400);
    if (!v) return std::move(v).err();
    cfg.conversation_idle_seconds = static_cast<std::uint32_t>(*v);
  }
  if (s.cache_mib) {
    auto v = in_range("cache_mib", *s.cache_mib, 8, 1'048'576);
    if (!v) return std::move(v).err();
    cfg.cache_mib = static_cast<std::size_t>(*v);
  }
  if (s.retention_sweep_seconds) {
    auto v = in_range("retention_sweep_seconds", *s.retention_sweep_seconds, 1, 86'400);
    if (!v) return std::move(v).err();
    cfg.retention_sweep_seconds = static_cast<std::uint32_t>(*v);
  }
  // Keywords compare case-insensitively: keep them upper-case.
  auto upper = [](std::vector<std::string> words) {
    for (auto& w : words) {
      for (auto& c : w) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return words;
  };
  if (s.stop_keywords) cfg.stop_keywords = upper(*s.stop_keywords);
  if (s.start_keywords) cfg.start_keywords = upper(*s.start_keywords);
  for (auto [text, into, name] : {std::tuple{&s.whatsapp_api_base, &cfg.whatsapp_api_base, "providers.whatsapp_api_base"},
                                  std::tuple{&s.telegram_api_base, &cfg.telegram_api_base, "providers.telegram_api_base"},
                                  std::tuple{&s.postmark_api_base, &cfg.postmark_api_base, "providers.postmark_api_base"}}) {
    if (!*text) continue;
    if ((*text)->rfind("http://", 0) != 0 && (*text)->rfind("https://", 0) != 0) {
      return make_error(errc::invalid_argument, std::string(name) + " must be an http:// or https:// URL");
    }
    *into = **text;
  }
  return cfg;
}

}  // namespace

std::string listen_address::to_string() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

result<listen_address> parse_listen_address(std::string_view text) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return make_error(errc::invalid_argument, "'" + std::string(text) + "' is not HOST:PORT");
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return make_error(errc::invalid_argument, "'" + std::string(text) + "' has a malformed [IPv6] host");
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return make_error(errc::invalid_argument, "IPv6 hosts must be written in brackets: [::1]:8080");
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535 || port_text.empty()) {
    return make_error(errc::invalid_argument, "'" + std::string(port_text) + "' is not a port (0-65535)");
  }
  return listen_address{std::string(host), static_cast<std::uint16_t>(port)};
}

env_lookup process_env() {
  return [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

result<parse_outcome> parse_config(const std::vector<std::string>& args, const env_lookup& env) {
  CLI::App app{"parleyd: the Parley conversation engine", "parleyd"};
  app.set_version_flag("--version", "parleyd 0.1.0");
  app.get_formatter()->column_width(34);
  // A flag given twice takes the last value, as most daemons do (scripts append overrides).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  raw_settings flags;
  std::optional<std::string> config_file;
  app.add_option("--config", config_file, "TOML config file (env PARLEY_CONFIG)");
  app.add_option("--data-dir", flags.data_dir, "RocksDB and key files (env PARLEY_DATA_DIR, default ./parley-data)");
  app.add_option("--public-addr", flags.public_addr, "webhooks + tenant API HOST:PORT (env PARLEY_PUBLIC_ADDR, default 127.0.0.1:8080; port 0 picks one)");
  app.add_option("--admin-addr", flags.admin_addr, "admin API, health, metrics HOST:PORT (env PARLEY_ADMIN_ADDR, default 127.0.0.1:8081)");
  app.add_option("--durability", flags.durability,
                 "sync (default): answer 200/202 only after the write-ahead log is fsync'd. "
                 "async: answer once written to the OS, before fsync; faster, but a power loss or kernel crash "
                 "can lose acknowledged messages (env PARLEY_DURABILITY)");
  app.add_option("--log-level", flags.log_level, "trace|debug|info|warn|error|off (env PARLEY_LOG_LEVEL, default info)");
  app.add_option("--tls-cert", flags.tls_cert, "PEM certificate chain: serve HTTPS on both listeners (env PARLEY_TLS_CERT)");
  app.add_option("--tls-key", flags.tls_key, "PEM private key for --tls-cert (env PARLEY_TLS_KEY)");
  app.add_option("--max-body-bytes", flags.max_body_bytes, "largest request body accepted (env PARLEY_MAX_BODY_BYTES, default 1048576)");
  app.add_option("--dedup-window-hours", flags.dedup_window_hours, "how long provider message ids are remembered (env PARLEY_DEDUP_WINDOW_HOURS, default 168)");
  app.add_option("--io-threads", flags.io_threads,
                 "HTTP I/O threads (env PARLEY_IO_THREADS, default half the CPU cores, at least 1)");
  app.add_option("--actor-threads", flags.actor_threads,
                 "actor scheduler threads (env PARLEY_ACTOR_THREADS, default half the CPU cores, at least 1)");
  app.add_option("--max-webhooks-in-flight", flags.max_webhooks_in_flight,
                 "webhooks accepted but not yet durable; more get 503 + Retry-After (env PARLEY_MAX_WEBHOOKS_IN_FLIGHT, default 16384)");
  app.add_option("--conversation-idle-seconds", flags.conversation_idle_seconds,
                 "passivate a conversation idle this long (env PARLEY_CONVERSATION_IDLE_SECONDS, default 60)");
  app.add_option("--cache-mib", flags.cache_mib,
                 "RocksDB block cache: data, index and filter blocks read from the store (env PARLEY_CACHE_MIB, default 64)");
  app.add_option("--retention-sweep-seconds", flags.retention_sweep_seconds,
                 "how often files holding expired records are compacted away (env PARLEY_RETENTION_SWEEP_SECONDS, default 600)");
  std::optional<std::string> rotate_to;
  app.add_option("--rotate-master-key", rotate_to,
                 "maintenance: re-wrap every tenant key under the master key in this file (base64 of 32 bytes), "
                 "replace <data-dir>/master.key with it when that was the key's source, and exit");
  app.footer(
      "Secrets: PARLEY_ADMIN_TOKEN and PARLEY_MASTER_KEY (base64 of 32 bytes); when unset they are generated on "
      "first start into <data-dir>/admin.token and <data-dir>/master.key (mode 0600).\n"
      "Precedence: flag > environment > config file > default.");

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return parse_outcome{parse_outcome::action::exit_ok, {}, app.help()};
  } catch (const CLI::CallForVersion& e) {
    return parse_outcome{parse_outcome::action::exit_ok, {}, std::string(e.what()) + "\n"};
  } catch (const CLI::ParseError& e) {
    return make_error(errc::invalid_argument, std::string(e.what()) + " (see parleyd --help)");
  }

  if (!config_file) config_file = env("PARLEY_CONFIG");
  raw_settings merged;
  if (config_file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(*config_file, ec)) {
      return make_error(errc::invalid_argument, "config file " + *config_file + " does not exist");
    }
    auto file = from_toml(*config_file);
    if (!file) return std::move(file).err();
    merged = *file;
  }
  auto envs = from_env(env);
  if (!envs) return std::move(envs).err();
  overlay(merged, *envs);
  overlay(merged, flags);
  auto cfg = validate(config{}, merged);
  if (!cfg) return std::move(cfg).err();
  cfg->config_file = config_file;
  cfg->rotate_master_key_to = rotate_to;
  return parse_outcome{parse_outcome::action::run, std::move(*cfg), {}};
}

}  // namespace parley::engine
