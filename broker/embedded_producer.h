// EmbeddedProducer: the Producer of the embedded broker. Send() encodes records straight into a
// per-partition RecordBatchBuilder (no per-record allocation); a batch is sealed when it reaches
// batch.size or its linger.ms expires, and a sender thread appends sealed batches to the partition logs in
// order. acks=all completions come from the log manager's flusher once the batch is fsynced (group commit:
// one fdatasync covers every batch appended before it).
//
// Locks: `mu_` is the per-record lock of Send (topics, open batches) and is taken by the sender thread only
// when a linger.ms deadline expires, so it is almost never contended. A send burst (BeginSends, as a
// stream thread does per batch of input records) holds it across many Sends, so the per-record path of a
// stream thread takes no lock. Sealed batches cross to the sender
// through `handoff_mu_`, and each completion updates the counts under `done_mu_`, on which Flush and a
// Send over buffer.memory wait; both once per batch. Send reads the counts as atomics, without a lock.
// Order: mu_ before handoff_mu_; done_mu_ alone. mu_ is a FastMutex (core/fast_mutex.h): half the cost of
// absl::Mutex per record, without its deadlock detection, which still checks the other two.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "core/fast_mutex.h"
#include "eddy/core/producer.h"
#include "eddy/core/record_batch.h"

namespace eddy::broker {

class BrokerImpl;
class PartitionLog;

// Thread-safe (see Producer). Created by BrokerImpl, which must outlive it. The destructor closes the producer
// and then waits until every sealed batch is completed, also after a Close that timed out: acks=all
// completions arrive on the log flusher's thread and use this object.
class EmbeddedProducer final : public Producer {
 public:
  EmbeddedProducer(BrokerImpl* broker, const ProducerConfig& config);
  ~EmbeddedProducer() override;

  absl::Status Send(const ProducerRecord& record, DeliveryCallback callback) override;
  absl::Status Flush(absl::Duration timeout) override;
  absl::StatusOr<int32_t> PartitionsFor(absl::string_view topic) override;
  absl::Status Close(absl::Duration timeout) override;
  // A burst holds mu_ from BeginSends to EndSends: the thread's Sends skip the lock, other threads' calls
  // wait at most one burst, and the sender thread does not wait (it leaves expired batches to the burst's
  // end and goes on delivering sealed ones).
  void BeginSends() override ABSL_NO_THREAD_SAFETY_ANALYSIS;
  void EndSends() override ABSL_NO_THREAD_SAFETY_ANALYSIS;

 private:
  struct Callback {
    int32_t index;      // record's position in its batch
    int64_t timestamp;  // as sent
    DeliveryCallback fn;
  };
  // A batch being filled or waiting to be appended.
  struct Batch {
    RecordBatchBuilder builder;
    std::shared_ptr<PartitionLog> log;
    int32_t partition = -1;
    int64_t deadline_ms = 0;  // linger expiry
    int64_t bytes = 0;        // counted against buffer.memory
    std::vector<Callback> callbacks;
    explicit Batch(Compression c) : builder(c) {}
  };
  struct PartitionState {
    std::shared_ptr<PartitionLog> log;
    std::unique_ptr<Batch> open;
  };
  struct TopicState {
    std::vector<PartitionState> partitions;
    int32_t sticky = -1;  // current partition for null keys
    int64_t batch_limit = 0;  // min(batch.size, the topic's max.message.bytes)
    uint64_t metadata_version = 0;
  };

  // Lets go of the calling thread's burst for its scope (Flush, Close, PartitionsFor wait on others that
  // need mu_); takes it back after.
  class BurstPause {
   public:
    explicit BurstPause(EmbeddedProducer* p) ABSL_NO_THREAD_SAFETY_ANALYSIS;
    ~BurstPause() ABSL_NO_THREAD_SAFETY_ANALYSIS;
    BurstPause(const BurstPause&) = delete;
    BurstPause& operator=(const BurstPause&) = delete;

   private:
    EmbeddedProducer* p_;
    int depth_ = 0;
  };
  // Whether the calling thread is in a burst, and so holds mu_.
  bool InBurst() const { return burst_owner_.load(std::memory_order_relaxed) == std::this_thread::get_id(); }
  absl::Status SendLocked(const ProducerRecord& record, DeliveryCallback callback, int64_t bytes, int64_t timestamp)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<TopicState*> Topic(absl::string_view name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Seal(PartitionState& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) ABSL_LOCKS_EXCLUDED(handoff_mu_);
  void SealExpired(int64_t now_ms, bool all) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::unique_ptr<Batch> NewBatch() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int32_t ChooseStickyPartition(TopicState& t, int32_t avoid);
  // Waits until `bytes` more fit in buffer.memory or nothing is left to complete; releases mu_ meanwhile.
  absl::Status WaitForBuffer(int64_t bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits until every sealed batch is completed; false if `deadline` passed first.
  bool AwaitCompletions(absl::Time deadline);
  void SenderLoop();
  void Deliver(std::unique_ptr<Batch> batch);
  void Complete(std::unique_ptr<Batch> batch, const absl::Status& status, int64_t first_offset,
                int64_t log_append_time);

  BrokerImpl* const broker_;
  const ProducerConfig config_;

  FastMutex mu_;  // per record: see core/fast_mutex.h
  // The thread holding mu_ for a burst (none: default id). Written by that thread only, under mu_; each
  // thread compares it with its own id, which no other thread stores.
  std::atomic<std::thread::id> burst_owner_{};
  int burst_depth_ ABSL_GUARDED_BY(mu_) = 0;
  // Set by the sender when a linger deadline passed while a burst held mu_; the burst seals at its end.
  std::atomic<bool> seal_due_{false};
  absl::flat_hash_map<std::string, TopicState> topics_ ABSL_GUARDED_BY(mu_);
  // The entry of topics_ that Topic() returned last, and its name; reset before topics_ may rehash.
  TopicState* last_topic_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::string last_topic_name_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Batch>> pool_ ABSL_GUARDED_BY(mu_);  // refilled from returned_
  int64_t open_batches_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t open_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // of records in open batches, against buffer.memory
  // Written under mu_; the sender reads it to choose how long to sleep.
  std::atomic<int64_t> earliest_deadline_ms_{INT64_MAX};
  // Written under mu_, read anywhere. Set before stop_, so the sender's last SealExpired seals everything.
  std::atomic<bool> closed_{false};

  // Own cache lines: the sender thread writes these once per batch; the sending thread's per-record
  // fields above stay in its cache.
  alignas(64) absl::Mutex handoff_mu_ ABSL_ACQUIRED_AFTER(mu_);
  absl::CondVar sender_cv_;  // work for the sender
  std::deque<std::unique_ptr<Batch>> ready_ ABSL_GUARDED_BY(handoff_mu_);
  std::vector<std::unique_ptr<Batch>> returned_ ABSL_GUARDED_BY(handoff_mu_);  // completed, for reuse
  bool stop_ ABSL_GUARDED_BY(handoff_mu_) = false;

  // Decremented under done_mu_ (no wake-up is lost), incremented by Seal, read anywhere.
  alignas(64) std::atomic<int64_t> unacked_batches_{0};  // sealed, not yet completed
  std::atomic<int64_t> sealed_bytes_{0};  // of records in those batches, against buffer.memory
  absl::Mutex done_mu_;
  absl::CondVar done_cv_;  // a batch completed or the producer closed
  absl::Status first_error_ ABSL_GUARDED_BY(done_mu_);
  uint64_t rng_ = 0x9E3779B97F4A7C15ull;
  std::thread sender_;
};

}  // namespace eddy::broker
