// BrokerImpl: the embedded broker behind eddy::Broker and eddy::Admin. Owns the LogManager (topics and
// partition logs), the GroupCoordinator with its offsets store (the internal topic __consumer_offsets), and
// the append notifier that wakes long-polling consumers. Producers and consumers it creates hold a raw
// pointer to it: it must outlive them (see broker.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "broker/append_notifier.h"
#include "eddy/broker/broker.h"

namespace eddy::broker {

class LogManager;
class PartitionLog;
class GroupCoordinator;
class OffsetsTopicStore;

inline constexpr absl::string_view kOffsetsTopic = "__consumer_offsets";

// Thread-safe.
class BrokerImpl final : public Broker, public Admin {
 public:
  static absl::StatusOr<std::unique_ptr<BrokerImpl>> Open(const BrokerOptions& options);
  ~BrokerImpl() override;

  // Broker.
  Admin& admin() override { return *this; }
  std::unique_ptr<Producer> NewProducer(const ProducerConfig& config) override;
  absl::StatusOr<std::unique_ptr<Consumer>> NewConsumer(const ConsumerConfig& config) override;
  absl::Status Close() override;

  // Admin.
  absl::Status CreateTopic(const NewTopic& topic) override;
  absl::Status DeleteTopic(absl::string_view name) override;
  absl::Status CreatePartitions(absl::string_view name, int32_t total) override;
  absl::StatusOr<std::vector<std::string>> ListTopics(bool include_internal) override;
  absl::StatusOr<TopicDescription> DescribeTopic(absl::string_view name) override;
  absl::StatusOr<::eddy::OffsetAndTimestamp> ListOffsets(const TopicPartition& tp, int64_t timestamp) override;
  absl::StatusOr<std::vector<std::string>> ListGroups() override;
  absl::StatusOr<GroupDescription> DescribeGroup(absl::string_view group_id) override;

  // For the embedded clients.
  LogManager& log_manager() { return *logs_; }
  GroupCoordinator& coordinator() { return *coordinator_; }
  AppendNotifier& notifier() { return notifier_; }
  // Changes whenever topics are created, deleted or get partitions: clients re-resolve cached metadata.
  uint64_t metadata_version() const { return metadata_version_.load(std::memory_order_acquire); }
  absl::StatusOr<int32_t> PartitionCount(absl::string_view topic);
  struct TopicMeta {
    int32_t partitions = 0;
    int64_t max_message_bytes = 0;
  };
  absl::StatusOr<TopicMeta> TopicMetadata(absl::string_view topic);
  absl::StatusOr<std::shared_ptr<PartitionLog>> GetLog(absl::string_view topic, int32_t partition);

 private:
  BrokerImpl() = default;
  void BumpMetadata() { metadata_version_.fetch_add(1, std::memory_order_acq_rel); }

  int32_t num_partitions_ = 1;
  std::unique_ptr<LogManager> logs_;
  std::unique_ptr<OffsetsTopicStore> offsets_store_;
  std::unique_ptr<GroupCoordinator> coordinator_;
  AppendNotifier notifier_;
  std::atomic<uint64_t> metadata_version_{1};
  std::atomic<bool> closed_{false};
};

}  // namespace eddy::broker
