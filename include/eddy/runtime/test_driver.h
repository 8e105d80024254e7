// TestDriver: runs a Topology synchronously in the calling thread, without a broker (Kafka's
// TopologyTestDriver), with as many partitions per topic as the test asks for. Records piped into an input
// topic are partitioned as the producer would (murmur2 of the serialized key) or put in the partition given,
// and processed by that partition's task before the call returns; records the topology writes to a topic
// that the topology also reads (repartition topics, or a user topic read back) are processed next, in
// write order, before the call returns. Every topic is an in-memory log, readable as a TestOutputTopic,
// including the dead-letter topic.
//
//   EDDY_ASSIGN_OR_RETURN(auto driver, eddy::TestDriver::Create(builder.Build().value(), config));
//   auto orders = driver->CreateInputTopic("orders", eddy::StringSerde(), eddy::JsonSerde<Order>());
//   auto shipments = driver->CreateOutputTopic("shipments", eddy::StringSerde(), eddy::JsonSerde<Shipment>());
//   ASSERT_TRUE(orders.PipeInput("order-1", order, /*timestamp_ms=*/1000).ok());
//   auto kv = shipments.ReadKeyValue();  // kOutOfRange when nothing is left
//
// Wall-clock time is simulated: it starts at TestDriverConfig::initial_wall_clock_ms and moves only with
// AdvanceWallClockTime, which fires wall-clock punctuators. Not thread-safe (a test's thread).
//
// State stores work as in the runtime: each task builds, opens and flushes its stores; persistent ones live
// under TestDriverConfig::state_dir (by default a fresh temporary directory that the driver removes when it
// is destroyed). Logged stores' changelog records are captured as records of the topic
// "<application.id>-<store>-changelog", readable like any output topic (as Kafka's TopologyTestDriver does),
// and GetKeyValueStore / GetWindowStore / GetSessionStore give a task's store for assertions.
//
// Commits: by default the driver commits after each piped record (and each AdvanceWallClockTime), as
// Kafka's TopologyTestDriver does: every task's stores are flushed, so what their caches hold is written to
// the stores and changelogs and the aggregation updates they coalesced are emitted downstream (and
// processed) before the call returns. Output is therefore deterministic: one update per key per input
// record. With commit_after_each_input = false, updates stay in the caches until Commit() (or an eviction),
// which shows the coalescing a real commit interval gives.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "eddy/core/record.h"
#include "eddy/core/record_batch.h"
#include "eddy/core/serde.h"
#include "eddy/runtime/default_serde.h"
#include "eddy/runtime/error_handlers.h"
#include "eddy/runtime/key_value.h"
#include "eddy/runtime/record_collector.h"
#include "eddy/runtime/task.h"
#include "eddy/runtime/topology.h"
#include "eddy/state/key_value_store.h"
#include "eddy/state/session_store.h"
#include "eddy/state/window_store.h"

namespace eddy {

class StateDirectory;
class TaskDirectoryLock;

struct TestDriverConfig {
  std::string application_id = "eddy-test";  // application.id: prefixes internal topic names
  int32_t default_partitions = 1;            // partitions of any topic not listed below
  std::map<std::string, int32_t> partitions; // real topic name -> partition count
  int64_t initial_wall_clock_ms = 0;
  // As TaskConfig (null handlers: Kafka's defaults, log-and-fail).
  DeserializationExceptionHandler* deserialization_handler = nullptr;
  ProductionExceptionHandler* production_handler = nullptr;
  InvalidTimestampPolicy invalid_timestamp_policy = InvalidTimestampPolicy::kFail;
  std::string dead_letter_topic;
  LogSink log;  // null: stderr
  // TaskConfig::stream_time_idle_advance_ms (eddy.stream.time.idle.advance.ms): 0 is off; tests drive it
  // with AdvanceWallClockTime.
  int64_t stream_time_idle_advance_ms = 0;
  // Where persistent stores live (<state_dir>/<application.id>/<task-id>/rocksdb/<store>). Empty: a new
  // temporary directory, removed with the driver. A given directory is kept (tests of restarts reuse it).
  std::string state_dir;
  // The write cache of the driver's one simulated stream thread (statestore.cache.max.bytes; Kafka's default
  // 10 MiB). 0 turns caching off.
  int64_t cache_max_bytes = 10485760;
  // Commit (flush every store, emit what the caches held) after each piped record; see the file comment.
  bool commit_after_each_input = true;
};

struct TestHeader {
  std::string key;
  std::optional<std::string> value;
  friend bool operator==(const TestHeader&, const TestHeader&) = default;
};

// A record as stored in the driver's in-memory topics.
struct StoredRecord {
  std::optional<std::string> key;
  std::optional<std::string> value;
  int64_t timestamp = -1;
  std::vector<TestHeader> headers;
  int32_t partition = 0;
  int64_t offset = 0;
};

// A typed record, for piping in with full control and for reading out with metadata.
template <typename K, typename V>
struct TestRecord {
  std::optional<K> key;    // nullopt: null key
  std::optional<V> value;  // nullopt: null value
  int64_t timestamp = 0;
  std::vector<TestHeader> headers;
  int32_t partition = -1;  // in: -1 = by key (murmur2), as the producer; out: where it was written
};

template <Serde KS, Serde VS>
class TestInputTopic;
template <Serde KS, Serde VS>
class TestOutputTopic;

class TestDriver : private RecordCollector, private ChangelogSink {
 public:
  // Create instantiates and initializes one task per (sub-topology, partition). Errors: kInvalidArgument
  // when co-partitioned topics have different partition counts (TestDriverConfig::partitions) or a task
  // fails to initialize.
  static absl::StatusOr<std::unique_ptr<TestDriver>> Create(Topology topology, TestDriverConfig config = {});
  ~TestDriver() override;  // closes the tasks

  // Typed topics. The serdes are copied into the returned object; it refers to the driver, which must
  // outlive it.
  template <Serde KS, Serde VS>
  TestInputTopic<KS, VS> CreateInputTopic(std::string topic, KS key_serde, VS value_serde) {
    return TestInputTopic<KS, VS>(this, std::move(topic), std::move(key_serde), std::move(value_serde));
  }
  template <typename K, typename V>
  TestInputTopic<DefaultSerdeFor<K>, DefaultSerdeFor<V>> CreateInputTopic(std::string topic) {
    return CreateInputTopic(std::move(topic), DefaultSerdeFor<K>(), DefaultSerdeFor<V>());
  }
  template <Serde KS, Serde VS>
  TestOutputTopic<KS, VS> CreateOutputTopic(std::string topic, KS key_serde, VS value_serde) {
    return TestOutputTopic<KS, VS>(this, std::move(topic), std::move(key_serde), std::move(value_serde));
  }
  template <typename K, typename V>
  TestOutputTopic<DefaultSerdeFor<K>, DefaultSerdeFor<V>> CreateOutputTopic(std::string topic) {
    return CreateOutputTopic(std::move(topic), DefaultSerdeFor<K>(), DefaultSerdeFor<V>());
  }

  // PipeRaw appends one raw record to `topic` (partition -1: murmur2 of the key, round-robin for null keys)
  // and processes everything it causes. Returns the first task error (the driver stays usable).
  // kInvalidArgument for a partition out of range.
  absl::Status PipeRaw(absl::string_view topic, int32_t partition, std::optional<absl::string_view> key,
                       std::optional<absl::string_view> value, int64_t timestamp_ms,
                       absl::Span<const HeaderRef> headers = {});

  // AdvanceWallClockTime moves simulated wall-clock time forward and fires the due wall-clock punctuators
  // of every task (in TaskId order), then processes what they caused.
  absl::Status AdvanceWallClockTime(absl::Duration advance);
  int64_t wall_clock_ms() const { return wall_clock_ms_; }

  int32_t PartitionCount(absl::string_view topic) const;
  // Every record written to `topic` so far, in write order (empty for unknown topics).
  const std::vector<StoredRecord>& TopicRecords(absl::string_view topic) const;
  // ReadNext returns the next record of `topic` not yet read (by it or a TestOutputTopic), in write order
  // across partitions, and marks it read; null when there is none. UnreadCount counts the unread ones.
  // Pointers stay valid until the next record is written to the topic.
  const StoredRecord* ReadNext(absl::string_view topic);
  int64_t UnreadCount(absl::string_view topic) const;

  // Commit flushes every task's stores (in TaskId order), as a runtime commit does, and processes what the
  // flushes emitted. Returns the first error.
  absl::Status Commit();

  // The store `name` of the task for `partition` of the sub-topology that owns it, as the given type; null
  // if there is none or it is of another kind. Owned by the task: valid until Close.
  KeyValueStore* GetKeyValueStore(absl::string_view name, int32_t partition = 0);
  WindowStore* GetWindowStore(absl::string_view name, int32_t partition = 0);
  SessionStore* GetSessionStore(absl::string_view name, int32_t partition = 0);
  StateStore* GetStateStore(absl::string_view name, int32_t partition = 0);
  // The directory persistent stores live under (see TestDriverConfig::state_dir); empty if none was needed.
  const std::string& state_dir() const { return state_dir_; }

  std::vector<TaskId> task_ids() const;
  Task* task(const TaskId& id);  // null if no such task
  const Topology& topology() const { return topology_; }
  // Close closes every task (processors' Close); returns the first error. Also done by the destructor.
  absl::Status Close();

 private:
  struct TopicLog {
    std::vector<StoredRecord> records;
    size_t read = 0;           // records returned by ReadNext
    int32_t partitions = 1;
    int32_t round_robin = 0;   // next partition for null keys
    std::vector<int64_t> next_offset;  // per partition
  };
  TestDriver(Topology topology, TestDriverConfig config);
  absl::Status Init();
  absl::Status Send(const ProducerRecord& record) override;
  // ChangelogSink: appends to the changelog topic's in-memory log (read by nobody but the test).
  absl::Status Send(absl::string_view topic, int32_t partition, absl::string_view key,
                    std::optional<absl::string_view> value, int64_t timestamp) override;
  absl::Status OpenStateDir();
  TopicLog& Log(absl::string_view topic);
  // Append stores a record, queues it for processing if a sub-topology reads the topic.
  absl::StatusOr<int32_t> Append(absl::string_view topic, int32_t partition, std::optional<absl::string_view> key,
                                 std::optional<absl::string_view> value, int64_t timestamp_ms,
                                 absl::Span<const HeaderRef> headers);
  // Drain processes queued records until none is left, then commits if commit_after_each_input (and
  // processes what that emitted); returns the first error.
  absl::Status Drain();
  absl::Status ProcessQueue();
  absl::Status ProcessOne(const std::string& topic, size_t index);

  Topology topology_;
  TestDriverConfig config_;
  TaskConfig task_config_;
  int64_t wall_clock_ms_;
  absl::flat_hash_map<std::string, TopicLog> topics_;
  std::map<TaskId, std::unique_ptr<Task>> tasks_;
  std::vector<std::pair<std::string, size_t>> queue_;  // (topic, index in records) to process
  size_t queue_head_ = 0;
  bool draining_ = false;
  RecordBatchBuilder builder_;
  std::string batch_;
  std::vector<HeaderRef> header_refs_;
  bool closed_ = false;
  // State: the cache of the simulated stream thread, the state directory and the tasks' locks.
  std::unique_ptr<ThreadCache> cache_;
  std::string state_dir_;
  bool owns_state_dir_ = false;
  std::unique_ptr<StateDirectory> state_directory_;
  std::vector<std::unique_ptr<TaskDirectoryLock>> locks_;
};

// Pipes typed records into one topic of a TestDriver. Serializes with the topic's serdes.
template <Serde KS, Serde VS>
class TestInputTopic {
 public:
  using K = typename KS::Type;
  using V = typename VS::Type;

  // PipeInput writes (key, value) with the given timestamp, in the partition of murmur2(serialized key).
  absl::Status PipeInput(const K& key, const V& value, int64_t timestamp_ms) {
    return Pipe(&key, &value, timestamp_ms, -1, {});
  }
  // The same into an explicit partition.
  absl::Status PipeInput(const K& key, const V& value, int64_t timestamp_ms, int32_t partition) {
    return Pipe(&key, &value, timestamp_ms, partition, {});
  }
  // PipeValue writes a record with a null key.
  absl::Status PipeValue(const V& value, int64_t timestamp_ms) { return Pipe(nullptr, &value, timestamp_ms, -1, {}); }
  // PipeKeyValues writes records with timestamps start, start + step, ...; stops at the first error.
  absl::Status PipeKeyValues(const std::vector<KeyValue<K, V>>& records, int64_t start_ms, int64_t step_ms = 0) {
    int64_t ts = start_ms;
    for (const auto& kv : records) {
      absl::Status st = PipeInput(kv.key, kv.value, ts);
      if (!st.ok()) return st;
      ts += step_ms;
    }
    return absl::OkStatus();
  }
  // PipeRecord writes one record with everything given (null key/value, headers, partition).
  absl::Status PipeRecord(const TestRecord<K, V>& r) {
    std::vector<HeaderRef> refs;
    for (const TestHeader& h : r.headers) {
      refs.push_back(HeaderRef{h.key, h.value ? std::optional<absl::string_view>(*h.value) : std::nullopt});
    }
    return Pipe(r.key ? &*r.key : nullptr, r.value ? &*r.value : nullptr, r.timestamp, r.partition, refs);
  }

  const std::string& topic() const { return topic_; }

 private:
  friend class TestDriver;
  TestInputTopic(TestDriver* driver, std::string topic, KS key_serde, VS value_serde)
      : driver_(driver), topic_(std::move(topic)), key_serde_(std::move(key_serde)), value_serde_(std::move(value_serde)) {}

  absl::Status Pipe(const K* key, const V* value, int64_t ts, int32_t partition, absl::Span<const HeaderRef> headers) {
    std::optional<absl::string_view> k, v;
    if (key != nullptr) {
      absl::Status st = SerializeWith(key_serde_, *key, &key_buf_);
      if (!st.ok()) return st;
      k = key_buf_;
    }
    if (value != nullptr) {
      absl::Status st = SerializeWith(value_serde_, *value, &value_buf_);
      if (!st.ok()) return st;
      v = value_buf_;
    }
    return driver_->PipeRaw(topic_, partition, k, v, ts, headers);
  }

  TestDriver* driver_;
  std::string topic_;
  KS key_serde_;
  VS value_serde_;
  std::string key_buf_, value_buf_;
};

// Reads typed records from one topic of a TestDriver, in write order across partitions. Reads consume: a
// record is returned once across all TestOutputTopics of the same topic (as Kafka's driver).
template <Serde KS, Serde VS>
class TestOutputTopic {
 public:
  using K = typename KS::Type;
  using V = typename VS::Type;

  // ReadRecord returns the next unread record. kOutOfRange if there is none; the serde's error if it does
  // not deserialize (the record is consumed anyway).
  absl::StatusOr<TestRecord<K, V>> ReadRecord() {
    const StoredRecord* s = driver_->ReadNext(topic_);
    if (s == nullptr) return absl::OutOfRangeError("no more records in topic " + topic_);
    TestRecord<K, V> r;
    if (s->key) {
      K k{};
      absl::Status st = key_serde_.Deserialize(*s->key, &k);
      if (!st.ok()) return st;
      r.key = std::move(k);
    }
    if (s->value) {
      V v{};
      absl::Status st = value_serde_.Deserialize(*s->value, &v);
      if (!st.ok()) return st;
      r.value = std::move(v);
    }
    r.timestamp = s->timestamp;
    r.headers = s->headers;
    r.partition = s->partition;
    return r;
  }
  // ReadKeyValue: the next record's key and value (default-constructed where null).
  absl::StatusOr<KeyValue<K, V>> ReadKeyValue() {
    auto r = ReadRecord();
    if (!r.ok()) return r.status();
    return KeyValue<K, V>{r->key ? std::move(*r->key) : K{}, r->value ? std::move(*r->value) : V{}};
  }
  absl::StatusOr<V> ReadValue() {
    auto kv = ReadKeyValue();
    if (!kv.ok()) return kv.status();
    return std::move(kv->value);
  }
  // The *ToList forms read everything unread.
  absl::StatusOr<std::vector<TestRecord<K, V>>> ReadRecordsToList() {
    std::vector<TestRecord<K, V>> out;
    while (!IsEmpty()) {
      auto r = ReadRecord();
      if (!r.ok()) return r.status();
      out.push_back(std::move(*r));
    }
    return out;
  }
  absl::StatusOr<std::vector<KeyValue<K, V>>> ReadKeyValuesToList() {
    std::vector<KeyValue<K, V>> out;
    while (!IsEmpty()) {
      auto r = ReadKeyValue();
      if (!r.ok()) return r.status();
      out.push_back(std::move(*r));
    }
    return out;
  }
  absl::StatusOr<std::vector<V>> ReadValuesToList() {
    std::vector<V> out;
    while (!IsEmpty()) {
      auto r = ReadValue();
      if (!r.ok()) return r.status();
      out.push_back(std::move(*r));
    }
    return out;
  }
  bool IsEmpty() const { return driver_->UnreadCount(topic_) == 0; }
  int64_t QueueSize() const { return driver_->UnreadCount(topic_); }
  const std::string& topic() const { return topic_; }

 private:
  friend class TestDriver;
  TestOutputTopic(TestDriver* driver, std::string topic, KS key_serde, VS value_serde)
      : driver_(driver), topic_(std::move(topic)), key_serde_(std::move(key_serde)), value_serde_(std::move(value_serde)) {}

  TestDriver* driver_;
  std::string topic_;
  KS key_serde_;
  VS value_serde_;
};

}  // namespace eddy
