// parley-bench ingest against the real parleyd: a short run whose every acknowledged
// webhook must be stored exactly once, checked directly and by `parley-bench verify`.
#include <gtest/gtest.h>

#include <fstream>

#include "support/parley_fixture.hpp"
#include "support/temp_dir.hpp"
#include "support/webhook_payloads.hpp"

namespace parley::testing {
namespace {

class BenchIngest : public parley_fixture {};

TEST_F(BenchIngest, ATwoSecondRunIsStoredExactlyOnce) {
  auto key = create_tenant("bench");
  meta_channel ch;
  ch.account_id = "100200300";  // the phone_number_id parley-bench's bodies carry
  auto channel_id = create_channel("bench", ch.to_json());
  ASSERT_FALSE(channel_id.empty());
  temp_dir work;
  std::string json_path = work.sub("run.json");
  child_process bench(PARLEY_BENCH_PATH,
                      {"ingest", "--target", "http://" + public_addr(), "--channel-path", "/webhooks/whatsapp/" + channel_id,
                       "--secret", ch.app_secret, "--duration", "2s", "--connections", "8", "--contacts", "50",
                       "--duplicates", "0.1", "--quiet", "--json", json_path},
                      {}, work.sub("bench.log"));
  ASSERT_EQ(bench.wait_exit(120'000), 0) << read_file(work.sub("bench.log"));
  auto run = parse_json(read_file(json_path));
  auto ok = num(run, "ok");
  auto duplicates = num(run, "duplicates_sent");
  ASSERT_GT(ok, 0);
  EXPECT_EQ(num(run, "errors"), 0);
  // Every unique wamid acknowledged is one stored message; redeliveries add nothing.
  std::int64_t stored = 0;
  for (const auto& c : all_conversations(key)) stored += num(c, "message_count");
  EXPECT_EQ(stored, ok - duplicates);
  EXPECT_LE(all_conversations(key).size(), 50u);

  // parley-bench verify proves the same through the tenant API, and catches a loss.
  child_process verify(PARLEY_BENCH_PATH,
                       {"verify", "--target", "http://" + public_addr(), "--run", json_path, "--api-key", key}, {},
                       work.sub("verify.log"));
  EXPECT_EQ(verify.wait_exit(120'000), 0) << read_file(work.sub("verify.log"));
  std::string tampered = read_file(json_path);
  auto at = tampered.find("\"acknowledged\":[");
  ASSERT_NE(at, std::string::npos);
  tampered.insert(at + 16, "\"wamid.never.stored\",");
  std::ofstream(work.sub("tampered.json")) << tampered;
  child_process lost(PARLEY_BENCH_PATH,
                     {"verify", "--target", "http://" + public_addr(), "--run", work.sub("tampered.json"), "--api-key", key},
                     {}, work.sub("lost.log"));
  EXPECT_EQ(lost.wait_exit(120'000), 1) << read_file(work.sub("lost.log"));
}

}  // namespace
}  // namespace parley::testing
