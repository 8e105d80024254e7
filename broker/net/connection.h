// Connection: one client socket on one I/O thread. Reads Kafka frames (int32 big-endian size, then the
// request) into a per-connection buffer, hands each request to the handler with a Responder holding its
// slot in the connection's ordered queue, and writes finished responses from the head of that queue only,
// so responses leave in request order whatever order the handler completes them in.
//
// Reading: up to 64 KiB per read(2) into a reusable buffer; several small frames are cut from one read
// (one allocation and memcpy per request). A frame that does not fit the buffer gets its own allocation of
// exactly its size, and the rest of it is read straight into that. The size is checked against
// socket.request.max.bytes before anything is allocated. Once 256 KiB of requests were dispatched in one
// readiness event, reading stops until the next, so their responses are written first.
//
// Writing: a response's parts are moved onto the output queue behind a 4-byte size prefix. Runs of byte
// parts are written with sendmsg(2) (a writev with MSG_NOSIGNAL), up to 64 iovecs at a time, with MSG_MORE
// when a file range follows so the kernel coalesces them into full segments; file ranges (fetched record
// batches) go with sendfile(2) from the segment file to the socket. Where sendfile cannot serve a file
// (EINVAL, ENOSYS, EOPNOTSUPP) the range is read with pread and written as bytes instead. Partial writes
// resume where they stopped.
//
// Back-pressure: the socket is not read while too many requests are unanswered or too many response bytes
// are unsent (ServerOptions); frames already buffered wait too.
//
// TLS: a connection whose first bytes are a TLS handshake record is closed at once with a log line saying
// a TLS client connected to this plaintext listener.
//
// Closing: at once on a refused frame, a socket error or hang-up; after writing what is owed when the
// client half-closes, a Responder asks to Close, or the server drains.
//
// Thread model: owned (shared_ptr) by its IoThread's table; every method except Complete runs on that
// thread. Responders hold shared_ptrs too, so a closed Connection may outlive its thread and even the
// Server; Complete then drops the answer.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "broker/net/request_handler.h"
#include "broker/net/server_state.h"

namespace eddy::net::internal {

class IoThread;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // Takes ownership of `fd` (a connected, non-blocking socket) and registers it with the owner's epoll.
  Connection(int fd, std::string peer, uint64_t id, IoThread* owner, std::shared_ptr<ServerState> state,
             std::shared_ptr<Mailbox> mailbox);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Registers the socket with epoll for reading. False (and the socket closed) if epoll refuses it.
  bool Register(int epoll_fd);

  // Event handlers (I/O thread).
  void OnReadable();
  void OnWritable() { Flush(); }
  // EPOLLERR / EPOLLHUP: the peer is gone in both directions.
  void OnHangup() { Close(); }

  // Flush moves finished responses from the head of the queue to the socket, writes what the socket
  // takes, closes the connection when it has nothing more to do, and resumes reading when back-pressure
  // allows. Called for every connection the IoThread marked dirty.
  void Flush();
  // Drain: the server is shutting down. Stop reading; close once every request read so far is answered
  // and written.
  void Drain();
  // Close the socket now, dropping whatever is queued. Idempotent.
  void Close();

  // Complete fills the request's slot. Any thread: on the owner thread it is filled directly; elsewhere it
  // is posted to the owner's mailbox. Called by Responder only.
  void Complete(uint64_t seq, Disposition disposition, Response response);
  // CompleteOnThread: the owner-thread half of Complete (also used for mailbox deliveries).
  void CompleteOnThread(uint64_t seq, Disposition disposition, Response response);

  bool closed() const { return closed_; }
  uint64_t id() const { return id_; }
  const std::string& peer() const { return peer_; }
  const std::shared_ptr<ServerState>& state() const { return state_; }
  // Whether the connection has had no traffic since `now_ms - max_idle_ms` and owes nothing.
  bool IdleSince(int64_t now_ms, int64_t max_idle_ms) const;

  // Set by IoThread::MarkDirty: already in the thread's dirty list.
  bool dirty = false;

 private:
  struct Slot {
    Disposition disposition = Disposition::kPending;
    Response response;
  };

  // Whether more requests may be handed to the handler (not closing, within the back-pressure limits).
  bool DispatchAllowed() const;
  // DispatchAllowed, and the client has not closed its side: whether to read the socket.
  bool ReadingAllowed() const;
  // Whether the read buffer holds a whole frame (or a size to refuse).
  bool HasBufferedFrame() const;
  // Cuts complete frames from the read buffer and dispatches them. False if the connection closed.
  bool ParseFrames();
  void Dispatch(RequestFrame frame);
  void RefuseFrame(int32_t size);
  void OnPeerClosed();
  // Writes the output queue until it is empty or the socket is full. False if the connection closed.
  bool WriteOut();
  // Writes from out_.front(), a file range, with sendfile. Returns bytes written, 0 if the socket is
  // full, -1 if the connection closed.
  ssize_t SendFilePart();
  void UpdateInterest();

  int fd_;
  int epoll_fd_ = -1;
  const std::string peer_;
  const uint64_t id_;
  IoThread* const owner_;  // only dereferenced on the owner thread
  const std::shared_ptr<ServerState> state_;
  const std::shared_ptr<Mailbox> mailbox_;

  // Read side.
  std::unique_ptr<char[]> rbuf_;
  size_t rbegin_ = 0;
  size_t rend_ = 0;
  RequestFrame big_;  // a frame larger than the read buffer, being filled
  int32_t big_filled_ = 0;
  bool reading_big_ = false;
  // Request bytes dispatched since the current readiness event began (OnReadable's budget).
  int64_t dispatched_this_event_ = 0;

  // Requests in arrival order; slots_[i] is request head_seq_ + i.
  std::deque<Slot> slots_;
  uint64_t head_seq_ = 0;
  uint64_t next_seq_ = 0;

  // Write side: size prefixes and response parts; out_offset_ bytes of out_.front() are already written.
  std::deque<Response::Part> out_;
  size_t out_offset_ = 0;
  // Bytes of finished responses not yet written (queued in out_ or waiting in a slot).
  int64_t unsent_bytes_ = 0;

  uint32_t interest_ = 0;
  bool peer_closed_ = false;        // read(2) returned 0
  bool close_requested_ = false;    // some Responder called Close
  bool close_after_flush_ = false;  // that request reached the head of the queue
  bool draining_ = false;
  bool closed_ = false;
  int64_t last_active_ms_ = 0;
};

}  // namespace eddy::net::internal
