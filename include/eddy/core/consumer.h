// Consumer: the client interface for reading records, shaped like Kafka's KafkaConsumer: Subscribe (with a
// consumer group) or Assign, Poll returning batches, Seek, and committed offsets. Implemented by the
// embedded broker's consumer (broker/embedded_consumer.h) and, later, by a librdkafka-based consumer.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "eddy/core/consumer_records.h"
#include "eddy/core/record.h"

namespace eddy {

enum class OffsetReset : uint8_t {
  kEarliest,  // start at the log start offset
  kLatest,    // start at the log end offset (Kafka's default)
  kNone,      // fail Poll with kOutOfRange
};

// Consumer settings: Kafka's names and defaults. Set() takes Kafka's spelling.
struct ConsumerConfig {
  std::string group_id;                        // group.id; empty: no group (Assign only, no commits)
  std::string client_id = "eddy-consumer";     // client.id
  OffsetReset auto_offset_reset = OffsetReset::kLatest;  // auto.offset.reset
  bool enable_auto_commit = true;              // enable.auto.commit
  int64_t auto_commit_interval_ms = 5000;      // auto.commit.interval.ms
  int32_t max_poll_records = 500;              // max.poll.records, shared evenly by the partitions with
                                               // records (whole batches are returned: may exceed it by up to
                                               // one batch per partition)
  int32_t fetch_max_bytes = 52428800;          // fetch.max.bytes
  int32_t max_partition_fetch_bytes = 1048576; // max.partition.fetch.bytes
  int64_t session_timeout_ms = 45000;          // session.timeout.ms
  int64_t heartbeat_interval_ms = 3000;        // heartbeat.interval.ms
  int64_t max_poll_interval_ms = 300000;       // max.poll.interval.ms
  std::vector<std::string> partition_assignment_strategy = {"range", "roundrobin"};
  bool check_crcs = true;                      // check.crcs

  absl::Status Set(absl::string_view name, absl::string_view value);
};

// An offset of a partition with its commit metadata (Kafka's OffsetAndMetadata with its partition): what
// CommitSync takes and CommittedOffsets returns. Kafka Streams keeps the partition time in the metadata.
struct TopicPartitionOffset {
  TopicPartition tp;
  int64_t offset = -1;
  std::string metadata;
};

// Notified on the thread that calls Poll, during Poll, when a group rebalance takes partitions away or
// hands them over (eager protocol: all partitions are revoked before a new assignment).
class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  virtual void OnPartitionsRevoked(const std::vector<TopicPartition>& /*partitions*/) {}
  virtual void OnPartitionsAssigned(const std::vector<TopicPartition>& /*partitions*/) {}
};

using CommitCallback = absl::AnyInvocable<void(const absl::Status& status)>;

// A Consumer is thread-compatible, like Kafka's: one thread at a time. Many consumers may run concurrently,
// each on its own thread.
class Consumer {
 public:
  virtual ~Consumer() = default;

  // Subscribe joins the consumer group (group.id is required) for `topics`; partitions are assigned during
  // Poll. `listener` (may be null, not owned) must outlive the subscription.
  virtual absl::Status Subscribe(std::vector<std::string> topics, RebalanceListener* listener = nullptr) = 0;
  // Assign reads exactly these partitions, without group membership.
  virtual absl::Status Assign(std::vector<TopicPartition> partitions) = 0;
  virtual absl::Status Unsubscribe() = 0;
  virtual std::vector<TopicPartition> Assignment() const = 0;

  // Poll returns the next batches of the assigned partitions (several partitions per poll, none in long
  // runs, as Kafka's fetcher does) into *records (its buffers are reused: keep one
  // ConsumerRecords per consumer for a poll loop without allocation). Waits up to `timeout` for data.
  // Drives group membership: rebalance callbacks run inside Poll. Errors: kOutOfRange with
  // auto.offset.reset=none, kDataLoss for a corrupt batch (with check.crcs), kFailedPrecondition when
  // fenced out of the group.
  virtual absl::Status Poll(absl::Duration timeout, ConsumerRecords* records) = 0;
  // Wakeup makes a Poll that is waiting for data (on another thread) return now, OK with what it has (maybe
  // nothing); called while no Poll runs, the next Poll returns without waiting. Kafka's wakeup(), without
  // the exception. The one method any thread may call, concurrently with the consumer's own thread.
  virtual void Wakeup() = 0;
  // Poll into a fresh ConsumerRecords.
  absl::StatusOr<ConsumerRecords> Poll(absl::Duration timeout);

  // Seek sets the next offset to read of an assigned partition.
  virtual absl::Status Seek(const TopicPartition& tp, int64_t offset) = 0;
  virtual absl::Status SeekToBeginning(const std::vector<TopicPartition>& partitions) = 0;
  virtual absl::Status SeekToEnd(const std::vector<TopicPartition>& partitions) = 0;
  // Position is the offset of the next record Poll returns for `tp`.
  virtual absl::StatusOr<int64_t> Position(const TopicPartition& tp) = 0;

  // CommitSync commits the current positions of all assigned partitions (or the given offsets: the offset
  // of the next record to read, as Kafka) and waits until they are durable in the broker.
  virtual absl::Status CommitSync(absl::Duration timeout = absl::InfiniteDuration()) = 0;
  virtual absl::Status CommitSync(const std::vector<TopicPartitionOffset>& offsets,
                                  absl::Duration timeout = absl::InfiniteDuration()) = 0;
  // CommitAsync commits the current positions; `callback` (may be null) runs later on an internal thread
  // or inside a later Poll.
  virtual void CommitAsync(CommitCallback callback = nullptr) = 0;
  // CommittedOffsets returns the group's committed offset and metadata for each of `partitions` that has
  // one (Kafka's committed(Set<TopicPartition>), one round trip), in no particular order; partitions
  // without a commit are left out. kInvalidArgument or kFailedPrecondition without a group.id; a fetch
  // error (kUnavailable when the coordinator is loading or away).
  virtual absl::StatusOr<std::vector<TopicPartitionOffset>> CommittedOffsets(
      const std::vector<TopicPartition>& partitions) = 0;
  // Committed returns the group's committed offset for `tp`, or nullopt if there is none.
  absl::StatusOr<std::optional<int64_t>> Committed(const TopicPartition& tp);

  // Close commits (if auto-commit is on), leaves the group and releases the consumer. Also done by the
  // destructor.
  virtual absl::Status Close() = 0;
};

}  // namespace eddy
