#include "support/child_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace parley::testing {

child_process::child_process(const std::string& program, const std::vector<std::string>& args,
                             const std::vector<std::string>& env, const std::string& stderr_path) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return;
  int err_fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  if (err_fd >= 0) posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "PARLEY_", 7) != 0) env_strings.emplace_back(*e);
  }
  env_strings.insert(env_strings.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = {program};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);

  if (posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (err_fd >= 0) ::close(err_fd);
  stdout_fd_ = fds[0];
}

child_process::~child_process() {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

std::optional<std::string> child_process::read_line(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (auto pos = buffered_.find('\n'); pos != std::string::npos) {
      std::string line = buffered_.substr(0, pos);
      buffered_.erase(0, pos + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return std::nullopt;
    pollfd p{stdout_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    buffered_.append(buf, static_cast<std::size_t>(n));
  }
}

void child_process::signal(int signo) const {
  if (pid_ > 0) ::kill(pid_, signo);
}

std::optional<int> child_process::wait_exit(int timeout_ms) {
  // A pidfd becomes readable when the child exits: wait on it instead of polling.
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    (void)::poll(&p, 1, timeout_ms);
    ::close(pidfd);
  }
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r != pid_) return std::nullopt;
  exited_ = true;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

std::optional<ready_line> parse_ready_line(const std::string& line) {
  std::istringstream in(line);
  std::string word, ready;
  in >> word >> ready;
  if (word != "parleyd" || ready != "ready") return std::nullopt;
  ready_line out;
  while (in >> word) {
    if (word.rfind("public=", 0) == 0) out.public_addr = word.substr(7);
    else if (word.rfind("admin=", 0) == 0) out.admin_addr = word.substr(6);
    else if (word.rfind("data=", 0) == 0) out.data_dir = word.substr(5);
  }
  if (out.public_addr.empty() || out.admin_addr.empty()) return std::nullopt;
  return out;
}

std::optional<std::string> http_reply::header(const std::string& name) const {
  std::istringstream in(headers);
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    if (line.substr(0, colon) == name) {
      std::string v = line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(' '));
      while (!v.empty() && (v.back() == '\r' || v.back() == ' ')) v.pop_back();
      return v;
    }
  }
  return std::nullopt;
}

int connect_loopback(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  std::string host = host_port.substr(0, colon);
  int port = std::stoi(host_port.substr(colon + 1));
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::optional<http_reply> http_request(const std::string& host_port, const std::string& method, const std::string& target,
                                       const std::string& body, const std::vector<std::string>& headers) {
  int fd = connect_loopback(host_port);
  if (fd < 0) return std::nullopt;
  std::string host = host_port.substr(0, host_port.rfind(':'));
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host_port + "\r\nConnection: close\r\n";
  for (const auto& h : headers) req += h + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  std::size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buf[8192];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos || raw.size() < 12) return std::nullopt;
  http_reply reply;
  reply.status = std::stoi(raw.substr(9, 3));
  reply.headers = raw.substr(raw.find("\r\n") + 2, end - raw.find("\r\n"));
  std::string lowered;
  std::istringstream in(reply.headers);
  std::string line;
  while (std::getline(in, line)) {
    auto colon2 = line.find(':');
    if (colon2 != std::string::npos) {
      std::transform(line.begin(), line.begin() + static_cast<long>(colon2), line.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    lowered += line + "\n";
  }
  reply.headers = lowered;
  reply.body = raw.substr(end + 4);
  if (lowered.find("transfer-encoding: chunked") != std::string::npos) {
    reply.chunked = true;
    reply.truncated = true;
    std::string decoded, rest = std::move(reply.body);
    std::size_t at = 0;
    for (;;) {
      auto eol = rest.find("\r\n", at);
      if (eol == std::string::npos) break;
      std::size_t size = std::strtoul(rest.substr(at, eol - at).c_str(), nullptr, 16);
      if (size == 0) {
        reply.truncated = rest.compare(at, 1, "0") != 0;
        break;
      }
      if (eol + 2 + size + 2 > rest.size()) break;
      decoded.append(rest, eol + 2, size);
      ++reply.chunks;
      at = eol + 2 + size + 2;
    }
    reply.body = std::move(decoded);
  }
  return reply;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace parley::testing
