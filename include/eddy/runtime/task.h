// Task: one sub-topology instantiated for one partition number of its source topics (Kafka's StreamTask).
// It owns the physical nodes and the TaskContext, runs records through them, tracks stream time and the
// input offsets to commit, and runs punctuators. The runtime creates one per TaskId the consumer group hands
// this instance; the TestDriver creates all of them.
//
// States and transitions (a subset of Kafka's; RESTORING and SUSPENDED come with state stores):
//   kCreated --Initialize()--> kRunning --Close()--> kClosed;  kCreated --Close()--> kClosed.
//
// Use by the runtime (one stream thread owns the task; nothing here is thread-safe):
//   Task task(id, topology, partitions, config, &collector);
//   EDDY_RETURN_IF_ERROR(task.Initialize(now_ms));
//   loop:
//     for each polled record r of partition tp of this task: status = task.Process(tp, r)  (or a span)
//     task.Punctuate(now_ms) every loop iteration (wall-clock punctuators)
//     every commit.interval.ms: collector flush (all sends acknowledged), then
//       consumer.CommitSync(task.CommittableOffsets()), then task.MarkCommitted()
//   task.Close(), then flush and commit as above.
// A Process error means the task failed on that record (handler said kFail, a processor or punctuator
// returned an error or threw): the record's offset is not committable; the runtime's uncaught-exception
// handling decides what happens next. The task stays usable (the TestDriver keeps going).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "eddy/core/consumer.h"
#include "eddy/core/record.h"
#include "eddy/runtime/processor_node.h"
#include "eddy/runtime/record_collector.h"
#include "eddy/runtime/task_context.h"
#include "eddy/runtime/task_id.h"
#include "eddy/runtime/topology.h"

namespace eddy {

enum class TaskState : uint8_t { kCreated, kRunning, kClosed };
const char* ToString(TaskState state);  // "CREATED", "RUNNING", "CLOSED"

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

  // Initialize creates and wires the physical nodes and calls their Init (user processors' Init, which may
  // schedule punctuators; wall-clock schedules start from `wall_clock_ms`). kFailedPrecondition unless
  // kCreated; kInvalidArgument if the topology does not wire (a bug in its builder) or a partition is not
  // one of this sub-topology's sources; a processor's Init error, with the task id added.
  absl::Status Initialize(int64_t wall_clock_ms);

  // Process runs records of input partition `tp` (in offset order) through the sub-topology: deserialize,
  // extract the timestamp, advance stream time, run the nodes (sinks send to the collector), then fire the
  // stream-time punctuators that became due. Stops at the first failing record and returns its error,
  // naming task, node, topic, partition and offset; the records before it are processed and committable.
  // kFailedPrecondition unless kRunning; kInvalidArgument if `tp` is not an input of this task.
  absl::Status Process(const TopicPartition& tp, absl::Span<const RecordView> records);
  absl::Status Process(const TopicPartition& tp, const RecordView& record) {
    return Process(tp, absl::MakeConstSpan(&record, 1));
  }

  // Punctuate advances the task's wall-clock time to `wall_clock_ms` and fires the wall-clock punctuators
  // that are due. Returns the first punctuator error.
  absl::Status Punctuate(int64_t wall_clock_ms);

  // CommittableOffsets: for each input partition that advanced since the last MarkCommitted, the offset
  // after its last processed (or dropped) record, as Consumer::CommitSync takes them. The metadata field
  // carries the partition time (highest timestamp seen, decimal), as Kafka stores it with commits.
  std::vector<TopicPartitionOffset> CommittableOffsets() const;
  bool commit_needed() const;
  // MarkCommitted records that CommittableOffsets() as of now were committed.
  void MarkCommitted();

  // Close calls every node's Close (user processors' Close) once. OK if already closed.
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

  Topology topology_;
  std::vector<TopicPartition> partitions_;
  TaskConfig config_;
  TaskContext context_;
  TaskState state_ = TaskState::kCreated;
  std::vector<std::unique_ptr<ProcessorNode>> nodes_;
  std::vector<Input> inputs_;
};

}  // namespace eddy
