// Metrics of a running eddy::Streams, read through Streams::metrics(): plain snapshots, one per stream thread
// with one per task, copied out by each thread (at least every 100 ms and at every commit) so reading them
// never touches the per-record path. Names follow Kafka Streams' thread- and task-level metrics.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "eddy/runtime/task_id.h"

namespace eddy {

struct TaskMetricsSnapshot {
  TaskId task_id;
  int64_t processed_records = 0;      // process-total: records that went through the sub-topology
  double process_rate = 0;            // process-rate: records/s over the last second or so
  int64_t dropped_records = 0;        // dropped-records-total: skipped by a handler or timestamp policy
  int64_t dead_lettered_records = 0;  // written to errors.dead.letter.queue.topic.name
  int64_t production_errors_skipped = 0;
  int64_t punctuations = 0;
  std::string state;  // the task's state: CREATED (waiting for its directory lock), RESTORING, RUNNING
};

struct ThreadMetricsSnapshot {
  std::string thread_name;  // "<client.id>-StreamThread-<n>"
  std::string state;        // CREATED, STARTING, PARTITIONS_REVOKED, PARTITIONS_ASSIGNED, RUNNING,
                            // PENDING_SHUTDOWN, DEAD (Kafka's StreamThread.State)
  int64_t polled_records = 0;  // records the consumer returned
  // Sums over the thread's tasks, those already closed included.
  int64_t processed_records = 0;
  double process_rate = 0;  // records/s over the last second or so
  int64_t dropped_records = 0;
  int64_t dead_lettered_records = 0;
  // Latency of Task::Process calls, each one partition's records of one poll (a batch), not per record.
  int64_t process_calls = 0;
  double process_latency_avg_ns = 0;
  int64_t process_latency_max_ns = 0;
  // Commits: producer flush + offset commit, per commit of all the thread's tasks.
  int64_t commits = 0;
  double commit_latency_avg_ms = 0;
  double commit_latency_max_ms = 0;
  int64_t cpu_time_ns = 0;                 // CPU time the stream thread has used (CLOCK_THREAD_CPUTIME_ID)
  int64_t tasks_created = 0;               // over the thread's life (rebalances close and recreate tasks)
  // restore-total per store name: changelog records restored into the store's instances by this thread,
  // over its life (a task that comes back with a clean checkpoint adds nothing).
  std::map<std::string, int64_t> restored_records;
  std::vector<TaskMetricsSnapshot> tasks;  // the tasks the thread owns now, by task id
};

}  // namespace eddy
