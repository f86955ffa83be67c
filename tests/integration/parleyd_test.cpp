// End-to-end: the real parleyd process on port 0, talked to over real sockets.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "support/child_process.hpp"
#include "support/tls_material.hpp"
#include "support/temp_dir.hpp"

namespace parley::testing {
namespace {

constexpr int start_timeout_ms = 60'000;  // generous: CI machines are loaded

class Parleyd : public ::testing::Test {
 protected:
  std::unique_ptr<child_process> start(std::vector<std::string> extra_args = {}, std::vector<std::string> env = {}) {
    std::vector<std::string> args = {"--data-dir", dir.sub("data"), "--public-addr", "127.0.0.1:0", "--admin-addr",
                                     "127.0.0.1:0"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    return std::make_unique<child_process>(PARLEYD_PATH, args, env, log_path());
  }
  ready_line await_ready(child_process& p) {
    auto line = p.read_line(start_timeout_ms);
    EXPECT_TRUE(line.has_value()) << "no ready line; log:\n" << read_file(log_path());
    auto ready = parse_ready_line(line.value_or(""));
    EXPECT_TRUE(ready.has_value()) << "bad ready line: " << line.value_or("");
    return ready.value_or(ready_line{});
  }
  std::string log_path() const { return dir.sub("parleyd.log"); }

  temp_dir dir;
};

TEST_F(Parleyd, StartsServesAdminRoutesAndExitsZeroOnSigterm) {
  auto p = start();
  auto ready = await_ready(*p);
  EXPECT_EQ(ready.data_dir, dir.sub("data"));
  EXPECT_NE(ready.public_addr, "127.0.0.1:0");

  auto health = http_request(ready.admin_addr, "GET", "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, R"({"status":"ok"})");
  EXPECT_TRUE(health->header("x-request-id").has_value());

  auto readyz = http_request(ready.admin_addr, "GET", "/readyz");
  ASSERT_TRUE(readyz);
  EXPECT_EQ(readyz->status, 200);

  auto metrics = http_request(ready.admin_addr, "GET", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  for (const char* name : {"parley_storage_commit_seconds_bucket", "parley_storage_commit_batch_groups_bucket",
                           "process_resident_memory_bytes", "process_cpu_seconds_total", "parley_http_requests_total",
                           "parley_http_request_duration_seconds_bucket{listener=\"admin\",le=\"0.00025\"}",
                           "parley_storage_pending_compaction_bytes", "parley_storage_compaction_pending_families",
                           "parley_storage_running_compactions",
                           "parley_storage_sst_bytes", "parley_storage_memtable_bytes",
                           "parley_storage_table_reader_bytes", "parley_storage_block_cache_bytes", "parley_storage_trash_bytes",
                           "parley_storage_background_write_limit_bytes_per_second",
                           "parley_retention_last_purge_timestamp_seconds"}) {
    EXPECT_NE(metrics->body.find(name), std::string::npos) << name;
  }

  p->signal(SIGTERM);
  EXPECT_EQ(p->wait_exit(start_timeout_ms), 0) << read_file(log_path());
}

// The allocator parleyd was built with (PARLEY_JEMALLOC) serves it and says so in
// /metrics; with jemalloc, its heap figures are there too and malloc_conf took effect
// (its background thread, which returns idle pages, runs).
TEST_F(Parleyd, ReportsTheAllocatorItRunsOn) {
  auto p = start();
  auto ready = await_ready(*p);
  auto metrics = http_request(ready.admin_addr, "GET", "/metrics");
  ASSERT_TRUE(metrics);
  ASSERT_EQ(metrics->status, 200);
  const std::string allocator = PARLEYD_ALLOCATOR;
  EXPECT_NE(metrics->body.find("parley_heap_allocator_info{allocator=\"" + allocator + "\"} 1"), std::string::npos)
      << metrics->body;
  auto value_of = [&](const std::string& name) -> double {
    auto at = metrics->body.find("\n" + name + " ");
    if (at == std::string::npos) return -1;
    return std::stod(metrics->body.substr(at + name.size() + 2));
  };
  if (allocator == "jemalloc") {
    EXPECT_GT(value_of("parley_heap_allocated_bytes"), 1e6);  // RocksDB's arenas alone are more
    EXPECT_GE(value_of("parley_heap_resident_bytes"), value_of("parley_heap_allocated_bytes"));
    bool background = false;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(p->pid()) + "/task")) {
      if (read_file(task.path().string() + "/comm").starts_with("jemalloc_bg_thd")) background = true;
    }
    EXPECT_TRUE(background) << "malloc_conf's background_thread:true was not applied";
  } else {
    EXPECT_EQ(metrics->body.find("parley_heap_allocated_bytes"), std::string::npos);
  }
  p->signal(SIGTERM);
  EXPECT_EQ(p->wait_exit(start_timeout_ms), 0) << read_file(log_path());
}

// Every thread of parleyd's own is named (what `top -H` and perf show); --io-threads 3
// gives three I/O threads, and requests on several connections at once are all answered.
TEST_F(Parleyd, NamesItsThreadsAndRunsTheIoThreadsItIsGiven) {
  auto p = start({"--io-threads", "3"});
  auto ready = await_ready(*p);
  const std::vector<std::string> expected = {"parley-writer", "parley-sync", "parley-reader", "parley-registry",
                                             "parley-export"};
  auto read_names = [&] {
    std::map<std::string, int> names;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(p->pid()) + "/task")) {
      std::string name = read_file(task.path().string() + "/comm");
      while (!name.empty() && name.back() == '\n') name.pop_back();
      ++names[name];
    }
    return names;
  };
  // parleyd names the threads it creates before it goes on, so they are named by the
  // ready line. A detached actor (the registry) names its thread when it first runs,
  // which may come just after it: nothing announces that, so its name is polled for.
  auto names = read_names();
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       std::chrono::steady_clock::now() < until && names["parley-registry"] == 0;
       names = read_names()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(names["parley-io"], 3);
  for (const auto& name : expected) EXPECT_GE(names[name], 1) << name;

  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    clients.emplace_back([&] {
      for (int j = 0; j < 5; ++j) {
        auto health = http_request(ready.admin_addr, "GET", "/healthz");
        if (health && health->status == 200) ++ok;
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok.load(), 30);

  p->signal(SIGTERM);
  EXPECT_EQ(p->wait_exit(start_timeout_ms), 0) << read_file(log_path());
}

TEST_F(Parleyd, AnswersUnknownRoutesAndMethodsWithTheJsonErrorShape) {
  auto p = start();
  auto ready = await_ready(*p);
  auto missing = http_request(ready.public_addr, "GET", "/no/such/route", {}, {"X-Request-Id: trace-123"});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find(R"("code":"not_found")"), std::string::npos);
  EXPECT_EQ(missing->header("x-request-id"), "trace-123");
  auto wrong_method = http_request(ready.admin_addr, "POST", "/healthz", "{}");
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->status, 405);
  p->signal(SIGINT);
  EXPECT_EQ(p->wait_exit(start_timeout_ms), 0);
}

TEST_F(Parleyd, FirstStartGeneratesPrivateKeyFilesAndNeverLogsThem) {
  auto p = start();
  (void)await_ready(*p);
  p->signal(SIGTERM);
  ASSERT_EQ(p->wait_exit(start_timeout_ms), 0);

  for (const char* name : {"admin.token", "master.key"}) {
    struct stat st {};
    std::string path = dir.sub("data") + "/" + name;
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << path;
    std::string secret = read_file(path);
    while (!secret.empty() && secret.back() == '\n') secret.pop_back();
    ASSERT_GE(secret.size(), 32u);
    EXPECT_EQ(read_file(log_path()).find(secret), std::string::npos) << name << " leaked into the log";
  }
  std::string log = read_file(log_path());
  EXPECT_NE(log.find("admin.token"), std::string::npos) << "the log should name the token file";

  // A second start reuses the same secrets (the master key still opens the store).
  std::string token = read_file(dir.sub("data") + "/admin.token");
  auto again = start();
  (void)await_ready(*again);
  again->signal(SIGTERM);
  EXPECT_EQ(again->wait_exit(start_timeout_ms), 0);
  EXPECT_EQ(read_file(dir.sub("data") + "/admin.token"), token);
}

TEST_F(Parleyd, SecretsFromTheEnvironmentAreUsedAndNotWrittenOrLogged) {
  std::string key = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=";  // base64 of 32 bytes
  std::string token = "env-admin-token-0123456789abcdef";
  auto p = start({}, {"PARLEY_MASTER_KEY=" + key, "PARLEY_ADMIN_TOKEN=" + token});
  (void)await_ready(*p);
  p->signal(SIGTERM);
  ASSERT_EQ(p->wait_exit(start_timeout_ms), 0);
  EXPECT_FALSE(std::filesystem::exists(dir.sub("data") + "/master.key"));
  EXPECT_FALSE(std::filesystem::exists(dir.sub("data") + "/admin.token"));
  std::string log = read_file(log_path());
  EXPECT_EQ(log.find(key), std::string::npos);
  EXPECT_EQ(log.find(token), std::string::npos);

  // Another master key on the same data dir is refused: exit 2, one clear line.
  auto wrong = start({}, {"PARLEY_MASTER_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="});
  EXPECT_EQ(wrong->wait_exit(start_timeout_ms), 2);
  EXPECT_NE(read_file(log_path()).find("master key does not match"), std::string::npos);
}

TEST_F(Parleyd, InvalidFlagsAndConfigExitTwoWithOneLine) {
  struct bad_case {
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string expect;
  };
  std::string bad_toml = dir.sub("bad.toml");
  {
    std::ofstream(bad_toml) << "data_dir = \"x\"\nunknown_key = 1\n";
  }
  std::string broken_toml = dir.sub("broken.toml");
  {
    std::ofstream(broken_toml) << "data_dir = \n";
  }
  std::vector<bad_case> cases = {
      {{"--no-such-flag"}, {}, "no-such-flag"},
      {{"--durability", "sometimes"}, {}, "durability"},
      {{"--public-addr", "nonsense"}, {}, "public address"},
      {{"--admin-addr", "127.0.0.1:99999"}, {}, "port"},
      {{"--log-level", "loud"}, {}, "log level"},
      {{"--tls-cert", dir.sub("missing.pem")}, {}, "TLS"},
      {{"--config", bad_toml}, {}, "unknown_key"},
      {{"--config", broken_toml}, {}, "line 1"},
      {{"--config", dir.sub("absent.toml")}, {}, "does not exist"},
      {{}, {"PARLEY_DURABILITY=maybe"}, "durability"},
      {{}, {"PARLEY_MASTER_KEY=short"}, "PARLEY_MASTER_KEY"},
  };
  for (const auto& c : cases) {
    auto p = start(c.args, c.env);
    EXPECT_EQ(p->wait_exit(start_timeout_ms), 2) << c.expect;
    std::string err = read_file(log_path());
    EXPECT_NE(err.find(c.expect), std::string::npos) << "stderr: " << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "want one line, got: " << err;
  }
}

TEST_F(Parleyd, ConfigFileAndEnvironmentApplyWithFlagsWinning) {
  std::string toml = dir.sub("parley.toml");
  {
    std::ofstream(toml) << "data_dir = \"" << dir.sub("from-file") << "\"\npublic_addr = \"127.0.0.1:0\"\n"
                        << "admin_addr = \"127.0.0.1:0\"\ndurability = \"async\"\n[providers]\n"
                        << "whatsapp_api_base = \"http://127.0.0.1:9\"\n";
  }
  auto from_file = std::make_unique<child_process>(PARLEYD_PATH, std::vector<std::string>{"--config", toml},
                                                   std::vector<std::string>{}, log_path());
  auto ready = await_ready(*from_file);
  EXPECT_EQ(ready.data_dir, dir.sub("from-file"));
  from_file->signal(SIGTERM);
  ASSERT_EQ(from_file->wait_exit(start_timeout_ms), 0);
  EXPECT_NE(read_file(log_path()).find("durability=async"), std::string::npos);

  auto env_wins = std::make_unique<child_process>(
      PARLEYD_PATH, std::vector<std::string>{"--config", toml},
      std::vector<std::string>{"PARLEY_CONFIG=/nonexistent", "PARLEY_DATA_DIR=" + dir.sub("from-env")}, log_path());
  EXPECT_EQ(await_ready(*env_wins).data_dir, dir.sub("from-env"));
  env_wins->signal(SIGTERM);
  ASSERT_EQ(env_wins->wait_exit(start_timeout_ms), 0);

  auto flag_wins = std::make_unique<child_process>(
      PARLEYD_PATH, std::vector<std::string>{"--config", toml, "--data-dir", dir.sub("from-flag")},
      std::vector<std::string>{"PARLEY_DATA_DIR=" + dir.sub("from-env")}, log_path());
  EXPECT_EQ(await_ready(*flag_wins).data_dir, dir.sub("from-flag"));
  flag_wins->signal(SIGTERM);
  EXPECT_EQ(flag_wins->wait_exit(start_timeout_ms), 0);
}

// --cache-mib sizes RocksDB's block cache (the gauge reports its capacity).
TEST_F(Parleyd, TheCacheFlagSizesTheBlockCache) {
  auto p = start({"--cache-mib", "16"});
  auto ready = await_ready(*p);
  auto metrics = http_request(ready.admin_addr, "GET", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("\nparley_storage_block_cache_capacity_bytes 16777216\n"), std::string::npos)
      << metrics->body.substr(0, 2000);
  p->signal(SIGTERM);
  EXPECT_EQ(p->wait_exit(start_timeout_ms), 0);
}

TEST_F(Parleyd, APortInUseFailsWithExitOne) {
  auto first = start();
  auto ready = await_ready(*first);
  auto second = std::make_unique<child_process>(
      PARLEYD_PATH,
      std::vector<std::string>{"--data-dir", dir.sub("other"), "--public-addr", ready.public_addr, "--admin-addr", "127.0.0.1:0"},
      std::vector<std::string>{}, dir.sub("second.log"));
  EXPECT_EQ(second->wait_exit(start_timeout_ms), 1);
  EXPECT_NE(read_file(dir.sub("second.log")).find("cannot listen"), std::string::npos);
  first->signal(SIGTERM);
  EXPECT_EQ(first->wait_exit(start_timeout_ms), 0);
}

TEST_F(Parleyd, ServesHttpsOnBothListenersWithTlsFlags) {
  auto material = make_self_signed();
  std::ofstream(dir.sub("cert.pem")) << material.cert_pem;
  std::ofstream(dir.sub("key.pem")) << material.key_pem;
  auto p = start({"--tls-cert", dir.sub("cert.pem"), "--tls-key", dir.sub("key.pem")});
  auto ready = await_ready(*p);
  auto health = https_get(ready.admin_addr, "/healthz", material.cert_pem);
  ASSERT_TRUE(health.has_value());
  EXPECT_EQ(health->first, 200);
  EXPECT_EQ(health->second, R"({"status":"ok"})");
  auto missing = https_get(ready.public_addr, "/nothing", material.cert_pem);
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->first, 404);
  // A client that does not trust the certificate fails the handshake.
  EXPECT_FALSE(https_get(ready.admin_addr, "/healthz", make_self_signed().cert_pem).has_value());
  p->signal(SIGTERM);
  EXPECT_EQ(p->wait_exit(start_timeout_ms), 0);
}

TEST_F(Parleyd, AKeyThatDoesNotMatchTheCertificateExitsTwo) {
  auto a = make_self_signed();
  auto b = make_self_signed();
  std::ofstream(dir.sub("cert.pem")) << a.cert_pem;
  std::ofstream(dir.sub("key.pem")) << b.key_pem;
  auto p = start({"--tls-cert", dir.sub("cert.pem"), "--tls-key", dir.sub("key.pem")});
  EXPECT_EQ(p->wait_exit(start_timeout_ms), 2);
  EXPECT_NE(read_file(log_path()).find("TLS key"), std::string::npos) << read_file(log_path());
}

TEST_F(Parleyd, HelpListsEveryFlagAndTheAsyncWarning) {
  auto p = std::make_unique<child_process>(PARLEYD_PATH, std::vector<std::string>{"--help"}, std::vector<std::string>{},
                                           log_path());
  std::string help;
  while (auto line = p->read_line(start_timeout_ms)) help += *line + "\n";
  EXPECT_EQ(p->wait_exit(start_timeout_ms), 0);
  for (const char* flag : {"--config", "--data-dir", "--public-addr", "--admin-addr", "--durability", "--log-level",
                           "--tls-cert", "--tls-key", "--cache-mib", "PARLEY_ADMIN_TOKEN", "PARLEY_MASTER_KEY", "power loss"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace parley::testing
