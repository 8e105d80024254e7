// LogFlusher: the durability service behind acks=all. Producers append, then ask to be told when their
// data is fsynced; flusher threads sync each log that has waiters and complete every waiter the sync
// covered. Group commit: all waiters of a log share one fdatasync, and waiters that arrive while a log is
// being synced ride its next sync. With many producers per partition this turns N fsyncs into ~1.
//
// Thread-safety: thread-safe. Callbacks run on a flusher thread (or inline on the caller's thread when
// the offset is already durable or the flusher is stopped): they must be quick and must not block, e.g.
// queue a response.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "broker/partition_log.h"

namespace eddy::broker {

class LogFlusher {
 public:
  // Starts `threads` flusher threads (at least 1). Different logs are synced in parallel, each log by one
  // thread at a time.
  explicit LogFlusher(int threads);
  // Stops (see Stop).
  ~LogFlusher();
  LogFlusher(const LogFlusher&) = delete;
  LogFlusher& operator=(const LogFlusher&) = delete;

  // RequestFlush calls done(OK) once the record at `last_offset` is durable, i.e. log->flushed_offset() >
  // last_offset (pass AppendResult::last_offset), or done(error) if the sync fails (the log's Flush error:
  // e.g. kNotFound for a deleted topic, kDataLoss for a failed fsync). kOutOfRange at once if last_offset is
  // not below the log end offset; kUnavailable after Stop.
  void RequestFlush(std::shared_ptr<PartitionLog> log, int64_t last_offset,
                    absl::AnyInvocable<void(absl::Status)> done);

  // Stop completes every queued request (syncing its log), then joins the threads. Idempotent.
  void Stop();

 private:
  struct Waiter {
    int64_t last_offset;
    absl::AnyInvocable<void(absl::Status)> done;
  };
  struct Pending {
    std::shared_ptr<PartitionLog> log;
    std::vector<Waiter> waiters;
    bool queued = false;     // in ready_
    bool in_flight = false;  // a thread is syncing this log
  };

  void Run();

  absl::Mutex mu_;
  absl::flat_hash_map<PartitionLog*, Pending> pending_ ABSL_GUARDED_BY(mu_);
  std::deque<PartitionLog*> ready_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace eddy::broker
