#include "broker/net/connection.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "broker/net/io_thread.h"

namespace eddy::net::internal {
namespace {

constexpr size_t kReadBufferSize = 64 * 1024;
// Reads per readiness event before moving on to other connections (fairness; epoll is level-triggered, so
// the rest is picked up on the next round).
constexpr int kMaxReadsPerEvent = 8;
// Request bytes dispatched per readiness event before the connection stops reading and lets the I/O
// thread write the responses of what it dispatched. Without it, a client that pipelines several ~1 MB
// produce requests has each one's response wait for the appends of all those read in the same event
// (measured: 5 requests, 2 MB, 15 ms in one event, all of it in the first response's round trip).
constexpr int64_t kDispatchBytesPerEvent = 256 * 1024;
constexpr int kMaxIovecs = 64;

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

int32_t ReadInt32BigEndian(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<int32_t>((uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3]);
}

// Whether a connection's first bytes are a TLS handshake record (content type 22, protocol major
// version 3): a TLS client on this plaintext listener. Its "frame size" would be 0x1603.... (~370 MB).
bool LooksLikeTlsHandshake(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return u[0] == 0x16 && u[1] == 0x03 && u[2] <= 0x04;
}

std::string Int32BigEndian(uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                     static_cast<char>(v)};
  return std::string(b, 4);
}

}  // namespace

Connection::Connection(int fd, std::string peer, uint64_t id, IoThread* owner, std::shared_ptr<ServerState> state,
                       std::shared_ptr<Mailbox> mailbox)
    : fd_(fd),
      peer_(std::move(peer)),
      id_(id),
      owner_(owner),
      state_(std::move(state)),
      mailbox_(std::move(mailbox)),
      last_active_ms_(NowMs()) {}

Connection::~Connection() {
  if (fd_ >= 0) close(fd_);
}

bool Connection::Register(int epoll_fd) {
  epoll_fd_ = epoll_fd;
  epoll_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.events = EPOLLIN;
  ev.data.ptr = this;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd_, &ev) != 0) {
    state_->Log(absl::StrCat("cannot serve connection from ", peer_, ": epoll_ctl: ", strerror(errno)));
    close(fd_);
    fd_ = -1;
    closed_ = true;
    return false;
  }
  interest_ = EPOLLIN;
  return true;
}

bool Connection::DispatchAllowed() const {
  return !closed_ && !close_requested_ && !close_after_flush_ && !draining_ &&
         slots_.size() < static_cast<size_t>(state_->options.max_in_flight_requests_per_connection) &&
         unsent_bytes_ < state_->options.max_unsent_bytes_per_connection;
}

bool Connection::ReadingAllowed() const { return !peer_closed_ && DispatchAllowed(); }

bool Connection::HasBufferedFrame() const {
  const size_t avail = rend_ - rbegin_;
  if (avail < 4) return false;
  const int32_t size = ReadInt32BigEndian(rbuf_.get() + rbegin_);
  // A size to refuse counts too: parsing refuses it.
  return size < 0 || size > state_->options.max_request_bytes || avail - 4 >= static_cast<size_t>(size);
}

void Connection::OnReadable() {
  dispatched_this_event_ = 0;
  for (int i = 0; i < kMaxReadsPerEvent && ReadingAllowed(); ++i) {
    if (dispatched_this_event_ >= kDispatchBytesPerEvent) {
      // The I/O thread flushes this connection after the event (the responses so far go out); the rest of
      // the socket is read on the next round (epoll is level-triggered).
      owner_->MarkDirty(this);
      break;
    }
    ssize_t n;
    if (reading_big_) {
      n = read(fd_, big_.data() + big_filled_, static_cast<size_t>(big_.size() - big_filled_));
    } else {
      if (rbuf_ == nullptr) rbuf_.reset(new char[kReadBufferSize]);
      if (rbegin_ > 0 && (rend_ == kReadBufferSize || rbegin_ >= kReadBufferSize / 2)) {
        memmove(rbuf_.get(), rbuf_.get() + rbegin_, rend_ - rbegin_);
        rend_ -= rbegin_;
        rbegin_ = 0;
      }
      n = read(fd_, rbuf_.get() + rend_, kReadBufferSize - rend_);
    }
    if (n == 0) {
      OnPeerClosed();
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      Close();  // ECONNRESET and friends: the client is gone
      return;
    }
    state_->bytes_received.fetch_add(n, std::memory_order_relaxed);
    last_active_ms_ = NowMs();
    if (reading_big_) {
      big_filled_ += static_cast<int32_t>(n);
      if (big_filled_ == big_.size()) {
        reading_big_ = false;
        big_filled_ = 0;
        Dispatch(std::move(big_));
        big_ = RequestFrame();
      }
    } else {
      rend_ += static_cast<size_t>(n);
      if (!ParseFrames()) return;
    }
  }
  UpdateInterest();
}

bool Connection::ParseFrames() {
  while (DispatchAllowed()) {
    const size_t avail = rend_ - rbegin_;
    if (avail < 4) break;
    if (next_seq_ == 0 && LooksLikeTlsHandshake(rbuf_.get() + rbegin_)) {
      state_->frames_refused.fetch_add(1, std::memory_order_relaxed);
      state_->Log(absl::StrCat("closing connection from ", peer_,
                               ": a TLS client connected to a plaintext listener (Eddy does not support TLS)"));
      Close();
      return false;
    }
    const int32_t size = ReadInt32BigEndian(rbuf_.get() + rbegin_);
    if (size < 0 || size > state_->options.max_request_bytes) {
      RefuseFrame(size);
      return false;
    }
    const size_t total = 4 + static_cast<size_t>(size);
    if (avail >= total) {
      RequestFrame frame(size);
      if (size > 0) memcpy(frame.data(), rbuf_.get() + rbegin_ + 4, static_cast<size_t>(size));
      rbegin_ += total;
      Dispatch(std::move(frame));
      continue;
    }
    if (total > kReadBufferSize) {
      // Too big for the buffer: give it its own allocation and read the rest straight into it.
      big_ = RequestFrame(size);
      big_filled_ = static_cast<int32_t>(avail - 4);
      memcpy(big_.data(), rbuf_.get() + rbegin_ + 4, avail - 4);
      reading_big_ = true;
      rbegin_ = rend_ = 0;
    }
    break;
  }
  if (rbegin_ == rend_) rbegin_ = rend_ = 0;
  return !closed_;
}

void Connection::Dispatch(RequestFrame frame) {
  dispatched_this_event_ += frame.size();
  const uint64_t seq = next_seq_++;
  slots_.emplace_back();
  state_->requests.fetch_add(1, std::memory_order_relaxed);
  state_->RequestStarted();
  RequestContext context;
  context.connection_id = id_;
  context.peer = peer_;
  context.received_ms = last_active_ms_;
  state_->handler->Handle(context, std::move(frame), Responder(shared_from_this(), seq, id_));
}

void Connection::RefuseFrame(int32_t size) {
  state_->frames_refused.fetch_add(1, std::memory_order_relaxed);
  if (size < 0) {
    state_->Log(absl::StrCat("closing connection from ", peer_, ": request frame with negative size ", size));
  } else {
    state_->Log(absl::StrCat("closing connection from ", peer_, ": request frame of ", size,
                             " bytes exceeds socket.request.max.bytes (", state_->options.max_request_bytes, ")"));
  }
  Close();
}

void Connection::OnPeerClosed() {
  // The client will send nothing more: serve the whole frames it sent (some may still wait in the buffer
  // for back-pressure to ease), drop a partial one, answer, then close (Flush decides).
  peer_closed_ = true;
  reading_big_ = false;
  big_ = RequestFrame();
  Flush();
}

void Connection::Drain() {
  if (closed_) return;
  draining_ = true;
  Flush();
}

void Connection::Complete(uint64_t seq, Disposition disposition, Response response) {
  if (IoThread::Current() == owner_) {
    CompleteOnThread(seq, disposition, std::move(response));
    return;
  }
  Completion c;
  c.connection = shared_from_this();
  c.seq = seq;
  c.disposition = disposition;
  c.response = std::move(response);
  mailbox_->PostCompletion(std::move(c));
}

void Connection::CompleteOnThread(uint64_t seq, Disposition disposition, Response response) {
  if (closed_ || seq < head_seq_ || seq - head_seq_ >= slots_.size()) return;
  Slot& slot = slots_[seq - head_seq_];
  if (slot.disposition != Disposition::kPending) return;
  slot.disposition = disposition;
  if (disposition == Disposition::kRespond) {
    unsent_bytes_ += static_cast<int64_t>(response.size()) + (response.size_prefixed() ? 0 : 4);
    slot.response = std::move(response);
  } else if (disposition == Disposition::kClose) {
    close_requested_ = true;
  }
  owner_->MarkDirty(this);
}

void Connection::Flush() {
  if (closed_) return;
  while (!close_after_flush_ && !slots_.empty() && slots_.front().disposition != Disposition::kPending) {
    Slot slot = std::move(slots_.front());
    slots_.pop_front();
    ++head_seq_;
    if (slot.disposition == Disposition::kRespond) {
      if (!slot.response.size_prefixed()) {
        out_.push_back(Response::Part{Int32BigEndian(static_cast<uint32_t>(slot.response.size())), FileRange()});
      }
      for (Response::Part& part : slot.response.parts_) out_.push_back(std::move(part));
      state_->responses.fetch_add(1, std::memory_order_relaxed);
    } else if (slot.disposition == Disposition::kClose) {
      close_after_flush_ = true;
    }
  }
  if (!WriteOut()) return;
  // Back-pressure may have eased: frames already buffered go first.
  if (DispatchAllowed() && HasBufferedFrame() && !ParseFrames()) return;
  if (out_.empty()) {
    const bool nothing_left = slots_.empty() && (draining_ || !HasBufferedFrame());
    if (close_after_flush_ || ((peer_closed_ || draining_) && nothing_left)) {
      Close();
      return;
    }
  }
  UpdateInterest();
}

bool Connection::WriteOut() {
  while (!out_.empty()) {
    ssize_t written;
    if (out_.front().is_file()) {
      written = SendFilePart();
      if (written < 0) return false;
      if (written == 0) break;
    } else {
      iovec iov[kMaxIovecs];
      int n = 0;
      bool file_follows = false;
      for (auto it = out_.begin(); it != out_.end() && n < kMaxIovecs; ++it, ++n) {
        if (it->is_file()) {
          file_follows = true;
          break;
        }
        const size_t skip = (n == 0) ? out_offset_ : 0;
        iov[n].iov_base = const_cast<char*>(it->bytes.data()) + skip;
        iov[n].iov_len = it->bytes.size() - skip;
      }
      msghdr msg;
      memset(&msg, 0, sizeof(msg));
      msg.msg_iov = iov;
      msg.msg_iovlen = static_cast<size_t>(n);
      written = sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT | (file_follows ? MSG_MORE : 0));
      if (written < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        Close();  // EPIPE, ECONNRESET: the client is gone
        return false;
      }
    }
    state_->bytes_sent.fetch_add(written, std::memory_order_relaxed);
    unsent_bytes_ -= written;
    last_active_ms_ = NowMs();
    size_t left = static_cast<size_t>(written);
    while (left > 0) {
      const size_t rest = out_.front().size() - out_offset_;
      if (left < rest) {
        out_offset_ += left;
        break;
      }
      left -= rest;
      out_.pop_front();
      out_offset_ = 0;
    }
  }
  return true;
}

ssize_t Connection::SendFilePart() {
  Response::Part& part = out_.front();
  while (true) {
    off_t offset = static_cast<off_t>(part.file.offset + static_cast<int64_t>(out_offset_));
    const size_t want = static_cast<size_t>(part.file.length) - out_offset_;
    const ssize_t n = sendfile(fd_, part.file.fd, &offset, want);
    if (n > 0) return n;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    if (n < 0 && (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
      // This file cannot be sent from: copy the rest of the range through user space instead.
      FileRange rest = part.file;
      rest.offset += static_cast<int64_t>(out_offset_);
      rest.length -= static_cast<int64_t>(out_offset_);
      std::string bytes;
      if (ReadFileRange(rest, &bytes)) {
        part.bytes = std::move(bytes);
        part.file = FileRange();
        out_offset_ = 0;
        return WriteOut() ? 0 : -1;
      }
    }
    // The socket failed, or the file is shorter than the range or unreadable: the response cannot be
    // completed, and the client must not receive a truncated one.
    if (n == 0 || (errno != EPIPE && errno != ECONNRESET)) {
      state_->Log(absl::StrCat("closing connection from ", peer_, ": cannot send record data from a log segment: ",
                               n == 0 ? "the file is shorter than the range" : strerror(errno)));
    }
    Close();
    return -1;
  }
}

void Connection::UpdateInterest() {
  if (closed_) return;
  const uint32_t want = (ReadingAllowed() ? EPOLLIN : 0u) | (out_.empty() ? 0u : EPOLLOUT);
  if (want == interest_) return;
  epoll_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.events = want;
  ev.data.ptr = this;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd_, &ev) != 0) {
    state_->Log(absl::StrCat("closing connection from ", peer_, ": epoll_ctl: ", strerror(errno)));
    Close();
    return;
  }
  interest_ = want;
}

bool Connection::IdleSince(int64_t now_ms, int64_t max_idle_ms) const {
  return !closed_ && slots_.empty() && out_.empty() && now_ms - last_active_ms_ >= max_idle_ms;
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  if (fd_ >= 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd_, nullptr);
    close(fd_);
    fd_ = -1;
  }
  slots_.clear();
  out_.clear();
  unsent_bytes_ = 0;
  rbuf_.reset();
  big_ = RequestFrame();
  owner_->OnClosed(this);
}

}  // namespace eddy::net::internal
