// KafkaConsumer: eddy::Consumer on librdkafka's high-level consumer (group membership, fetching and
// prefetching are librdkafka's). Poll takes up to max.poll.records messages in one batch call and encodes
// each run of consecutive offsets of one partition into an uncompressed record batch inside the
// ConsumerRecords (one reused buffer per Poll, no CRC: it never leaves the process), so the application
// reads RecordViews exactly as from the embedded broker.
//
// Offsets: the consumer tracks each partition's position itself and hands it to librdkafka's offset store
// after every Poll, so auto-commit (and Close) commit what Poll returned, as Kafka's consumer does.
// Rebalances use the eager protocol (range, roundrobin); listener callbacks run inside Poll.
//
// Thread-compatible, as Consumer: one thread at a time.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "eddy/core/consumer.h"
#include "eddy/core/record_batch.h"
#include "eddy/kafka_client/kafka_client.h"
#include "kafka_client/rdkafka_util.h"

namespace eddy::kafka_client {

// MapConsumerConfig: ConsumerConfig as librdkafka configs (group.id, client.id, auto.offset.reset with none
// as librdkafka's "error", enable.auto.commit, the fetch sizes, group timeouts, partition.assignment.strategy,
// check.crcs), plus isolation.level=read_uncommitted and enable.auto.offset.store=false. Without a group,
// a private group.id that never joins nor commits (librdkafka needs one to Assign).
KafkaConfigs MapConsumerConfig(const ConsumerConfig& config);

// MessageBatchEncoder turns librdkafka messages into ConsumerRecords: each run of one partition with
// consecutive offsets becomes one uncompressed batch. Thread-compatible.
class MessageBatchEncoder {
 public:
  // Encode appends `messages` (data messages only, no errors) to `out`, which must have been cleared.
  absl::Status Encode(rd_kafka_message_t* const* messages, size_t count, ConsumerRecords* out);

 private:
  struct Run {
    const rd_kafka_message_t* first;
    size_t begin;  // byte range in the buffer
    size_t end;
  };
  RecordBatchBuilder builder_;
  std::vector<HeaderRef> headers_;
  std::vector<Run> runs_;
};

class KafkaConsumer final : public Consumer {
 public:
  static absl::StatusOr<std::unique_ptr<Consumer>> Create(const ConsumerConfig& config, const KafkaConfigs& kafka);
  ~KafkaConsumer() override;

  absl::Status Subscribe(std::vector<std::string> topics, RebalanceListener* listener = nullptr) override;
  absl::Status Assign(std::vector<TopicPartition> partitions) override;
  absl::Status Unsubscribe() override;
  std::vector<TopicPartition> Assignment() const override;
  absl::Status Poll(absl::Duration timeout, ConsumerRecords* records) override;
  void Wakeup() override;
  absl::Status Seek(const TopicPartition& tp, int64_t offset) override;
  absl::Status SeekToBeginning(const std::vector<TopicPartition>& partitions) override;
  absl::Status SeekToEnd(const std::vector<TopicPartition>& partitions) override;
  absl::StatusOr<int64_t> Position(const TopicPartition& tp) override;
  absl::Status CommitSync(absl::Duration timeout = absl::InfiniteDuration()) override;
  absl::Status CommitSync(const std::vector<TopicPartitionOffset>& offsets,
                          absl::Duration timeout = absl::InfiniteDuration()) override;
  void CommitAsync(CommitCallback callback = nullptr) override;
  absl::StatusOr<std::vector<TopicPartitionOffset>> CommittedOffsets(
      const std::vector<TopicPartition>& partitions) override;
  using Consumer::Committed;
  absl::Status Close() override;

 private:
  explicit KafkaConsumer(const ConsumerConfig& config) : config_(config) {}
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                          void* opaque);
  absl::Status SeekAll(const std::vector<TopicPartition>& partitions, int64_t offset);
  absl::Status Reassign();  // manual assignment: restart fetching at positions_
  // The current positions of the assigned partitions that have one, as a list to commit.
  PartitionListPtr CommittablePositions() const;
  absl::Status Commit(const rd_kafka_topic_partition_list_t* offsets, absl::Duration timeout);
  absl::Status CheckOpen() const;

  const ConsumerConfig config_;
  HandlePtr rk_;
  QueuePtr queue_;  // the consumer queue: messages, rebalances, commit results
  // Guards queue_ and rk_ against Close while another thread is in Wakeup (never taken per record).
  absl::Mutex wakeup_mu_;
  RebalanceListener* listener_ = nullptr;
  bool manual_ = false;  // Assign (not Subscribe)
  bool closed_ = false;
  // Next offset to read per assigned partition; RD_KAFKA_OFFSET_BEGINNING/END after a SeekTo*,
  // RD_KAFKA_OFFSET_INVALID when it comes from the committed offset or auto.offset.reset.
  std::map<TopicPartition, int64_t> positions_;
  std::vector<rd_kafka_message_t*> messages_;
  MessageBatchEncoder encoder_;
};

}  // namespace eddy::kafka_client
