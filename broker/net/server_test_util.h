// The test handler and fixture of the transport tests (server_test.cc, server_lifecycle_test.cc). Requests of
// the test protocol: int32 id, one mode byte, then mode-specific bytes; responses: int32 id, then the echoed
// payload. Header-only, test-only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "broker/net/server.h"
#include "broker/net/test_client.h"
#include "gtest/gtest.h"

namespace eddy::net::testing {

constexpr char kInline = 'i';     // respond inline with the payload
constexpr char kHold = 'h';       // keep the Responder; the test completes it
constexpr char kNothing = 'n';    // SendNothing (acks=0)
constexpr char kClose = 'c';      // Responder::Close
constexpr char kDrop = 'd';       // destroy the Responder unanswered
constexpr char kBig = 'b';        // respond with int32 N bytes of pattern, in several parts
constexpr char kPrefixed = 'p';   // respond with the payload in a response that carries its own size prefix
constexpr char kFile = 'f';       // respond with "<", int64 offset and int64 length of the handler's file, ">"
constexpr char kWait = 'w';       // block the I/O thread until the test calls Open(id) (10 s at most), then inline

inline std::string Request(int32_t id, char mode, absl::string_view payload = "") {
  return absl::StrCat(BigEndian32(id), std::string(1, mode), payload);
}

inline std::string Pattern(size_t n, int32_t id) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + static_cast<size_t>(id)) % 26);
  return s;
}

class TestHandler : public RequestHandler {
 public:
  void Handle(const RequestContext& context, RequestFrame frame, Responder responder) override {
    absl::string_view body = frame.view();
    if (body.size() < 5) {
      responder.Close();
      return;
    }
    const int32_t id = ParseBigEndian32(body);
    const char mode = body[4];
    const std::string payload(body.substr(5));
    {
      absl::MutexLock lock(&mu_);
      ++handled_;
      last_peer_ = std::string(context.peer);
    }
    switch (mode) {
      case kInline:
        responder.Send(Response(BigEndian32(id) + payload));
        return;
      case kHold: {
        absl::MutexLock lock(&mu_);
        held_.emplace_back(id, std::move(responder));
        held_payloads_[id] = payload;
        return;
      }
      case kNothing:
        responder.SendNothing();
        return;
      case kClose:
        responder.Close();
        return;
      case kDrop:
        return;
      case kWait: {
        absl::MutexLock lock(&mu_);
        auto opened = [this, id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return opened_.contains(id); };
        mu_.AwaitWithTimeout(absl::Condition(&opened), absl::Seconds(10));
        responder.Send(Response(BigEndian32(id) + payload));
        return;
      }
      case kBig: {
        const int32_t n = ParseBigEndian32(payload);
        Response r(BigEndian32(id));
        const std::string all = Pattern(static_cast<size_t>(n), id);
        // Four parts, as a fetch response carries record bytes between encoded pieces.
        const size_t q = all.size() / 4;
        r.Append(all.substr(0, q));
        r.Append(all.substr(q, q));
        r.Append(all.substr(2 * q, q));
        r.Append(all.substr(3 * q));
        responder.Send(std::move(r));
        return;
      }
      case kFile: {
        Response r(BigEndian32(id) + "<");
        FileRange range;
        {
          absl::MutexLock lock(&mu_);
          range.owner = file_owner_;
          range.fd = file_fd_;
        }
        range.offset = static_cast<int64_t>(ParseBigEndian32(payload)) << 32 |
                       static_cast<uint32_t>(ParseBigEndian32(payload.substr(4)));
        range.length = static_cast<int64_t>(ParseBigEndian32(payload.substr(8))) << 32 |
                       static_cast<uint32_t>(ParseBigEndian32(payload.substr(12)));
        r.AppendFile(std::move(range));
        r.Append(">");
        responder.Send(std::move(r));
        return;
      }
      case kPrefixed: {
        Response r = Response::WithSizePrefix(BigEndian32(static_cast<int32_t>(4 + payload.size())) +
                                              BigEndian32(id));
        r.Append(payload);
        responder.Send(std::move(r));
        return;
      }
      default:
        responder.Close();
    }
  }

  // The file kFile responses send from; `owner` keeps `fd` open.
  void SetFile(std::shared_ptr<const void> owner, int fd) {
    absl::MutexLock lock(&mu_);
    file_owner_ = std::move(owner);
    file_fd_ = fd;
  }

  void OnShutdown() override {
    absl::MutexLock lock(&mu_);
    shutdown_called_ = true;
  }

  // Blocks until `n` requests are held (a test failure after 30 s: a hang guard). One waiter at a time.
  void AwaitHeld(size_t n) {
    absl::MutexLock lock(&mu_);
    want_ = n;
    if (!mu_.AwaitWithTimeout(absl::Condition(this, &TestHandler::EnoughHeld), absl::Seconds(30))) {
      ADD_FAILURE() << "the handler holds " << held_.size() << " requests, expected " << n;
    }
  }
  size_t held_count() {
    absl::MutexLock lock(&mu_);
    return held_.size();
  }
  std::vector<std::pair<int32_t, Responder>> TakeHeld() {
    absl::MutexLock lock(&mu_);
    std::vector<std::pair<int32_t, Responder>> out;
    out.swap(held_);
    return out;
  }
  std::string HeldPayload(int32_t id) {
    absl::MutexLock lock(&mu_);
    return held_payloads_[id];
  }
  void AwaitShutdownCalled() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&shutdown_called_));
  }
  // Lets the kWait request `id` go on.
  void Open(int32_t id) {
    absl::MutexLock lock(&mu_);
    opened_.insert(id);
  }
  int64_t handled() {
    absl::MutexLock lock(&mu_);
    return handled_;
  }
  std::string last_peer() {
    absl::MutexLock lock(&mu_);
    return last_peer_;
  }

 private:
  bool EnoughHeld() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return held_.size() >= want_; }

  absl::Mutex mu_;
  std::vector<std::pair<int32_t, Responder>> held_ ABSL_GUARDED_BY(mu_);
  std::map<int32_t, std::string> held_payloads_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const void> file_owner_ ABSL_GUARDED_BY(mu_);
  int file_fd_ ABSL_GUARDED_BY(mu_) = -1;
  size_t want_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutdown_called_ ABSL_GUARDED_BY(mu_) = false;
  int64_t handled_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<int32_t> opened_ ABSL_GUARDED_BY(mu_);
  std::string last_peer_ ABSL_GUARDED_BY(mu_);
};

// Collects the server's log lines.
class LogCapture {
 public:
  std::function<void(absl::string_view)> Sink() {
    return [this](absl::string_view line) {
      absl::MutexLock lock(&mu_);
      lines_.emplace_back(line);
    };
  }
  std::vector<std::string> lines() {
    absl::MutexLock lock(&mu_);
    return lines_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}) {
    options.port = 0;
    options.log = log_.Sink();
    absl::StatusOr<std::unique_ptr<Server>> s = Server::Start(std::move(options), &handler_);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
  }
  TestClient Connect() {
    TestClient c;
    EXPECT_TRUE(c.Connect(server_->port()));
    return c;
  }
  // Reads one response and returns its id, or -1.
  static int32_t ReadId(TestClient& c, std::string* payload = nullptr) {
    std::optional<std::string> body = c.ReadFrame();
    if (!body.has_value() || body->size() < 4) return -1;
    if (payload != nullptr) *payload = body->substr(4);
    return ParseBigEndian32(*body);
  }

  LogCapture log_;
  TestHandler handler_;
  std::unique_ptr<Server> server_;
};

}  // namespace eddy::net::testing
