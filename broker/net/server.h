// Server: the broker's TCP front end. Accepts connections on one listen address, reads Kafka frames
// (int32 big-endian size, then the request), hands each request to a RequestHandler, and writes the
// responses back in request order per connection. A small fixed number of I/O threads (epoll, level
// triggered, non-blocking sockets) serve every connection: thread 0 also accepts and hands new sockets to
// the threads round-robin. Connection internals: connection.h; the thread loop: io_thread.h.
//
// Limits, as Kafka's broker configs: a frame whose size is negative or above socket.request.max.bytes is
// refused before anything is allocated (one log line naming the peer and the size; the connection is
// closed); connections beyond max.connections are closed at accept with a log line; idle connections are
// closed after connections.max.idle.ms. Back-pressure: a connection whose unsent responses exceed
// max_unsent_bytes_per_connection, or with max_in_flight_requests_per_connection requests unanswered, is not
// read until that drains.
//
// Lifecycle: Start (binds and starts the threads; fails if the address cannot be bound) ... Shutdown (stop
// accepting and reading; let the handler finish in-flight requests; write their responses; close) or the
// destructor. The handler is not owned and must outlive the Server.
//
// Thread-safe: stats() and Shutdown() may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/net/request_handler.h"

namespace eddy::net {

namespace internal {
class IoThread;
struct ServerState;
}  // namespace internal

struct ServerOptions {
  // Listen address. Port 0 asks the kernel for a free port (see Server::port()).
  std::string host = "127.0.0.1";
  int port = 9092;
  // I/O threads (Kafka's num.network.threads, default 3; Eddy's 2 on its 2-core target). At least 1.
  int io_threads = 2;
  // socket.request.max.bytes: the largest request frame accepted. Kafka's default, 100 MiB.
  int32_t max_request_bytes = 104857600;
  // max.connections: open connections beyond this are closed at accept. Kafka's default: unlimited.
  int32_t max_connections = std::numeric_limits<int32_t>::max();
  // connections.max.idle.ms: a connection with nothing in flight and no traffic for this long is closed.
  // Kafka's default, 10 minutes. 0 or less: never.
  int64_t connections_max_idle_ms = 600000;
  // Back-pressure per connection (Eddy's; Kafka instead handles one request per connection at a time).
  int32_t max_in_flight_requests_per_connection = 100;
  int64_t max_unsent_bytes_per_connection = 64 << 20;
  // How long Shutdown waits for in-flight requests and for their responses to be written before it closes
  // the remaining connections anyway.
  absl::Duration shutdown_timeout = absl::Seconds(30);
  // listen(2) backlog.
  int backlog = 1024;
  // An already listening, non-blocking socket to serve instead of binding host:port (ownership passes to
  // the server, also when Start fails): lets a caller learn the port chosen for port 0 (BoundPort) before
  // it builds the handler that advertises it. -1: bind host:port.
  int listen_fd = -1;
  // Where refusals and errors are logged, one line each (without a trailing newline). Default: stderr,
  // prefixed "eddy: ". Called from I/O threads; must be thread-safe.
  std::function<void(absl::string_view)> log;
};

// Counters since Start. Read with Server::stats().
struct ServerStats {
  int64_t connections_accepted = 0;
  int64_t connections_refused = 0;  // over max.connections
  int64_t connections_open = 0;
  int64_t frames_refused = 0;       // size < 0 or > socket.request.max.bytes
  int64_t requests = 0;             // frames handed to the handler
  int64_t responses = 0;            // responses written completely
  int64_t bytes_received = 0;
  int64_t bytes_sent = 0;
};

class Server {
 public:
  // Start binds the listen address and starts the I/O threads. kInvalidArgument for bad options or a host
  // that does not resolve, kUnavailable when the address cannot be bound (in use), kInternal when epoll or
  // eventfd cannot be created.
  static absl::StatusOr<std::unique_ptr<Server>> Start(ServerOptions options, RequestHandler* handler);

  // The destructor calls Shutdown.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port (the kernel's choice when options.port was 0) and host as given.
  int port() const { return port_; }
  const std::string& host() const { return options_.host; }

  // Shutdown stops accepting connections and reading requests, calls handler->OnShutdown(), waits up to
  // shutdown_timeout for the requests already read to be answered and their responses written, then closes
  // every connection and joins the I/O threads. Idempotent; later calls return at once. Must not be called
  // from an I/O thread (a handler).
  void Shutdown();

  ServerStats stats() const;

 private:
  Server(ServerOptions options, RequestHandler* handler);
  absl::Status Init();

  const ServerOptions options_;
  RequestHandler* const handler_;
  int port_ = 0;
  std::shared_ptr<internal::ServerState> state_;
  std::vector<std::unique_ptr<internal::IoThread>> threads_;
  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace eddy::net
