// Record batch v2: builder, validation and record iteration. Layout: record_batch_format.h.
#include "eddy/core/record_batch.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/varint.h"
#include "eddy/core/crc32c.h"
#include "eddy/core/status.h"

namespace eddy {
namespace {

namespace bf = batch_format;
using absl::big_endian::Store16;
using absl::big_endian::Store32;
using absl::big_endian::Store64;

// The smallest record: length, attributes, timestampDelta, offsetDelta, keyLength, valueLength and
// headerCount, one byte each.
constexpr int64_t kMinRecordSize = 7;
// batchLength of a batch with no records: the header after the batchLength field.
constexpr int32_t kMinBatchLength = bf::kHeaderSize - bf::kLogOverhead;

inline int32_t LengthOf(const std::optional<absl::string_view>& s) {
  return s.has_value() ? static_cast<int32_t>(s->size()) : -1;
}

inline char* PutBytes(char* p, const std::optional<absl::string_view>& s) {
  p = varint::Put32(p, LengthOf(s));
  if (s.has_value() && !s->empty()) {
    std::memcpy(p, s->data(), s->size());
    p += s->size();
  }
  return p;
}

// Encoded size of a length-prefixed, nullable byte string.
inline size_t BytesSize(const std::optional<absl::string_view>& s) {
  return varint::Length32(LengthOf(s)) + (s.has_value() ? s->size() : 0);
}

}  // namespace

// ---- RecordBatchBuilder ----------------------------------------------------------------------------------

RecordBatchBuilder::RecordBatchBuilder(Compression compression, int level)
    : compression_(compression), level_(level) {}

RecordBatchBuilder::RecordBatchBuilder(RecordBatchBuilder&& other) noexcept
    : compression_(other.compression_), level_(other.level_) {
  *this = std::move(other);
}

RecordBatchBuilder& RecordBatchBuilder::operator=(RecordBatchBuilder&& other) noexcept {
  if (this == &other) return *this;
  compression_ = other.compression_;
  level_ = other.level_;
  producer_id_ = other.producer_id_;
  producer_epoch_ = other.producer_epoch_;
  base_sequence_ = other.base_sequence_;
  timestamp_type_ = other.timestamp_type_;
  transactional_ = other.transactional_;
  buf_ = std::move(other.buf_);
  size_ = std::exchange(other.size_, bf::kHeaderSize);
  capacity_ = std::exchange(other.capacity_, 0);
  compressed_ = std::move(other.compressed_);
  count_ = other.count_;
  base_timestamp_ = other.base_timestamp_;
  max_timestamp_ = other.max_timestamp_;
  other.Reset();
  return *this;
}

void RecordBatchBuilder::Reset() {
  producer_id_ = -1;
  producer_epoch_ = -1;
  base_sequence_ = -1;
  timestamp_type_ = TimestampType::kCreateTime;
  transactional_ = false;
  size_ = bf::kHeaderSize;
  count_ = 0;
  base_timestamp_ = -1;
  max_timestamp_ = -1;
}

void RecordBatchBuilder::Reserve(size_t bytes) {
  if (bf::kHeaderSize + bytes > capacity_) Grow(bf::kHeaderSize + bytes);
}

void RecordBatchBuilder::SetProducer(int64_t producer_id, int16_t producer_epoch, int32_t base_sequence) {
  producer_id_ = producer_id;
  producer_epoch_ = producer_epoch;
  base_sequence_ = base_sequence;
}

void RecordBatchBuilder::Grow(size_t needed) {
  const size_t cap = std::max({needed, capacity_ * 2, size_t{4096}});
  std::unique_ptr<char[]> bigger(new char[cap]);  // uninitialised: every byte is written before it is read
  if (buf_ != nullptr) std::memcpy(bigger.get(), buf_.get(), size_);
  buf_ = std::move(bigger);
  capacity_ = cap;
}

void RecordBatchBuilder::Append(int64_t timestamp_ms, std::optional<absl::string_view> key,
                                std::optional<absl::string_view> value, absl::Span<const HeaderRef> headers) {
  if (count_ == 0) {
    base_timestamp_ = timestamp_ms;
    max_timestamp_ = timestamp_ms;
  } else if (timestamp_ms > max_timestamp_) {
    max_timestamp_ = timestamp_ms;
  }
  const int64_t timestamp_delta = timestamp_ms - base_timestamp_;
  const int32_t offset_delta = count_;
  // The record's length prefix comes first, so compute the body's exact size before writing it.
  size_t body = 1 + varint::Length64(timestamp_delta) + varint::Length32(offset_delta) + BytesSize(key) +
                BytesSize(value) + varint::Length32(static_cast<int32_t>(headers.size()));
  for (const HeaderRef& h : headers) body += BytesSize(h.key) + BytesSize(h.value);
  const size_t total = varint::Length32(static_cast<int32_t>(body)) + body;
  if (size_ + total > capacity_) Grow(size_ + total);

  char* p = buf_.get() + size_;
  p = varint::Put32(p, static_cast<int32_t>(body));
  *p++ = 0;  // record attributes: unused
  p = varint::Put64(p, timestamp_delta);
  p = varint::Put32(p, offset_delta);
  p = PutBytes(p, key);
  p = PutBytes(p, value);
  p = varint::Put32(p, static_cast<int32_t>(headers.size()));
  for (const HeaderRef& h : headers) {
    p = PutBytes(p, h.key);
    p = PutBytes(p, h.value);
  }
  size_ += total;
  ++count_;
}

size_t RecordBatchBuilder::RecordSizeUpperBound(size_t key_len, size_t value_len,
                                                absl::Span<const HeaderRef> headers) {
  constexpr size_t k32 = varint::kMaxVarint32;
  size_t n = k32 /*length*/ + 1 /*attributes*/ + varint::kMaxVarint64 /*timestampDelta*/ + k32 /*offsetDelta*/ +
             k32 + key_len + k32 + value_len + k32 /*headerCount*/;
  for (const HeaderRef& h : headers) n += k32 + h.key.size() + k32 + (h.value ? h.value->size() : 0);
  return n;
}

void RecordBatchBuilder::WriteHeader(char* batch, size_t total_size) const {
  uint16_t attributes = static_cast<uint16_t>(compression_);
  if (timestamp_type_ == TimestampType::kLogAppendTime) attributes |= bf::kTimestampTypeBit;
  if (transactional_) attributes |= bf::kTransactionalBit;
  Store64(batch + bf::kBaseOffset, 0);
  Store32(batch + bf::kBatchLength, static_cast<uint32_t>(total_size - bf::kLogOverhead));
  Store32(batch + bf::kPartitionLeaderEpoch, static_cast<uint32_t>(-1));
  batch[bf::kMagic] = static_cast<char>(bf::kMagicV2);
  Store16(batch + bf::kAttributes, attributes);
  Store32(batch + bf::kLastOffsetDelta, static_cast<uint32_t>(count_ - 1));
  Store64(batch + bf::kBaseTimestamp, static_cast<uint64_t>(base_timestamp_));
  Store64(batch + bf::kMaxTimestamp, static_cast<uint64_t>(max_timestamp_));
  Store64(batch + bf::kProducerId, static_cast<uint64_t>(producer_id_));
  Store16(batch + bf::kProducerEpoch, static_cast<uint16_t>(producer_epoch_));
  Store32(batch + bf::kBaseSequence, static_cast<uint32_t>(base_sequence_));
  Store32(batch + bf::kRecordsCount, static_cast<uint32_t>(count_));
  Store32(batch + bf::kCrc, crc32c::Value(batch + bf::kCrcStart, total_size - bf::kCrcStart));
}

absl::StatusOr<absl::Span<char>> RecordBatchBuilder::Finish() {
  if (count_ == 0) return absl::FailedPreconditionError("cannot finish an empty record batch");
  char* batch = buf_.get();
  size_t total = size_;
  if (compression_ != Compression::kNone) {
    compressed_.resize(bf::kHeaderSize);
    EDDY_RETURN_IF_ERROR(CompressAppend(compression_, absl::string_view(buf_.get() + bf::kHeaderSize,
                                                                        size_ - bf::kHeaderSize),
                                        &compressed_, level_));
    batch = compressed_.data();
    total = compressed_.size();
  }
  if (total - bf::kLogOverhead > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return absl::InvalidArgumentError(absl::StrCat("record batch of ", total, " bytes is too large"));
  }
  WriteHeader(batch, total);
  return absl::Span<char>(batch, total);
}

// ---- ValidateBatch ---------------------------------------------------------------------------------------

absl::StatusOr<BatchHeaderView> ValidateBatch(absl::string_view data, bool verify_crc) {
  if (data.size() < static_cast<size_t>(bf::kHeaderSize)) {
    return absl::DataLossError(
        absl::StrCat("truncated batch header: need ", bf::kHeaderSize, " bytes, have ", data.size()));
  }
  const BatchHeaderView h(data.data());
  if (h.batch_length() < kMinBatchLength) {
    return absl::DataLossError(
        absl::StrCat("invalid batchLength ", h.batch_length(), " (the minimum is ", kMinBatchLength, ")"));
  }
  if (h.size_in_bytes() > static_cast<int64_t>(data.size())) {
    return absl::DataLossError(
        absl::StrCat("truncated batch: need ", h.size_in_bytes(), " bytes, have ", data.size()));
  }
  if (h.magic() != bf::kMagicV2) {
    return absl::DataLossError(absl::StrCat("unsupported magic ", static_cast<int>(h.magic()), " (expected 2)"));
  }
  const int codec = h.attributes() & bf::kCodecMask;
  if (codec > static_cast<int>(Compression::kZstd)) {
    return absl::DataLossError(
        absl::StrFormat("unknown compression codec %d in attributes 0x%04x", codec, h.attributes()));
  }
  if (verify_crc) {
    const uint32_t computed =
        crc32c::Value(data.data() + bf::kCrcStart, static_cast<size_t>(h.size_in_bytes()) - bf::kCrcStart);
    if (computed != h.crc()) {
      return absl::DataLossError(absl::StrFormat("CRC mismatch: stored 0x%08x, computed 0x%08x", h.crc(), computed));
    }
  }
  const int32_t count = h.records_count();
  if (count < 0) return absl::DataLossError(absl::StrCat("negative recordsCount ", count));
  if (h.last_offset_delta() < count - 1) {
    return absl::DataLossError(absl::StrCat("lastOffsetDelta ", h.last_offset_delta(),
                                            " is below recordsCount - 1 (recordsCount ", count, ")"));
  }
  const int64_t records_bytes = h.size_in_bytes() - bf::kHeaderSize;
  if (h.compression() == Compression::kNone && count * kMinRecordSize > records_bytes) {
    return absl::DataLossError(absl::StrCat("recordsCount ", count, " cannot fit in ", records_bytes,
                                            " bytes of records"));
  }
  return h;
}

void SetLogAppendTime(absl::Span<char> batch, int64_t append_time_ms) {
  char* p = batch.data();
  const uint16_t attributes = absl::big_endian::Load16(p + bf::kAttributes) | bf::kTimestampTypeBit;
  Store16(p + bf::kAttributes, attributes);
  Store64(p + bf::kMaxTimestamp, static_cast<uint64_t>(append_time_ms));
  Store32(p + bf::kCrc, crc32c::Value(p + bf::kCrcStart, batch.size() - bf::kCrcStart));
}

// ---- RecordIterator --------------------------------------------------------------------------------------

absl::StatusOr<RecordIterator> RecordIterator::Open(absl::string_view batch, std::string* decompressed,
                                                    bool verify_crc, size_t max_decompressed_size) {
  EDDY_ASSIGN_OR_RETURN(BatchHeaderView h, ValidateBatch(batch, verify_crc));
  RecordIterator it(h);
  const char* records = batch.data() + bf::kHeaderSize;
  const size_t records_size = static_cast<size_t>(h.size_in_bytes()) - bf::kHeaderSize;
  if (h.compression() == Compression::kNone) {
    it.begin_ = records;
    it.end_ = records + records_size;
    it.position_bias_ = bf::kHeaderSize;
  } else {
    if (decompressed == nullptr) {
      return absl::InvalidArgumentError("RecordIterator::Open: a compressed batch needs a decompression buffer");
    }
    EDDY_RETURN_IF_ERROR(Decompress(h.compression(), absl::string_view(records, records_size), decompressed,
                                    max_decompressed_size));
    it.begin_ = decompressed->data();
    it.end_ = it.begin_ + decompressed->size();
    it.position_bias_ = 0;
    it.compressed_ = true;
  }
  it.pos_ = it.begin_;
  it.base_offset_ = h.base_offset();
  it.base_timestamp_ = h.base_timestamp();
  it.max_timestamp_ = h.max_timestamp();
  it.log_append_time_ = h.timestamp_type() == TimestampType::kLogAppendTime;
  it.count_ = h.records_count();
  return it;
}

bool RecordIterator::Fail(absl::string_view what, const char* record_start) {
  status_ = absl::DataLossError(absl::StrCat("record ", index_, " at byte ", position_bias_ + (record_start - begin_),
                                             compressed_ ? " of the decompressed records" : "", " ", what));
  pos_ = end_;
  count_ = index_;  // stop
  return false;
}

// Reads a nullable byte string (varint length, then the bytes) bounded by `limit`. Returns the position after
// it or nullptr; *len is -1 for null.
static inline const char* GetBytes(const char* p, const char* limit, const char** data, int32_t* len) {
  p = varint::Get32(p, limit, len);
  if (p == nullptr || *len < -1 || *len > limit - p) return nullptr;
  *data = p;
  return *len > 0 ? p + *len : p;
}

bool RecordIterator::Next(RecordView* out) {
  if (index_ >= count_) {
    if (status_.ok() && pos_ != end_) {
      status_ = absl::DataLossError(absl::StrCat("batch declares ", count_, " records but ", end_ - pos_,
                                                 " bytes remain after them"));
      pos_ = end_;
    }
    return false;
  }
  const char* const start = pos_;
  int32_t length;
  const char* p = varint::Get32(pos_, end_, &length);
  if (p == nullptr) return Fail("has a bad or truncated length varint", start);
  if (length < 0 || length > end_ - p) {
    return Fail(absl::StrCat("overruns its batch (length ", length, ", ", end_ - p, " bytes left)"), start);
  }
  const char* const limit = p + length;
  if (p == limit) return Fail("is empty", start);
  ++p;  // attributes: unused
  int64_t timestamp_delta;
  int32_t offset_delta;
  if ((p = varint::Get64(p, limit, &timestamp_delta)) == nullptr) return Fail("has a bad timestampDelta", start);
  if ((p = varint::Get32(p, limit, &offset_delta)) == nullptr) return Fail("has a bad offsetDelta", start);
  if ((p = GetBytes(p, limit, &out->key_, &out->key_size_)) == nullptr) {
    return Fail("has a bad key length or its key overruns the record", start);
  }
  if ((p = GetBytes(p, limit, &out->value_, &out->value_size_)) == nullptr) {
    return Fail("has a bad value length or its value overruns the record", start);
  }
  int32_t header_count;
  if ((p = varint::Get32(p, limit, &header_count)) == nullptr || header_count < 0) {
    return Fail("has a bad header count", start);
  }
  out->headers_ = p;
  for (int32_t i = 0; i < header_count; ++i) {
    const char* data;
    int32_t len;
    if ((p = GetBytes(p, limit, &data, &len)) == nullptr || len < 0) {
      return Fail(absl::StrCat("header ", i, " has a bad key or overruns the record"), start);
    }
    if ((p = GetBytes(p, limit, &data, &len)) == nullptr) {
      return Fail(absl::StrCat("header ", i, " has a bad value or overruns the record"), start);
    }
  }
  if (p != limit) {
    return Fail(absl::StrCat("has length ", length, " but its fields end after ", p - (limit - length), " bytes"),
                start);
  }
  out->header_count_ = header_count;
  // Wrapping sums, as Kafka's DefaultRecord (Java longs): a corrupt or hostile batch (baseOffset or
  // baseTimestamp near the int64 limits) must not be undefined behaviour.
  out->offset_ = static_cast<int64_t>(static_cast<uint64_t>(base_offset_) + static_cast<uint64_t>(offset_delta));
  out->timestamp_ = log_append_time_ ? max_timestamp_
                                     : static_cast<int64_t>(static_cast<uint64_t>(base_timestamp_) +
                                                            static_cast<uint64_t>(timestamp_delta));
  out->partition_ = partition_;
  pos_ = limit;
  ++index_;
  return true;
}

}  // namespace eddy
