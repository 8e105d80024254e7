// Admin: the client interface for managing topics and inspecting consumer groups, shaped like Kafka's
// AdminClient. Implemented by the embedded broker (Broker::admin()) and, later, over the Kafka protocol.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eddy/core/record.h"

namespace eddy {

struct NewTopic {
  std::string name;
  int32_t partitions = -1;                     // -1: the broker's num.partitions (1)
  std::map<std::string, std::string> configs;  // topic configs by Kafka name, e.g. {"retention.ms", "1000"}
};

struct PartitionDescription {
  int32_t partition = 0;
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;
};

struct TopicDescription {
  std::string name;
  bool internal = false;  // e.g. __consumer_offsets
  std::vector<PartitionDescription> partitions;
  std::map<std::string, std::string> configs;  // only the ones set on the topic (others take the defaults)
};

// ListOffsets' special timestamps, as Kafka's.
inline constexpr int64_t kLatestTimestamp = -1;
inline constexpr int64_t kEarliestTimestamp = -2;

struct OffsetAndTimestamp {
  int64_t offset = -1;     // -1: no record at or after the timestamp
  int64_t timestamp = -1;
};

struct GroupMemberDescription {
  std::string member_id;
  std::string client_id;
  std::string client_host;
  std::vector<TopicPartition> assignment;
};

struct GroupPartitionOffset {
  TopicPartition tp;
  int64_t committed_offset = -1;  // -1: nothing committed
  int64_t log_end_offset = -1;
  int64_t lag = -1;               // log end - committed; -1 when nothing is committed
  std::string member_id;          // owner, if assigned
};

struct GroupDescription {
  std::string group_id;
  std::string state;          // Kafka's names: Empty, PreparingRebalance, CompletingRebalance, Stable, Dead
  std::string protocol_type;  // "consumer"
  std::string protocol;       // the assignor chosen, e.g. "range"
  std::vector<GroupMemberDescription> members;
  std::vector<GroupPartitionOffset> offsets;  // every partition with a committed offset or an owner
};

// Admin is thread-safe.
class Admin {
 public:
  virtual ~Admin() = default;
  // kInvalidArgument: illegal name (Kafka's rules), partitions < 1, bad config; kAlreadyExists.
  virtual absl::Status CreateTopic(const NewTopic& topic) = 0;
  virtual absl::Status DeleteTopic(absl::string_view name) = 0;
  // Raises the partition count to `total` (increase only, as Kafka).
  virtual absl::Status CreatePartitions(absl::string_view name, int32_t total) = 0;
  virtual absl::StatusOr<std::vector<std::string>> ListTopics(bool include_internal = false) = 0;
  virtual absl::StatusOr<TopicDescription> DescribeTopic(absl::string_view name) = 0;
  // ListOffsets: the first offset whose timestamp is >= `timestamp`, or kEarliestTimestamp/kLatestTimestamp.
  virtual absl::StatusOr<OffsetAndTimestamp> ListOffsets(const TopicPartition& tp, int64_t timestamp) = 0;
  virtual absl::StatusOr<std::vector<std::string>> ListGroups() = 0;
  // DescribeGroup: members, and per partition the committed offset, log end and lag (as
  // kafka-consumer-groups --describe). kNotFound for an unknown group.
  virtual absl::StatusOr<GroupDescription> DescribeGroup(absl::string_view group_id) = 0;
};

}  // namespace eddy
