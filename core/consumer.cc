#include "eddy/core/consumer.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "core/config_util.h"

namespace eddy {

absl::StatusOr<ConsumerRecords> Consumer::Poll(absl::Duration timeout) {
  ConsumerRecords records;
  absl::Status s = Poll(timeout, &records);
  if (!s.ok()) return s;
  return records;
}

absl::StatusOr<std::optional<int64_t>> Consumer::Committed(const TopicPartition& tp) {
  absl::StatusOr<std::vector<TopicPartitionOffset>> committed = CommittedOffsets({tp});
  if (!committed.ok()) return committed.status();
  for (const TopicPartitionOffset& o : *committed) {
    if (o.tp == tp) return std::optional<int64_t>(o.offset);
  }
  return std::optional<int64_t>();
}

absl::Status ConsumerConfig::Set(absl::string_view name, absl::string_view value) {
  using config_util::ParseBool;
  using config_util::ParseInt;
  if (name == "group.id") {
    group_id = std::string(value);
  } else if (name == "client.id") {
    client_id = std::string(value);
  } else if (name == "auto.offset.reset") {
    if (value == "earliest") {
      auto_offset_reset = OffsetReset::kEarliest;
    } else if (value == "latest") {
      auto_offset_reset = OffsetReset::kLatest;
    } else if (value == "none") {
      auto_offset_reset = OffsetReset::kNone;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("auto.offset.reset must be earliest, latest or none, not '", value, "'"));
    }
  } else if (name == "enable.auto.commit") {
    return ParseBool(name, value, &enable_auto_commit);
  } else if (name == "auto.commit.interval.ms") {
    return ParseInt(name, value, 0, INT64_MAX, &auto_commit_interval_ms);
  } else if (name == "max.poll.records") {
    return ParseInt(name, value, 1, INT32_MAX, &max_poll_records);
  } else if (name == "fetch.max.bytes") {
    return ParseInt(name, value, 0, INT32_MAX, &fetch_max_bytes);
  } else if (name == "max.partition.fetch.bytes") {
    return ParseInt(name, value, 0, INT32_MAX, &max_partition_fetch_bytes);
  } else if (name == "session.timeout.ms") {
    return ParseInt(name, value, 1, INT64_MAX, &session_timeout_ms);
  } else if (name == "heartbeat.interval.ms") {
    return ParseInt(name, value, 1, INT64_MAX, &heartbeat_interval_ms);
  } else if (name == "max.poll.interval.ms") {
    return ParseInt(name, value, 1, INT64_MAX, &max_poll_interval_ms);
  } else if (name == "partition.assignment.strategy") {
    partition_assignment_strategy.clear();
    for (absl::string_view s : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
      s = absl::StripAsciiWhitespace(s);
      if (s != "range" && s != "roundrobin") {
        return absl::InvalidArgumentError(
            absl::StrCat("partition.assignment.strategy: unknown assignor '", s, "' (range, roundrobin)"));
      }
      partition_assignment_strategy.emplace_back(s);
    }
  } else if (name == "check.crcs") {
    return ParseBool(name, value, &check_crcs);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown consumer config '", name, "'"));
  }
  return absl::OkStatus();
}

}  // namespace eddy
