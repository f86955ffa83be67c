#pragma once
/// The process's two secrets: the admin bearer token and the master key. Each comes
/// from its environment variable or from a file in the data directory, generated (mode
/// 0600, written atomically) on first start. Nothing here ever logs a secret's value.
#include <string>

#include "config/config.hpp"
#include "parley/result.hpp"
#include "parley/storage/crypto.hpp"

namespace parley::engine {

struct secrets {
  std::string admin_token;
  storage::aead_key master_key;
  std::string admin_token_source;  ///< "env PARLEY_ADMIN_TOKEN" or the file path
  std::string master_key_source;
  bool generated_admin_token = false;
  bool generated_master_key = false;
};

/// Creates the data directory (0700) if missing, then loads or generates both secrets.
/// invalid_argument for a malformed env value or key file; io_error when files cannot
/// be read or written.
[[nodiscard]] result<secrets> load_or_create_secrets(const std::string& data_dir, const env_lookup& env);

/// `parleyd --rotate-master-key FILE`: opens the store with the current master key,
/// re-wraps every tenant key under the key in FILE (no data is rewritten) and, when the
/// current key came from <data-dir>/master.key, replaces that file atomically. Prints one
/// line and returns the exit status (0 done, 2 bad key file or wrong current key, 1 I/O).
[[nodiscard]] int rotate_master_key(const config& cfg, const secrets& current, const std::string& new_key_file);

}  // namespace parley::engine
