// LogConfig parsing and Kafka's topic name rules. See log_config.h.
#include "broker/log_config.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace eddy::broker {
namespace {

absl::Status BadValue(absl::string_view key, absl::string_view value, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("Invalid value ", value, " for configuration ", key, ": ", why));
}

// Parses an integer in [min, max]. `type` is Kafka's name for the type (INT or LONG).
absl::Status ParseInt(absl::string_view key, absl::string_view value, int64_t min, int64_t max,
                      absl::string_view type, int64_t* out) {
  int64_t v;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(value), &v) ||
      (type == "INT" && (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()))) {
    return BadValue(key, value, absl::StrCat("Not a number of type ", type));
  }
  if (v < min) return BadValue(key, value, absl::StrCat("Value must be at least ", min));
  if (v > max) return BadValue(key, value, absl::StrCat("Value must be no more than ", max));
  *out = v;
  return absl::OkStatus();
}

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

absl::Status ParseCleanupPolicy(absl::string_view value, std::string* out) {
  std::vector<absl::string_view> parts = absl::StrSplit(value, ',');
  std::string canonical;
  for (absl::string_view p : parts) {
    p = absl::StripAsciiWhitespace(p);
    if (p != "delete" && p != "compact") {
      return BadValue("cleanup.policy", value, "String must be one of: compact, delete");
    }
    if (!canonical.empty()) canonical += ',';
    absl::StrAppend(&canonical, p);
  }
  *out = canonical;
  return absl::OkStatus();
}

// Parses a DOUBLE in [0, 1].
absl::Status ParseRatio(absl::string_view key, absl::string_view value, double* out) {
  double v;
  if (!absl::SimpleAtod(absl::StripAsciiWhitespace(value), &v) || v != v) {
    return BadValue(key, value, "Not a number of type DOUBLE");
  }
  if (v < 0) return BadValue(key, value, "Value must be at least 0");
  if (v > 1) return BadValue(key, value, "Value must be no more than 1");
  *out = v;
  return absl::OkStatus();
}

bool PolicyContains(absl::string_view policy, absl::string_view what) {
  for (absl::string_view p : absl::StrSplit(policy, ',')) {
    if (absl::StripAsciiWhitespace(p) == what) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<LogConfig> LogConfig::FromMap(const LogConfig& defaults,
                                             const std::map<std::string, std::string>& configs) {
  LogConfig c = defaults;
  for (const auto& [key, value] : configs) {
    int64_t v = 0;
    absl::Status s;
    if (key == "segment.bytes") {
      s = ParseInt(key, value, 14, kInt32Max, "INT", &c.segment_bytes);
    } else if (key == "segment.ms") {
      s = ParseInt(key, value, 1, kInt64Max, "LONG", &c.segment_ms);
    } else if (key == "retention.ms") {
      s = ParseInt(key, value, -1, kInt64Max, "LONG", &c.retention_ms);
    } else if (key == "retention.bytes") {
      s = ParseInt(key, value, kInt64Min, kInt64Max, "LONG", &c.retention_bytes);
    } else if (key == "max.message.bytes") {
      s = ParseInt(key, value, 0, kInt32Max, "INT", &v);
      c.max_message_bytes = static_cast<int32_t>(v);
    } else if (key == "index.interval.bytes") {
      s = ParseInt(key, value, 0, kInt32Max, "INT", &v);
      c.index_interval_bytes = static_cast<int32_t>(v);
    } else if (key == "segment.index.bytes") {
      s = ParseInt(key, value, 4, kInt32Max, "INT", &v);
      c.segment_index_bytes = static_cast<int32_t>(v);
    } else if (key == "message.timestamp.type") {
      if (value == "CreateTime") {
        c.message_timestamp_type = TimestampType::kCreateTime;
      } else if (value == "LogAppendTime") {
        c.message_timestamp_type = TimestampType::kLogAppendTime;
      } else {
        s = BadValue(key, value, "String must be one of: CreateTime, LogAppendTime");
      }
    } else if (key == "cleanup.policy") {
      s = ParseCleanupPolicy(value, &c.cleanup_policy);
    } else if (key == "delete.retention.ms") {
      s = ParseInt(key, value, 0, kInt64Max, "LONG", &c.delete_retention_ms);
    } else if (key == "min.compaction.lag.ms") {
      s = ParseInt(key, value, 0, kInt64Max, "LONG", &c.min_compaction_lag_ms);
    } else if (key == "max.compaction.lag.ms") {
      s = ParseInt(key, value, 1, kInt64Max, "LONG", &c.max_compaction_lag_ms);
    } else if (key == "min.cleanable.dirty.ratio") {
      s = ParseRatio(key, value, &c.min_cleanable_dirty_ratio);
    } else if (key == "file.delete.delay.ms") {
      s = ParseInt(key, value, 0, kInt64Max, "LONG", &c.file_delete_delay_ms);
    } else if (key == "min.insync.replicas") {
      s = ParseInt(key, value, 1, kInt32Max, "INT", &v);
      c.min_insync_replicas = static_cast<int32_t>(v);
    } else {
      s = absl::InvalidArgumentError(absl::StrCat("Unknown topic config name: ", key));
    }
    if (!s.ok()) return s;
  }
  if (c.min_compaction_lag_ms > c.max_compaction_lag_ms) {
    return absl::InvalidArgumentError(absl::StrCat("conflict topic config setting min.compaction.lag.ms (",
                                                   c.min_compaction_lag_ms, ") > max.compaction.lag.ms (",
                                                   c.max_compaction_lag_ms, ")"));
  }
  return c;
}

std::map<std::string, std::string> LogConfig::ToMap() const {
  return {
      {"cleanup.policy", cleanup_policy},
      {"delete.retention.ms", absl::StrCat(delete_retention_ms)},
      {"file.delete.delay.ms", absl::StrCat(file_delete_delay_ms)},
      {"index.interval.bytes", absl::StrCat(index_interval_bytes)},
      {"max.message.bytes", absl::StrCat(max_message_bytes)},
      {"max.compaction.lag.ms", absl::StrCat(max_compaction_lag_ms)},
      {"message.timestamp.type",
       message_timestamp_type == TimestampType::kLogAppendTime ? "LogAppendTime" : "CreateTime"},
      {"min.cleanable.dirty.ratio", absl::StrCat(min_cleanable_dirty_ratio)},
      {"min.compaction.lag.ms", absl::StrCat(min_compaction_lag_ms)},
      {"min.insync.replicas", absl::StrCat(min_insync_replicas)},
      {"retention.bytes", absl::StrCat(retention_bytes)},
      {"retention.ms", absl::StrCat(retention_ms)},
      {"segment.bytes", absl::StrCat(segment_bytes)},
      {"segment.index.bytes", absl::StrCat(segment_index_bytes)},
      {"segment.ms", absl::StrCat(segment_ms)},
  };
}

bool LogConfig::delete_enabled() const { return PolicyContains(cleanup_policy, "delete"); }

bool LogConfig::compact_enabled() const { return PolicyContains(cleanup_policy, "compact"); }

int64_t LogConfig::max_segment_ms() const {
  return compact_enabled() ? std::min(segment_ms, max_compaction_lag_ms) : segment_ms;
}

absl::Status ValidateTopicName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("Topic name is illegal, it can't be empty");
  if (name == "." || name == "..") return absl::InvalidArgumentError("Topic name cannot be \".\" or \"..\"");
  if (name.size() > kMaxTopicNameLength) {
    return absl::InvalidArgumentError(absl::StrCat("Topic name is illegal, it can't be longer than ",
                                                   kMaxTopicNameLength, " characters, topic name: ", name));
  }
  for (char ch : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '_' && ch != '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "Topic name \"", name,
          "\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace eddy::broker
