// IoThread: one of the Server's I/O threads. Runs an epoll loop (level-triggered) over its connections,
// its mailbox's eventfd and, on thread 0, the listening socket: thread 0 accepts and hands sockets to the
// threads round-robin. After each batch of events it flushes the connections whose requests completed
// ("dirty"), and once a second it closes idle connections.
//
// Thread model: Start runs Run() on a thread of its own; Adopt and Wake are thread-safe; everything else
// runs on that thread. Connections call MarkDirty/OnClosed from it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "broker/net/server_state.h"

namespace eddy::net::internal {

class Connection;

class IoThread {
 public:
  IoThread(int index, std::shared_ptr<ServerState> state);
  ~IoThread();
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  // Init creates the epoll instance and mailbox. Thread 0 is given the listening socket (ownership passes)
  // and the list of every thread (itself included) to hand connections to; the others get -1 and {}.
  absl::Status Init(int listen_fd, std::vector<IoThread*> peers);
  void Start();
  void Join();

  // Adopt: serve this accepted socket (any thread). Closed at once if the thread is shutting down.
  void Adopt(int fd, std::string peer);
  // Wake the loop (any thread), e.g. after the server's phase changed.
  void Wake() { mailbox_->Wake(); }

  // The I/O thread the caller runs on, or null.
  static IoThread* Current();

  // For Connection (this thread only).
  void MarkDirty(Connection* connection);
  void OnClosed(Connection* connection);

 private:
  void Run();
  void Accept();
  void Serve(int fd, std::string peer);
  void ProcessMailbox();
  void FlushDirty();
  void Tick(int64_t now_ms);
  void BeginDrain();
  void CloseAll();

  const int index_;
  const std::shared_ptr<ServerState> state_;
  std::shared_ptr<Mailbox> mailbox_;
  int epoll_fd_ = -1;
  int listen_fd_ = -1;
  bool listen_paused_ = false;  // after EMFILE: retried on the next tick
  std::vector<IoThread*> peers_;
  size_t next_peer_ = 0;
  std::thread thread_;

  absl::flat_hash_map<Connection*, std::shared_ptr<Connection>> connections_;
  std::vector<Connection*> dirty_;
  // Connections closed during this round of events: kept alive until the round ends, because later events
  // of the same epoll_wait batch may still point at them.
  std::vector<std::shared_ptr<Connection>> graveyard_;
  std::vector<Completion> completions_;
  std::vector<NewSocket> new_sockets_;
  bool draining_ = false;
};

}  // namespace eddy::net::internal
