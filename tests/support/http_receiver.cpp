#include "support/http_receiver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>

namespace parley::testing {

http_receiver::http_receiver() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listen_fd_, 64);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] {
    for (;;) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;  // closed by the destructor
      std::lock_guard lock(mutex_);
      if (stopping_) {
        ::close(fd);
        return;
      }
      connections_.push_back(fd);
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  });
}

http_receiver::~http_receiver() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (int fd : connections_) ::shutdown(fd, SHUT_RDWR);
  }
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  acceptor_.join();
  for (auto& t : workers_) t.join();
  for (int fd : connections_) ::close(fd);
}

std::string http_receiver::address() const { return "127.0.0.1:" + std::to_string(port_); }

void http_receiver::answer_with(unsigned status) {
  std::lock_guard lock(mutex_);
  status_ = status;
}

bool http_receiver::wait_until(const std::function<bool(const std::vector<received_request>&)>& pred, int timeout_ms) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return pred(requests_); });
}

std::vector<received_request> http_receiver::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

// Reads requests off one connection (Content-Length bodies; what parleyd sends) and
// answers each.
void http_receiver::serve(int fd) {
  std::string buffer;
  char chunk[65536];
  for (;;) {
    auto head_end = buffer.find("\r\n\r\n");
    while (head_end == std::string::npos) {
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(n));
      head_end = buffer.find("\r\n\r\n");
    }
    received_request req;
    std::string head = buffer.substr(0, head_end);
    auto line_end = head.find("\r\n");
    std::string first = head.substr(0, line_end);
    auto sp1 = first.find(' ');
    auto sp2 = first.find(' ', sp1 + 1);
    req.method = first.substr(0, sp1);
    req.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      auto next = head.find("\r\n", pos);
      if (next == std::string::npos) next = head.size();
      std::string line = head.substr(pos, next - pos);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        req.headers[name] = value;
      }
      pos = next + 2;
    }
    std::size_t length = req.headers.contains("content-length") ? std::stoul(req.headers["content-length"]) : 0;
    std::size_t body_start = head_end + 4;
    while (buffer.size() < body_start + length) {
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    req.body = buffer.substr(body_start, length);
    buffer.erase(0, body_start + length);
    unsigned status;
    {
      std::lock_guard lock(mutex_);
      status = status_;
      req.answered = status;
      requests_.push_back(std::move(req));
    }
    changed_.notify_all();
    std::string answer = "HTTP/1.1 " + std::to_string(status) + (status < 300 ? " OK" : " Error") +
                         "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    if (::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL) < 0) return;
  }
}

}  // namespace parley::testing
