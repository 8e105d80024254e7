// ProducerChangelogSink: the runtime's ChangelogSink (state_store.h), which sends each store change to its
// changelog topic through an eddy::Producer and remembers, per changelog partition, the offset of the last
// record the broker acknowledged: the offset a task's checkpoint records for the store (StateManager).
// Kafka Streams' RecordCollector, changelog half.
//
//   ProducerChangelogSink sink(producer.get());
//   context.changelog = &sink;               // stores send through it
//   ... FlushStores(); EDDY_RETURN_IF_ERROR(sink.Flush());   // at commit: first delivery error, if any
//   std::optional<int64_t> last = sink.AckedOffset({"app-counts-changelog", 3});
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "eddy/core/producer.h"
#include "eddy/core/record.h"
#include "eddy/state/state_store.h"

namespace eddy {

// One per stream thread or per task, over a producer it does not own (which must outlive it) and whose
// acks is 1 or all (with acks=0 there are no offsets to checkpoint). Send,
// Flush, AckedOffset, Pending and ResetPartition are called by the owning stream thread only; delivery
// callbacks run on the producer's I/O thread and touch only per-partition atomics (and, on an error, a
// mutex). The per-record path takes no lock of its own: one hash lookup (skipped when the partition is the
// same as the previous send's), Producer::Send, and a callback that stores an offset.
//
// Errors are sticky, as Kafka's RecordCollector: after a delivery fails, Send, Flush and status() return
// that error until the sink is destroyed (the task is then expected to close uncleanly and restore).
class ProducerChangelogSink final : public ChangelogSink {
 public:
  explicit ProducerChangelogSink(Producer* producer) : producer_(producer) {}
  // Waits (Producer::Flush) if records sent through this sink are still unacknowledged: their callbacks
  // point into it.
  ~ProducerChangelogSink() override;
  ProducerChangelogSink(const ProducerChangelogSink&) = delete;
  ProducerChangelogSink& operator=(const ProducerChangelogSink&) = delete;

  // Send queues the record to `topic`/`partition` (key as given, nullopt value = tombstone). Errors:
  // Producer::Send's (kNotFound for a missing changelog topic, ...), or the first delivery error seen.
  absl::Status Send(absl::string_view topic, int32_t partition, absl::string_view key,
                    std::optional<absl::string_view> value, int64_t timestamp) override;

  // Flush flushes the producer (every record, not only this sink's: the producer is shared) and returns
  // its error or the first delivery error of this sink's records. After it returns OK, AckedOffset is
  // the offset of the last record sent to each partition, and the records are as durable as the
  // producer's acks make them (acks=all: fsynced).
  absl::Status Flush(absl::Duration timeout = absl::InfiniteDuration());

  // The first delivery error, or OK.
  absl::Status status() const;

  // The offset of the last acknowledged record sent to `tp` through this sink since it was created or
  // ResetPartition(tp); nullopt if none.
  std::optional<int64_t> AckedOffset(const TopicPartition& tp) const;
  // How many records sent to `tp` are not yet acknowledged (nor failed).
  int64_t Pending(const TopicPartition& tp) const;
  // ResetPartition forgets tp's acknowledged offset: a task calls it when it (re)takes the partition, so
  // that an offset acknowledged for an earlier owner, or an earlier incarnation of the topic, is never
  // checkpointed. REQUIRES: Pending(tp) == 0.
  void ResetPartition(const TopicPartition& tp);

 private:
  // One changelog partition. Address-stable (unique_ptr): callbacks hold a pointer to it.
  struct Partition {
    TopicPartition tp;
    int64_t sent = 0;                     // records handed to the producer; owning thread only
    std::atomic<int64_t> completed{0};    // records acknowledged or failed; I/O thread writes
    std::atomic<int64_t> acked_offset{-1};  // offset of the last acknowledged record, -1 if none
    ProducerChangelogSink* sink = nullptr;
  };

  // Find returns the partition's entry, creating it (null for a negative partition).
  Partition* Find(absl::string_view topic, int32_t partition);
  // Lookup returns the partition's entry, or null if nothing was sent to it.
  const Partition* Lookup(const TopicPartition& tp) const;
  void OnDelivery(Partition* p, const absl::Status& status, const RecordMetadata& metadata);

  Producer* const producer_;
  // By topic, then by partition number (index; null where nothing was sent). Owning thread only.
  absl::flat_hash_map<std::string, std::vector<std::unique_ptr<Partition>>> partitions_;
  Partition* last_ = nullptr;  // the partition of the previous Send
  std::atomic<bool> failed_{false};
  mutable absl::Mutex mu_;
  absl::Status first_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace eddy
