// Building, validating and reading Kafka record batches (v2, magic 2). The byte layout is in
// record_batch_format.h and docs/record-batch-format.md.
//
//   RecordBatchBuilder  producer side: encodes records straight into one reusable buffer, then Finish()
//                       compresses them (if a codec is set), writes the header and the CRC.
//   ValidateBatch       broker side: checks a batch's framing, magic, CRC and counts before storing it.
//   RecordIterator      consumer side: walks the records of one batch without allocating per record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "eddy/core/compression.h"
#include "eddy/core/record.h"
#include "eddy/core/record_batch_format.h"

namespace eddy {

// Builds one record batch at a time. Records are encoded into the builder's buffer as they are appended
// (after 61 bytes reserved for the header); Finish() completes the batch in place. Reset() starts the next
// batch, keeping both buffers' capacity, so a long-lived builder allocates only while its batches grow.
//
//   RecordBatchBuilder b(Compression::kLz4);
//   b.Append(ts, "key", "value");
//   EDDY_ASSIGN_OR_RETURN(absl::Span<char> batch, b.Finish());   // valid until the next Reset/Append
//   SetBaseOffset(batch.data(), next_offset);                      // the broker owns baseOffset
//
// Thread-compatible: one thread at a time (e.g. the producer's accumulator under its lock).
class RecordBatchBuilder {
 public:
  explicit RecordBatchBuilder(Compression compression = Compression::kNone, int level = -1);
  RecordBatchBuilder(const RecordBatchBuilder&) = delete;
  RecordBatchBuilder& operator=(const RecordBatchBuilder&) = delete;
  // A moved-from builder is empty, without buffers, and usable.
  RecordBatchBuilder(RecordBatchBuilder&& other) noexcept;
  RecordBatchBuilder& operator=(RecordBatchBuilder&& other) noexcept;

  // Reset starts a new, empty batch with the same codec, keeping the buffers' capacity. Producer fields,
  // timestamp type and the transactional flag go back to their defaults (-1, CreateTime, false).
  void Reset();
  // Reserve makes room for `bytes` of records (uncompressed) without further allocation.
  void Reserve(size_t bytes);

  // Idempotent/transactional producer fields; -1 (the default) when not idempotent.
  void SetProducer(int64_t producer_id, int16_t producer_epoch, int32_t base_sequence);
  void SetTimestampType(TimestampType type) { timestamp_type_ = type; }
  void SetTransactional(bool transactional) { transactional_ = transactional; }

  // Append encodes one record: offset delta = its index in the batch, timestamp delta against the first
  // record's timestamp. nullopt key/value = null. Copies every byte it is given; allocates only when the
  // buffer must grow. A key, value or header longer than INT32_MAX bytes is a programmer error.
  void Append(int64_t timestamp_ms, std::optional<absl::string_view> key, std::optional<absl::string_view> value,
              absl::Span<const HeaderRef> headers = {});

  int32_t record_count() const { return count_; }
  bool empty() const { return count_ == 0; }
  // Uncompressed size of the batch so far, header included: what batch.size is compared against.
  size_t size_estimate() const { return size_; }
  // The largest record timestamp so far (-1 when empty).
  int64_t max_timestamp() const { return max_timestamp_; }
  Compression compression() const { return compression_; }

  // Finish compresses the records (if a codec is set), writes the header (baseOffset 0,
  // partitionLeaderEpoch -1) and the CRC, and returns the whole batch. The span is mutable so that the
  // broker can set baseOffset and partitionLeaderEpoch in place; it stays valid until the next Reset,
  // Append, Finish or the builder's destruction. Errors: kFailedPrecondition for an empty batch (Kafka has
  // no empty producer batches), kInternal if the codec fails.
  absl::StatusOr<absl::Span<char>> Finish();

  // RecordSizeUpperBound bounds the encoded size of one record (all varints at their longest), e.g. to
  // decide whether a record still fits in a batch.
  static size_t RecordSizeUpperBound(size_t key_len, size_t value_len, absl::Span<const HeaderRef> headers = {});

 private:
  void Grow(size_t needed);
  void WriteHeader(char* batch, size_t total_size) const;

  Compression compression_;
  int level_;
  int64_t producer_id_ = -1;
  int16_t producer_epoch_ = -1;
  int32_t base_sequence_ = -1;
  TimestampType timestamp_type_ = TimestampType::kCreateTime;
  bool transactional_ = false;

  std::unique_ptr<char[]> buf_;  // [0, 61) header, [61, size_) records
  size_t size_ = batch_format::kHeaderSize;
  size_t capacity_ = 0;
  std::string compressed_;       // header + compressed records, for codecs other than kNone
  int32_t count_ = 0;
  int64_t base_timestamp_ = -1;
  int64_t max_timestamp_ = -1;
};

// ValidateBatch checks the batch at the start of `data` (which may continue with more bytes after it) and
// returns a view of its header. The batch's size is view.size_in_bytes(). Checks: at least 61 bytes,
// batchLength >= 49 and the whole batch present, magic 2, a known codec, the CRC-32C (if verify_crc),
// recordsCount >= 0 and lastOffsetDelta >= recordsCount - 1, and for uncompressed batches that the records
// region can hold recordsCount records. It does not decode records (RecordIterator does) and does not apply
// the producer-side rule lastOffsetDelta + 1 == recordsCount, which compacted batches break; the broker's
// Produce path checks that. Errors: kDataLoss, with a message naming the field and the numbers.
absl::StatusOr<BatchHeaderView> ValidateBatch(absl::string_view data, bool verify_crc = true);

// SetLogAppendTime rewrites a batch for a topic with message.timestamp.type=LogAppendTime, as Kafka's broker
// does on append: sets the timestamp-type attribute bit and maxTimestamp to append_time_ms, then recomputes
// the CRC (both fields are under it). Readers then report append_time_ms for every record. `batch` must be
// one whole batch that ValidateBatch accepted.
void SetLogAppendTime(absl::Span<char> batch, int64_t append_time_ms);

// Walks the records of one batch in offset order, filling RecordViews that point into the batch (or, for
// a compressed batch, into the caller's `decompressed` buffer). Never allocates per record.
//
//   std::string scratch;
//   EDDY_ASSIGN_OR_RETURN(RecordIterator it, RecordIterator::Open(batch, &scratch));
//   RecordView r;
//   while (it.Next(&r)) Use(r);
//   EDDY_RETURN_IF_ERROR(it.status());
//
// The batch bytes and *decompressed must outlive the iterator and every view it fills. Thread-compatible.
class RecordIterator {
 public:
  // An empty iterator (Next returns false at once); header() must not be called on it. Iterators are
  // copyable: a copy resumes from the same record, independently.
  RecordIterator() : header_(nullptr) {}

  // Open validates the batch at the start of `batch` (as ValidateBatch, checking the CRC only if
  // verify_crc: the log checks it on append and recovery) and, for a compressed batch, decompresses its
  // records into *decompressed (reusing its capacity; may be null for uncompressed batches). Errors:
  // those of ValidateBatch and Decompress (kDataLoss; kResourceExhausted above max_decompressed_size).
  static absl::StatusOr<RecordIterator> Open(absl::string_view batch, std::string* decompressed,
                                             bool verify_crc = false,
                                             size_t max_decompressed_size = kDefaultMaxDecompressedSize);

  // Next decodes the next record into *out. Returns false after the last record or on corrupt data; then
  // status() tells which.
  bool Next(RecordView* out);
  // OK while records are well formed, kDataLoss (naming the record index and byte position) after one is
  // not, or when bytes remain after the declared number of records.
  const absl::Status& status() const { return status_; }

  // The partition stamped on every view (default -1).
  void set_partition(int32_t partition) { partition_ = partition; }
  const BatchHeaderView& header() const { return header_; }
  // Records returned so far.
  int32_t records_read() const { return index_; }

 private:
  explicit RecordIterator(BatchHeaderView header) : header_(header) {}
  bool Fail(absl::string_view what, const char* record_start);

  BatchHeaderView header_;
  const char* begin_ = nullptr;  // records region
  const char* pos_ = nullptr;
  const char* end_ = nullptr;
  int64_t base_offset_ = 0;
  int64_t base_timestamp_ = 0;
  int64_t max_timestamp_ = 0;
  // Added to positions in the records region for error messages: 61 for an uncompressed batch (positions
  // are batch offsets), 0 for a compressed one (positions in the decompressed records).
  int64_t position_bias_ = 0;
  int32_t count_ = 0;
  int32_t index_ = 0;
  int32_t partition_ = -1;
  bool log_append_time_ = false;
  bool compressed_ = false;
  absl::Status status_;
};

}  // namespace eddy
