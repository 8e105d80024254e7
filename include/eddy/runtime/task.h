// Task: one sub-topology instantiated for one partition number of its source topics (Kafka's StreamTask).
// It owns the physical nodes and the TaskContext, runs records through them, tracks stream time and the
// input offsets to commit, and runs punctuators. The runtime creates one per TaskId the consumer group hands
// this instance; the TestDriver creates all of them.
//
// States and transitions (a subset of Kafka's; SUSPENDED is not needed: a revoked task is closed):
//   kCreated --InitializeStores()--> kRestoring --Initialize()--> kRunning --Close()--> kClosed;
//   kCreated --Initialize()--> kRunning (InitializeStores is then called by Initialize);
//   kCreated or kRestoring --Close()--> kClosed.
// In kRestoring the stores are open and empty of cached writes, and no node runs: the runtime restores them
// from their changelogs (StateStore::BeginRestore/RestoreBatch/EndRestore, or StateRestorer) in between.
//
// Use by the runtime (one stream thread owns the task; nothing here is thread-safe):
//   Task task(id, topology, partitions, config, &collector);  // config.task_dir locked, changelog, cache
//   EDDY_RETURN_IF_ERROR(task.InitializeStores());
//   restore task.stores() that are behind their changelogs (ProcessorStateManager)
//   EDDY_RETURN_IF_ERROR(task.Initialize(now_ms));
//   loop:
//     for each polled record r of partition tp of this task: status = task.Process(tp, r)  (or a span)
//     task.Punctuate(now_ms) every loop iteration (wall-clock punctuators)
//     every commit.interval.ms: task.FlushStores() (caches to stores and changelogs, stores to disk), then
//       collector flush (all sends acknowledged), then consumer.CommitSync(task.CommittableOffsets()), then
//       task.MarkCommitted(), then the task's checkpoint (state_store.h has the sequence)
//   task.Close() (flushes and closes the stores), then flush and commit as above.
// A Process error means the task failed on that record (handler said kFail, a processor or punctuator
// returned an error or threw): the record's offset is not committable; the runtime's uncaught-exception
// handling decides what happens next. The task stays usable (the TestDriver keeps going).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "eddy/core/consumer.h"
#include "eddy/core/record.h"
#include "eddy/runtime/processor_node.h"
#include "eddy/runtime/record_collector.h"
#include "eddy/runtime/task_context.h"
#include "eddy/runtime/task_id.h"
#include "eddy/runtime/topology.h"

namespace eddy {

enum class TaskState : uint8_t { kCreated, kRestoring, kRunning, kClosed };
const char* ToString(TaskState state);  // "CREATED", "RESTORING", "RUNNING", "CLOSED"

class Task {
 public:
  // `partitions`: this task's input partitions (real topic names, all with partition id.partition, each a
  // source topic of sub-topology id.subtopology; Topology::GroupPartitions produces them). `collector` and
  // the handlers in `config` are not owned and must outlive the task.
  Task(TaskId id, Topology topology, std::vector<TopicPartition> partitions, TaskConfig config,
       RecordCollector* collector);
  ~Task();
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  // InitializeStores builds the stores of the task's sub-topology (Topology::StoresOf) and Inits them with
  // the task's StateStoreContext (TaskConfig's task_dir, changelog sink, cache and block cache; the task's
  // id and partition); kCreated -> kRestoring. kFailedPrecondition unless kCreated; kInvalidArgument for a
  // bad sub-topology, a persistent store without TaskConfig::task_dir, or a builder returning a store of
  // another name; a store's build or Init error (stores opened before it are closed again), with the task
  // id and store name added.
  absl::Status InitializeStores();

  // SetInitialPartitionTime restores the partition time of input `tp` (from the metadata of its committed
  // offset, as Kafka Streams does since 2.4) before the task runs: the task's stream time starts at the
  // highest of them, so a record later than the grace period behind it is dropped as late even if it is the
  // first one the task sees after a restart or a move to another thread. Only before Initialize:
  // kFailedPrecondition otherwise; kInvalidArgument if `tp` is not one of the task's partitions.
  absl::Status SetInitialPartitionTime(const TopicPartition& tp, int64_t partition_time_ms);

  // Initialize creates and wires the physical nodes and calls their Init (user processors' Init, which may
  // schedule punctuators and look up stores; wall-clock schedules start from `wall_clock_ms`); calls
  // InitializeStores first if the task is kCreated. kFailedPrecondition unless kCreated or kRestoring;
  // kInvalidArgument if the topology does not wire (a bug in its builder) or a partition is not one of this
  // sub-topology's sources; a processor's Init error, with the task id added.
  absl::Status Initialize(int64_t wall_clock_ms);

  // The task's open stores (empty before InitializeStores and after Close), in Topology::StoresOf order.
  // Owned by the task.
  const std::vector<StateStore*>& stores() const { return context_.stores(); }
  StateStore* store(absl::string_view name) const { return context_.GetStateStore(name); }
  // ReplaceStore builds a new instance of the store `name` (its StoreSpec's builder), Inits it with the
  // task's store context and puts it in place of the current one, which is destroyed: the StateManager's
  // StoreReplacer, after it closed and wiped the old store. Only in kRestoring (no node points to the store
  // yet): kFailedPrecondition otherwise; kNotFound for a store the task does not have; build and Init
  // errors as InitializeStores (the old store is gone either way). Returns the new store (owned by the task).
  absl::StatusOr<StateStore*> ReplaceStore(absl::string_view name);

  // FlushStores flushes every store (commit step 1, state_store.h): cached writes go to the store and its
  // changelog sink, and what the caches flush is forwarded downstream (the DSL's emission of aggregation
  // updates), so records may reach the collector. Returns the first store or downstream error (with the task
  // id); OK with no stores. kFailedPrecondition when closed.
  absl::Status FlushStores();

  // Process runs records of input partition `tp` (in offset order) through the sub-topology: deserialize,
  // extract the timestamp, advance stream time, run the nodes (sinks send to the collector), then fire the
  // stream-time punctuators that became due. Stops at the first failing record and returns its error,
  // naming task, node, topic, partition and offset; the records before it are processed and committable.
  // kFailedPrecondition unless kRunning; kInvalidArgument if `tp` is not an input of this task.
  absl::Status Process(const TopicPartition& tp, absl::Span<const RecordView> records);
  absl::Status Process(const TopicPartition& tp, const RecordView& record) {
    return Process(tp, absl::MakeConstSpan(&record, 1));
  }

  // Punctuate advances the task's wall-clock time to `wall_clock_ms`; with
  // TaskConfig::stream_time_idle_advance_ms, if no record came for that long, advances stream time by the
  // wall-clock time elapsed and fires the due stream-time punctuators; then fires the due wall-clock
  // punctuators. Returns the first punctuator error.
  absl::Status Punctuate(int64_t wall_clock_ms);

  // CommittableOffsets: for each input partition that advanced since the last MarkCommitted, the offset
  // after its last processed (or dropped) record, as Consumer::CommitSync takes them. The metadata field
  // carries the partition time (highest timestamp seen, decimal), as Kafka stores it with commits.
  std::vector<TopicPartitionOffset> CommittableOffsets() const;
  bool commit_needed() const;
  // MarkCommitted records that CommittableOffsets() as of now were committed.
  void MarkCommitted();

  // Close calls every node's Close (user processors' Close) once, then closes the stores (which flushes them:
  // a clean close leaves nothing in the caches). Returns the first error. OK if already closed.
  absl::Status Close();

  const TaskId& id() const { return context_.task_id(); }
  TaskState state() const { return state_; }
  const std::vector<TopicPartition>& partitions() const { return partitions_; }
  int64_t stream_time() const { return context_.stream_time(); }
  // Partition time of `tp` (highest timestamp seen), -1 if none or not an input.
  int64_t partition_time(const TopicPartition& tp) const;
  const TaskMetrics& metrics() const { return context_.metrics_; }
  const Topology& topology() const { return topology_; }

 private:
  struct Input {
    TopicPartition tp;
    SourceProcessorNode* source = nullptr;
    int64_t next_offset = -1;       // after the last processed record; -1: none yet
    int64_t committed_offset = -1;  // next_offset at the last MarkCommitted
    int64_t partition_time = -1;
  };
  Input* FindInput(const TopicPartition& tp);
  absl::Status WithLocation(const absl::Status& error, const Input* input, const RecordView* record) const;
  absl::Status MaybePunctuateStreamTime();
  // Writes back every registered HeldWrites that is pending (after each batch).
  absl::Status WriteBackHeld();
  // The idle timeout of TaskConfig::stream_time_idle_advance_ms (see Punctuate).
  absl::Status MaybeAdvanceIdleStreamTime();
  // CloseStores closes and drops every store; returns the first error.
  absl::Status CloseStores();

  Topology topology_;
  std::vector<TopicPartition> partitions_;
  TaskConfig config_;
  TaskContext context_;
  TaskState state_ = TaskState::kCreated;
  // Declared before nodes_: nodes point to stores, so they are destroyed first; after context_, which the
  // stores point to.
  std::vector<std::unique_ptr<StateStore>> stores_;
  std::vector<std::unique_ptr<ProcessorNode>> nodes_;
  std::vector<Input> inputs_;
  // SetInitialPartitionTime's values, applied by Initialize (which creates inputs_).
  std::vector<std::pair<TopicPartition, int64_t>> initial_partition_times_;
  // Wall-clock time of the last processed record or idle advance of stream time (Initialize: its time).
  int64_t idle_mark_ms_ = 0;
};

}  // namespace eddy
