#include "eddy/runtime/streams_config.h"

#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/config_util.h"
#include "eddy/core/status.h"

namespace eddy {
namespace {

// Kafka's class names for the built-in handlers and extractors; the simple name is accepted too.
bool IsKafkaClass(absl::string_view value, absl::string_view package, absl::string_view simple_name) {
  return value == simple_name || value == absl::StrCat(package, ".", simple_name);
}

constexpr absl::string_view kErrorsPackage = "org.apache.kafka.streams.errors";
constexpr absl::string_view kProcessorPackage = "org.apache.kafka.streams.processor";

}  // namespace

StreamsConfig::StreamsConfig() {
  consumer.enable_auto_commit = false;
  consumer.auto_offset_reset = OffsetReset::kEarliest;
  consumer.max_poll_records = 1000;
  producer.linger_ms = 100;
  // Not Kafka's 16 KiB: fewer, larger batches on the internal topics (repartition, changelogs) cost the sales
  // aggregation about a tenth less CPU per record (docs/PERFORMANCE.md); still under max.message.bytes.
  producer.batch_size = 256 << 10;
  state_dir = DefaultStateDir();
  restore_consumer = consumer;
  restore_consumer.max_poll_records = 10000;
}

std::string StreamsConfig::DefaultStateDir() {
  std::error_code ec;
  std::filesystem::path tmp = std::filesystem::temp_directory_path(ec);
  if (ec) tmp = "/tmp";
  return (tmp / "eddy-streams").string();
}

absl::Status StreamsConfig::Set(absl::string_view name, absl::string_view value) {
  using config_util::ParseInt;
  if (name == "application.id") {
    application_id = std::string(value);
  } else if (name == "client.id") {
    client_id = std::string(value);
  } else if (name == "num.stream.threads") {
    return ParseInt(name, value, 1, 1024, &num_stream_threads);
  } else if (name == "commit.interval.ms") {
    return ParseInt(name, value, 0, INT64_MAX, &commit_interval_ms);
  } else if (name == "poll.ms") {
    return ParseInt(name, value, 1, INT64_MAX, &poll_ms);
  } else if (name == "processing.guarantee") {
    processing_guarantee = std::string(value);
  } else if (name == "default.deserialization.exception.handler") {
    if (IsKafkaClass(value, kErrorsPackage, "LogAndFailExceptionHandler")) {
      deserialization_handler_kind = DeserializationHandlerKind::kLogAndFail;
    } else if (IsKafkaClass(value, kErrorsPackage, "LogAndContinueExceptionHandler")) {
      deserialization_handler_kind = DeserializationHandlerKind::kLogAndContinue;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid value '", value, "' for ", name,
          ": expected LogAndFailExceptionHandler or LogAndContinueExceptionHandler (set "
          "StreamsConfig::deserialization_handler for your own)"));
    }
  } else if (name == "default.timestamp.extractor") {
    if (IsKafkaClass(value, kProcessorPackage, "FailOnInvalidTimestamp")) {
      invalid_timestamp_policy = InvalidTimestampPolicy::kFail;
    } else if (IsKafkaClass(value, kProcessorPackage, "LogAndSkipOnInvalidTimestamp")) {
      invalid_timestamp_policy = InvalidTimestampPolicy::kLogAndSkip;
    } else if (IsKafkaClass(value, kProcessorPackage, "UsePartitionTimeOnInvalidTimestamp")) {
      invalid_timestamp_policy = InvalidTimestampPolicy::kUsePartitionTime;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid value '", value, "' for ", name,
          ": expected FailOnInvalidTimestamp, LogAndSkipOnInvalidTimestamp or UsePartitionTimeOnInvalidTimestamp "
          "(per-source extractors are set with Consumed)"));
    }
  } else if (name == "eddy.stream.time.idle.advance.ms") {
    return ParseInt(name, value, 0, INT64_MAX, &stream_time_idle_advance_ms);
  } else if (name == "errors.dead.letter.queue.topic.name") {
    dead_letter_topic = std::string(value);
  } else if (name == "state.dir") {
    if (value.empty()) return absl::InvalidArgumentError("state.dir must not be empty");
    state_dir = std::string(value);
  } else if (name == "statestore.cache.max.bytes" || name == "cache.max.bytes.buffering") {
    return ParseInt(name, value, 0, INT64_MAX, &statestore_cache_max_bytes);
  } else if (name == "rocksdb.block.cache.bytes") {
    return ParseInt(name, value, 1, INT64_MAX, &rocksdb_block_cache_bytes);
  } else if (name == "restore.max.records.per.loop") {
    return ParseInt(name, value, 1, INT64_MAX, &restore_max_records_per_loop);
  } else if (absl::StartsWith(name, "restore.consumer.")) {
    name.remove_prefix(17);
    if (name == "group.id") return absl::InvalidArgumentError("restore.consumer.group.id: the restore consumer has no group");
    return restore_consumer.Set(name, value);
  } else if (absl::StartsWith(name, "consumer.")) {
    name.remove_prefix(9);
    if (name == "group.id" || name == "enable.auto.commit") {
      return absl::InvalidArgumentError(
          absl::StrCat("consumer.", name, " is set by Streams (group.id is application.id; Streams commits itself)"));
    }
    EDDY_RETURN_IF_ERROR(restore_consumer.Set(name, value));
    return consumer.Set(name, value);
  } else if (absl::StartsWith(name, "producer.")) {
    return producer.Set(name.substr(9), value);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown Streams config '", name, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<StreamsConfig> StreamsConfig::FromMap(const std::map<std::string, std::string>& properties) {
  StreamsConfig config;
  std::vector<std::string> unknown;
  for (const auto& [name, value] : properties) {
    absl::Status st = config.Set(name, value);
    if (st.ok()) continue;
    if (absl::StartsWith(st.message(), "unknown")) {
      unknown.push_back(name);
    } else {
      return st;
    }
  }
  if (!unknown.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown Streams config", unknown.size() > 1 ? "s" : "", ": ",
                                                   absl::StrJoin(unknown, ", ")));
  }
  return config;
}

absl::Status StreamsConfig::Validate() const {
  if (application_id.empty()) return absl::InvalidArgumentError("application.id is required");
  for (char c : application_id) {
    const bool legal = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                       c == '_' || c == '-';
    if (!legal) {
      return absl::InvalidArgumentError(absl::StrCat("application.id '", application_id,
                                                     "' may contain only ASCII letters, digits, '.', '_' and '-' "
                                                     "(it prefixes topic names)"));
    }
  }
  if (num_stream_threads < 1) return absl::InvalidArgumentError("num.stream.threads must be at least 1");
  if (commit_interval_ms < 0) return absl::InvalidArgumentError("commit.interval.ms must be >= 0");
  if (poll_ms < 1) return absl::InvalidArgumentError("poll.ms must be >= 1");
  if (stream_time_idle_advance_ms < 0) {
    return absl::InvalidArgumentError("eddy.stream.time.idle.advance.ms must be >= 0");
  }
  if (state_dir.empty()) return absl::InvalidArgumentError("state.dir must not be empty");
  if (statestore_cache_max_bytes < 0) return absl::InvalidArgumentError("statestore.cache.max.bytes must be >= 0");
  if (rocksdb_block_cache_bytes < 1) return absl::InvalidArgumentError("rocksdb.block.cache.bytes must be >= 1");
  if (restore_max_records_per_loop < 1) {
    return absl::InvalidArgumentError("restore.max.records.per.loop must be >= 1");
  }
  if (processing_guarantee != "at_least_once") {
    if (absl::StartsWith(processing_guarantee, "exactly_once")) {
      return absl::InvalidArgumentError(absl::StrCat("processing.guarantee=", processing_guarantee,
                                                     " is not supported yet: Eddy's runtime is at_least_once only"));
    }
    return absl::InvalidArgumentError(absl::StrCat("invalid processing.guarantee '", processing_guarantee,
                                                   "': expected at_least_once"));
  }
  return absl::OkStatus();
}

}  // namespace eddy
