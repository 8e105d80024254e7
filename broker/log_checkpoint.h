// The recovery-point checkpoint file, <data-dir>/recovery-point-offset-checkpoint: for each partition, the
// durable point from which recovery scans after an unclean shutdown. Text, like Kafka's checkpoint files,
// with two more columns:
//
//   1                                   version
//   2                                   number of entries
//   orders 0 1500 823417 1700000000123  topic partition offset position max_timestamp
//   clicks 3 0 0 -1
//
// `position` is the byte position of `offset` in the segment holding it; `max_timestamp` is the largest
// record timestamp in that segment before `position` (recovery does not scan that part). Topic names
// cannot contain spaces, so the format needs no quoting. Written atomically (tmp + fsync + rename + fsync
// of the directory).
#pragma once

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "broker/partition_log.h"
#include "eddy/core/record.h"

namespace eddy::broker {

using RecoveryCheckpoint = std::map<TopicPartition, RecoveryPoint>;

inline constexpr absl::string_view kRecoveryCheckpointFile = "recovery-point-offset-checkpoint";

std::string EncodeRecoveryCheckpoint(const RecoveryCheckpoint& checkpoint);

// ParseRecoveryCheckpoint: kDataLoss naming the line if the text is malformed.
absl::StatusOr<RecoveryCheckpoint> ParseRecoveryCheckpoint(absl::string_view text);

// ReadRecoveryCheckpoint reads and parses the file; kNotFound if it does not exist.
absl::StatusOr<RecoveryCheckpoint> ReadRecoveryCheckpoint(const std::string& path);

}  // namespace eddy::broker
