// Crash safety: a child process appends through the group writer and reports each
// durable append; we SIGKILL it at a random moment, reopen the store, and require every
// reported append to be present and intact. Repeated over several kills on one store.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <set>
#include <sstream>

#include "parley/storage/keys.hpp"
#include "parley/storage/store.hpp"
#include "support/temp_dir.hpp"

extern char** environ;

namespace parley::storage {
namespace {

struct child_run {
  std::set<std::uint64_t> acked;
  std::uint64_t max_seq = 0;
};

child_run run_and_kill(const std::string& dir, const std::string& key_b64, std::uint64_t start, std::size_t kill_after) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::string start_text = std::to_string(start);
  std::vector<char*> argv = {const_cast<char*>(PARLEY_CRASH_WRITER), const_cast<char*>(dir.c_str()),
                             const_cast<char*>(key_b64.c_str()), start_text.data(), nullptr};
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, PARLEY_CRASH_WRITER, &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);

  child_run run;
  std::string pending;
  char buf[4096];
  bool killed = false;
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t pos;
    while ((pos = pending.find('\n')) != std::string::npos) {
      std::uint64_t seq = std::stoull(pending.substr(4, pos - 4));
      run.acked.insert(seq);
      pending.erase(0, pos + 1);
    }
    if (!killed && run.acked.size() >= kill_after) {
      kill(pid, SIGKILL);
      killed = true;  // keep reading: acks already in the pipe were reported durable
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child exited on its own";
  run.max_seq = run.acked.empty() ? start : *run.acked.rbegin();
  return run;
}

TEST(CrashSafety, EveryAppendReportedDurableSurvivesSigkill) {
  parley::testing::temp_dir dir;
  auto master = aead_key::random();
  std::mt19937 rng(12345);
  std::uniform_int_distribution<std::size_t> when(20, 1500);
  std::set<std::uint64_t> all_acked;
  std::uint64_t next_start = 0;
  for (int round = 0; round < 5; ++round) {
    auto run = run_and_kill(dir.sub("db"), master.to_base64(), next_start, when(rng));
    ASSERT_FALSE(run.acked.empty());
    all_acked.insert(run.acked.begin(), run.acked.end());
    next_start = run.max_seq + 100'000;  // fresh sequence space per round

    store_options options;
    options.path = dir.sub("db");
    options.master_key = master;
    options.retention = std::make_shared<retention_policy>(parley::system_clock::instance());
    auto db = store::open(std::move(options));
    ASSERT_TRUE(db.ok()) << db.err().message;
    for (std::uint64_t seq : all_acked) {
      auto rec = (*db)->get(family::messages, key_builder().str("crash").str("ct").u64(seq).take());
      ASSERT_TRUE(rec.ok()) << "round " << round << " lost acknowledged seq " << seq << ": " << rec.err().message;
      ASSERT_EQ(rec->body, "record-" + std::to_string(seq) + std::string(200, 'p'));
    }
  }
}

}  // namespace
}  // namespace parley::storage
