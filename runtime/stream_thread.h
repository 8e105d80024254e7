// StreamThread: one stream thread of an eddy::Streams (Kafka's StreamThread). Owns a consumer in the group
// application.id, a producer (behind a RecordCollector) and the Tasks of the partitions the group assigns
// it, and runs the loop
//   Poll -> restore a slice of the restoring tasks' changelogs -> each partition's records to its task, as
//   one span (Task::Process) -> Punctuate -> maybe Commit.
// Rebalances (eager protocol) run inside Poll: revoked partitions are committed and their tasks closed;
// assigned partitions get new tasks (CreateTasks), whose partition times start from the metadata of the
// committed offsets (Task::SetInitialPartitionTime).
//
// State stores (docs/runtime.md, "State"): a thread whose topology has stores also owns a ThreadCache
// (its share of statestore.cache.max.bytes), a BlockCache, a restore consumer (no group) and a
// ProducerChangelogSink on its producer. A task with stores goes CREATED (waiting for its directory lock)
// -> RESTORING (StateManager::Open, Task::InitializeStores, StateManager::RegisterStores, then Restore
// slices between polls) -> RUNNING (Task::Initialize). Records polled for a task that is not RUNNING are
// not processed: its partitions are rewound to them (Seek) so they are fetched again once it runs (the
// consumer has no pause()). The thread is RUNNING only once all its tasks are.
// Commit (at-least-once): FlushStores on every task -> flush the producer (changelogs included) ->
// CommitSync -> MarkCommitted -> StateManager::Checkpoint per task. A clean close commits, then
// StateManager::Close(true), then closes the tasks; a failed thread uses Close(false) (no checkpoint:
// the next owner wipes and restores).
//
// On a clean stop (RequestShutdown) the thread commits, closes its tasks, leaves the group and closes its
// clients. On an error it closes its tasks without committing (the next owner resumes from the last commit:
// at-least-once), leaves the group, and reports the error to its owner.
//
// Internal to the runtime. Created and started by Streams; its loop runs on its own std::thread, which owns
// the consumer, producer and tasks. RequestShutdown, state(), metrics() and WithStores are thread-safe.
// Interactive queries (WithStores) and the stream thread share the tasks' stores through tasks_mu_, which
// the stream thread holds around each batch it gives a task (one partition's records of one poll), each
// punctuation, restoration slice, store flush and change to its set of tasks: never per record.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "eddy/core/consumer.h"
#include "eddy/core/producer.h"
#include "eddy/runtime/changelog_sink.h"
#include "eddy/runtime/record_collector.h"
#include "eddy/runtime/state_manager.h"
#include "eddy/runtime/streams_config.h"
#include "eddy/runtime/streams_metrics.h"
#include "eddy/runtime/task.h"
#include "eddy/runtime/topology.h"
#include "eddy/state/block_cache.h"
#include "eddy/state/state_directory.h"
#include "eddy/state/thread_cache.h"

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

// `st` with "<what>: " before its message (OK stays OK).
inline absl::Status Prefix(const absl::Status& st, absl::string_view what) {
  if (st.ok()) return st;
  return absl::Status(st.code(), absl::StrCat(what, ": ", st.message()));
}

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

// The thread's StateRestoreListener: counts restored records per store (for metrics), logs the start and
// end of each store's restoration and, at most every kProgressLogInterval while it runs, its progress
// ("N records, offset X of [start, end)"), and forwards to the application's listener. Stream thread only.
class ThreadRestoreListener final : public StateRestoreListener {
 public:
  static constexpr absl::Duration kProgressLogInterval = absl::Seconds(1);
  ThreadRestoreListener(std::string thread_name, const LogSink* log, StateRestoreListener* user,
                        absl::Duration progress_interval = kProgressLogInterval)
      : thread_name_(std::move(thread_name)), log_(log), user_(user), progress_interval_(progress_interval) {}
  void OnRestoreStart(const TopicPartition& changelog, absl::string_view store, int64_t start_offset,
                      int64_t end_offset) override;
  void OnBatchRestored(const TopicPartition& changelog, absl::string_view store, int64_t batch_end_offset,
                       int64_t num_restored) override;
  void OnRestoreEnd(const TopicPartition& changelog, absl::string_view store, int64_t total_restored) override;
  // Records restored per store over the thread's life.
  const std::map<std::string, int64_t>& restored() const { return restored_; }

 private:
  // One store partition being restored (keyed by store and changelog partition).
  struct Progress {
    int64_t start_offset = 0;
    int64_t end_offset = 0;
    int64_t restored = 0;
    absl::Time started;
    absl::Time last_logged;
  };
  static std::string ProgressKey(const TopicPartition& changelog, absl::string_view store);

  const std::string thread_name_;
  const LogSink* log_;
  StateRestoreListener* user_;  // may be null
  const absl::Duration progress_interval_;
  std::map<std::string, int64_t> restored_;
  std::map<std::string, Progress> progress_;
};

class StreamThread final : public RebalanceListener {
 public:
  // Everything the threads of one Streams share; owned by Streams, outlives its threads.
  struct Shared {
    const Topology* topology = nullptr;
    const StreamsConfig* config = nullptr;
    TaskConfig task_config;                  // handlers resolved by Streams
    std::vector<std::string> source_topics;  // real names, to subscribe to
    // ---- State (all null/0 when the topology has no store). ----
    const StateDirectory* state_directory = nullptr;
    Admin* admin = nullptr;                           // changelog offsets
    StateRestoreListener* restore_listener = nullptr;  // the application's; may be null
    int64_t cache_bytes = 0;                          // this thread's ThreadCache; 0: caching off
  };

  // `restore_consumer` (no group) is required when the topology has stores, null otherwise.
  StreamThread(std::string name, const Shared* shared, std::unique_ptr<Consumer> consumer,
               std::unique_ptr<Producer> producer, std::unique_ptr<Consumer> restore_consumer,
               StreamThreadOwner* owner);
  ~StreamThread() override;  // joins
  StreamThread(const StreamThread&) = delete;
  StreamThread& operator=(const StreamThread&) = delete;

  void Start();
  // Asks the loop to stop after the current iteration; an idle thread's Poll is woken. Any thread.
  void RequestShutdown() {
    shutdown_requested_.store(true, std::memory_order_relaxed);
    consumer_->Wakeup();
  }
  // Waits for the loop to end. Not from the thread itself.
  void Join();

  const std::string& name() const { return name_; }
  ThreadState state() const { return state_.load(std::memory_order_acquire); }
  ThreadMetricsSnapshot metrics() const;

  // WithStores calls fn(task partition, store) for the store `store` of each of this thread's tasks of
  // sub-topology `subtopology` (only partition `partition` when >= 0), holding tasks_mu_ for the whole
  // call. kUnavailable if such a task is not RUNNING (restoring); fn's first error. *found counts the
  // tasks visited. Any thread.
  absl::Status WithStores(absl::string_view store, int subtopology, int32_t partition,
                          absl::FunctionRef<absl::Status(int32_t, StateStore&)> fn, int* found) const;

  // RebalanceListener, called inside Poll on this thread.
  void OnPartitionsRevoked(const std::vector<TopicPartition>& partitions) override;
  void OnPartitionsAssigned(const std::vector<TopicPartition>& partitions) override;

 private:
  struct TaskEntry {
    std::unique_ptr<Task> task;
    // The task's state manager, once its directory is locked (tasks with stores only). Closed explicitly
    // (CloseTasks) before the task closes its stores.
    std::unique_ptr<StateManager> state;
    bool lock_wait_logged = false;
    int64_t rate_base_records = 0;  // processed_records at the last rate sample
    double rate = 0;
  };

  void Run();
  absl::Status RunLoop();
  absl::Status ProcessPolled();
  // Commit commits if some task processed records since the last commit, or always with `force` (a
  // close: stores flushed and checkpointed even without new input).
  absl::Status Commit(bool force = false);
  absl::Status CreateTasks(const std::vector<TopicPartition>& assignment);
  absl::StatusOr<std::vector<std::pair<TopicPartition, int64_t>>> CommittedPartitionTimes(
      const std::vector<TopicPartition>& assignment);
  // ---- Tasks with stores (stream_thread_state.cc). ----
  // CreateStateStructures makes the cache, block cache, sink and restore listener (once).
  void CreateStateStructures();
  TaskConfig TaskConfigFor(const TaskId& id, absl::Status* error) const;
  // AdvanceTasks moves the tasks that are not RUNNING along: lock and register their stores, restore up
  // to restore.max.records.per.loop records, Initialize the ready ones.
  absl::Status AdvanceTasks(int64_t now_ms);
  absl::Status OpenTaskState(TaskEntry& entry);
  bool AllTasksRunning() const;
  // How long the next Poll may wait: 0 while restoring, short while waiting for a lock, else poll.ms.
  absl::Duration PollTimeout() const;
  // Closes every task; with `clean`, commits first. Returns the first error (all tasks are closed anyway).
  absl::Status CloseTasks(bool clean);
  void SetState(ThreadState state);
  // Publishes every kPublishIntervalMs, or sooner (kIdlePublishMs) once a poll drained the backlog, so
  // the published counts catch up when the thread runs out of work; `force`: now.
  void PublishMetrics(int64_t now_ms, bool force, bool drained = false);

  const std::string name_;
  const Shared* const shared_;
  std::unique_ptr<Consumer> consumer_;
  std::unique_ptr<Producer> producer_;
  std::unique_ptr<Consumer> restore_consumer_;
  ProducerCollector collector_;
  StreamThreadOwner* const owner_;
  std::thread thread_;
  std::atomic<bool> shutdown_requested_{false};
  std::atomic<ThreadState> state_{ThreadState::kCreated};

  // ---- Owned by the stream thread. ----
  // State structures (null without stores). Declared before tasks_, so the tasks' stores
  // (normally closed by CloseTasks) go first.
  std::unique_ptr<ThreadCache> cache_;
  std::unique_ptr<BlockCache> block_cache_;
  std::unique_ptr<ProducerChangelogSink> sink_;
  std::unique_ptr<ThreadRestoreListener> restore_listener_;
  // Held by the stream thread around every use of a task's stores and every change to tasks_ (see the file
  // comment); taken by WithStores. The stream thread reads tasks_ without it (no one else writes it).
  mutable absl::Mutex tasks_mu_;
  std::map<TaskId, TaskEntry> tasks_;
  bool restoring_ = false;   // some task is RESTORING (poll without waiting)
  bool lock_wait_ = false;   // some task waits for its directory lock
  absl::flat_hash_map<TopicPartition, Task*> task_of_partition_;
  ConsumerRecords records_;
  std::vector<RecordView> scratch_;
  std::vector<TopicPartitionOffset> rewinds_;  // partitions of tasks not RUNNING, to Seek back after a poll
  absl::Status rebalance_error_;  // an error inside a rebalance callback, returned after Poll
  int64_t last_commit_ms_ = 0;
  int64_t next_publish_ms_ = 0;
  int64_t last_publish_ms_ = 0;
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
