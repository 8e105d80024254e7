// PartitionLog: the append-only log of one topic partition, stored as Kafka-format segments in its own
// directory (<data-dir>/<topic>-<partition>/). Appends assign offsets, reads serve Kafka fetch semantics,
// Flush makes appended data durable with group commit, Open recovers after a crash, DeleteOldSegments
// enforces retention. Formats and semantics: docs/log-format.md.
//
// Offsets (all int64, Kafka's meaning):
//   log_start_offset  the first offset still in the log (retention moves it forward)
//   log_end_offset    the offset the next appended record gets; readers see everything below it
//   flushed_offset    everything below it has been fdatasync'ed: it survives a power failure
//
// Thread-safety: thread-safe. Appends (and rolls, retention, Close) are serialized by one mutex; reads take
// a short lock to snapshot the segment list and then read with pread(2), never waiting for an append's
// write or for an fsync; Flush runs fdatasync without blocking appends or reads. The log cleaner's segment
// swaps (ReplaceSegments) are serialized with retention and Close by a lock appends never take.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "broker/log_config.h"
#include "broker/log_segment.h"
#include "broker/producer_state_manager.h"
#include "broker/read_hint.h"
#include "eddy/core/record.h"

namespace eddy::broker {

// A point of the log known to be durable: what the recovery-point checkpoint stores per partition.
struct RecoveryPoint {
  // Everything below this offset was fsynced.
  int64_t offset = 0;
  // Byte position of `offset` in the segment holding it (the segment with the largest base offset <=
  // offset). Recovery scans from here.
  int64_t position = 0;
  // The largest record timestamp in that segment before `position` (-1 if none): the scan cannot see it.
  int64_t max_timestamp = -1;
};

// How the log was left by the previous process.
struct RecoveryInfo {
  // True after a clean shutdown (every log closed): indexes are trusted, nothing is scanned.
  bool clean_shutdown = false;
  // The last checkpointed durable point; unset = scan the whole log (after an unclean shutdown).
  std::optional<RecoveryPoint> recovery_point;
};

struct AppendResult {
  int64_t first_offset = -1;
  int64_t last_offset = -1;
  // The broker's timestamp stamped on the batches for LogAppendTime topics, -1 for CreateTime.
  int64_t log_append_time = -1;
  int64_t log_start_offset = 0;
  // The batches repeat an idempotent producer's earlier append (a retry): nothing was appended, and
  // first_offset/last_offset are the original's.
  bool duplicate = false;
};

struct ReadResult {
  // Bytes appended to the output: whole record batches.
  int64_t bytes = 0;
  // The log end offset when the read started (a single node's high watermark).
  int64_t high_watermark = 0;
  int64_t log_start_offset = 0;
};

// A range of whole record batches inside one segment file, for sending with sendfile(2). Holding it keeps
// the segment (and its open descriptor) alive through rolls, retention and compaction swaps; the bytes in
// the range never change (only data past every published range is ever written or cut).
struct FileSlice {
  std::shared_ptr<const LogSegment> segment;
  int64_t position = 0;
  int64_t length = 0;
};

struct OffsetAndTimestamp {
  int64_t offset = -1;     // -1: no record at or after the timestamp
  int64_t timestamp = -1;  // the found record's timestamp; -1 for the earliest/latest queries
};

// ListOffsets' special timestamps.
inline constexpr int64_t kLatestTimestamp = -1;
inline constexpr int64_t kEarliestTimestamp = -2;

class PartitionLog {
 public:
  // Open opens (creating if needed) the log in `dir`. After an unclean shutdown it scans the data after
  // the recovery point (CRC, framing, contiguous offsets), cuts the log at the first invalid or incomplete
  // batch, deletes later segments, rebuilds the indexes of what it scanned and fsyncs the result; a line
  // on stderr tells what it scanned and cut. Errors: I/O errors from the file system.
  static absl::StatusOr<std::unique_ptr<PartitionLog>> Open(std::string dir, TopicPartition tp, LogConfig config,
                                                            const RecoveryInfo& recovery);

  // Destroying a log without Close() syncs nothing: like a crash of this log (the next Open should be told
  // the shutdown was unclean). Open file descriptors close when the last reader's snapshot goes.
  ~PartitionLog();
  PartitionLog(const PartitionLog&) = delete;
  PartitionLog& operator=(const PartitionLog&) = delete;

  // Append stores one or more whole v2 record batches, as a producer built them, at the end of the log.
  // It rewrites in place each batch's baseOffset (to the log end offset) and partitionLeaderEpoch (0), and
  // for LogAppendTime topics its timestamp type and maxTimestamp (= now_ms, recomputing the CRC). All
  // batches are written with one write(2), then published to readers. Not durable until Flush.
  // Batches of an idempotent producer (producer id >= 0) pass its sequence checks first
  // (ProducerStateManager); a retry of an earlier append returns that append's offsets with `duplicate`.
  // Every error carries the Kafka error code a produce should answer with (KafkaErrorOf), so the protocol
  // layer does not re-check anything; nothing is appended if any batch is rejected:
  //   MESSAGE_TOO_LARGE     kInvalidArgument: a batch larger than max.message.bytes
  //   INVALID_RECORD        kInvalidArgument: empty append, control batch, recordsCount/lastOffsetDelta
  //                         mismatch, a keyless record in a compacted topic, batches of two producers
  //   CORRUPT_MESSAGE       kDataLoss: bad CRC, framing or magic
  //   UNKNOWN_PRODUCER_ID, OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH   kFailedPrecondition
  //   KAFKA_STORAGE_ERROR   kResourceExhausted when the disk is full, or the write's I/O error (the log is
  //                         unchanged), or the error that stopped appends earlier
  //   NOT_LEADER_OR_FOLLOWER  kFailedPrecondition after Close
  //   UNKNOWN_TOPIC_OR_PARTITION  kNotFound after the topic was deleted
  // verify_crc=false is for batches built in this process (the embedded producer has just computed the
  // CRC): framing is still checked.
  absl::StatusOr<AppendResult> Append(absl::Span<char> batches, int64_t now_ms, bool verify_crc = true);

  // ReadSlices appends to *out the file ranges of the whole batches starting with the one that holds
  // `offset` (the first batch whose last offset >= offset): as many as fit in max_bytes, but always at
  // least one; one range per segment it crosses; never past the log end offset at the call. No record
  // bytes are read (only batch headers, to find the start and the max_bytes cut). offset == log end
  // offset -> no ranges. Errors: kOutOfRange when offset < log start offset or > log end offset (naming
  // both), kDataLoss for corrupt framing on disk, kNotFound after the topic was deleted.
  // `hint` (optional, the caller's) is used if it matches and updated.
  absl::StatusOr<ReadResult> ReadSlices(int64_t offset, int32_t max_bytes, std::vector<FileSlice>* out,
                                        ReadHint* hint = nullptr) const;

  // Read is ReadSlices, with the bytes of the ranges appended to *out (pread(2)): for readers in this
  // process and for a network path that cannot send from files.
  absl::StatusOr<ReadResult> Read(int64_t offset, int32_t max_bytes, std::string* out, ReadHint* hint = nullptr) const;

  int64_t log_start_offset() const { return start_.load(std::memory_order_acquire); }
  int64_t log_end_offset() const { return end_.load(std::memory_order_acquire); }
  int64_t flushed_offset() const { return flushed_.load(std::memory_order_acquire); }
  // Total bytes of the segment files (.log only).
  int64_t size_bytes() const;
  int segment_count() const;
  // The durable point to checkpoint (see RecoveryPoint); its offset equals flushed_offset().
  RecoveryPoint recovery_point() const;

  // Flush makes everything appended before the call durable: fdatasync of the active segment and of any
  // sealed segment (with its indexes) not synced yet, and of the directory after segment files were
  // created. Group commit: if a concurrent Flush already covered this caller's data, it returns without
  // syncing; otherwise it syncs everything appended so far, covering later callers too. Appends and reads
  // continue while it syncs. Returns the new flushed_offset(). A failed fsync is sticky: every later Flush
  // fails too (the kernel may have dropped the unwritten pages), as do appends.
  absl::StatusOr<int64_t> Flush();
  // FlushSealedSegments syncs the sealed segments not synced yet (as Kafka flushes a segment after a roll)
  // without syncing the active one; flushed_offset() advances to the active segment's base offset.
  absl::Status FlushSealedSegments();

  // OffsetForTimestamp implements ListOffsets: the first offset whose record timestamp is >= timestamp and
  // that record's timestamp, or offset -1 if there is none. kEarliestTimestamp (-2) returns the log start
  // offset, kLatestTimestamp (-1) the log end offset (timestamp -1 for both). kInvalidArgument for other
  // negative timestamps.
  absl::StatusOr<OffsetAndTimestamp> OffsetForTimestamp(int64_t timestamp) const;

  // DeleteOldSegments applies retention (when cleanup.policy contains "delete"): deletes the oldest
  // segments whose largest timestamp is older than now_ms - retention.ms, then the oldest ones while the
  // log without them still holds at least retention.bytes. The active segment is deleted by time only,
  // after rolling it (Kafka's behaviour), never by size. Moves log_start_offset to the first remaining
  // segment. Returns how many segments were deleted.
  absl::StatusOr<int> DeleteOldSegments(int64_t now_ms);

  // Close seals the active segment (writes its indexes), syncs everything, and stops appends
  // (kFailedPrecondition). Reads keep working. Afterwards the directory is clean: the next Open may be told
  // clean_shutdown. Idempotent.
  absl::Status Close();

  // MarkDeleted stops the log for good (the topic was deleted): appends, reads and flushes then return
  // kNotFound. The caller removes the directory; readers that were mid-read finish on their open files.
  void MarkDeleted();

  // ---- For the log cleaner (broker/log_cleaner*.h) ----
  using SegmentList = std::vector<std::shared_ptr<LogSegment>>;
  // The current segments, oldest first; the last one is the active segment. Sealed segments never change.
  std::shared_ptr<const SegmentList> segments() const { return GetView().segments; }
  // ReplaceSegments swaps `old_segments` (a run of sealed segments, oldest first) for the cleaned segment
  // that `swap_files` returns. It holds the cleaner lock, which excludes retention and Close (appends and
  // reads continue): it checks that the run is still in the log, runs swap_files (the cleaner's file
  // renames), then publishes the new list to readers. A reader that took its snapshot before keeps
  // reading the old segments through their open descriptors. swap_files sets *committed once the swap is
  // durable on disk: if it fails after that, the log refuses appends (like a damaged segment) until it is
  // reopened, whose recovery completes the swap. Errors: kAborted if the run is no longer in the log
  // (retention removed a segment), kFailedPrecondition after Close, kNotFound after MarkDeleted, the
  // error that stopped appends, and those of swap_files.
  absl::Status ReplaceSegments(
      absl::Span<const std::shared_ptr<LogSegment>> old_segments,
      absl::FunctionRef<absl::StatusOr<std::shared_ptr<LogSegment>>(bool* committed)> swap_files);

  // The largest producer id that appended to this log (kept across restarts), -1 if none.
  int64_t max_producer_id() const;

  const TopicPartition& topic_partition() const { return tp_; }
  const std::string& dir() const { return dir_; }
  const LogConfig& config() const { return config_; }

 private:
  // A consistent view for readers and the flusher.
  struct View {
    std::shared_ptr<const SegmentList> segments;
    int64_t end = 0;
    int64_t start = 0;
    int64_t active_size = 0;
    int64_t active_max_timestamp = -1;
  };

  PartitionLog(std::string dir, TopicPartition tp, LogConfig config);

  // Recovery (partition_log_open.cc).
  absl::Status Load(const RecoveryInfo& recovery);
  // Loads the producer snapshot and replays the batch headers after it (partition_log_open.cc).
  absl::Status LoadProducerState() ABSL_EXCLUSIVE_LOCKS_REQUIRED(append_mu_);
  // Writes a producer snapshot at the log end offset; a failure is logged, not returned (it only makes
  // the next recovery scan longer).
  void SnapshotProducerState() ABSL_EXCLUSIVE_LOCKS_REQUIRED(append_mu_);

  View GetView() const;
  // Publishes a new segment list and/or the active segment's new end to readers.
  void Publish(std::shared_ptr<const SegmentList> segments) ABSL_EXCLUSIVE_LOCKS_REQUIRED(append_mu_);
  absl::Status CheckOpen() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(append_mu_);
  bool ShouldRoll(int64_t bytes, int64_t offsets, int64_t now_ms) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(append_mu_);
  absl::Status Roll() ABSL_EXCLUSIVE_LOCKS_REQUIRED(append_mu_);
  absl::StatusOr<int64_t> FlushTo(bool include_active);
  absl::StatusOr<int64_t> SyncView(const View& v, bool include_active) ABSL_EXCLUSIVE_LOCKS_REQUIRED(flush_mu_);
  // Validates and stamps the batches of an append; returns the number of offsets they take.
  absl::StatusOr<int64_t> PrepareBatches(absl::Span<char> batches, int64_t now_ms, bool verify_crc) const;

  const std::string dir_;
  const TopicPartition tp_;
  const LogConfig config_;

  // Serializes changes to the sealed segments: retention, the cleaner's segment swaps and Close. Held
  // across their file operations (unlinks, renames), never by appends or reads.
  absl::Mutex cleaner_mu_ ABSL_ACQUIRED_BEFORE(append_mu_);
  // Serializes appends, rolls, retention and Close. Never held across an fsync, except by Close.
  mutable absl::Mutex append_mu_ ABSL_ACQUIRED_BEFORE(flush_mu_);
  std::shared_ptr<LogSegment> active_ ABSL_GUARDED_BY(append_mu_);
  int64_t next_offset_ ABSL_GUARDED_BY(append_mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(append_mu_) = false;
  // Set when a segment could not be restored after a failed write: the log refuses appends.
  absl::Status write_error_ ABSL_GUARDED_BY(append_mu_);
  // The idempotent producers' sequences; snapshotted at each roll and at Close.
  ProducerStateManager producers_ ABSL_GUARDED_BY(append_mu_);

  // Serializes fsyncs (group commit).
  absl::Mutex flush_mu_ ABSL_ACQUIRED_BEFORE(state_mu_);
  absl::Status flush_error_ ABSL_GUARDED_BY(flush_mu_);

  // Guards what readers snapshot; held only to copy or swap a few words.
  mutable absl::Mutex state_mu_;
  std::shared_ptr<const SegmentList> segments_ ABSL_GUARDED_BY(state_mu_);
  int64_t active_size_ ABSL_GUARDED_BY(state_mu_) = 0;
  int64_t active_max_timestamp_ ABSL_GUARDED_BY(state_mu_) = -1;
  RecoveryPoint recovery_point_ ABSL_GUARDED_BY(state_mu_);

  std::atomic<int64_t> start_{0};
  std::atomic<int64_t> end_{0};
  std::atomic<int64_t> flushed_{0};
  std::atomic<bool> deleted_{false};
  // A segment file was created or removed since the directory was last fsynced.
  std::atomic<bool> dir_dirty_{false};
};

}  // namespace eddy::broker
