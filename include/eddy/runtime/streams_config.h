// StreamsConfig: the settings of an eddy::Streams application, with Kafka Streams' names and defaults
// (StreamsConfig in Java). Build it field by field or from Kafka-style properties:
//
//   EDDY_ASSIGN_OR_RETURN(eddy::StreamsConfig config, eddy::StreamsConfig::FromMap({
//       {"application.id", "order-to-shipment"}, {"num.stream.threads", "2"}}));
//
// Client settings pass through with Kafka's prefixes: "consumer.<name>" (ConsumerConfig::Set) and
// "producer.<name>" (ProducerConfig::Set). A plain value type; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eddy/core/consumer.h"
#include "eddy/core/producer.h"
#include "eddy/runtime/error_handlers.h"

namespace eddy {

// default.deserialization.exception.handler: the built-in handlers, by Kafka's class names.
enum class DeserializationHandlerKind : uint8_t {
  kLogAndFail,      // LogAndFailExceptionHandler (Kafka's default)
  kLogAndContinue,  // LogAndContinueExceptionHandler
};

struct StreamsConfig {
  // application.id (required): the consumer group id, client id prefix and internal topic prefix.
  std::string application_id;
  // client.id: prefix of the clients' ids ("<client.id>-StreamThread-<n>-consumer"). Empty: application.id.
  std::string client_id;
  // num.stream.threads (1).
  int32_t num_stream_threads = 1;
  // commit.interval.ms (30000, Kafka's default for at_least_once): how often each stream thread flushes its
  // producer and commits its tasks' input offsets.
  int64_t commit_interval_ms = 30000;
  // poll.ms (100): how long a stream thread's Poll waits for data; bounds how quickly Close is noticed.
  int64_t poll_ms = 100;
  // processing.guarantee: only "at_least_once" (the default) for now; exactly_once_v2 is refused.
  std::string processing_guarantee = "at_least_once";
  // default.deserialization.exception.handler (LogAndFailExceptionHandler). Overridden by
  // deserialization_handler when that is set.
  DeserializationHandlerKind deserialization_handler_kind = DeserializationHandlerKind::kLogAndFail;
  // A user handler instead of the built-in ones. Not owned; must be thread-safe and outlive the Streams.
  DeserializationExceptionHandler* deserialization_handler = nullptr;
  // default.production.exception.handler: null is DefaultProductionExceptionHandler (fail). Not owned;
  // must be thread-safe and outlive the Streams.
  ProductionExceptionHandler* production_handler = nullptr;
  // default.timestamp.extractor, as its effect on records with a negative timestamp:
  // FailOnInvalidTimestamp (Kafka's default), LogAndSkipOnInvalidTimestamp, UsePartitionTimeOnInvalidTimestamp.
  InvalidTimestampPolicy invalid_timestamp_policy = InvalidTimestampPolicy::kFail;
  // errors.dead.letter.queue.topic.name (KIP-1034; empty: none): records that fail deserialization are
  // written there raw, with headers naming the error and the source topic, partition and offset.
  std::string dead_letter_topic;
  // Where tasks and threads log (null: stderr).
  LogSink log;
  // eddy.stream.time.idle.advance.ms (beyond Kafka; 0, the default, is off and Kafka's behaviour): a task
  // that has had no record for this long of wall-clock time advances its stream time by the wall-clock time
  // elapsed, so its last windows close and suppressed final results go out without a new record. Records
  // arriving after an advance are judged against the advanced stream time. TaskConfig's field of the same
  // name; docs/windows.md, "The idle timeout".
  int64_t stream_time_idle_advance_ms = 0;

  // ---- State stores (docs/runtime.md, "State"). ----
  // state.dir: the root of the tasks' local state, <state.dir>/<application.id>/<task-id>/. Kafka's default
  // is /tmp/kafka-streams; Eddy's is "<temp dir>/eddy-streams" (DefaultStateDir(): $TMPDIR, else /tmp).
  // Two instances of one application on one machine need different state.dirs.
  std::string state_dir;
  // statestore.cache.max.bytes (10485760, Kafka's; the old name cache.max.bytes.buffering is accepted):
  // the write cache of all stores, divided evenly among the stream threads. 0 turns caching off: every
  // update reaches the store and its changelog.
  int64_t statestore_cache_max_bytes = 10485760;
  // rocksdb.block.cache.bytes (Eddy's; Kafka users set this with a RocksDBConfigSetter): RocksDB's block
  // cache per stream thread, shared by the thread's persistent stores (BlockCache::kDefaultCapacity, 50 MiB).
  int64_t rocksdb_block_cache_bytes = 50 << 20;
  // restore.max.records.per.loop (Eddy's, 10000): changelog records a stream thread restores between two
  // polls of its main consumer, so that running tasks keep processing while others restore.
  int64_t restore_max_records_per_loop = 10000;
  // The restore consumer's config (no group; Streams sets group.id empty and client.id), from "consumer.*"
  // like the main consumer and then "restore.consumer.*" (Kafka's prefix).
  ConsumerConfig restore_consumer;

  // The clients' configs. Streams sets group.id and client.id itself, and, as Kafka Streams does,
  // starts from enable.auto.commit=false, auto.offset.reset=earliest, max.poll.records=1000 for the
  // consumer and linger.ms=100 for the producer; "consumer.*" / "producer.*" properties override them.
  ConsumerConfig consumer;
  ProducerConfig producer;

  StreamsConfig();

  // "<temp dir>/eddy-streams": state.dir's default.
  static std::string DefaultStateDir();

  // Set sets one property by its Kafka name. kInvalidArgument for an unknown name or a bad value.
  absl::Status Set(absl::string_view name, absl::string_view value);
  // FromMap sets every property; kInvalidArgument names all unknown properties at once.
  static absl::StatusOr<StreamsConfig> FromMap(const std::map<std::string, std::string>& properties);

  // Validate checks what Streams needs before it starts: application.id set and a legal topic prefix,
  // num.stream.threads >= 1, commit.interval.ms >= 0, poll.ms >= 1,
  // eddy.stream.time.idle.advance.ms >= 0, state.dir set,
  // statestore.cache.max.bytes >= 0, restore.max.records.per.loop >= 1 and at_least_once (exactly_once,
  // exactly_once_beta and exactly_once_v2 are refused: not supported yet). kInvalidArgument otherwise.
  absl::Status Validate() const;
};

}  // namespace eddy
