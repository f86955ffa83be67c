#include "config/config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <thread>

#include "support/temp_dir.hpp"

namespace parley::engine {
namespace {

env_lookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Config, DefaultsAreTheEmbeddedOnes) {
  auto parsed = parse_config({}, fake_env({}));
  ASSERT_TRUE(parsed.ok()) << parsed.err().message;
  const auto& c = parsed->cfg;
  EXPECT_EQ(c.data_dir, "./parley-data");
  EXPECT_EQ(c.public_addr.to_string(), "127.0.0.1:8080");
  EXPECT_EQ(c.admin_addr.to_string(), "127.0.0.1:8081");
  EXPECT_EQ(c.durability, durability_mode::sync);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.max_body_bytes, 1u << 20);
  EXPECT_EQ(c.dedup_window_hours, 168u);
  EXPECT_EQ(c.cache_mib, 64u);
  EXPECT_FALSE(c.tls_cert.has_value());
  // Thread counts follow the machine: half its cores, never none.
  const std::size_t half = std::max<std::size_t>(1, std::thread::hardware_concurrency() / 2);
  EXPECT_EQ(c.io_threads, half);
  EXPECT_EQ(c.actor_threads, half);
  EXPECT_GE(c.io_threads, 1u);
}

TEST(Config, FlagsBeatEnvironmentWhichBeatsTheFile) {
  parley::testing::temp_dir dir;
  std::string file = dir.sub("c.toml");
  std::ofstream(file) << "data_dir = \"file\"\nlog_level = \"debug\"\ndurability = \"async\"\nmax_body_bytes = 4096\n";
  auto parsed = parse_config({"--config", file, "--data-dir", "flag"},
                             fake_env({{"PARLEY_DATA_DIR", "env"}, {"PARLEY_LOG_LEVEL", "warn"}}));
  ASSERT_TRUE(parsed.ok()) << parsed.err().message;
  EXPECT_EQ(parsed->cfg.data_dir, "flag");
  EXPECT_EQ(parsed->cfg.log_level, "warn");
  EXPECT_EQ(parsed->cfg.durability, durability_mode::async);
  EXPECT_EQ(parsed->cfg.max_body_bytes, 4096u);
}

TEST(Config, TheCacheSizeComesFromEverySource) {
  parley::testing::temp_dir dir;
  std::string file = dir.sub("c.toml");
  std::ofstream(file) << "cache_mib = 128\n";
  auto from_file = parse_config({"--config", file}, fake_env({}));
  ASSERT_TRUE(from_file.ok()) << from_file.err().message;
  EXPECT_EQ(from_file->cfg.cache_mib, 128u);
  auto from_env = parse_config({"--config", file}, fake_env({{"PARLEY_CACHE_MIB", "256"}}));
  ASSERT_TRUE(from_env.ok()) << from_env.err().message;
  EXPECT_EQ(from_env->cfg.cache_mib, 256u);
  auto from_flag = parse_config({"--config", file, "--cache-mib", "512"}, fake_env({{"PARLEY_CACHE_MIB", "256"}}));
  ASSERT_TRUE(from_flag.ok()) << from_flag.err().message;
  EXPECT_EQ(from_flag->cfg.cache_mib, 512u);
}

TEST(Config, TheConfigFileCanComeFromTheEnvironment) {
  parley::testing::temp_dir dir;
  std::string file = dir.sub("c.toml");
  std::ofstream(file) << "public_addr = \"[::1]:0\"\n[providers]\ntelegram_api_base = \"http://127.0.0.1:1\"\n";
  auto parsed = parse_config({}, fake_env({{"PARLEY_CONFIG", file}}));
  ASSERT_TRUE(parsed.ok()) << parsed.err().message;
  EXPECT_EQ(parsed->cfg.public_addr.host, "::1");
  EXPECT_EQ(parsed->cfg.public_addr.to_string(), "[::1]:0");
  EXPECT_EQ(parsed->cfg.telegram_api_base, "http://127.0.0.1:1");
}

TEST(Config, InvalidValuesNameWhatIsWrong) {
  struct bad {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string mention;
  };
  for (const auto& c : std::vector<bad>{
           {{"--durability", "x"}, {}, "durability"},
           {{"--max-body-bytes", "10"}, {}, "max_body_bytes"},
           {{}, {{"PARLEY_IO_THREADS", "many"}}, "PARLEY_IO_THREADS"},
           {{"--public-addr", "::1:80"}, {}, "brackets"},
           {{"--public-addr", "host:"}, {}, "port"},
           {{"--tls-key", "/etc/hostname"}, {}, "both"},
           {{"--data-dir", ""}, {}, "data dir"},
           {{"--cache-mib", "4"}, {}, "cache_mib"},
           {{}, {{"PARLEY_CACHE_MIB", "lots"}}, "PARLEY_CACHE_MIB"},
       }) {
    auto parsed = parse_config(c.args, fake_env(c.env));
    ASSERT_FALSE(parsed.ok()) << c.mention;
    EXPECT_EQ(parsed.code(), errc::invalid_argument);
    EXPECT_NE(parsed.err().message.find(c.mention), std::string::npos) << parsed.err().message;
    EXPECT_EQ(parsed.err().message.find('\n'), std::string::npos);
  }
}

TEST(Config, WrongTypesInTheFileAreRefused) {
  parley::testing::temp_dir dir;
  std::string file = dir.sub("c.toml");
  std::ofstream(file) << "max_body_bytes = \"big\"\n";
  auto parsed = parse_config({"--config", file}, fake_env({}));
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.err().message.find("max_body_bytes must be an integer"), std::string::npos);
}

TEST(Config, HelpAndVersionExitCleanly) {
  auto help = parse_config({"--help"}, fake_env({}));
  ASSERT_TRUE(help.ok());
  EXPECT_EQ(help->next, parse_outcome::action::exit_ok);
  EXPECT_NE(help->output.find("--durability"), std::string::npos);
  auto version = parse_config({"--version"}, fake_env({}));
  ASSERT_TRUE(version.ok());
  EXPECT_NE(version->output.find("parleyd"), std::string::npos);
}

TEST(ListenAddress, ParsesHostsAndPorts) {
  EXPECT_EQ(parse_listen_address("127.0.0.1:0")->port, 0);
  EXPECT_EQ(parse_listen_address("localhost:65535")->port, 65535);
  EXPECT_EQ(parse_listen_address("[::]:8080")->host, "::");
  EXPECT_FALSE(parse_listen_address(":80").ok());
  EXPECT_FALSE(parse_listen_address("host:-1").ok());
  EXPECT_FALSE(parse_listen_address("host:65536").ok());
  EXPECT_FALSE(parse_listen_address("[::1:80").ok());
}

}  // namespace
}  // namespace parley::engine
