#include "broker/net/server.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "broker/net/io_thread.h"
#include "broker/net/server_state.h"
#include "broker/net/socket_util.h"

namespace eddy::net {

using internal::IoThread;
using internal::Phase;
using internal::ServerState;

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options, RequestHandler* handler) {
  auto fail = [&](absl::Status s) {
    if (options.listen_fd >= 0) close(options.listen_fd);
    return s;
  };
  if (handler == nullptr) return fail(absl::InvalidArgumentError("no request handler"));
  if (options.io_threads < 1) return fail(absl::InvalidArgumentError("io_threads must be at least 1"));
  if (options.port < 0 || options.port > 65535) {
    return fail(absl::InvalidArgumentError(absl::StrCat("invalid port ", options.port)));
  }
  if (options.max_request_bytes < 0) return fail(absl::InvalidArgumentError("socket.request.max.bytes must be >= 0"));
  if (options.max_connections < 0) return fail(absl::InvalidArgumentError("max.connections must be >= 0"));
  if (options.max_in_flight_requests_per_connection < 1) {
    return fail(absl::InvalidArgumentError("max_in_flight_requests_per_connection must be at least 1"));
  }
  std::unique_ptr<Server> server(new Server(std::move(options), handler));
  absl::Status s = server->Init();
  if (!s.ok()) return s;
  return server;
}

Server::Server(ServerOptions options, RequestHandler* handler)
    : options_(std::move(options)), handler_(handler) {}

absl::Status Server::Init() {
  absl::StatusOr<int> fd = options_.listen_fd >= 0
                               ? absl::StatusOr<int>(options_.listen_fd)
                               : OpenListenSocket(HostPort{options_.host, options_.port}, options_.backlog);
  if (!fd.ok()) return fd.status();
  absl::StatusOr<int> port = BoundPort(*fd);
  if (!port.ok()) {
    close(*fd);
    return port.status();
  }
  port_ = *port;
  state_ = std::make_shared<ServerState>(options_, handler_);
  std::vector<IoThread*> all;
  for (int i = 0; i < options_.io_threads; ++i) {
    threads_.push_back(std::make_unique<IoThread>(i, state_));
    all.push_back(threads_.back().get());
  }
  for (int i = 0; i < options_.io_threads; ++i) {
    absl::Status s = i == 0 ? threads_[0]->Init(*fd, all) : threads_[i]->Init(-1, {});
    if (!s.ok()) {
      threads_.clear();  // thread 0 owns (and closes) the listen socket
      state_.reset();
      return s;
    }
  }
  for (auto& t : threads_) t->Start();
  return absl::OkStatus();
}

Server::~Server() { Shutdown(); }

void Server::Shutdown() {
  {
    absl::MutexLock lock(&shutdown_mu_);
    if (shut_down_) return;
    shut_down_ = true;
  }
  if (state_ == nullptr) return;  // Init failed
  const absl::Time deadline = absl::Now() + options_.shutdown_timeout;
  state_->phase.store(Phase::kDraining, std::memory_order_release);
  for (auto& t : threads_) t->Wake();
  handler_->OnShutdown();
  {
    // Requests already read are answered (or the timeout passes) ...
    absl::MutexLock lock(&state_->mu);
    state_->mu.AwaitWithDeadline(
        absl::Condition(+[](ServerState* s) { return s->in_flight.load() == 0; }, state_.get()), deadline);
    // ... and the threads have written their responses and closed their connections.
    state_->mu.AwaitWithDeadline(
        absl::Condition(+[](ServerState* s) { return s->running_threads.load() == 0; }, state_.get()), deadline);
  }
  if (state_->in_flight.load() != 0 || state_->running_threads.load() != 0) {
    state_->Log(absl::StrCat("shutdown: closing connections with ", state_->in_flight.load(),
                             " requests still unanswered after ", absl::FormatDuration(options_.shutdown_timeout)));
  }
  state_->phase.store(Phase::kClosing, std::memory_order_release);
  for (auto& t : threads_) t->Wake();
  for (auto& t : threads_) t->Join();
  threads_.clear();
}

ServerStats Server::stats() const {
  ServerStats s;
  if (state_ == nullptr) return s;
  s.connections_accepted = state_->connections_accepted.load();
  s.connections_refused = state_->connections_refused.load();
  s.connections_open = state_->connections_open.load();
  s.frames_refused = state_->frames_refused.load();
  s.requests = state_->requests.load();
  s.responses = state_->responses.load();
  s.bytes_received = state_->bytes_received.load();
  s.bytes_sent = state_->bytes_sent.load();
  return s;
}

}  // namespace eddy::net
