// BatchFilter, SegmentBatchReader and CheckRecordKeys. See log_cleaner_batch.h.
#include "broker/log_cleaner_batch.h"

#include <algorithm>
#include <cstring>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "core/varint.h"
#include "eddy/core/compression.h"
#include "eddy/core/crc32c.h"
#include "eddy/core/record_batch.h"
#include "eddy/core/status.h"

namespace eddy::broker {
namespace {

namespace bf = batch_format;
using absl::big_endian::Store16;
using absl::big_endian::Store32;
using absl::big_endian::Store64;

// The fields of a record up to its timestampDelta, parsed from its raw bytes (RecordIterator has already
// validated the record, so the varints are well formed).
struct RawRecord {
  const char* start = nullptr;  // the length varint
  const char* body = nullptr;   // the attributes byte
  const char* after_timestamp = nullptr;
  const char* end = nullptr;
  int64_t timestamp_delta = 0;
};

bool ParseRaw(const char* p, const char* limit, RawRecord* r) {
  r->start = p;
  int32_t length;
  if ((p = varint::Get32(p, limit, &length)) == nullptr || length < 1 || length > limit - p) return false;
  r->body = p;
  r->end = p + length;
  r->after_timestamp = varint::Get64(p + 1, r->end, &r->timestamp_delta);
  return r->after_timestamp != nullptr;
}

}  // namespace

// ---- CheckRecordKeys ------------------------------------------------------------------------------------

absl::Status CheckRecordKeys(absl::string_view batch, absl::string_view topic, std::string* scratch) {
  EDDY_ASSIGN_OR_RETURN(RecordIterator it, RecordIterator::Open(batch, scratch));
  RecordView r;
  while (it.Next(&r)) {
    if (!r.has_key()) {
      return absl::InvalidArgumentError(absl::StrCat("compacted topic ", topic, " requires keys: record ",
                                                     it.records_read() - 1, " of the batch has a null key"));
    }
  }
  return it.status();
}

// ---- BatchFilter ----------------------------------------------------------------------------------------

absl::Status BatchFilter::Filter(absl::string_view batch, const RecordRetention& rules, bool retain_if_empty,
                                 std::string* out, BatchFilterResult* result) {
  *result = BatchFilterResult();
  const BatchHeaderView h(batch.data());
  const size_t size = static_cast<size_t>(h.size_in_bytes());
  if (h.is_control() || (h.records_count() == 0 && retain_if_empty)) {
    out->append(batch.data(), size);
    result->output = BatchFilterResult::Output::kOriginal;
    return absl::OkStatus();
  }
  EDDY_ASSIGN_OR_RETURN(RecordIterator it, RecordIterator::Open(batch.substr(0, size), &decompressed_));
  const char* pos;
  const char* limit;
  if (h.compression() == Compression::kNone) {
    pos = batch.data() + bf::kHeaderSize;
    limit = batch.data() + size;
  } else {
    pos = decompressed_.data();
    limit = pos + decompressed_.size();
  }
  const bool had_horizon = (h.attributes() & bf::kDeleteHorizonBit) != 0;
  const int64_t old_horizon = had_horizon ? h.base_timestamp() : kNoDeleteHorizon;
  const int64_t latest = rules.map->latest_offset();
  kept_.clear();
  bool kept_tombstone = false;
  RecordView r;
  while (it.Next(&r)) {
    RawRecord raw;
    if (!ParseRaw(pos, limit, &raw)) return absl::DataLossError("undecodable record in a batch being cleaned");
    pos = raw.end;
    bool keep;
    if (r.offset() > latest) {
      keep = true;  // not seen by the map
    } else if (!r.has_key()) {
      keep = false;  // a compacted log cannot keep a keyless record (Kafka counts it as invalid)
    } else if (rules.map->Get(r.key()) > r.offset()) {
      keep = false;  // superseded by a later record of the same key
    } else {
      keep = r.has_value() || rules.now_ms < old_horizon;
    }
    if (keep) {
      kept_.push_back(
          KeptRecord{raw.start, static_cast<size_t>(raw.end - raw.start), h.base_timestamp() + raw.timestamp_delta});
      kept_tombstone |= !r.has_value();
    }
  }
  EDDY_RETURN_IF_ERROR(it.status());
  result->records_read = it.records_read();
  result->records_kept = static_cast<int32_t>(kept_.size());

  const bool set_horizon = kept_tombstone && !had_horizon;
  if (kept_tombstone) result->delete_horizon = had_horizon ? old_horizon : rules.now_ms + rules.delete_retention_ms;
  if (kept_.size() == static_cast<size_t>(result->records_read) && !set_horizon && (kept_tombstone || !had_horizon)) {
    out->append(batch.data(), size);
    result->output = BatchFilterResult::Output::kOriginal;
    return absl::OkStatus();
  }
  if (kept_.empty()) {
    if (retain_if_empty) {
      AppendEmptyBatch(batch, out);
      result->output = BatchFilterResult::Output::kEmpty;
    } else {
      result->output = BatchFilterResult::Output::kDropped;
    }
    return absl::OkStatus();
  }
  // baseTimestamp: the delete horizon while tombstones are kept; back to the first record's timestamp once a
  // batch that had a horizon keeps none; otherwise unchanged (the kept records' bytes are copied as they are).
  int64_t base_timestamp = h.base_timestamp();
  if (kept_tombstone) {
    base_timestamp = result->delete_horizon;
  } else if (had_horizon) {
    base_timestamp = kept_.front().timestamp;
  }
  EDDY_RETURN_IF_ERROR(AppendRewritten(batch, base_timestamp, kept_tombstone, out));
  result->output = BatchFilterResult::Output::kRewritten;
  return absl::OkStatus();
}

void BatchFilter::AppendEmptyBatch(absl::string_view batch, std::string* out) const {
  const BatchHeaderView h(batch.data());
  const size_t at = out->size();
  out->append(batch.data(), bf::kHeaderSize);
  char* p = out->data() + at;
  const uint16_t attributes = h.attributes() & (bf::kTimestampTypeBit | bf::kTransactionalBit | bf::kControlBit);
  Store32(p + bf::kBatchLength, static_cast<uint32_t>(bf::kHeaderSize - bf::kLogOverhead));
  Store16(p + bf::kAttributes, attributes);
  Store64(p + bf::kBaseTimestamp, static_cast<uint64_t>(h.max_timestamp()));
  Store32(p + bf::kRecordsCount, 0);
  Store32(p + bf::kCrc, crc32c::Value(p + bf::kCrcStart, bf::kHeaderSize - bf::kCrcStart));
}

absl::Status BatchFilter::AppendRewritten(absl::string_view batch, int64_t base_timestamp, bool set_horizon,
                                          std::string* out) {
  const BatchHeaderView h(batch.data());
  const bool rebase = base_timestamp != h.base_timestamp();
  records_.clear();
  int64_t max_timestamp = -1;
  for (const KeptRecord& k : kept_) {
    max_timestamp = std::max(max_timestamp, k.timestamp);
    if (!rebase) {
      records_.append(k.start, k.size);
      continue;
    }
    // Re-encode the timestampDelta against the new baseTimestamp; the rest of the record is unchanged.
    RawRecord raw;
    ParseRaw(k.start, k.start + k.size, &raw);  // parsed once already
    const int64_t delta = k.timestamp - base_timestamp;
    const size_t rest = static_cast<size_t>(raw.end - raw.after_timestamp);
    const int32_t length = static_cast<int32_t>(1 + varint::Length64(delta) + rest);
    const size_t at = records_.size();
    records_.resize(at + varint::kMaxVarint32 + static_cast<size_t>(length));
    char* p = varint::Put32(records_.data() + at, length);
    *p++ = *raw.body;  // attributes
    p = varint::Put64(p, delta);
    std::memcpy(p, raw.after_timestamp, rest);
    records_.resize(static_cast<size_t>(p + rest - records_.data()));
  }
  absl::string_view body = records_;
  if (h.compression() != Compression::kNone) {
    EDDY_RETURN_IF_ERROR(Compress(h.compression(), records_, &compressed_));
    body = compressed_;
  }
  const size_t total = bf::kHeaderSize + body.size();
  const size_t at = out->size();
  out->append(batch.data(), bf::kHeaderSize);
  out->append(body.data(), body.size());
  char* p = out->data() + at;
  uint16_t attributes = h.attributes() & ~bf::kDeleteHorizonBit;
  if (set_horizon) attributes |= bf::kDeleteHorizonBit;
  if (h.timestamp_type() == TimestampType::kLogAppendTime) max_timestamp = h.max_timestamp();
  Store32(p + bf::kBatchLength, static_cast<uint32_t>(total - bf::kLogOverhead));
  Store16(p + bf::kAttributes, attributes);
  Store64(p + bf::kBaseTimestamp, static_cast<uint64_t>(base_timestamp));
  Store64(p + bf::kMaxTimestamp, static_cast<uint64_t>(max_timestamp));
  Store32(p + bf::kRecordsCount, static_cast<uint32_t>(kept_.size()));
  Store32(p + bf::kCrc, crc32c::Value(p + bf::kCrcStart, total - bf::kCrcStart));
  return absl::OkStatus();
}

// ---- SegmentBatchReader -----------------------------------------------------------------------------------

absl::StatusOr<bool> SegmentBatchReader::Next(absl::string_view* batch, int64_t* position) {
  if (position_ >= limit_) return false;
  auto buffered = [&] { return static_cast<int64_t>(buffer_.size()) - (position_ - buffer_start_); };
  if (!loaded_ || position_ < buffer_start_ || buffered() < bf::kHeaderSize ||
      buffered() < BatchHeaderView(buffer_.data() + (position_ - buffer_start_)).size_in_bytes()) {
    const int64_t want = std::min<int64_t>(static_cast<int64_t>(io_bytes_), limit_ - position_);
    EDDY_RETURN_IF_ERROR(segment_.ReadAt(position_, want, &buffer_));
    if (want >= bf::kHeaderSize) {
      // A batch larger than the I/O size: read it whole.
      const int64_t size = std::min(BatchHeaderView(buffer_.data()).size_in_bytes(), limit_ - position_);
      if (size > want) EDDY_RETURN_IF_ERROR(segment_.ReadAt(position_, size, &buffer_));
    }
    buffer_start_ = position_;
    loaded_ = true;
  }
  absl::string_view rest(buffer_.data() + (position_ - buffer_start_), static_cast<size_t>(buffered()));
  absl::StatusOr<BatchHeaderView> h = ValidateBatch(rest, /*verify_crc=*/true);
  if (!h.ok()) return CorruptBatchError(segment_.log_path(), position_, h.status().message());
  *batch = rest.substr(0, static_cast<size_t>(h->size_in_bytes()));
  *position = position_;
  position_ += h->size_in_bytes();
  return true;
}

}  // namespace eddy::broker
