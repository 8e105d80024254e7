#include "broker/net/request_handler.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "broker/net/connection.h"

namespace eddy::net {

RequestFrame RequestFrame::Copy(absl::string_view bytes) {
  RequestFrame frame(static_cast<int32_t>(bytes.size()));
  if (!bytes.empty()) memcpy(frame.data(), bytes.data(), bytes.size());
  return frame;
}

bool ReadFileRange(const FileRange& range, std::string* out) {
  const size_t start = out->size();
  out->resize(start + static_cast<size_t>(range.length));
  int64_t done = 0;
  while (done < range.length) {
    const ssize_t n = pread(range.fd, out->data() + start + done, static_cast<size_t>(range.length - done),
                            static_cast<off_t>(range.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      out->resize(start);
      return false;
    }
    done += n;
  }
  return true;
}

std::string Response::Flatten() const {
  std::string out;
  out.reserve(size_);
  for (const Part& p : parts_) {
    if (!p.is_file()) {
      out.append(p.bytes);
    } else if (!ReadFileRange(p.file, &out)) {
      out.append(static_cast<size_t>(p.file.length), '\0');  // unreadable: keep the framing
    }
  }
  return out;
}

Responder::Responder(Responder&& other) noexcept
    : conn_(std::move(other.conn_)), seq_(other.seq_), connection_id_(other.connection_id_) {
  other.conn_ = nullptr;
}

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    if (conn_ != nullptr) Finish(internal::Disposition::kClose, Response());
    conn_ = std::move(other.conn_);
    other.conn_ = nullptr;
    seq_ = other.seq_;
    connection_id_ = other.connection_id_;
  }
  return *this;
}

Responder::~Responder() {
  if (conn_ != nullptr) {
    // A handler bug: the client would wait forever for this response. Close instead.
    conn_->state()->Log(absl::StrCat("closing connection from ", conn_->peer(),
                                     ": a request was dropped without a response"));
    Finish(internal::Disposition::kClose, Response());
  }
}

void Responder::Send(Response response) { Finish(internal::Disposition::kRespond, std::move(response)); }
void Responder::SendNothing() { Finish(internal::Disposition::kNoResponse, Response()); }
void Responder::Close() { Finish(internal::Disposition::kClose, Response()); }

void Responder::Finish(internal::Disposition disposition, Response response) {
  if (conn_ == nullptr) return;  // answered already: a handler bug, but harmless here
  std::shared_ptr<internal::Connection> conn = std::move(conn_);
  conn_ = nullptr;
  conn->Complete(seq_, disposition, std::move(response));
  // After posting, so that Shutdown, once in_flight reaches 0, finds every answer in a mailbox or a slot.
  conn->state()->RequestFinished();
}

}  // namespace eddy::net
