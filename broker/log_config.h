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
  // cleanup.policy: "delete" (retention), "compact" (the log cleaner keeps the latest record per key) or
  // "compact,delete" (both; any order). See docs/log-compaction.md.
  std::string cleanup_policy = "delete";
  // delete.retention.ms: how long a tombstone (null value) survives after the cleaner first saw it: long
  // enough for a consumer that reads the log from the start to see the delete. 1 day, Kafka's default.
  int64_t delete_retention_ms = 86400000;
  // min.compaction.lag.ms: a record stays uncompacted at least this long after it was appended (its
  // segment's largest timestamp is older than now - this). 0 = as soon as its segment is sealed.
  int64_t min_compaction_lag_ms = 0;
  // max.compaction.lag.ms: a record stays uncompacted at most about this long: a log with dirty records
  // older than this is cleaned whatever its dirty ratio, and its active segment rolls at this age.
  int64_t max_compaction_lag_ms = INT64_MAX;
  // min.cleanable.dirty.ratio: the cleaner picks a log once its dirty (not yet cleaned) bytes exceed this
  // fraction of its cleanable bytes.
  double min_cleanable_dirty_ratio = 0.5;
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
  // Whether the log cleaner compacts the log: cleanup.policy contains "compact". Such a log also requires a
  // key on every record (Kafka's rule, for "compact,delete" too).
  bool compact_enabled() const;
  // The age at which the active segment rolls: segment.ms, or max.compaction.lag.ms if that is smaller and
  // the log is compacted (Kafka's maxSegmentMs), so that the cleaner can reach every record in time.
  int64_t max_segment_ms() const;
};

// ValidateTopicName applies Kafka's rules: not empty, not "." or "..", at most 249 characters, only ASCII
// alphanumerics, '.', '_' and '-'. kInvalidArgument with Kafka's messages otherwise.
absl::Status ValidateTopicName(absl::string_view name);

// The longest legal topic name (Kafka: 249, so that "<topic>-<partition>" fits in 255 bytes).
inline constexpr size_t kMaxTopicNameLength = 249;

}  // namespace eddy::broker
