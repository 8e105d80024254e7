#include "broker/offsets_codec.h"

#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "broker/group_bytes.h"

namespace eddy::broker {
namespace {

constexpr size_t kMaxString = std::numeric_limits<int16_t>::max();

absl::Status TooLong(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(what, " longer than 32767 bytes"));
}

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt __consumer_offsets ", what));
}

}  // namespace

absl::StatusOr<std::string> EncodeOffsetCommitKey(absl::string_view group, absl::string_view topic, int32_t partition) {
  if (group.size() > kMaxString) return TooLong("group id");
  if (topic.size() > kMaxString) return TooLong("topic name");
  std::string out;
  out.reserve(2 + 2 + group.size() + 2 + topic.size() + 4);
  ByteWriter w(&out);
  w.Int16(kOffsetCommitKeyVersion);
  w.String(group);
  w.String(topic);
  w.Int32(partition);
  return out;
}

absl::StatusOr<std::string> EncodeOffsetCommitValue(const OffsetCommitValue& value) {
  if (value.metadata.size() > kMaxString) return TooLong("offset metadata");
  std::string out;
  out.reserve(2 + 8 + 4 + 2 + value.metadata.size() + 8);
  ByteWriter w(&out);
  w.Int16(kOffsetCommitValueVersion);
  w.Int64(value.offset);
  w.Int32(value.leader_epoch);
  w.String(value.metadata);
  w.Int64(value.commit_timestamp);
  return out;
}

absl::StatusOr<OffsetsKey> DecodeOffsetsKey(absl::string_view bytes) {
  ByteReader r(bytes);
  OffsetsKey key;
  if (!r.Int16(&key.version) || key.version < 0) return Corrupt("record key");
  if (key.version >= 3) {
    key.type = OffsetsKeyType::kOther;
    return key;
  }
  if (!r.String(&key.group)) return Corrupt("record key");
  if (key.version == kGroupMetadataKeyVersion) {
    key.type = OffsetsKeyType::kGroupMetadata;
    return key;
  }
  key.type = OffsetsKeyType::kOffsetCommit;
  if (!r.String(&key.topic) || !r.Int32(&key.partition)) return Corrupt("offset commit key");
  return key;
}

absl::StatusOr<OffsetCommitValue> DecodeOffsetCommitValue(absl::string_view bytes) {
  ByteReader r(bytes);
  OffsetCommitValue v;
  int16_t version;
  if (!r.Int16(&version)) return Corrupt("offset commit value");
  if (version < 0 || version > 4) {
    return absl::DataLossError(absl::StrCat("unknown __consumer_offsets offset commit value version ", version));
  }
  if (!r.Int64(&v.offset)) return Corrupt("offset commit value");
  if (version >= 3 && !r.Int32(&v.leader_epoch)) return Corrupt("offset commit value");
  const bool metadata_ok = version >= 4 ? r.CompactString(&v.metadata) : r.String(&v.metadata);
  if (!metadata_ok || !r.Int64(&v.commit_timestamp)) return Corrupt("offset commit value");
  if (version == 1 && !r.Int64(&v.expire_timestamp)) return Corrupt("offset commit value");
  if (version >= 4 && !r.SkipTaggedFields()) return Corrupt("offset commit value");
  return v;
}

}  // namespace eddy::broker
