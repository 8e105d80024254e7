// Per-topic log configuration, with Kafka's topic config names and defaults, and Kafka's topic name rules.
//
// A topic's effective config is the broker's defaults overridden by the configs given at creation
// (LogConfig::FromMap). Only the overrides are persisted (meta/topics.pb), so a changed broker default
// applies to every topic that did not override it, as in Kafka.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eddy/core/record_batch_format.h"

namespace eddy::broker {

// The configuration of one partition log. A plain value; thread-compatible.
struct LogConfig {
  // segment.bytes: roll to a new segment when the active one would exceed this size. At most INT32_MAX
  // (index positions are int32), at least 14 (Kafka's minimum).
  int64_t segment_bytes = int64_t{1} << 30;
  // segment.ms: roll when the active segment's first append is older than this, even if it is small.
  int64_t segment_ms = int64_t{7} * 24 * 3600 * 1000;
  // retention.ms: delete a segment once its largest record timestamp is older than this. -1 = forever.
  int64_t retention_ms = int64_t{7} * 24 * 3600 * 1000;
  // retention.bytes: delete the oldest segments while the log stays at least this large without them.
  // -1 = unlimited.
  int64_t retention_bytes = -1;
  // max.message.bytes: the largest record batch (header included) the log accepts.
  int32_t max_message_bytes = 1048588;
  // index.interval.bytes: one offset index entry per this many bytes of log data.
  int32_t index_interval_bytes = 4096;
  // segment.index.bytes: the largest offset index of a segment; the segment rolls when it is full.
  int32_t segment_index_bytes = 10 * 1024 * 1024;
  // message.timestamp.type: CreateTime keeps the producer's timestamps; LogAppendTime stamps each batch
  // with the broker's clock when it is appended.
  TimestampType message_timestamp_type = TimestampType::kCreateTime;
  // cleanup.policy: "delete", "compact" or "compact,delete" (any order) are accepted and stored. Only
  // deletion (retention) is enforced for now: compaction is not implemented yet, so a compact-only topic
  // keeps everything.
  std::string cleanup_policy = "delete";
  // file.delete.delay.ms: accepted and stored. Eddy deletes segment files at once: readers that still use
  // a deleted segment hold its file descriptor, which keeps the data readable until they finish.
  int64_t file_delete_delay_ms = 60000;
  // min.insync.replicas: accepted and stored (>= 1). A single-node broker always has one in-sync replica.
  int32_t min_insync_replicas = 1;

  // FromMap returns `defaults` overridden by `configs` (Kafka topic config names). Errors: kInvalidArgument
  // for an unknown name ("Unknown topic config name: x") or a bad value, naming the key and the value.
  static absl::StatusOr<LogConfig> FromMap(const LogConfig& defaults,
                                           const std::map<std::string, std::string>& configs);
  // ToMap returns every setting under its Kafka name (for DescribeConfigs).
  std::map<std::string, std::string> ToMap() const;

  // Whether retention deletes segments: cleanup.policy contains "delete".
  bool delete_enabled() const;
};

// ValidateTopicName applies Kafka's rules: not empty, not "." or "..", at most 249 characters, only ASCII
// alphanumerics, '.', '_' and '-'. kInvalidArgument with Kafka's messages otherwise.
absl::Status ValidateTopicName(absl::string_view name);

// The longest legal topic name (Kafka: 249, so that "<topic>-<partition>" fits in 255 bytes).
inline constexpr size_t kMaxTopicNameLength = 249;

}  // namespace eddy::broker
