#pragma once
// A real HTTP/1.1 server on 127.0.0.1 for end-to-end tests that need to be called by
// parleyd (event push receivers): it records every request and answers with the status
// the test sets (e.g. 503 while "down"). Keep-alive; a thread per connection.
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace parley::testing {

struct received_request {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  ///< lowercased names
  std::string body;
  unsigned answered = 0;  ///< the status it got
};

class http_receiver {
 public:
  http_receiver();
  ~http_receiver();
  http_receiver(const http_receiver&) = delete;
  http_receiver& operator=(const http_receiver&) = delete;

  /// "127.0.0.1:PORT".
  [[nodiscard]] std::string address() const;
  /// The status every following request is answered with (default 200).
  void answer_with(unsigned status);
  /// Waits until `pred(requests so far)` holds or `timeout_ms` passed; true if it held.
  bool wait_until(const std::function<bool(const std::vector<received_request>&)>& pred, int timeout_ms);
  [[nodiscard]] std::vector<received_request> requests() const;

 private:
  void serve(int fd);
  int listen_fd_ = -1;
  unsigned short port_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> workers_;
  std::vector<int> connections_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<received_request> requests_;
  unsigned status_ = 200;
  bool stopping_ = false;
};

}  // namespace parley::testing
