// KafkaProducer: eddy::Producer on librdkafka. Send hands each record to rd_kafka_produce (librdkafka copies
// it into its per-partition batches); delivery reports come back as librdkafka events, a batch of messages
// at a time, on one thread owned by the producer, which runs the callbacks.
//
// Per record: one uncontended mutex (topic handle cache and callback slot), no allocation (callbacks live
// in recycled slots; finished slots are returned through a lock-free stack). Records with headers cost one
// librdkafka header list each.
//
// Differences from the embedded producer: Send cannot know that a topic does not exist (that needs a
// metadata round trip); such records fail in their callback with kNotFound after librdkafka's
// message.timeout.ms, or the broker auto-creates the topic (auto.create.topics.enable), as with Kafka.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "eddy/core/producer.h"
#include "eddy/kafka_client/kafka_client.h"
#include "kafka_client/rdkafka_util.h"

namespace eddy::kafka_client {

// MapProducerConfig: ProducerConfig as librdkafka configs (acks, linger.ms, batch.size, compression.type,
// queue.buffering.max.kbytes from buffer.memory, message.max.bytes from max.request.size, client.id), plus
// partitioner=murmur2_random (Kafka's Java placement of keyed records).
KafkaConfigs MapProducerConfig(const ProducerConfig& config);

class KafkaProducer final : public Producer {
 public:
  static absl::StatusOr<std::unique_ptr<Producer>> Create(const ProducerConfig& config, const KafkaConfigs& kafka);
  ~KafkaProducer() override;

  absl::Status Send(const ProducerRecord& record, DeliveryCallback callback = nullptr) override;
  absl::Status Flush(absl::Duration timeout = absl::InfiniteDuration()) override;
  absl::StatusOr<int32_t> PartitionsFor(absl::string_view topic) override;
  absl::Status Close(absl::Duration timeout = absl::InfiniteDuration()) override;

 private:
  // A callback waiting for its delivery report. Slots are allocated in slabs and never freed before the
  // producer: the opaque pointer given to librdkafka stays valid.
  struct Slot {
    DeliveryCallback callback;
    Slot* next = nullptr;
  };
  static constexpr size_t kSlabSize = 4096;

  explicit KafkaProducer(int64_t max_block_ms) : max_block_ms_(max_block_ms) {}
  absl::StatusOr<rd_kafka_topic_t*> TopicLocked(absl::string_view name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Slot* AcquireSlotLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // ReleaseSlot returns a slot from any thread (lock-free push).
  void ReleaseSlot(Slot* slot);
  absl::Status Produce(rd_kafka_topic_t* rkt, const ProducerRecord& record, Slot* slot);
  void ServeEvents();  // the delivery thread
  void HandleDeliveries(rd_kafka_event_t* event);
  void RecordError(const absl::Status& s);

  const int64_t max_block_ms_;
  HandlePtr rk_;
  QueuePtr main_queue_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, rd_kafka_topic_t*> topics_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Slot[]>> slabs_ ABSL_GUARDED_BY(mu_);
  Slot* free_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<Slot*> released_{nullptr};  // slots returned by the delivery thread
  absl::Mutex error_mu_;
  absl::Status first_error_ ABSL_GUARDED_BY(error_mu_);  // since the last Flush
  std::atomic<bool> stop_{false};
  std::thread delivery_thread_;
};

}  // namespace eddy::kafka_client
