// Record-level pieces of log compaction: what the cleaner keeps of one record batch (BatchFilter), reading a
// sealed segment batch by batch with CRC checks (SegmentBatchReader), and the produce-time rule that a
// compacted topic's records carry keys (CheckRecordKeys). The policy is Kafka's (LogCleaner and
// MemoryRecords.filterTo); docs/log-compaction.md explains it.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "broker/log_cleaner_offset_map.h"
#include "broker/log_segment.h"
#include "eddy/core/record_batch_format.h"

namespace eddy::broker {

// No tombstone is waiting for its delete horizon.
inline constexpr int64_t kNoDeleteHorizon = std::numeric_limits<int64_t>::max();

// CheckRecordKeys returns kInvalidArgument "compacted topic <topic> requires keys: ..." if a record of
// `batch` (one whole batch that ValidateBatch accepted) has a null key: Kafka rejects such produce requests
// with INVALID_RECORD ("Compacted topic cannot accept message without key"). A compressed batch is
// decompressed into *scratch. Decoding errors are kDataLoss.
absl::Status CheckRecordKeys(absl::string_view batch, absl::string_view topic, std::string* scratch);

// The cleaner's retention rules for one pass over a log.
struct RecordRetention {
  // Latest offset per key over the dirty range; records after map->latest_offset() are all kept.
  const OffsetMap* map = nullptr;
  // The pass's clock: a tombstone whose batch's delete horizon is <= now_ms is removed.
  int64_t now_ms = 0;
  // delete.retention.ms: the delete horizon given to a batch when the cleaner first keeps a tombstone in it.
  int64_t delete_retention_ms = 0;
};

// What BatchFilter::Filter did with one batch.
struct BatchFilterResult {
  enum class Output { kOriginal, kRewritten, kEmpty, kDropped };
  Output output = Output::kDropped;
  int32_t records_read = 0;
  int32_t records_kept = 0;
  // The batch's delete horizon if it keeps tombstones, else kNoDeleteHorizon.
  int64_t delete_horizon = kNoDeleteHorizon;
};

// BatchFilter decides, record by record, what the cleaner keeps of a batch and writes the result. A record
// is kept if its offset is past the map's latest offset, or if it has a key, no later offset in the map,
// and either a value or a delete horizon not yet reached (Kafka 3.x, KIP-534). Keyless records are removed.
//
// The output batch keeps the input's baseOffset and lastOffsetDelta (its offset range), producer fields,
// leader epoch, timestamp type and codec: a compressed batch is re-compressed with the same codec (at the
// codec's default level), as Kafka does. Kept records are copied byte for byte unless the batch's
// baseTimestamp changes: when tombstones are first kept, the delete-horizon attribute bit is set and
// baseTimestamp holds now + delete.retention.ms (record timestamp deltas are re-encoded against it); when a
// batch with a horizon keeps no tombstone any more, the bit is cleared again. maxTimestamp is recomputed
// from the kept records (CreateTime) and CRC-32C over the new bytes. A batch that keeps every record and
// needs no new horizon is copied unchanged. A batch that keeps nothing is dropped, or written as an empty
// batch (header only, recordsCount 0, Kafka's writeEmptyHeader) if retain_if_empty.
//
// Control batches (transaction markers) are copied unchanged: Eddy has no transactions yet.
//
// Thread-compatible: each cleaner thread has its own (it reuses its buffers; no per-record allocation).
class BatchFilter {
 public:
  // Filter appends to *out what is kept of `batch` (one whole batch whose CRC was checked). kDataLoss if a
  // record cannot be decoded (nothing is appended then).
  absl::Status Filter(absl::string_view batch, const RecordRetention& rules, bool retain_if_empty, std::string* out,
                      BatchFilterResult* result);

 private:
  struct KeptRecord {
    const char* start;  // the record's length varint
    size_t size;        // whole record, length varint included
    int64_t timestamp;  // baseTimestamp + timestampDelta (the record's own CreateTime)
  };
  void AppendEmptyBatch(absl::string_view batch, std::string* out) const;
  absl::Status AppendRewritten(absl::string_view batch, int64_t base_timestamp, bool set_horizon, std::string* out);

  std::string decompressed_;
  std::string records_;
  std::string compressed_;
  std::vector<KeptRecord> kept_;
};

// SegmentBatchReader reads a sealed segment's batches in order from `position`, in reads of about
// io_bytes (more for a larger batch), and checks each batch's framing and CRC-32C: the cleaner must not
// copy a corrupt batch under a fresh CRC. Thread-compatible; the segment must outlive the reader.
class SegmentBatchReader {
 public:
  SegmentBatchReader(const LogSegment& segment, int64_t position, size_t io_bytes, std::string* buffer)
      : segment_(segment), position_(position), limit_(segment.size()), io_bytes_(io_bytes), buffer_(*buffer) {}

  // Next points *batch at the next whole batch (valid until the next call) and sets *position to its
  // position in the segment. Returns false at the end of the segment. kDataLoss for a corrupt batch
  // (naming the file and position), I/O errors.
  absl::StatusOr<bool> Next(absl::string_view* batch, int64_t* position);

 private:
  const LogSegment& segment_;
  int64_t position_;     // of the next batch
  const int64_t limit_;  // the segment's size when the reader was made
  const size_t io_bytes_;
  std::string& buffer_;
  int64_t buffer_start_ = 0;  // file position of buffer_[0]
  bool loaded_ = false;       // buffer_ holds this segment's bytes (it may be shared with other readers)
};

}  // namespace eddy::broker
