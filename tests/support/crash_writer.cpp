// parley_crash_writer DIR MASTER_KEY_B64 START_SEQ
// Appends sealed records through the group writer from 8 threads, forever, and prints
// "ack <seq>" on stdout for every append reported durable (one write(2) per line, so a
// line is either wholly in the pipe or not at all). The crash test kills it with SIGKILL.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "parley/storage/group_writer.hpp"
#include "parley/storage/keys.hpp"

using namespace parley::storage;

std::string body_for(std::uint64_t seq) { return "record-" + std::to_string(seq) + std::string(200, 'p'); }

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: parley_crash_writer DIR MASTER_KEY_B64 START_SEQ\n");
    return 2;
  }
  auto master = aead_key::from_base64(argv[2]);
  if (!master) return 2;
  store_options options;
  options.path = argv[1];
  options.master_key = *master;
  options.retention = std::make_shared<retention_policy>(parley::system_clock::instance());
  auto db = store::open(std::move(options));
  if (!db) {
    std::fprintf(stderr, "open failed: %s\n", db.err().message.c_str());
    return 1;
  }
  if (!(*db)->create_tenant_key("crash").ok()) return 1;
  group_writer writer(**db, group_writer_options{});
  std::atomic<std::uint64_t> next{std::strtoull(argv[3], nullptr, 10)};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (;;) {
        std::uint64_t seq = next.fetch_add(1);
        write_group g;
        g.ops.push_back(write_op::put(family::messages, key_builder().str("crash").str("ct").u64(seq).take(), body_for(seq), true));
        std::promise<parley::errc> done;
        if (!writer.submit(std::move(g), [&](commit_outcome o) { done.set_value(o.code); }).ok()) continue;
        if (done.get_future().get() == parley::errc::ok) {
          std::string line = "ack " + std::to_string(seq) + "\n";
          if (::write(STDOUT_FILENO, line.data(), line.size()) < 0) std::_Exit(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
}
