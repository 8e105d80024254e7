// Kafka's __consumer_offsets record formats, so that Eddy's committed offsets are stored exactly as Kafka
// stores them (and tools that read the topic, such as kafka-console-consumer with the offsets formatter,
// understand them). Taken from Kafka's group-coordinator/src/main/resources/common/message/OffsetCommitKey.json,
// OffsetCommitValue.json and GroupMetadataKey.json (apache/kafka trunk). Big-endian; strings are int16
// length + bytes (group_bytes.h). The record key and value each start with an int16 version:
//
//   key version 0 or 1 (offset commit):   int16 version | string group | string topic | int32 partition
//   key version 2 (group metadata):       int16 version | string group
//   key version >= 3: records of Kafka's new consumer-group protocol (KIP-848); Eddy skips them on replay
//
//   value version 0: int64 offset | string metadata | int64 commit_timestamp
//   value version 1: int64 offset | string metadata | int64 commit_timestamp | int64 expire_timestamp
//   value version 2: int64 offset | string metadata | int64 commit_timestamp
//   value version 3: int64 offset | int32 leader_epoch | string metadata | int64 commit_timestamp
//   value version 4 (flexible): as 3, with metadata a compact string, then a tagged-field section
//
// Eddy writes key version 1 and value version 3, as Kafka 2.1+ does (value version 1 is only for commits that
// carry an explicit retention time, which OffsetCommit v5+ cannot). A null value (tombstone) deletes the
// offset. Timestamps are milliseconds since the epoch.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eddy::broker {

inline constexpr int16_t kOffsetCommitKeyVersion = 1;
inline constexpr int16_t kGroupMetadataKeyVersion = 2;
inline constexpr int16_t kOffsetCommitValueVersion = 3;

// What a __consumer_offsets record key refers to.
enum class OffsetsKeyType : uint8_t {
  kOffsetCommit,   // key versions 0 and 1
  kGroupMetadata,  // key version 2
  kOther,          // key versions >= 3 (records of the KIP-848 coordinator): not used by Eddy
};

struct OffsetsKey {
  OffsetsKeyType type = OffsetsKeyType::kOther;
  int16_t version = 0;
  std::string group;  // empty for kOther
  std::string topic;  // kOffsetCommit only
  int32_t partition = -1;
};

struct OffsetCommitValue {
  int64_t offset = -1;
  int32_t leader_epoch = -1;  // -1: unknown (and always for value versions < 3)
  std::string metadata;
  int64_t commit_timestamp = -1;
  int64_t expire_timestamp = -1;  // value version 1 only

  friend bool operator==(const OffsetCommitValue&, const OffsetCommitValue&) = default;
};

// EncodeOffsetCommitKey writes key version 1. kInvalidArgument if a string is longer than 32767 bytes.
absl::StatusOr<std::string> EncodeOffsetCommitKey(absl::string_view group, absl::string_view topic, int32_t partition);
// EncodeOffsetCommitValue writes value version 3 (expire_timestamp is not part of it). kInvalidArgument if the
// metadata is longer than 32767 bytes.
absl::StatusOr<std::string> EncodeOffsetCommitValue(const OffsetCommitValue& value);

// DecodeOffsetsKey reads any key version; kDataLoss if the bytes are truncated or garbled.
absl::StatusOr<OffsetsKey> DecodeOffsetsKey(absl::string_view bytes);
// DecodeOffsetCommitValue reads value versions 0..4; kDataLoss on truncated or garbled bytes or an unknown
// version.
absl::StatusOr<OffsetCommitValue> DecodeOffsetCommitValue(absl::string_view bytes);

}  // namespace eddy::broker
