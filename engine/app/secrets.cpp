#include "app/secrets.hpp"

#include "parley/clock.hpp"
#include "parley/hex.hpp"
#include "parley/storage/retention.hpp"
#include "parley/storage/store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace parley::engine {
namespace {

std::string errno_text() { return std::strerror(errno); }

// Writes `content` to `path` with mode 0600: a temp file, fsync, rename, fsync the dir,
// so a crash leaves either no file or the whole file.
status write_secret_file(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(errc::io_error, "cannot create " + tmp + ": " + errno_text());
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return make_error(errc::io_error, "cannot write " + path + ": " + errno_text());
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

result<std::string> read_secret_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return make_error(errc::not_found, path + " does not exist");
  if ((st.st_mode & 077) != 0) {
    // Loosened permissions are fixed rather than refused: the file is ours.
    (void)::chmod(path.c_str(), 0600);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(errc::io_error, "cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

result<secrets> load_or_create_secrets(const std::string& data_dir, const env_lookup& env) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return make_error(errc::io_error, "cannot create data dir " + data_dir + ": " + ec.message());
  std::filesystem::permissions(data_dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace, ec);

  secrets out;
  // Master key.
  if (auto from_env = env("PARLEY_MASTER_KEY")) {
    auto key = storage::aead_key::from_base64(*from_env);
    if (!key) return make_error(errc::invalid_argument, "PARLEY_MASTER_KEY must be base64 of exactly 32 bytes");
    out.master_key = *key;
    out.master_key_source = "env PARLEY_MASTER_KEY";
  } else {
    std::string path = data_dir + "/master.key";
    auto text = read_secret_file(path);
    if (text) {
      auto key = storage::aead_key::from_base64(*text);
      if (!key) return make_error(errc::invalid_argument, path + " must hold base64 of exactly 32 bytes");
      out.master_key = *key;
    } else if (text.code() == errc::not_found) {
      out.master_key = storage::aead_key::random();
      if (auto st = write_secret_file(path, out.master_key.to_base64() + "\n"); !st) return std::move(st).err();
      out.generated_master_key = true;
    } else {
      return std::move(text).err();
    }
    out.master_key_source = path;
  }
  // Admin token.
  if (auto from_env = env("PARLEY_ADMIN_TOKEN")) {
    if (from_env->size() < 16) return make_error(errc::invalid_argument, "PARLEY_ADMIN_TOKEN must be at least 16 characters");
    out.admin_token = *from_env;
    out.admin_token_source = "env PARLEY_ADMIN_TOKEN";
  } else {
    std::string path = data_dir + "/admin.token";
    auto text = read_secret_file(path);
    if (text) {
      if (text->size() < 16) return make_error(errc::invalid_argument, path + " must hold a token of at least 16 characters");
      out.admin_token = *text;
    } else if (text.code() == errc::not_found) {
      out.admin_token = to_hex(storage::random_bytes(32));
      if (auto st = write_secret_file(path, out.admin_token + "\n"); !st) return std::move(st).err();
      out.generated_admin_token = true;
    } else {
      return std::move(text).err();
    }
    out.admin_token_source = path;
  }
  return out;
}


int rotate_master_key(const config& cfg, const secrets& current, const std::string& new_key_file) {
  auto text = read_secret_file(new_key_file);
  if (!text) {
    std::fprintf(stderr, "parleyd: cannot read %s\n", new_key_file.c_str());
    return 2;
  }
  auto next = storage::aead_key::from_base64(*text);
  if (!next) {
    std::fprintf(stderr, "parleyd: %s must hold base64 of exactly 32 bytes\n", new_key_file.c_str());
    return 2;
  }
  storage::store_options so;
  so.path = cfg.data_dir + "/db";
  so.master_key = current.master_key;
  so.retention = std::make_shared<storage::retention_policy>(system_clock::instance(), cfg.dedup_window_hours);
  auto db = storage::store::open(std::move(so));
  if (!db) {
    std::fprintf(stderr, "parleyd: cannot open storage (is parleyd running on it?): %s\n", db.err().message.c_str());
    return 1;
  }
  if (auto st = (*db)->check_master_key(); !st) {
    std::fprintf(stderr, "parleyd: %s\n", st.err().message.c_str());
    return 2;
  }
  auto count = (*db)->rotate_master_key(*next);
  if (!count) {
    std::fprintf(stderr, "parleyd: rotation failed, nothing changed: %s\n", count.err().message.c_str());
    return 1;
  }
  std::string key_file = cfg.data_dir + "/master.key";
  if (current.master_key_source == key_file) {
    if (auto st = write_secret_file(key_file, next->to_base64() + "\n"); !st) {
      std::fprintf(stderr, "parleyd: keys re-wrapped but %s could not be replaced: put the new key there by hand\n",
                   key_file.c_str());
      return 1;
    }
    std::printf("parleyd: master key rotated: %zu tenant keys re-wrapped; %s holds the new key\n", *count, key_file.c_str());
  } else {
    std::printf("parleyd: master key rotated: %zu tenant keys re-wrapped; set PARLEY_MASTER_KEY to the new key\n", *count);
  }
  return 0;
}

}  // namespace parley::engine
