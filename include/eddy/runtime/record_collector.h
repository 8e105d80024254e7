// RecordCollector: where a task's sinks send their records (Kafka's RecordCollector). The runtime
// implements it with a Producer; the TestDriver with in-memory topics. The task never waits for delivery:
// the runtime flushes the collector (and checks delivery errors) before it commits the task's input
// offsets, which is what makes processing at-least-once.
#pragma once

#include "absl/status/status.h"
#include "eddy/core/record.h"

namespace eddy {

// Called only from the thread that owns the task(s) using it, one record at a time, on the per-record
// path: implementations should not lock or allocate per record when they can avoid it.
class RecordCollector {
 public:
  virtual ~RecordCollector() = default;

  // Send hands one record over for delivery. `record` and everything it points to is valid only during the
  // call (sinks reuse their buffers): copy it. record.topic is the real topic name (internal topics already
  // prefixed with application.id); record.partition is -1 (partition by murmur2 of the key, as the Java
  // producer, which is also how the TestDriver partitions) or a partition chosen by the topology;
  // record.timestamp is the stream record's timestamp (never -1). An error means the record was not
  // accepted (e.g. kNotFound for a missing topic); the task then consults its ProductionExceptionHandler.
  // Errors found later (delivery failures) are the implementation's to report, typically at flush time.
  virtual absl::Status Send(const ProducerRecord& record) = 0;
};

}  // namespace eddy
