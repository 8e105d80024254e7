// Internals of the network layer shared by Server, IoThread and Connection:
//   ServerState  the options, the handler, the counters, the shutdown phase, and the count of requests
//                handed to the handler but not yet answered;
//   Mailbox      one per I/O thread: completions from other threads and sockets handed over by the
//                acceptor, plus the eventfd that wakes the thread.
// Both are held by shared_ptr from every Connection, so that a Responder completing after the Server is
// gone (a late flusher callback for a client that disconnected) touches valid memory and is dropped.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "broker/net/request_handler.h"
#include "broker/net/server.h"

namespace eddy::net::internal {

enum class Phase : int {
  kRunning,   // accepting and reading
  kDraining,  // not accepting or reading; finishing in-flight requests and writing their responses
  kClosing,   // closing every connection now
};

// Thread-safe: the options are immutable, everything else atomic or under mu.
struct ServerState {
  explicit ServerState(const ServerOptions& opts, RequestHandler* h) : options(opts), handler(h) {}

  void Log(absl::string_view line) const;

  // A Responder was created (a request handed to the handler) / answered or dropped.
  void RequestStarted() { in_flight.fetch_add(1, std::memory_order_relaxed); }
  void RequestFinished() {
    if (in_flight.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      absl::MutexLock lock(&mu);  // wakes Shutdown's Await, which re-evaluates on unlock
    }
  }

  const ServerOptions options;
  // Valid while the Server lives; only I/O threads call it.
  RequestHandler* const handler;
  std::atomic<Phase> phase{Phase::kRunning};
  std::atomic<int64_t> in_flight{0};
  // Guards nothing but is what Shutdown awaits on (in_flight and running_threads are re-checked on unlock).
  absl::Mutex mu;
  std::atomic<int> running_threads{0};

  std::atomic<int64_t> connections_accepted{0};
  std::atomic<int64_t> connections_refused{0};
  std::atomic<int64_t> connections_open{0};
  std::atomic<int64_t> frames_refused{0};
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> responses{0};
  std::atomic<int64_t> bytes_received{0};
  std::atomic<int64_t> bytes_sent{0};
};

class Connection;

// A response (or a decision not to respond) produced off the connection's I/O thread.
struct Completion {
  std::shared_ptr<Connection> connection;
  uint64_t seq = 0;
  Disposition disposition = Disposition::kPending;
  Response response;
};

// A socket accepted by I/O thread 0 for another thread.
struct NewSocket {
  int fd = -1;
  std::string peer;
};

// Mailbox: the queue into one I/O thread. Thread-safe. After Close, posts are dropped (sockets closed).
class Mailbox {
 public:
  // Create makes the eventfd. kInternal if it cannot.
  static absl::StatusOr<std::shared_ptr<Mailbox>> Create();
  ~Mailbox();
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // The eventfd to register with epoll; readable while something is posted or Wake was called.
  int fd() const { return event_fd_; }

  void PostCompletion(Completion completion);
  // Returns false (and closes the socket) if the mailbox is closed.
  bool PostSocket(NewSocket socket);
  // Wake makes fd() readable.
  void Wake();
  // Take moves out everything posted and clears the eventfd. I/O thread only.
  void Take(std::vector<Completion>* completions, std::vector<NewSocket>* sockets);
  // Close drops what is queued (closing sockets) and makes later posts drop. Idempotent.
  void Close();

 private:
  explicit Mailbox(int event_fd) : event_fd_(event_fd) {}
  void WakeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int event_fd_;
  absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Completion> completions_ ABSL_GUARDED_BY(mu_);
  std::vector<NewSocket> sockets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace eddy::net::internal
