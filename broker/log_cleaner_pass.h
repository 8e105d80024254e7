// One cleaning of one log (Kafka's LogCleaner.Cleaner): which part of a compacted log is cleanable and how
// dirty it is (ComputeCleanableRange), and the pass itself (Cleaner::Clean): build the offset map over the
// dirty range, then rewrite the sealed segments from the log start, group by group, and swap each group's
// cleaned segment in. LogCleaner (log_cleaner.h) decides which log to clean when. docs/log-compaction.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/log_cleaner_batch.h"
#include "broker/log_cleaner_offset_map.h"
#include "broker/log_cleaner_swap.h"
#include "broker/partition_log.h"

namespace eddy::broker {

// The cleanable part of a log and its dirtiness (Kafka's LogToClean).
struct CleanableRange {
  // Offsets below first_dirty were cleaned before (the cleaner's checkpoint); [first_dirty,
  // first_uncleanable) is the dirty part this cleaning may compact. first_uncleanable is the active
  // segment's base offset, or the base of the first sealed segment holding a record younger than
  // min.compaction.lag.ms.
  int64_t first_dirty = 0;
  int64_t first_uncleanable = 0;
  // Bytes of the sealed segments wholly below first_dirty, and of those overlapping the dirty part.
  int64_t clean_bytes = 0;
  int64_t dirty_bytes = 0;
  // dirty_bytes / (clean_bytes + dirty_bytes); 0 for an empty range. Compared with min.cleanable.dirty.ratio.
  double dirty_ratio = 0;
  // How long past max.compaction.lag.ms the oldest dirty segment's first batch is (0: not overdue).
  int64_t max_compaction_delay_ms = 0;
};

// ComputeCleanableRange evaluates `segments` (a snapshot: sealed ones, then the active one) of a log with
// `config`, given the checkpointed first dirty offset (clamped into the log) and the clock. Reads one
// batch header per dirty segment when max.compaction.lag.ms is set. Errors: I/O errors.
absl::StatusOr<CleanableRange> ComputeCleanableRange(const PartitionLog::SegmentList& segments, const LogConfig& config,
                                                     int64_t first_dirty, int64_t now_ms);

// EarliestDeleteHorizon returns the smallest delete horizon in the batch headers of the sealed segments
// (the delete-horizon attribute bit), or kNoDeleteHorizon. An upper bound on what the next cleaning can
// remove, used after a restart before a cleaning has computed the exact value.
absl::StatusOr<int64_t> EarliestDeleteHorizon(const PartitionLog::SegmentList& segments);

// What one cleaning did.
struct CleanStats {
  // The new first dirty offset (the cleaner's checkpoint): one past the last offset the map covered.
  int64_t end_offset = 0;
  // Earliest delete horizon of the tombstones still kept, kNoDeleteHorizon if none.
  int64_t delete_horizon = kNoDeleteHorizon;
  int64_t bytes_read = 0;
  int64_t bytes_written = 0;
  int64_t records_read = 0;
  int64_t records_kept = 0;
  int segments_before = 0;  // sealed segments rewritten
  int segments_after = 0;   // cleaned segments swapped in or left unchanged
  int64_t map_keys = 0;
};

// Per-cleaning options.
struct CleanOptions {
  int64_t now_ms = 0;
  // Checked between batches: when set, the cleaning stops (kAborted) and removes its unfinished files.
  const std::atomic<bool>* abort = nullptr;
  CleanerTestHook test_hook;
};

// A cleaner thread's worker: owns the offset map and I/O buffers, reused across cleanings.
// Thread-compatible (one thread at a time); logs may be appended to, read and flushed concurrently.
class Cleaner {
 public:
  // map_bytes: this thread's share of log.cleaner.dedupe.buffer.size; io_bytes: read/write chunk size.
  Cleaner(int64_t map_bytes, size_t io_bytes) : map_(map_bytes), io_bytes_(io_bytes) {}

  // Clean compacts `log` over `range` (from ComputeCleanableRange): builds the offset map over [first_dirty,
  // first_uncleanable) (or less, if the map fills up), then rewrites every sealed segment below the map's
  // end, in groups of at most segment.bytes, and swaps each group's cleaned segment in
  // (PartitionLog::ReplaceSegments). Offsets never change; the latest record of every key the map saw is
  // kept. Errors: kAborted if options.abort was set or retention removed segments meanwhile (retry later);
  // kDataLoss for a corrupt batch (nothing of that group is changed); kResourceExhausted if the map cannot
  // hold one batch's keys; file system errors.
  absl::StatusOr<CleanStats> Clean(PartitionLog& log, const CleanableRange& range, const CleanOptions& options);

 private:
  using SegmentList = PartitionLog::SegmentList;

  // Fills map_ from the dirty range; returns the end offset (see CleanStats::end_offset).
  absl::StatusOr<int64_t> BuildOffsetMap(const SegmentList& sealed, const CleanableRange& range,
                                         const CleanOptions& options, CleanStats* stats);
  // Producer id -> last offset of its last batch in the log, for Kafka's rule that a producer's last batch
  // is kept (empty if need be) so that its sequence state survives.
  absl::Status CollectProducerLastOffsets(const SegmentList& segments);
  // Cleans one group into <base>.*.cleaned and swaps it in.
  absl::Status CleanGroup(PartitionLog& log, absl::Span<const std::shared_ptr<LogSegment>> group,
                          const RecordRetention& rules, const CleanOptions& options, CleanStats* stats);

  OffsetMap map_;
  const size_t io_bytes_;
  BatchFilter filter_;
  std::string read_buffer_;
  std::string write_buffer_;
  std::string scratch_;
  absl::flat_hash_map<int64_t, int64_t> producer_last_offsets_;
};

// GroupSegments splits `sealed` (the segments to clean, oldest first; `end_base` is the base offset of the
// segment after the last one) into runs whose total size fits segment.bytes, whose estimated index entries
// fit segment.index.bytes and whose offset span fits an int32 (Kafka's groupSegmentsBySize).
std::vector<std::vector<std::shared_ptr<LogSegment>>> GroupSegments(const PartitionLog::SegmentList& sealed,
                                                                    int64_t end_base, const LogConfig& config);

}  // namespace eddy::broker
