// TaskContext: the per-task state that the nodes of one task share while a record (or a punctuation) runs
// through them: the current record's timestamp, headers and origin, stream time and wall-clock time, the
// RecordCollector, the error handlers, punctuation schedules and the task's metrics. Also TaskConfig (what
// the runtime configures per task) and TaskMetrics. It also holds the StateStoreContext of the task's stores,
// whose record timestamp is the current record's timestamp itself (one field, so following the record costs
// nothing), and finds the task's stores by name for processors (GetStateStore).
//
// Nodes reach it through ProcessorNode::context(); user processors through ProcessorContext. Owned by its
// Task; lives as long as the task. Not thread-safe: owned by the stream thread that runs the task.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "eddy/core/record.h"
#include "eddy/runtime/error_handlers.h"
#include "eddy/runtime/record_collector.h"
#include "eddy/runtime/task_id.h"
#include "eddy/state/state_store.h"

namespace eddy {

// Settings of a task, filled by the runtime from the application's config (Kafka names in comments).
// Pointers are not owned and must outlive the task.
struct TaskConfig {
  std::string application_id;  // application.id: prefix of internal topics ("<application.id>-<name>")
  // default.deserialization.exception.handler. Null: LogAndFailExceptionHandler (Kafka's default).
  DeserializationExceptionHandler* deserialization_handler = nullptr;
  // default.production.exception.handler. Null: DefaultProductionExceptionHandler (fail).
  ProductionExceptionHandler* production_handler = nullptr;
  // What a negative extracted timestamp does; Kafka's default extractor fails.
  InvalidTimestampPolicy invalid_timestamp_policy = InvalidTimestampPolicy::kFail;
  // errors.dead.letter.queue.topic.name: records that fail deserialization are written here raw (key, value,
  // timestamp and original headers, plus the kDlqHeader* headers) before the handler decides. Empty: none.
  std::string dead_letter_topic;
  LogSink log;  // null: stderr
  // eddy.stream.time.idle.advance.ms (beyond Kafka; 0, the default, is off): when no record has reached
  // the task for this long of wall-clock time, Task::Punctuate advances stream time by the wall-clock time
  // elapsed, then runs the due stream-time punctuators, so windows close and suppressed results go out
  // without a new record. Records arriving later are judged against the advanced stream time (they may be
  // late). docs/windows.md.
  int64_t stream_time_idle_advance_ms = 0;

  // ---- State stores (state_store.h). Needed only by tasks whose sub-topology has stores. ----
  // The task's locked state directory, <state.dir>/<application.id>/<task-id> (StateDirectory::Lock). Empty:
  // persistent stores cannot be opened (Task::InitializeStores fails with kInvalidArgument).
  std::string task_dir;
  // Where logged stores send their changes (topic "<application.id>-<store>-changelog", the task's
  // partition). Null: logged stores fail to initialize.
  ChangelogSink* changelog = nullptr;
  // The stream thread's write cache (statestore.cache.max.bytes); null: caching off for every store.
  ThreadCache* cache = nullptr;
  // The stream thread's RocksDB block cache; null: one per persistent store.
  BlockCache* block_cache = nullptr;
};

// Counters of one task. Plain integers: written and read only on the task's thread (the runtime copies
// them into its thread-safe metrics when it wants to publish them).
struct TaskMetrics {
  int64_t processed_records = 0;     // records that went through the sub-topology (not dropped at the source)
  int64_t dropped_records = 0;       // skipped: deserialization handler kContinue, invalid timestamps skipped,
                                     // and late_records_dropped
  // Part of dropped_records: drops for closed windows by windowed aggregations, one per window a record
  // missed (Kafka counts them in dropped-records too). Those records were processed, so they still count in
  // processed_records.
  int64_t late_records_dropped = 0;
  int64_t dead_lettered_records = 0; // written to TaskConfig::dead_letter_topic
  int64_t production_errors_skipped = 0;  // records the ProductionExceptionHandler chose to drop
  int64_t punctuations = 0;          // punctuator calls, both types
};

enum class PunctuationType : uint8_t {
  kStreamTime,     // fires as the task's stream time (max record timestamp seen) passes each interval;
                   // aligned to multiples of the interval, starting as soon as stream time is known
  kWallClockTime,  // fires when the runtime's Task::Punctuate(now) passes schedule time + k * interval
};

// Called with the punctuation time: stream time or wall-clock time, in milliseconds.
using Punctuator = std::function<void(int64_t timestamp_ms)>;

class TaskContext;

// Handle of a schedule, returned by TaskContext::Schedule. Cancel() stops further calls; safe to call from
// inside the punctuator itself. Copyable; must not be used after its task is closed.
class Cancellable {
 public:
  Cancellable() = default;
  void Cancel();

 private:
  friend class TaskContext;
  Cancellable(TaskContext* context, int64_t id) : context_(context), id_(id) {}
  TaskContext* context_ = nullptr;
  int64_t id_ = -1;
};

// Where the record being processed came from (Kafka's RecordMetadata). Views valid during processing.
struct InputRecordMetadata {
  absl::string_view topic;
  int32_t partition = -1;
  int64_t offset = -1;
};

class TaskContext {
 public:
  TaskContext(TaskId id, const TaskConfig* config, RecordCollector* collector);
  TaskContext(const TaskContext&) = delete;
  TaskContext& operator=(const TaskContext&) = delete;

  const TaskId& task_id() const { return id_; }
  const std::string& application_id() const { return config_->application_id; }
  const TaskConfig& config() const { return *config_; }
  // InternalTopicName returns "<application.id>-<name>", the real name of an internal topic.
  std::string InternalTopicName(absl::string_view name) const;

  // ---- The record being processed. ----
  // Its timestamp: the extracted one at the source, or what a processor forwarded with.
  int64_t timestamp() const { return store_context_.record.timestamp; }
  void set_timestamp(int64_t timestamp_ms) { store_context_.record.timestamp = timestamp_ms; }
  // Its headers: those of the input record (decoded on first use after each new input record) unless a
  // processor forwarded others.
  absl::Span<const HeaderRef> headers() {
    if (!headers_ready_) DecodeHeaders();
    return headers_;
  }
  void set_headers(absl::Span<const HeaderRef> headers) {
    headers_ = headers;
    headers_ready_ = true;
  }
  // Where the input record came from; nullopt during punctuation.
  std::optional<InputRecordMetadata> record_metadata() const;
  // The raw input record, or null during punctuation.
  const RecordView* raw_record() const { return raw_; }

  // Highest timestamp seen on the current record's input partition (while the timestamp extractor runs: up
  // to the previous record); -1 if none, or in a punctuation.
  int64_t partition_time() const { return partition_time_ != nullptr ? *partition_time_ : -1; }
  // Highest record timestamp this task has processed; -1 before the first record.
  int64_t stream_time() const { return stream_time_; }
  // The wall-clock time last given by the runtime (Task::Initialize / Task::Punctuate), in ms.
  int64_t wall_clock_ms() const { return wall_clock_ms_; }

  RecordCollector* collector() const { return collector_; }
  TaskMetrics& metrics() { return metrics_; }

  // ---- Used by sources and sinks. ----
  // HandleDeserializationError applies the dead-letter topic and the DeserializationExceptionHandler to
  // the current input record. Returns true if the record is to be skipped; false if the task fails (the
  // error is then recorded as with Fail).
  bool HandleDeserializationError(absl::string_view node, const absl::Status& error);
  // AcceptTimestamp applies the InvalidTimestampPolicy to an extracted timestamp, then makes it the current
  // record's timestamp and advances the partition and stream time. Returns false if the record is to be
  // skipped or the task fails (check failed()).
  bool AcceptTimestamp(absl::string_view node, int64_t timestamp_ms) {
    if (timestamp_ms < 0) [[unlikely]] return AcceptInvalidTimestamp(node, timestamp_ms);
    store_context_.record.timestamp = timestamp_ms;
    if (partition_time_ != nullptr && timestamp_ms > *partition_time_) *partition_time_ = timestamp_ms;
    if (timestamp_ms > stream_time_) stream_time_ = timestamp_ms;
    return true;
  }
  // Send gives a sink's record to the collector; on error, asks the ProductionExceptionHandler.
  void Send(absl::string_view node, const ProducerRecord& record) {
    absl::Status st = collector_->Send(record);
    if (!st.ok()) [[unlikely]] SendFailed(node, record, st);
  }
  // ReportSerializationError asks the ProductionExceptionHandler about a sink serde failure.
  void ReportSerializationError(absl::string_view node, const ProducerRecord& partial, const absl::Status& error);

  // Fail records the first error of the current record (or punctuation); Task::Process returns it. The
  // message should say what failed; the task adds where (task, topic, partition, offset).
  void Fail(absl::Status error);
  bool failed() const { return !error_.ok(); }

  // Schedule calls `punctuator` every `interval_ms` (>= 1) of stream time or wall-clock time (see
  // PunctuationType), as Kafka: a stream-time schedule fires after the first record that makes stream time
  // known (or after the next record, if it already is), then each time stream time reaches the next
  // multiple of the interval; a wall-clock schedule fires at wall_clock_ms() + interval_ms, then every
  // interval. Intervals missed in a jump fire once, not once each. The punctuator gets the current stream
  // or wall-clock time. May be called from Processor::Init, Process or a punctuator.
  Cancellable Schedule(int64_t interval_ms, PunctuationType type, Punctuator punctuator);

  // ---- State stores of the task (empty until Task::InitializeStores). ----
  // GetStateStore returns the task's store named `name`, or null. Only stores of this task's sub-topology
  // exist here (the stores connected to its nodes).
  StateStore* GetStateStore(absl::string_view name) const;
  const std::vector<StateStore*>& stores() const { return store_ptrs_; }
  // What the task's stores were initialised with (Task owns it; stores keep its address).
  StateStoreContext* store_context() { return &store_context_; }
  // AddHeldWrites registers a node's held writes (not owned; must outlive the task's processing, or be
  // removed with RemoveHeldWrites): the task writes them back after each batch of input records it
  // processes (whether it succeeded or failed) and after wall-clock punctuation, so nothing stays held
  // between batches.
  void AddHeldWrites(HeldWrites* held) { held_writes_.push_back(held); }
  void RemoveHeldWrites(HeldWrites* held) { std::erase(held_writes_, held); }

 private:
  friend class Task;
  friend class Cancellable;
  struct PunctuationSchedule {
    int64_t id;
    PunctuationType type;
    int64_t interval_ms;
    int64_t next_ms;
    bool cancelled = false;
    Punctuator punctuator;
  };

  // For Task: begin/end of one input record or punctuation.
  // BeginInput sets the input partition of the records that follow; SetRecord each record.
  void BeginInput(const std::string* topic, int32_t partition, int64_t* partition_time) {
    topic_ = topic;
    partition_ = partition;
    partition_time_ = partition_time;
  }
  void SetRecord(const RecordView* raw) {
    raw_ = raw;
    store_context_.record.timestamp = raw->timestamp();
    headers_ = {};
    headers_ready_ = raw->header_count() == 0;
  }
  void BeginPunctuation(int64_t timestamp_ms);
  void EndRecord() {
    raw_ = nullptr;
    topic_ = nullptr;
    partition_time_ = nullptr;
    headers_ = {};
    headers_ready_ = true;
  }
  // Slow paths of AcceptTimestamp and Send.
  bool AcceptInvalidTimestamp(absl::string_view node, int64_t timestamp_ms);
  void SendFailed(absl::string_view node, const ProducerRecord& record, const absl::Status& error);
  absl::Status TakeError();
  // Runs the due punctuators of `type` up to `now_ms`; returns the first error.
  absl::Status RunPunctuators(PunctuationType type, int64_t now_ms);
  // Earliest pending stream-time punctuation (INT64_MAX if none): lets Task skip the check cheaply.
  int64_t next_stream_punctuation() const { return next_stream_punctuation_; }
  void RecomputeNextStreamPunctuation();
  void DecodeHeaders();
  ErrorContext MakeErrorContext(absl::string_view node) const;
  void Log(absl::string_view line) const { LogLine(config_->log, line); }

  TaskId id_;
  const TaskConfig* config_;
  RecordCollector* collector_;

  // Current record.
  const RecordView* raw_ = nullptr;
  const std::string* topic_ = nullptr;
  int32_t partition_ = -1;
  int64_t* partition_time_ = nullptr;  // max timestamp seen on the current input partition
  // The stores' context; record.timestamp is the current record's timestamp (timestamp()).
  StateStoreContext store_context_;
  std::vector<StateStore*> store_ptrs_;  // the task's stores (owned by Task), in StoresOf order
  std::vector<HeldWrites*> held_writes_;  // not owned
  absl::Span<const HeaderRef> headers_;
  bool headers_ready_ = true;
  std::vector<HeaderRef> decoded_headers_;  // reused

  int64_t stream_time_ = -1;
  int64_t wall_clock_ms_ = 0;
  absl::Status error_;
  TaskMetrics metrics_;

  std::vector<std::unique_ptr<PunctuationSchedule>> schedules_;  // unique_ptr: a punctuator may add schedules
  int64_t next_schedule_id_ = 0;
  int64_t next_stream_punctuation_ = INT64_MAX;
};

}  // namespace eddy
