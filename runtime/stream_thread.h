// StreamThread: one stream thread of an eddy::Streams (Kafka's StreamThread). Owns a consumer in the group
// application.id, a producer (behind a RecordCollector) and the Tasks of the partitions the group assigns
// it, and runs the loop
//   Poll -> each partition's records to its task, as one span (Task::Process) -> Punctuate -> maybe Commit.
// Rebalances (eager protocol) run inside Poll: revoked partitions are committed and their tasks closed;
// assigned partitions get new tasks (CreateTasks). Two places hold the life of a task and of a commit, so
// state stores can join them: CreateTasks (restore before processing) and Commit (flush stores first,
// write checkpoints last).
//
// On a clean stop (RequestShutdown) the thread commits, closes its tasks, leaves the group and closes its
// clients. On an error it closes its tasks without committing (the next owner resumes from the last commit:
// at-least-once), leaves the group, and reports the error to its owner.
//
// Internal to the runtime. Created and started by Streams; its loop runs on its own std::thread, which owns
// the consumer, producer and tasks. RequestShutdown, state() and metrics() are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "eddy/core/consumer.h"
#include "eddy/core/producer.h"
#include "eddy/runtime/record_collector.h"
#include "eddy/runtime/streams_config.h"
#include "eddy/runtime/streams_metrics.h"
#include "eddy/runtime/task.h"
#include "eddy/runtime/topology.h"

namespace eddy::runtime_internal {

// Kafka's StreamThread.State.
enum class ThreadState : uint8_t {
  kCreated,
  kStarting,            // subscribed, waiting for the first assignment
  kPartitionsRevoked,   // a rebalance took the partitions away
  kPartitionsAssigned,  // tasks created, not yet polled with them
  kRunning,
  kPendingShutdown,
  kDead,
};
const char* ToString(ThreadState state);

class StreamThread;

// What a thread tells its owner (Streams). Called on the stream thread.
class StreamThreadOwner {
 public:
  virtual ~StreamThreadOwner() = default;
  virtual void OnThreadStateChange(StreamThread* thread, ThreadState state) = 0;
  // The thread failed with `error`; it has closed its tasks and clients and is about to exit.
  virtual void OnThreadFailed(StreamThread* thread, const absl::Status& error) = 0;
};

// Sends a task's sink records through the thread's producer. Delivery errors surface at Flush.
class ProducerCollector final : public RecordCollector {
 public:
  explicit ProducerCollector(Producer* producer) : producer_(producer) {}
  absl::Status Send(const ProducerRecord& record) override { return producer_->Send(record); }

 private:
  Producer* producer_;
};

class StreamThread final : public RebalanceListener {
 public:
  // Everything the threads of one Streams share; owned by Streams, outlives its threads.
  struct Shared {
    const Topology* topology = nullptr;
    const StreamsConfig* config = nullptr;
    TaskConfig task_config;                  // handlers resolved by Streams
    std::vector<std::string> source_topics;  // real names, to subscribe to
  };

  StreamThread(std::string name, const Shared* shared, std::unique_ptr<Consumer> consumer,
               std::unique_ptr<Producer> producer, StreamThreadOwner* owner);
  ~StreamThread() override;  // joins
  StreamThread(const StreamThread&) = delete;
  StreamThread& operator=(const StreamThread&) = delete;

  void Start();
  // Asks the loop to stop after the current iteration (at most poll.ms later when idle).
  void RequestShutdown() { shutdown_requested_.store(true, std::memory_order_relaxed); }
  // Waits for the loop to end. Not from the thread itself.
  void Join();

  const std::string& name() const { return name_; }
  ThreadState state() const { return state_.load(std::memory_order_acquire); }
  ThreadMetricsSnapshot metrics() const;

  // RebalanceListener, called inside Poll on this thread.
  void OnPartitionsRevoked(const std::vector<TopicPartition>& partitions) override;
  void OnPartitionsAssigned(const std::vector<TopicPartition>& partitions) override;

 private:
  struct TaskEntry {
    std::unique_ptr<Task> task;
    int64_t rate_base_records = 0;  // processed_records at the last rate sample
    double rate = 0;
  };

  void Run();
  absl::Status RunLoop();
  absl::Status ProcessPolled();
  absl::Status Commit();
  absl::Status CreateTasks(const std::vector<TopicPartition>& assignment);
  // Closes every task; with `clean`, commits first. Returns the first error (all tasks are closed anyway).
  absl::Status CloseTasks(bool clean);
  void SetState(ThreadState state);
  void PublishMetrics(int64_t now_ms, bool force);

  const std::string name_;
  const Shared* const shared_;
  std::unique_ptr<Consumer> consumer_;
  std::unique_ptr<Producer> producer_;
  ProducerCollector collector_;
  StreamThreadOwner* const owner_;
  std::thread thread_;
  std::atomic<bool> shutdown_requested_{false};
  std::atomic<ThreadState> state_{ThreadState::kCreated};

  // ---- Owned by the stream thread. ----
  std::map<TaskId, TaskEntry> tasks_;
  absl::flat_hash_map<TopicPartition, Task*> task_of_partition_;
  ConsumerRecords records_;
  std::vector<RecordView> scratch_;
  absl::Status rebalance_error_;  // an error inside a rebalance callback, returned after Poll
  int64_t last_commit_ms_ = 0;
  int64_t next_publish_ms_ = 0;
  int64_t rate_sample_ms_ = 0;
  int64_t rate_base_records_ = 0;
  double rate_ = 0;
  // Counters (the tasks' own are added at publication; closed tasks' are folded into closed_).
  int64_t polled_records_ = 0;
  int64_t tasks_created_ = 0;
  TaskMetrics closed_;
  int64_t process_calls_ = 0;
  int64_t process_ns_total_ = 0;
  int64_t process_ns_max_ = 0;
  int64_t commits_ = 0;
  int64_t commit_ns_total_ = 0;
  int64_t commit_ns_max_ = 0;

  mutable absl::Mutex metrics_mu_;
  ThreadMetricsSnapshot published_ ABSL_GUARDED_BY(metrics_mu_);
};

}  // namespace eddy::runtime_internal
