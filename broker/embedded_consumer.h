// EmbeddedConsumer: the Consumer of the embedded broker. Poll reads whole batches straight from the
// partition logs into the caller's ConsumerRecords (one pread per partition, no per-record work beyond
// the CRC check), long-polls on the broker's append notifier when there is nothing new, and drives group
// membership (GroupMember) when subscribed.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "broker/read_hint.h"
#include "eddy/core/consumer.h"

namespace eddy::broker {

class BrokerImpl;
class GroupMember;
struct OffsetFetchResponse;
class PartitionLog;

// Thread-compatible (see Consumer). Created by BrokerImpl, which must outlive it.
class EmbeddedConsumer final : public Consumer {
 public:
  EmbeddedConsumer(BrokerImpl* broker, const ConsumerConfig& config);
  ~EmbeddedConsumer() override;

  absl::Status Subscribe(std::vector<std::string> topics, RebalanceListener* listener) override;
  absl::Status Assign(std::vector<TopicPartition> partitions) override;
  absl::Status Unsubscribe() override;
  std::vector<TopicPartition> Assignment() const override;
  absl::Status Poll(absl::Duration timeout, ConsumerRecords* records) override;
  using Consumer::Poll;
  void Wakeup() override;
  absl::Status Seek(const TopicPartition& tp, int64_t offset) override;
  absl::Status SeekToBeginning(const std::vector<TopicPartition>& partitions) override;
  absl::Status SeekToEnd(const std::vector<TopicPartition>& partitions) override;
  absl::StatusOr<int64_t> Position(const TopicPartition& tp) override;
  absl::Status CommitSync(absl::Duration timeout) override;
  absl::Status CommitSync(const std::vector<TopicPartitionOffset>& offsets, absl::Duration timeout) override;
  void CommitAsync(CommitCallback callback) override;
  absl::StatusOr<std::vector<TopicPartitionOffset>> CommittedOffsets(
      const std::vector<TopicPartition>& partitions) override;
  using Consumer::Committed;
  absl::Status Close() override;

 private:
  enum class Mode { kNone, kSubscribed, kAssigned };
  struct Assigned {
    TopicPartition tp;
    std::shared_ptr<PartitionLog> log;
    int64_t position = -1;  // -1: to be resolved from the committed offset or auto.offset.reset
    ReadHint hint;          // where the last read that reached the log end stopped
    // Read ahead, as Kafka's fetcher buffers a fetch response and hands it out max.poll.records at a
    // time: bytes [ahead_pos, end) of `ahead` are whole batches of `ahead_log` from offset ahead_offset on,
    // not returned yet. Used while position == ahead_offset (a seek elsewhere reads afresh). Shared with
    // the ConsumerRecords that point into it, so a refill takes a new buffer while they hold the old.
    std::shared_ptr<std::string> ahead;
    const PartitionLog* ahead_log = nullptr;
    size_t ahead_pos = 0;
    int64_t ahead_offset = -1;
  };
  // How much one read of a partition asks for at least (within max.partition.fetch.bytes, and with many
  // partitions less, so that all read-aheads fit in fetch.max.bytes): several polls' worth of a stream
  // thread's share, so one pread serves several polls.
  static constexpr int64_t kReadAheadBytes = 256 << 10;

  absl::Status SetAssignment(const std::vector<TopicPartition>& partitions);
  Assigned* Find(const TopicPartition& tp);
  absl::Status ResolvePositions();
  absl::Status ResetPosition(Assigned& a);
  static int64_t FairShare(std::vector<int64_t>* backlogs, int64_t max_records);
  absl::Status FetchOnce(ConsumerRecords* records);
  // FetchFrom adds up to `max_records` more records (whole batches) of `a` to *records, from its read-ahead
  // or, when that is used up, from a new read within `max_bytes`; returns the bytes of the batches added.
  absl::StatusOr<int64_t> FetchFrom(Assigned& a, int64_t max_records, int64_t max_bytes, ConsumerRecords* records);
  // The coordinator's OffsetFetch for `partitions`, waited for.
  absl::StatusOr<OffsetFetchResponse> FetchCommitted(const std::vector<TopicPartition>& partitions);
  absl::Status DriveMembership(absl::Time deadline);
  std::vector<TopicPartitionOffset> CurrentPositions() const;
  // Starts a commit; `done` runs exactly once, on any thread.
  void StartCommit(const std::vector<TopicPartitionOffset>& offsets, CommitCallback done);
  absl::Status WaitCommit(const std::vector<TopicPartitionOffset>& offsets, absl::Duration timeout);
  void RunCompletedCallbacks();
  absl::Status MaybeAutoCommit();

  BrokerImpl* const broker_;
  const ConsumerConfig config_;
  Mode mode_ = Mode::kNone;
  std::vector<std::string> topics_;
  RebalanceListener* listener_ = nullptr;
  std::unique_ptr<GroupMember> member_;
  std::vector<Assigned> assigned_;
  int32_t listened_generation_ = -1;  // generation whose assignment the listener was last told about
  size_t next_fetch_ = 0;  // round-robin start, so one busy partition cannot starve the others
  std::vector<size_t> ready_;       // FetchOnce scratch: indexes of partitions with records to read
  std::vector<int64_t> backlogs_;   // FetchOnce scratch: their backlogs
  int64_t next_auto_commit_ms_ = 0;
  int64_t bytes_per_record_ = 128;  // running estimate, to size reads for max.poll.records
  bool closed_ = false;
  std::atomic<bool> wakeup_{false};  // set by Wakeup (any thread), taken by Poll

  // CommitAsync callbacks completed on other threads, run by the next Poll (as Kafka's consumer does).
  struct Completed {
    CommitCallback callback;
    absl::Status status;
  };
  absl::Mutex completed_mu_;
  std::deque<Completed> completed_ ABSL_GUARDED_BY(completed_mu_);
  int pending_async_ ABSL_GUARDED_BY(completed_mu_) = 0;
};

}  // namespace eddy::broker
