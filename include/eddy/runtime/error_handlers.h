// Error handling hooks of a task, shaped like Kafka Streams' handlers:
//   DeserializationExceptionHandler  a source cannot deserialize a record's key or value
//                                    (default.deserialization.exception.handler);
//   ProductionExceptionHandler       a sink cannot serialize a record or the collector refuses it
//                                    (default.production.exception.handler);
//   InvalidTimestampPolicy           the timestamp extractor returns a negative timestamp (Kafka's choice of
//                                    FailOnInvalidTimestamp / LogAndSkipOnInvalidTimestamp /
//                                    UsePartitionTimeOnInvalidTimestamp extractors).
// Dead-lettering is a config of the task (TaskConfig::dead_letter_topic, Kafka's
// errors.dead.letter.queue.topic.name, KIP-1034), applied before the handler's response: a record that fails
// deserialization is written there raw, with headers naming the error and where it came from, and then the
// handler decides whether the task fails (kFail) or goes on (kContinue).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "eddy/core/record.h"
#include "eddy/runtime/task_id.h"

namespace eddy {

// Where an error happened. Views valid during the handler call only.
struct ErrorContext {
  TaskId task_id;
  absl::string_view node;   // the source or sink node that failed
  absl::string_view topic;  // the input record's topic ("" during punctuation)
  int32_t partition = -1;
  int64_t offset = -1;
};

// "task 0_1, node orders-source, topic orders, partition 1, offset 42": for error messages and logs.
std::string ToString(const ErrorContext& context);

enum class HandlerResponse : uint8_t {
  kFail,      // the task fails: Process returns the error; its input offset is not committed
  kContinue,  // the record is dropped (counted in TaskMetrics::dropped_records) and processing goes on
};

// The task logs the outcome (TaskConfig::log) with the record's location; handlers only decide.
// Implementations are called on the thread that owns the task, and must be thread-safe if shared by tasks
// of several threads (the built-in ones are stateless). Not owned by tasks: must outlive them.
class DeserializationExceptionHandler {
 public:
  virtual ~DeserializationExceptionHandler() = default;
  // `record` is the raw input record; `error` the serde's status.
  virtual HandlerResponse Handle(const ErrorContext& context, const RecordView& record,
                                 const absl::Status& error) = 0;
};

// Logs the error and fails the task. Kafka's default (LogAndFailExceptionHandler).
class LogAndFailExceptionHandler final : public DeserializationExceptionHandler {
 public:
  HandlerResponse Handle(const ErrorContext& context, const RecordView& record, const absl::Status& error) override;
};

// Logs the error, drops the record and continues (LogAndContinueExceptionHandler).
class LogAndContinueExceptionHandler final : public DeserializationExceptionHandler {
 public:
  HandlerResponse Handle(const ErrorContext& context, const RecordView& record, const absl::Status& error) override;
};

class ProductionExceptionHandler {
 public:
  virtual ~ProductionExceptionHandler() = default;
  // `serialization` is true when the sink's serde failed (Kafka's handleSerializationException), false when
  // the collector refused the record. `record` has whatever was serialized (views, valid during the call).
  virtual HandlerResponse Handle(const ErrorContext& context, const ProducerRecord& record, const absl::Status& error,
                                 bool serialization) = 0;
};

// Fails the task on any production error (Kafka's DefaultProductionExceptionHandler).
class DefaultProductionExceptionHandler final : public ProductionExceptionHandler {
 public:
  HandlerResponse Handle(const ErrorContext& context, const ProducerRecord& record, const absl::Status& error,
                         bool serialization) override;
};

// What a task does with a record whose extracted timestamp is negative.
enum class InvalidTimestampPolicy : uint8_t {
  kFail,              // FailOnInvalidTimestamp (Kafka's default): the task fails, naming topic/partition/offset
  kLogAndSkip,        // LogAndSkipOnInvalidTimestamp: log, drop the record (counted as dropped)
  kUsePartitionTime,  // UsePartitionTimeOnInvalidTimestamp: use the partition's highest timestamp so far (fails
                      // like kFail when the partition has none yet)
};

// Receives the task's log lines (handler decisions, skipped records). Default (null): one line to stderr.
using LogSink = std::function<void(absl::string_view line)>;

// Writes `line` to `sink`, or to stderr if it is null.
void LogLine(const LogSink& sink, absl::string_view line);

// Header keys of dead-letter records (KIP-1034's names).
inline constexpr absl::string_view kDlqHeaderException = "__streams.errors.exception";  // status code name
inline constexpr absl::string_view kDlqHeaderMessage = "__streams.errors.message";
inline constexpr absl::string_view kDlqHeaderTopic = "__streams.errors.topic";
inline constexpr absl::string_view kDlqHeaderPartition = "__streams.errors.partition";  // decimal
inline constexpr absl::string_view kDlqHeaderOffset = "__streams.errors.offset";        // decimal

}  // namespace eddy
