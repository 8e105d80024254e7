// ProducerStateManager: the idempotent producer's state of one partition (Kafka's ProducerStateManager,
// reduced to what a single node without transactions needs), and its snapshot files.
//
// Per producer id it keeps the producer epoch and the sequence ranges and offsets of the last 5 appended
// batches (Kafka's limit: an idempotent producer has at most 5 requests in flight per partition):
//   - a batch equal to one of those 5 is a retry: it is not appended again, and the produce succeeds with
//     the original offsets (Kafka's behaviour since 2.x, instead of DUPLICATE_SEQUENCE_NUMBER);
//   - otherwise its first sequence must follow the last one (OUT_OF_ORDER_SEQUENCE_NUMBER, 45);
//   - a producer id the partition has not seen must start at sequence 0 (UNKNOWN_PRODUCER_ID, 59);
//   - an older epoch is fenced (INVALID_PRODUCER_EPOCH, 47); a newer one must start at sequence 0.
// Batches with producer id -1 (not idempotent) are not checked.
//
// Durability (as Kafka): the state is written to <dir>/<20-digit offset>.snapshot when the log rolls a
// segment and when it closes; the snapshot describes every batch below that offset. Opening the log loads
// the newest valid snapshot at or below the log end offset and rebuilds the rest from the batch headers
// after it (they carry producer id, epoch and base sequence), so the state survives a clean shutdown and a
// kill -9 alike. A lost or corrupt snapshot only makes that scan longer. The two newest snapshots are kept.
//
// Snapshot layout (big-endian):
//   magic "EPS1" (4 bytes) | crc32c u32 of everything after it | producer count i32 |
//   per producer: producer id i64, epoch i16, batch count u8 (1-5), then per batch, oldest first:
//   first sequence i32, last sequence i32, first offset i64, last offset i64.
//
// Thread-compatible: owned by one PartitionLog and used under its append lock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "eddy/core/record_batch_format.h"

namespace eddy::broker {

class ProducerStateManager {
 public:
  // The offsets of an earlier append that an append repeats.
  struct Duplicate {
    int64_t first_offset = -1;
    int64_t last_offset = -1;
  };

  // CheckAppend checks the batches of one append (whole, validated batches; their base offsets are not
  // assigned yet) against the state. Returns nullopt to append them, or the original offsets when every
  // batch is a retry of one already appended. Errors carry their Kafka code (WithKafkaError):
  // kFailedPrecondition for UNKNOWN_PRODUCER_ID, OUT_OF_ORDER_SEQUENCE_NUMBER and INVALID_PRODUCER_EPOCH;
  // kInvalidArgument (INVALID_RECORD) when the batches come from more than one producer.
  absl::StatusOr<std::optional<Duplicate>> CheckAppend(absl::Span<const char> batches) const;

  // Update records an appended batch (its base offset assigned). No-op for producer id -1.
  void Update(const BatchHeaderView& batch);

  // The largest producer id with state here, -1 if none.
  int64_t max_producer_id() const { return max_producer_id_; }
  size_t producer_count() const { return producers_.size(); }

  // WriteSnapshot writes the state as <dir>/<offset>.snapshot atomically and durably (WriteFileAtomically)
  // and deletes all but the two newest snapshots. Errors: I/O errors.
  absl::Status WriteSnapshot(const std::string& dir, int64_t offset) const;
  // LoadSnapshot replaces the state with the newest valid snapshot in `dir` whose offset is <= max_offset
  // and returns that offset; -1 (and an empty state) if there is none. Snapshots above max_offset (their
  // data was cut by recovery) and invalid ones are deleted. Errors: I/O errors.
  absl::StatusOr<int64_t> LoadSnapshot(const std::string& dir, int64_t max_offset);

 private:
  struct Batch {
    int32_t first_sequence;
    int32_t last_sequence;
    int64_t first_offset;
    int64_t last_offset;
  };
  struct Entry {
    int16_t epoch = 0;
    std::vector<Batch> batches;  // oldest first, at most kBatchesKept
  };
  static constexpr size_t kBatchesKept = 5;

  std::string Serialize() const;
  bool Parse(absl::string_view data);

  absl::flat_hash_map<int64_t, Entry> producers_;
  int64_t max_producer_id_ = -1;
};

}  // namespace eddy::broker
