// parleyd: the Parley conversation engine. See API.md for flags and behaviour.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>
#include <vector>

#include "app/app.hpp"
#include "app/secrets.hpp"
#include "config/config.hpp"

// Options for jemalloc, which release builds link (PARLEY_JEMALLOC); it reads them at its
// start, before MALLOC_CONF, which can still override them. Its background threads return
// freed pages to the system while parleyd is idle; without them pages go back only
// during later allocations, so RSS would stay at its last peak. Unused with glibc's malloc.
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "background_thread:true";
}

int main(int argc, char** argv) {
  using namespace parley::engine;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto env = process_env();
  auto parsed = parse_config(args, env);
  if (!parsed) {
    std::fprintf(stderr, "parleyd: %s\n", parsed.err().message.c_str());
    return 2;
  }
  if (parsed->next == parse_outcome::action::exit_ok) {
    std::fputs(parsed->output.c_str(), stdout);
    return 0;
  }
  const config& cfg = parsed->cfg;

  // Logs go to stderr; stdout carries only the ready line.
  auto logger = spdlog::stderr_color_mt("parleyd");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(cfg.log_level));
  spdlog::set_default_logger(logger);

  auto keys = load_or_create_secrets(cfg.data_dir, env);
  if (!keys) {
    std::fprintf(stderr, "parleyd: %s\n", keys.err().message.c_str());
    return keys.code() == parley::errc::invalid_argument ? 2 : 1;
  }
  if (cfg.rotate_master_key_to) return rotate_master_key(cfg, *keys, *cfg.rotate_master_key_to);
  if (keys->generated_master_key) spdlog::info("generated master key file={}", keys->master_key_source);
  if (keys->generated_admin_token) spdlog::info("generated admin token file={}", keys->admin_token_source);
  spdlog::info("starting data_dir={} master_key_from={} admin_token_from={}", cfg.data_dir, keys->master_key_source,
               keys->admin_token_source);
  return run_parleyd(cfg, *keys);
}
