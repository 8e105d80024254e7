// ProducerStateTable: the idempotent producer's duplicate and sequence checks (Kafka's ProducerStateManager,
// reduced to what a single node needs). Per partition and producer id it keeps the producer epoch and the
// sequence ranges of the last 5 appended batches (Kafka's limit: an idempotent producer has at most 5
// requests in flight per partition) with their offsets:
//   - a batch equal to one of those 5 is a retry: it is not appended again, and the produce succeeds with
//     the original base offset (Kafka's behaviour since 2.x, instead of DUPLICATE_SEQUENCE_NUMBER);
//   - otherwise its first sequence must follow the last one (OUT_OF_ORDER_SEQUENCE_NUMBER, 45);
//   - a producer id the partition has not seen must start at sequence 0 (UNKNOWN_PRODUCER_ID, 59);
//   - an older epoch is fenced (INVALID_PRODUCER_EPOCH, 47); a newer one must start at sequence 0.
// Not persisted: after a restart every producer is unknown until it starts a new sequence (librdkafka
// answers UNKNOWN_PRODUCER_ID by fetching a new producer id). Kafka rebuilds the state from the log instead.
//
// Thread-safe. Appends of idempotent batches to one partition are serialized by that partition's lock,
// held across the check, the append and the bookkeeping (Guard); other appends never take it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "broker/error_code.h"

namespace eddy::net {

// The producer fields of the first and last batch of one partition's records in a produce request.
struct ProducerBatchInfo {
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t first_sequence = -1;  // base sequence of the first batch
  int32_t last_sequence = -1;   // base sequence + last offset delta of the last batch
};

class ProducerStateTable {
 public:
  // The lock and state of one partition's producers.
  class PartitionState;

  // Outcome of Check.
  struct Decision {
    broker::ErrorCode error = broker::ErrorCode::kNone;
    // A retried batch: do not append; answer with these offsets.
    bool duplicate = false;
    int64_t first_offset = -1;
    int64_t last_offset = -1;
  };

  // Guard holds a partition's lock from Check to Record (or its destruction).
  class Guard {
   public:
    Guard(Guard&& other) noexcept : state_(other.state_) { other.state_ = nullptr; }
    Guard& operator=(Guard&&) = delete;
    ~Guard();
    // Check decides what to do with `batch` (producer_id >= 0).
    Decision Check(const ProducerBatchInfo& batch);
    // Record remembers an appended batch and its offsets.
    void Record(const ProducerBatchInfo& batch, int64_t first_offset, int64_t last_offset);

   private:
    friend class ProducerStateTable;
    explicit Guard(PartitionState* state);
    PartitionState* state_;
  };

  ProducerStateTable();
  ~ProducerStateTable();

  // Lock returns the locked state of (topic, partition).
  Guard Lock(absl::string_view topic, int32_t partition);

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<PartitionState>> partitions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace eddy::net
