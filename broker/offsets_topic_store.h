// OffsetsTopicStore: the GroupStore of the embedded broker, over the internal topic __consumer_offsets
// (one partition, cleanup.policy=compact, as Kafka's). A commit is one record in Kafka's offsets format
// (offsets_codec.h), appended and fsynced (group commit with everything else) before the coordinator
// acknowledges it, so committed offsets survive kill -9 and power loss alike.
#pragma once

#include <deque>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "broker/group_store.h"
#include "eddy/core/record_batch.h"

namespace eddy::broker {

class LogManager;
class PartitionLog;
class AppendNotifier;

// Thread-safe.
class OffsetsTopicStore final : public GroupStore {
 public:
  // `logs` and `notifier` are not owned and must outlive the store.
  OffsetsTopicStore(LogManager* logs, std::shared_ptr<PartitionLog> log, AppendNotifier* notifier)
      : logs_(logs), log_(std::move(log)), notifier_(notifier) {}

  void Append(std::string key, std::optional<std::string> value,
              absl::AnyInvocable<void(absl::Status)> on_durable) override;
  absl::Status Replay(
      absl::FunctionRef<void(absl::string_view key, std::optional<absl::string_view> value)> fn) override;

 private:
  // Marks the commits up to `last_offset` done with `status`, then runs the callbacks of done commits at the
  // front of the queue, in append order, on one thread at a time (the flusher may complete out of order).
  void Complete(int64_t last_offset, const absl::Status& status);

  struct Pending {
    int64_t last_offset;
    absl::AnyInvocable<void(absl::Status)> on_durable;
    std::optional<absl::Status> result;
  };

  LogManager* const logs_;
  const std::shared_ptr<PartitionLog> log_;
  AppendNotifier* const notifier_;
  absl::Mutex mu_;  // orders appends, so records become durable in Append order
  RecordBatchBuilder builder_ ABSL_GUARDED_BY(mu_);
  absl::Mutex done_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::deque<Pending> pending_ ABSL_GUARDED_BY(done_mu_);
  bool draining_ ABSL_GUARDED_BY(done_mu_) = false;
};

}  // namespace eddy::broker
