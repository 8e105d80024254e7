#include "broker/net/io_thread.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "broker/net/connection.h"
#include "broker/net/socket_util.h"

namespace eddy::net::internal {
namespace {

thread_local IoThread* t_current = nullptr;

// epoll tokens that are not connections (connections use their address, never 0 or 1).
constexpr uint64_t kMailboxToken = 0;
constexpr uint64_t kListenToken = 1;
constexpr int kMaxEvents = 256;
constexpr int kTickMs = 1000;

std::atomic<uint64_t> g_next_connection_id{1};

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

}  // namespace

IoThread* IoThread::Current() { return t_current; }

IoThread::IoThread(int index, std::shared_ptr<ServerState> state) : index_(index), state_(std::move(state)) {}

IoThread::~IoThread() {
  Join();
  CloseAll();
  if (mailbox_ != nullptr) mailbox_->Close();
  if (listen_fd_ >= 0) close(listen_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

absl::Status IoThread::Init(int listen_fd, std::vector<IoThread*> peers) {
  listen_fd_ = listen_fd;
  peers_ = std::move(peers);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return absl::InternalError(absl::StrCat("epoll_create1: ", strerror(errno)));
  absl::StatusOr<std::shared_ptr<Mailbox>> mailbox = Mailbox::Create();
  if (!mailbox.ok()) return mailbox.status();
  mailbox_ = *std::move(mailbox);
  epoll_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.events = EPOLLIN;
  ev.data.u64 = kMailboxToken;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, mailbox_->fd(), &ev) != 0) {
    return absl::InternalError(absl::StrCat("epoll_ctl(eventfd): ", strerror(errno)));
  }
  if (listen_fd_ >= 0) {
    ev.data.u64 = kListenToken;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0) {
      return absl::InternalError(absl::StrCat("epoll_ctl(listen): ", strerror(errno)));
    }
  }
  return absl::OkStatus();
}

void IoThread::Start() {
  state_->running_threads.fetch_add(1);
  thread_ = std::thread([this] { Run(); });
}

void IoThread::Join() {
  if (thread_.joinable()) thread_.join();
}

void IoThread::Adopt(int fd, std::string peer) { mailbox_->PostSocket(NewSocket{fd, std::move(peer)}); }

void IoThread::MarkDirty(Connection* connection) {
  if (connection->dirty) return;
  connection->dirty = true;
  dirty_.push_back(connection);
}

void IoThread::OnClosed(Connection* connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  graveyard_.push_back(std::move(it->second));
  connections_.erase(it);
  state_->connections_open.fetch_sub(1, std::memory_order_relaxed);
}

void IoThread::Run() {
  t_current = this;
  epoll_event events[kMaxEvents];
  int64_t next_tick = NowMs() + kTickMs;
  while (true) {
    const Phase phase = state_->phase.load(std::memory_order_acquire);
    if (phase == Phase::kClosing) break;
    if (phase == Phase::kDraining) {
      if (!draining_) BeginDrain();
      if (connections_.empty()) break;
    }
    int64_t now = NowMs();
    const int timeout = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(next_tick - now, kTickMs)));
    int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout);
    if (n < 0 && errno != EINTR) {
      state_->Log(absl::StrCat("I/O thread ", index_, ": epoll_wait: ", strerror(errno)));
      break;
    }
    for (int i = 0; i < n; ++i) {
      const epoll_event& ev = events[i];
      if (ev.data.u64 == kMailboxToken) {
        ProcessMailbox();
      } else if (ev.data.u64 == kListenToken) {
        Accept();
      } else {
        auto* conn = static_cast<Connection*>(ev.data.ptr);
        if (conn->closed()) continue;
        if (ev.events & EPOLLIN) conn->OnReadable();
        if (conn->closed()) continue;
        if (ev.events & (EPOLLERR | EPOLLHUP)) {
          conn->OnHangup();
          continue;
        }
        if (ev.events & EPOLLOUT) conn->OnWritable();
      }
      FlushDirty();
    }
    now = NowMs();
    if (now >= next_tick) {
      Tick(now);
      next_tick = now + kTickMs;
    }
    FlushDirty();
    graveyard_.clear();
  }
  CloseAll();
  mailbox_->Close();
  graveyard_.clear();
  t_current = nullptr;
  if (state_->running_threads.fetch_sub(1) == 1) {
    absl::MutexLock lock(&state_->mu);  // wakes Shutdown's Await
  }
}

void IoThread::Accept() {
  while (true) {
    sockaddr_storage addr;
    socklen_t len = sizeof(addr);
    int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      // EMFILE, ENFILE, ENOBUFS: stop accepting until the next tick rather than spin on a ready socket.
      state_->Log(absl::StrCat("cannot accept connections: ", strerror(errno), "; retrying in ", kTickMs, " ms"));
      epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
      listen_paused_ = true;
      return;
    }
    std::string peer = PeerName(addr, len);
    const int64_t open = state_->connections_open.fetch_add(1, std::memory_order_relaxed);
    if (open >= state_->options.max_connections) {
      state_->connections_open.fetch_sub(1, std::memory_order_relaxed);
      state_->connections_refused.fetch_add(1, std::memory_order_relaxed);
      state_->Log(absl::StrCat("refusing connection from ", peer, ": max.connections (",
                               state_->options.max_connections, ") reached"));
      close(fd);
      continue;
    }
    state_->connections_accepted.fetch_add(1, std::memory_order_relaxed);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    IoThread* target = peers_[next_peer_++ % peers_.size()];
    if (target == this) {
      Serve(fd, std::move(peer));
    } else {
      target->Adopt(fd, std::move(peer));
    }
  }
}

void IoThread::Serve(int fd, std::string peer) {
  if (draining_) {
    close(fd);
    state_->connections_open.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  auto conn = std::make_shared<Connection>(fd, std::move(peer), g_next_connection_id.fetch_add(1), this, state_,
                                           mailbox_);
  if (!conn->Register(epoll_fd_)) {
    state_->connections_open.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  Connection* raw = conn.get();
  connections_.emplace(raw, std::move(conn));
}

void IoThread::ProcessMailbox() {
  mailbox_->Take(&completions_, &new_sockets_);
  for (NewSocket& s : new_sockets_) Serve(s.fd, std::move(s.peer));
  new_sockets_.clear();
  for (Completion& c : completions_) {
    c.connection->CompleteOnThread(c.seq, c.disposition, std::move(c.response));
  }
  // Release the connection references here, on the owner thread, before the next batch.
  completions_.clear();
}

void IoThread::FlushDirty() {
  // Flushing may complete more requests (buffered frames dispatched when back-pressure eases), which marks
  // more connections dirty: loop until quiet.
  std::vector<Connection*> batch;
  while (!dirty_.empty()) {
    batch.swap(dirty_);
    for (Connection* c : batch) {
      c->dirty = false;
      c->Flush();
    }
    batch.clear();
  }
}

void IoThread::Tick(int64_t now_ms) {
  if (listen_paused_ && !draining_) {
    epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.u64 = kListenToken;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) == 0) listen_paused_ = false;
  }
  const int64_t max_idle = state_->options.connections_max_idle_ms;
  if (max_idle <= 0) return;
  std::vector<Connection*> idle;
  for (const auto& [raw, conn] : connections_) {
    if (conn->IdleSince(now_ms, max_idle)) idle.push_back(raw);
  }
  for (Connection* c : idle) {
    state_->Log(absl::StrCat("closing connection from ", c->peer(), ": idle for more than connections.max.idle.ms (",
                             max_idle, ")"));
    c->Close();
  }
}

void IoThread::BeginDrain() {
  draining_ = true;
  if (listen_fd_ >= 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
    close(listen_fd_);
    listen_fd_ = -1;
  }
  std::vector<Connection*> all;
  for (const auto& [raw, conn] : connections_) all.push_back(raw);
  for (Connection* c : all) c->Drain();
  FlushDirty();
}

void IoThread::CloseAll() {
  std::vector<Connection*> all;
  for (const auto& [raw, conn] : connections_) all.push_back(raw);
  for (Connection* c : all) c->Close();
  dirty_.clear();
}

}  // namespace eddy::net::internal
