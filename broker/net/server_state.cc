#include "broker/net/server_state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "broker/net/connection.h"

namespace eddy::net::internal {

void ServerState::Log(absl::string_view line) const {
  if (options.log) {
    options.log(line);
    return;
  }
  fprintf(stderr, "eddy: %.*s\n", static_cast<int>(line.size()), line.data());
}

absl::StatusOr<std::shared_ptr<Mailbox>> Mailbox::Create() {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("eventfd: ", strerror(errno)));
  return std::shared_ptr<Mailbox>(new Mailbox(fd));
}

Mailbox::~Mailbox() {
  Close();
  close(event_fd_);
}

void Mailbox::WakeLocked() {
  if (woken_) return;  // one eventfd write per batch of posts
  woken_ = true;
  uint64_t one = 1;
  ssize_t n = write(event_fd_, &one, sizeof(one));
  (void)n;  // only fails if the counter would overflow, which one pending wake-up cannot do
}

void Mailbox::PostCompletion(Completion completion) {
  {
    absl::MutexLock lock(&mu_);
    if (!closed_) {
      completions_.push_back(std::move(completion));
      WakeLocked();
      return;
    }
  }
  // Dropped: destroy the response (and the connection reference) outside the lock.
}

bool Mailbox::PostSocket(NewSocket socket) {
  {
    absl::MutexLock lock(&mu_);
    if (!closed_) {
      sockets_.push_back(std::move(socket));
      WakeLocked();
      return true;
    }
  }
  close(socket.fd);
  return false;
}

void Mailbox::Wake() {
  absl::MutexLock lock(&mu_);
  WakeLocked();
}

void Mailbox::Take(std::vector<Completion>* completions, std::vector<NewSocket>* sockets) {
  uint64_t value = 0;
  ssize_t n = read(event_fd_, &value, sizeof(value));
  (void)n;  // EAGAIN when nothing was written: fine
  absl::MutexLock lock(&mu_);
  woken_ = false;
  completions->swap(completions_);
  sockets->swap(sockets_);
}

void Mailbox::Close() {
  std::vector<Completion> completions;
  std::vector<NewSocket> sockets;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    completions.swap(completions_);
    sockets.swap(sockets_);
  }
  for (NewSocket& s : sockets) close(s.fd);
  // `completions` is destroyed here, outside the lock: it may hold the last reference to a Connection.
}

}  // namespace eddy::net::internal
