// The contract between the network layer (Server) and whatever answers requests (the Kafka API handlers,
// or a test handler): RequestFrame (one request's bytes), Response (a response made of parts written with
// one writev), Responder (the promise to answer one request, from any thread), and RequestHandler.
//
// Ordering: a connection may pipeline many requests. The server hands them to the handler in arrival order
// and writes their responses strictly in that order, whatever order the handler completes them in; a
// request answered with SendNothing (Kafka's acks=0 produce) keeps its place without writing anything.
//
// Zero copy: a Response is a list of parts, each either owned bytes or a range of an open file. The Fetch
// path answers with the encoded headers as bytes and the record batches as file ranges of the log's
// segments, which the connection sends with sendfile(2): record data never passes through user space.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace eddy::net {

namespace internal {
class Connection;
// How a request was answered (Responder).
enum class Disposition : uint8_t { kPending, kRespond, kNoResponse, kClose };
}  // namespace internal

// RequestFrame: one request as it arrived, without its 4-byte size prefix (so it starts with the request
// header: api key, api version, correlation id, ...). Owns its bytes, which are mutable: the produce path
// stamps offsets into the record batches in place before appending them. Move-only.
class RequestFrame {
 public:
  RequestFrame() = default;
  // Allocates `size` uninitialized bytes (size >= 0; the server checked it against its limit).
  explicit RequestFrame(int32_t size) : data_(size > 0 ? new char[size] : nullptr), size_(size) {}
  RequestFrame(RequestFrame&&) noexcept = default;
  RequestFrame& operator=(RequestFrame&&) noexcept = default;

  // A frame holding a copy of `bytes` (tests, and requests built in memory).
  static RequestFrame Copy(absl::string_view bytes);

  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  int32_t size() const { return size_; }
  absl::string_view view() const { return absl::string_view(data_.get(), static_cast<size_t>(size_)); }
  absl::Span<char> span() { return absl::Span<char>(data_.get(), static_cast<size_t>(size_)); }

 private:
  std::unique_ptr<char[]> data_;
  int32_t size_ = 0;
};

// FileRange: `length` bytes at `offset` of the open file `fd`, sent with sendfile(2). `owner` keeps the
// descriptor open (and the bytes unchanged) until they are written; the range must lie inside the file.
struct FileRange {
  std::shared_ptr<const void> owner;
  int fd = -1;
  int64_t offset = 0;
  int64_t length = 0;
};

// Response: the bytes of one response after the 4-byte size prefix (which the server adds): the response
// header (correlation id, ...) and body, as one or more parts written in order (writev for bytes,
// sendfile for file ranges). Parts are moved in, never copied. Move-only in spirit (copying works but
// copies the bytes).
class Response {
 public:
  // One part: owned bytes, or (file.fd >= 0) a file range.
  struct Part {
    std::string bytes;
    FileRange file;
    bool is_file() const { return file.fd >= 0; }
    size_t size() const { return is_file() ? static_cast<size_t>(file.length) : bytes.size(); }
  };

  Response() = default;
  explicit Response(std::string bytes) { Append(std::move(bytes)); }
  // A response whose first part already starts with the 4-byte size prefix, covering every part that
  // will be appended (what kafka::EncodeResponseFrame writes): the server then adds none.
  static Response WithSizePrefix(std::string first_part) {
    Response r(std::move(first_part));
    r.size_prefixed_ = true;
    return r;
  }

  // Append adds `part` after the previous parts. Empty parts are dropped.
  void Append(std::string part) {
    if (part.empty()) return;
    size_ += part.size();
    parts_.push_back(Part{std::move(part), FileRange()});
  }
  // AppendFile adds a file range (sent with sendfile). Empty ranges are dropped.
  void AppendFile(FileRange range) {
    if (range.length <= 0) return;
    size_ += static_cast<size_t>(range.length);
    parts_.push_back(Part{std::string(), std::move(range)});
  }
  // AppendParts moves every part of `other` (its size prefix flag is ignored) after the previous parts.
  void AppendParts(Response other) {
    for (Part& p : other.parts_) {
      size_ += p.size();
      parts_.push_back(std::move(p));
    }
  }
  // Total bytes of all parts: the value of the size prefix, or, when size_prefixed(), that value + 4.
  size_t size() const { return size_; }
  bool size_prefixed() const { return size_prefixed_; }
  const std::vector<Part>& parts() const { return parts_; }
  // Flatten: the parts concatenated, file ranges read with pread (tests, logging; an unreadable range
  // becomes zeros).
  std::string Flatten() const;

 private:
  friend class internal::Connection;
  std::vector<Part> parts_;
  size_t size_ = 0;
  bool size_prefixed_ = false;
};

// ReadFileRange appends the bytes of `range` to *out with pread(2); false (and *out unchanged) on an I/O
// error or if the file is shorter than the range. The copying fallback for sendfile.
bool ReadFileRange(const FileRange& range, std::string* out);

// Responder: the obligation to answer one request. Exactly one of Send, SendNothing or Close is called,
// once, from any thread, at any time (inline in Handle, or later from a flusher, timer or coordinator
// thread). Completion costs a locked push and an eventfd write when it happens off the connection's I/O
// thread, and nothing extra on it. If the connection is gone by then (the client disconnected, or the
// server shut down past its timeout) the response is dropped. Destroying a Responder without answering
// closes the connection (the client would otherwise wait forever) and logs the fact: handlers should not
// rely on it. Move-only; thread-compatible (one owner at a time).
class Responder {
 public:
  Responder() = default;
  Responder(Responder&& other) noexcept;
  Responder& operator=(Responder&& other) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  // Send queues `response` for writing after the responses to the requests before this one.
  void Send(Response response);
  // SendNothing marks the request answered without writing anything (acks=0 produce).
  void SendNothing();
  // Close: the request was malformed. The responses to earlier requests are still written, then the
  // connection is closed; later requests on it are dropped (Kafka closes the connection on a request it
  // cannot parse).
  void Close();

  // Whether this Responder still owes an answer.
  bool pending() const { return conn_ != nullptr; }
  // The connection the request came from (ids are unique for the server's lifetime).
  uint64_t connection_id() const { return connection_id_; }

 private:
  friend class internal::Connection;
  Responder(std::shared_ptr<internal::Connection> conn, uint64_t seq, uint64_t connection_id)
      : conn_(std::move(conn)), seq_(seq), connection_id_(connection_id) {}
  void Finish(internal::Disposition disposition, Response response);

  std::shared_ptr<internal::Connection> conn_;
  uint64_t seq_ = 0;
  uint64_t connection_id_ = 0;
};

// What the server knows about the request besides its bytes.
struct RequestContext {
  uint64_t connection_id = 0;
  // The client's address, "ip:port". Valid only during Handle: copy it to keep it.
  absl::string_view peer;
  // Milliseconds since the epoch when the frame was complete.
  int64_t received_ms = 0;
};

// RequestHandler answers requests. The server calls Handle on the connection's I/O thread, once per frame,
// in arrival order per connection. Handle must not block (no fsync, no waiting for other requests): work
// that waits is parked and completed later through the Responder. Appending to a log (write(2) into the
// page cache) inline is acceptable. Implementations are thread-safe: several I/O threads call Handle at
// once. The handler must outlive the Server.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;

  virtual void Handle(const RequestContext& context, RequestFrame frame, Responder responder) = 0;

  // OnShutdown: the server stopped reading requests and waits for the in-flight ones; answer parked
  // requests (long-poll fetches) now rather than at their deadline. Called once, from the thread that
  // called Server::Shutdown.
  virtual void OnShutdown() {}
};

}  // namespace eddy::net
