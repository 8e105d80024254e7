// KafkaAdmin: eddy::Admin over the Kafka protocol with librdkafka: topics through the Admin API
// (CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs), listings through Metadata, offsets
// through ListOffsets, groups through ListGroups/DescribeGroups and OffsetFetch (ListConsumerGroupOffsets).
// Each call is one or a few round trips, bounded by the timeout given at creation.
//
// Thread-safe (librdkafka's handle is; the object keeps no other state).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "eddy/core/admin.h"
#include "eddy/kafka_client/kafka_client.h"
#include "kafka_client/rdkafka_util.h"

namespace eddy::kafka_client {

class KafkaAdmin final : public Admin {
 public:
  static absl::StatusOr<std::unique_ptr<Admin>> Create(const KafkaConfigs& kafka, int timeout_ms);

  absl::Status CreateTopic(const NewTopic& topic) override;
  absl::Status DeleteTopic(absl::string_view name) override;
  absl::Status CreatePartitions(absl::string_view name, int32_t total) override;
  absl::StatusOr<std::vector<std::string>> ListTopics(bool include_internal = false) override;
  absl::StatusOr<TopicDescription> DescribeTopic(absl::string_view name) override;
  absl::StatusOr<OffsetAndTimestamp> ListOffsets(const TopicPartition& tp, int64_t timestamp) override;
  absl::StatusOr<std::vector<std::string>> ListGroups() override;
  absl::StatusOr<GroupDescription> DescribeGroup(absl::string_view group_id) override;

 private:
  KafkaAdmin(HandlePtr rk, int timeout_ms) : rk_(std::move(rk)), timeout_ms_(timeout_ms) {}
  // Runs one Admin API request started by `start(options, queue)` and returns its result event (whose
  // request-level error is already checked).
  template <typename Start>
  absl::StatusOr<EventPtr> RunAdmin(absl::string_view what, Start start);
  absl::Status TopicResultError(const rd_kafka_topic_result_t** results, size_t n, absl::string_view what);
  absl::StatusOr<std::map<std::string, std::string>> TopicConfigs(const std::string& name);

  HandlePtr rk_;
  const int timeout_ms_;
};

// ParseConsumerAssignment decodes a consumer group member's assignment (Kafka's ConsumerProtocolAssignment:
// version, then [topic, [partition]], then user data). kDataLoss if malformed.
absl::StatusOr<std::vector<TopicPartition>> ParseConsumerAssignment(absl::string_view bytes);

}  // namespace eddy::kafka_client
