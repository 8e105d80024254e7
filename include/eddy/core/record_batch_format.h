// Kafka's record batch v2 (magic 2): the byte layout, and a view of a batch header.
//
// This is both Eddy's on-disk log format and the Kafka wire format: a batch is stored exactly as the
// producer encoded it (compressed or not), with only baseOffset and partitionLeaderEpoch rewritten by the
// broker. Neither is covered by the CRC, so a batch can be placed at any offset without re-checksumming.
//
//   offset size field                      notes
//   0      8    baseOffset                 int64 big-endian; assigned by the broker
//   8      4    batchLength                int32; bytes after this field (total size = batchLength + 12)
//   12     4    partitionLeaderEpoch       int32
//   16     1    magic                      2
//   17     4    crc                        uint32; CRC-32C of bytes [21, end)
//   21     2    attributes                 bits 0-2 codec, 3 LogAppendTime, 4 transactional, 5 control,
//                                          6 delete horizon set
//   23     4    lastOffsetDelta            int32
//   27     8    baseTimestamp              int64 (firstTimestamp)
//   35     8    maxTimestamp               int64
//   43     8    producerId                 int64; -1 when not idempotent
//   51     2    producerEpoch              int16
//   53     4    baseSequence               int32
//   57     4    recordsCount               int32
//   61     -    records                    one compressed blob when the codec is not none
//
// Each record (zigzag varints): length, attributes (int8), timestampDelta (varlong), offsetDelta (varint),
// keyLength (-1 = null), key, valueLength (-1 = null), value, headerCount, then per header keyLength, key,
// valueLength (-1 = null), value. See docs/record-batch-format.md.
#pragma once

#include <cstdint>
#include <cstring>

#include "absl/base/internal/endian.h"
#include "absl/strings/string_view.h"

namespace eddy {

// Compression codec of a batch: the value of attribute bits 0-2.
enum class Compression : uint8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };

enum class TimestampType : uint8_t { kCreateTime = 0, kLogAppendTime = 1 };

namespace batch_format {

inline constexpr int kBaseOffset = 0;
inline constexpr int kBatchLength = 8;
inline constexpr int kPartitionLeaderEpoch = 12;
inline constexpr int kMagic = 16;
inline constexpr int kCrc = 17;
inline constexpr int kAttributes = 21;
inline constexpr int kLastOffsetDelta = 23;
inline constexpr int kBaseTimestamp = 27;
inline constexpr int kMaxTimestamp = 35;
inline constexpr int kProducerId = 43;
inline constexpr int kProducerEpoch = 51;
inline constexpr int kBaseSequence = 53;
inline constexpr int kRecordsCount = 57;
inline constexpr int kHeaderSize = 61;
// Bytes before batchLength's count starts: baseOffset + batchLength.
inline constexpr int kLogOverhead = 12;
// The CRC covers [kCrcStart, end).
inline constexpr int kCrcStart = kAttributes;
inline constexpr uint8_t kMagicV2 = 2;

inline constexpr uint16_t kCodecMask = 0x07;
inline constexpr uint16_t kTimestampTypeBit = 0x08;
inline constexpr uint16_t kTransactionalBit = 0x10;
inline constexpr uint16_t kControlBit = 0x20;
inline constexpr uint16_t kDeleteHorizonBit = 0x40;

}  // namespace batch_format

// A read-only view of the 61-byte header at `p`. The caller guarantees at least kHeaderSize readable bytes.
// Does not validate anything: see ValidateBatch in record_batch.h.
class BatchHeaderView {
 public:
  explicit BatchHeaderView(const char* p) : p_(p) {}

  int64_t base_offset() const { return I64(batch_format::kBaseOffset); }
  int32_t batch_length() const { return I32(batch_format::kBatchLength); }
  // Total size of the batch in bytes, header included.
  int64_t size_in_bytes() const { return int64_t{batch_length()} + batch_format::kLogOverhead; }
  int32_t partition_leader_epoch() const { return I32(batch_format::kPartitionLeaderEpoch); }
  int8_t magic() const { return static_cast<int8_t>(p_[batch_format::kMagic]); }
  uint32_t crc() const { return static_cast<uint32_t>(I32(batch_format::kCrc)); }
  uint16_t attributes() const { return static_cast<uint16_t>(I16(batch_format::kAttributes)); }
  Compression compression() const { return static_cast<Compression>(attributes() & batch_format::kCodecMask); }
  TimestampType timestamp_type() const {
    return (attributes() & batch_format::kTimestampTypeBit) ? TimestampType::kLogAppendTime
                                                            : TimestampType::kCreateTime;
  }
  bool is_transactional() const { return attributes() & batch_format::kTransactionalBit; }
  bool is_control() const { return attributes() & batch_format::kControlBit; }
  int32_t last_offset_delta() const { return I32(batch_format::kLastOffsetDelta); }
  int64_t last_offset() const { return base_offset() + last_offset_delta(); }
  int64_t next_offset() const { return last_offset() + 1; }
  int64_t base_timestamp() const { return I64(batch_format::kBaseTimestamp); }
  int64_t max_timestamp() const { return I64(batch_format::kMaxTimestamp); }
  int64_t producer_id() const { return I64(batch_format::kProducerId); }
  int16_t producer_epoch() const { return I16(batch_format::kProducerEpoch); }
  int32_t base_sequence() const { return I32(batch_format::kBaseSequence); }
  int32_t records_count() const { return I32(batch_format::kRecordsCount); }

 private:
  int64_t I64(int at) const { return static_cast<int64_t>(absl::big_endian::Load64(p_ + at)); }
  int32_t I32(int at) const { return static_cast<int32_t>(absl::big_endian::Load32(p_ + at)); }
  int16_t I16(int at) const { return static_cast<int16_t>(absl::big_endian::Load16(p_ + at)); }
  const char* p_;
};

// Rewrites fields the broker owns (not covered by the CRC).
inline void SetBaseOffset(char* batch, int64_t base_offset) {
  absl::big_endian::Store64(batch + batch_format::kBaseOffset, static_cast<uint64_t>(base_offset));
}
inline void SetPartitionLeaderEpoch(char* batch, int32_t epoch) {
  absl::big_endian::Store32(batch + batch_format::kPartitionLeaderEpoch, static_cast<uint32_t>(epoch));
}

}  // namespace eddy
