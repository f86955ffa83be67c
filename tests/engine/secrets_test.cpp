#include "app/secrets.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "support/temp_dir.hpp"

namespace parley::engine {
namespace {

env_lookup no_env() {
  return [](const char*) -> std::optional<std::string> { return std::nullopt; };
}

TEST(Secrets, FirstStartGeneratesBothFilesPrivately) {
  parley::testing::temp_dir dir;
  std::string data = dir.sub("data");
  auto first = load_or_create_secrets(data, no_env());
  ASSERT_TRUE(first.ok()) << first.err().message;
  EXPECT_TRUE(first->generated_admin_token);
  EXPECT_TRUE(first->generated_master_key);
  EXPECT_EQ(first->admin_token.size(), 64u);
  for (const char* name : {"/admin.token", "/master.key"}) {
    struct stat st {};
    ASSERT_EQ(::stat((data + name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
  auto second = load_or_create_secrets(data, no_env());
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->generated_admin_token);
  EXPECT_EQ(second->admin_token, first->admin_token);
  EXPECT_EQ(second->master_key.view(), first->master_key.view());
}

TEST(Secrets, EnvironmentValuesWinAndAreValidated) {
  parley::testing::temp_dir dir;
  auto key = storage::aead_key::random();
  auto env = [&](const char* name) -> std::optional<std::string> {
    if (std::string(name) == "PARLEY_MASTER_KEY") return key.to_base64();
    if (std::string(name) == "PARLEY_ADMIN_TOKEN") return std::string("0123456789abcdef-token");
    return std::nullopt;
  };
  auto s = load_or_create_secrets(dir.sub("d"), env);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->master_key.view(), key.view());
  EXPECT_EQ(s->admin_token, "0123456789abcdef-token");

  auto short_token = [](const char* name) -> std::optional<std::string> {
    if (std::string(name) == "PARLEY_ADMIN_TOKEN") return std::string("short");
    return std::nullopt;
  };
  auto refused = load_or_create_secrets(dir.sub("d2"), short_token);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), errc::invalid_argument);
  EXPECT_EQ(refused.err().message.find("short"), std::string::npos) << "the message must not echo the secret";
}

TEST(Secrets, ACorruptKeyFileIsRefused) {
  parley::testing::temp_dir dir;
  std::string data = dir.sub("data");
  ASSERT_TRUE(load_or_create_secrets(data, no_env()).ok());
  std::ofstream(data + "/master.key") << "not-a-key\n";
  auto s = load_or_create_secrets(data, no_env());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), errc::invalid_argument);
}

}  // namespace
}  // namespace parley::engine
