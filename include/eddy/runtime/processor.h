// The Processor API (Kafka's org.apache.kafka.streams.processor.api): a user-written node that receives
// every record of its stream, may forward any number of records downstream, and may schedule punctuators
// on stream time or wall-clock time. Plugged into a DSL topology with KStream::Process:
//
//   class Dedup : public eddy::Processor<std::string, Order, std::string, Order> {
//    public:
//     absl::Status Init(eddy::ProcessorContext<std::string, Order>& context) override {
//       context_ = &context;
//       context.Schedule(absl::Seconds(10), eddy::PunctuationType::kWallClockTime,
//                        [this](int64_t now) { seen_.clear(); });
//       return absl::OkStatus();
//     }
//     absl::Status Process(const eddy::Record<std::string, Order>& record) override {
//       if (seen_.insert(record.key()).second) context_->Forward(record);
//       return absl::OkStatus();
//     }
//    private:
//     eddy::ProcessorContext<std::string, Order>* context_ = nullptr;
//     absl::flat_hash_set<std::string> seen_;
//   };
//   stream.Process([] { return std::make_unique<Dedup>(); });
//
// State stores: add one to the builder (StreamsBuilder::AddStateStore(Stores::PersistentKeyValueStore("seen")))
// and connect it by name (stream.Process(supplier, {"seen"})); the processor finds it in Init with
//   EDDY_ASSIGN_OR_RETURN(seen_, context.template GetStateStore<eddy::KeyValueStore>("seen"));
// Each task has its own instance, built, opened and restored before Init and flushed at every commit.
//
// One processor instance per task (the supplier is called once per task); it runs on the task's thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "eddy/core/record.h"
#include "eddy/runtime/task_context.h"
#include "eddy/runtime/task_id.h"

namespace eddy {

// A record as a processor sees it: key, value, timestamp and headers. A view: key, value and headers are
// referenced, not copied, so a Record must not outlive what it points to (it never needs to: Forward is
// synchronous). With* return modified views, as Kafka's withKey/withValue/withTimestamp/withHeaders.
template <typename K, typename V>
class Record {
 public:
  Record(const K& key, const V& value, int64_t timestamp_ms, absl::Span<const HeaderRef> headers = {})
      : key_(&key), value_(&value), timestamp_(timestamp_ms), headers_(headers) {}

  const K& key() const { return *key_; }
  const V& value() const { return *value_; }
  int64_t timestamp() const { return timestamp_; }
  absl::Span<const HeaderRef> headers() const { return headers_; }

  template <typename K2>
  Record<K2, V> WithKey(const K2& key) const {
    return Record<K2, V>(key, *value_, timestamp_, headers_);
  }
  template <typename V2>
  Record<K, V2> WithValue(const V2& value) const {
    return Record<K, V2>(*key_, value, timestamp_, headers_);
  }
  Record WithTimestamp(int64_t timestamp_ms) const { return Record(*key_, *value_, timestamp_ms, headers_); }
  Record WithHeaders(absl::Span<const HeaderRef> headers) const { return Record(*key_, *value_, timestamp_, headers); }

 private:
  const K* key_;
  const V* value_;
  int64_t timestamp_;
  absl::Span<const HeaderRef> headers_;
};

// What a processor can do besides receiving records. Implemented by the DSL's process node; valid from
// Init until Close. Not thread-safe (the task's thread).
template <typename KOut, typename VOut>
class ProcessorContext {
 public:
  virtual ~ProcessorContext() = default;

  // Forward sends `record` to every downstream node, synchronously: when Forward returns, the record has
  // gone through the rest of the sub-topology (sinks included). Its timestamp and headers become those of
  // the downstream record.
  virtual void Forward(const Record<KOut, VOut>& record) = 0;

  // Schedule calls `punctuator` every `interval` (at least 1 ms) of stream time or wall-clock time; see
  // TaskContext::Schedule for when exactly. Records forwarded from a punctuator carry the punctuation
  // time as timestamp unless given another.
  Cancellable Schedule(absl::Duration interval, PunctuationType type, Punctuator punctuator) {
    return task_->Schedule(absl::ToInt64Milliseconds(interval), type, std::move(punctuator));
  }

  const TaskId& task_id() const { return task_->task_id(); }
  const std::string& application_id() const { return task_->application_id(); }
  // Topic, partition and offset of the input record being processed; nullopt in a punctuator.
  std::optional<InputRecordMetadata> record_metadata() const { return task_->record_metadata(); }
  // The task's stream time (highest timestamp processed; -1 before any record).
  int64_t current_stream_time_ms() const { return task_->stream_time(); }
  // The wall-clock time the runtime last gave the task.
  int64_t current_system_time_ms() const { return task_->wall_clock_ms(); }

  // GetStateStore returns the task's instance of the store `name` as an S (KeyValueStore, WindowStore,
  // SessionStore or StateStore), owned by the task and open until the processor's Close returns.
  // kNotFound if the task has no such store (not added to the builder, or not connected to a node of this
  // sub-topology); kInvalidArgument if it is not an S.
  template <typename S>
  absl::StatusOr<S*> GetStateStore(absl::string_view name) const {
    StateStore* store = task_->GetStateStore(name);
    if (store == nullptr) {
      return absl::NotFoundError(absl::StrCat("no state store \"", name, "\" in task ", task_->task_id().ToString(),
                                              "; add it to the builder and connect it to the processor"));
    }
    S* typed = dynamic_cast<S*>(store);
    if (typed == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("state store \"", name, "\" is not of the requested type"));
    }
    return typed;
  }

 protected:
  ProcessorContext() = default;
  void set_task_context(TaskContext* task) { task_ = task; }
  TaskContext* task_ = nullptr;
};

// A user processor: receives records of key K and value V, forwards records of key KOut and value VOut.
// Lifecycle: Init once (schedule punctuators, keep the context), Process per record, Close once when the
// task closes. An error returned by Init or Process fails the task (Task::Process returns it, with the
// task, topic, partition and offset added).
template <typename K, typename V, typename KOut, typename VOut>
class Processor {
 public:
  using KeyIn = K;
  using ValueIn = V;
  using KeyOut = KOut;
  using ValueOut = VOut;

  virtual ~Processor() = default;
  // `context` outlives the processor's use of it (until Close returns).
  virtual absl::Status Init(ProcessorContext<KOut, VOut>& context) { return absl::OkStatus(); }
  virtual absl::Status Process(const Record<K, V>& record) = 0;
  virtual void Close() {}
};

}  // namespace eddy
