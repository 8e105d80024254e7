// A blocking test client for the network layer's tests: connect to a loopback port, write raw bytes or
// size-prefixed frames, read size-prefixed frames. Every read has a receive timeout (a guard against a
// hung test, not a timing assertion). Test-only; not thread-safe.
#pragma once

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"

namespace eddy::net::testing {

inline std::string BigEndian32(int32_t v) {
  const uint32_t u = static_cast<uint32_t>(v);
  const char b[4] = {static_cast<char>(u >> 24), static_cast<char>(u >> 16), static_cast<char>(u >> 8),
                     static_cast<char>(u)};
  return std::string(b, 4);
}

inline int32_t ParseBigEndian32(absl::string_view p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p.data());
  return static_cast<int32_t>((uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3]);
}

// Eventually polls `pred` every millisecond until it holds or 30 s pass (a hang guard, not a timing
// assertion): returns whether it held.
template <typename Pred>
bool Eventually(Pred pred) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    if (pred()) return true;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return pred();
}

class TestClient {
 public:
  TestClient() = default;
  ~TestClient() { Close(); }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;
  TestClient(TestClient&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }

  // Connect to 127.0.0.1:port. False on failure.
  bool Connect(int port, int timeout_seconds = 30) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    timeval tv{timeout_seconds, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }

  bool WriteRaw(absl::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  bool WriteFrame(absl::string_view body) {
    return WriteRaw(BigEndian32(static_cast<int32_t>(body.size())) + std::string(body));
  }

  // ReadExactly: false on EOF, error or timeout.
  bool ReadExactly(size_t n, std::string* out) {
    out->resize(n);
    size_t got = 0;
    while (got < n) {
      ssize_t r = recv(fd_, out->data() + got, n - got, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      got += static_cast<size_t>(r);
    }
    return true;
  }
  // ReadFrame: the next response frame's body, or nullopt on EOF, error or timeout.
  std::optional<std::string> ReadFrame() {
    std::string size;
    if (!ReadExactly(4, &size)) return std::nullopt;
    int32_t n = ParseBigEndian32(size);
    if (n < 0) return std::nullopt;
    std::string body;
    if (!ReadExactly(static_cast<size_t>(n), &body)) return std::nullopt;
    return body;
  }
  // AtEof: true when the server closed the connection (read returns 0 or the connection was reset) before
  // any byte arrived; false if data arrived or the read timed out.
  bool AtEof() {
    char c;
    while (true) {
      ssize_t r = recv(fd_, &c, 1, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) return true;
      if (r < 0) return errno == ECONNRESET;
      return false;
    }
  }
  void ShutdownWrite() { shutdown(fd_, SHUT_WR); }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

}  // namespace eddy::net::testing
