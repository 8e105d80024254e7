// LogCleaner: log compaction for the topics whose cleanup.policy contains "compact" (Kafka's LogCleaner and
// LogCleanerManager). Cleaner threads repeatedly pick the compacted log most worth cleaning (the highest
// dirty ratio above min.cleanable.dirty.ratio, or one overdue by max.compaction.lag.ms, or one whose
// tombstones reached their delete horizon) and clean it (log_cleaner_pass.h): the sealed segments are
// rewritten keeping the latest record per key, with offsets unchanged. docs/log-compaction.md.
//
// How far each log was cleaned (its first dirty offset) is kept in <data-dir>/cleaner-offset-checkpoint,
// replaced atomically after each cleaning. Losing it only makes the next cleaning start from the log start.
//
// Lifecycle: Create (loads the checkpoint and binds it to the logs; no thread yet), Start (the
// log.cleaner.threads threads, if log.cleaner.enable), Stop (aborts cleanings in progress, joins; also done
// by the destructor). Owned by the LogManager, which stops it before closing its logs.
//
// Thread-safety: thread-safe. RunNow, AbortCleaning and Stop may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "broker/log_cleaner_pass.h"
#include "broker/log_cleaner_swap.h"
#include "broker/partition_log.h"

namespace eddy::broker {

// The broker-level cleaner settings, with Kafka's names and defaults.
struct LogCleanerOptions {
  // log.cleaner.enable: run the cleaner threads. RunNow works either way (tests turn the threads off).
  bool enable = true;
  // log.cleaner.threads: logs cleaned in parallel.
  int threads = 1;
  // log.cleaner.backoff.ms: how long a cleaner thread sleeps when no log needs cleaning.
  int64_t backoff_ms = 15000;
  // log.cleaner.dedupe.buffer.size: memory for the offset maps of all cleaner threads together. With
  // ~20-byte keys a thread's map holds about 128 MiB / 70 B = 1.9 million keys per cleaning; a larger dirty
  // range is cleaned in several passes.
  int64_t dedupe_buffer_bytes = int64_t{128} << 20;
  // log.cleaner.io.buffer.size: the read and write buffers of all cleaner threads together.
  int64_t io_buffer_bytes = int64_t{512} << 10;
  // Test only: see CleanerTestHook (log_cleaner_swap.h).
  CleanerTestHook test_hook;
};

// A log the cleaner may clean and the id of its topic (a topic deleted and created again under the same
// name is another topic: its old checkpoint entry must not apply).
struct CleanableLog {
  std::shared_ptr<PartitionLog> log;
  std::string topic_id;
};

inline constexpr absl::string_view kCleanerCheckpointFile = "cleaner-offset-checkpoint";

class LogCleaner {
 public:
  // Lists the logs to consider (any thread; the compacted ones are picked out).
  using LogLister = std::function<std::vector<CleanableLog>()>;
  // Milliseconds since the epoch: min/max.compaction.lag.ms and delete horizons are measured with it.
  using Clock = std::function<int64_t()>;

  // Create reads <data_dir>/cleaner-offset-checkpoint (missing or unreadable: every log is dirty from its
  // start; a warning on stderr for an unreadable one) and binds it to the logs `lister` returns now, before
  // anything is appended: a checkpointed offset past a log's end (recovery cut the log) is lowered to it.
  static std::unique_ptr<LogCleaner> Create(std::string data_dir, LogCleanerOptions options, LogLister lister,
                                            Clock clock);
  ~LogCleaner();
  LogCleaner(const LogCleaner&) = delete;
  LogCleaner& operator=(const LogCleaner&) = delete;

  // Start starts the cleaner threads (none if !enable or threads < 1).
  void Start();
  // Stop asks cleanings in progress to abort (they remove their unfinished files), then joins the threads.
  // Later RunNow calls clean nothing. Idempotent.
  void Stop();

  // RunNow waits for the cleanings in progress, then cleans, on the calling thread, every compacted log
  // that needs it by the usual rules (dirty ratio, lags, delete horizons: the injected clock), each once.
  // Returns how many logs it cleaned. Errors: the first failed cleaning's (the others still run); such a
  // log is not cleaned again until the broker restarts (Kafka's "uncleanable partitions").
  absl::StatusOr<int> RunNow();

  // AbortCleaning stops a cleaning of `log` in progress (if any) and waits for it to end, then forgets the
  // log. For a log whose topic is being deleted, before its directory is removed.
  void AbortCleaning(const PartitionLog& log);

  // The first dirty offset recorded for a partition (for tests and tools); nullopt if unknown.
  std::optional<int64_t> FirstDirtyOffset(const TopicPartition& tp) const;

 private:
  // Unknown: computed from batch headers at the next selection (after a restart).
  static constexpr int64_t kUnknownHorizon = -1;

  struct LogState {
    std::weak_ptr<PartitionLog> log;  // empty until bound (entries read from the checkpoint)
    bool bound = false;
    std::string topic_id;
    int64_t first_dirty = 0;
    int64_t delete_horizon = kUnknownHorizon;
    bool in_progress = false;
    bool uncleanable = false;
    std::shared_ptr<std::atomic<bool>> abort = std::make_shared<std::atomic<bool>>(false);
  };
  struct Candidate {
    std::shared_ptr<PartitionLog> log;
    CleanableRange range;
    std::shared_ptr<std::atomic<bool>> abort;
  };

  LogCleaner(std::string data_dir, LogCleanerOptions options, LogLister lister, Clock clock);

  void LoadCheckpoint();
  absl::Status WriteCheckpoint();
  // Binds listed logs to their states, creates states for new logs, drops states of vanished ones.
  void Refresh();
  // Picks the filthiest cleanable log not in `skip` and marks it in progress.
  std::optional<Candidate> GrabFilthiestLog(const absl::flat_hash_set<TopicPartition>* skip);
  // Cleans a grabbed log and records the outcome.
  absl::Status CleanOne(Cleaner& cleaner, const Candidate& candidate);
  std::unique_ptr<Cleaner> NewCleaner() const;
  void RunThread();

  const std::string data_dir_;
  const LogCleanerOptions options_;
  const LogLister lister_;
  const Clock clock_;

  mutable absl::Mutex mu_;
  // Node-based: AbortCleaning waits on an entry while other threads insert.
  absl::node_hash_map<TopicPartition, LogState> logs_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  int in_progress_ ABSL_GUARDED_BY(mu_) = 0;

  // Serializes checkpoint writes (held while the text is built under mu_ and written).
  absl::Mutex checkpoint_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::string last_checkpoint_ ABSL_GUARDED_BY(checkpoint_mu_);

  std::vector<std::thread> threads_;
};

}  // namespace eddy::broker
