#pragma once
// Runs a real program (parleyd) as a child for end-to-end tests: stdout on a pipe (for
// the ready line), stderr to a file (for log assertions), signals, exit status.
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace parley::testing {

class child_process {
 public:
  /// Starts `program` with `args`; `env` entries ("K=V") replace the inherited
  /// environment's PARLEY_* variables. stderr goes to `stderr_path`.
  child_process(const std::string& program, const std::vector<std::string>& args, const std::vector<std::string>& env,
                const std::string& stderr_path);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// The next stdout line, waiting up to `timeout_ms`; nullopt on timeout or EOF.
  std::optional<std::string> read_line(int timeout_ms);
  void signal(int signo) const;
  /// Waits up to `timeout_ms` for exit; the exit status, or nullopt (then it is killed).
  std::optional<int> wait_exit(int timeout_ms);
  [[nodiscard]] pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffered_;
  bool exited_ = false;
};

/// A parsed "parleyd ready public=H:P admin=H:P data=DIR" line.
struct ready_line {
  std::string public_addr, admin_addr, data_dir;
};
std::optional<ready_line> parse_ready_line(const std::string& line);

/// A blocking TCP socket connected to "127.0.0.1:PORT" (30 s receive timeout), or -1.
int connect_loopback(const std::string& host_port);

/// One blocking HTTP/1.1 exchange with "Connection: close"; for tests only.
struct http_reply {
  int status = 0;
  std::string headers;  ///< raw header block, lowercased names
  std::string body;      ///< de-chunked when the answer was chunked
  bool chunked = false;  ///< Transfer-Encoding: chunked
  bool truncated = false;  ///< chunked, but the final chunk never came (an aborted stream)
  std::size_t chunks = 0;  ///< data chunks of a chunked answer
  [[nodiscard]] std::optional<std::string> header(const std::string& name) const;
};
std::optional<http_reply> http_request(const std::string& host_port, const std::string& method, const std::string& target,
                                       const std::string& body = {}, const std::vector<std::string>& headers = {});

/// The whole content of a file ("" when missing).
std::string read_file(const std::string& path);

}  // namespace parley::testing
