// LogSegment. See log_segment.h.
#include "broker/log_segment.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "eddy/core/record_batch.h"
#include "eddy/core/status.h"

namespace eddy::broker {
namespace {

namespace bf = batch_format;

// Indexes are written to their files once this many entries are pending (and on seal): with the default
// index.interval.bytes, every ~256 KiB of log data. After a crash, reads in the part of the active segment
// whose entries were not written yet step over batch headers from the last written entry.
constexpr int64_t kIndexWriteBatch = 64;

// Bounds of the block reservation ahead of the writes: as many bytes as the segment already holds, so a
// quiet partition reserves little and a busy one calls fallocate once per 8 MiB.
constexpr int64_t kMinPreallocate = 64 * 1024;
constexpr int64_t kMaxPreallocate = 8 * 1024 * 1024;

// The file's creation time in ms (statx btime), else its modification time, else -1.
int64_t FileBirthMs(const std::string& path) {
  struct statx stx;
  if (::statx(AT_FDCWD, path.c_str(), 0, STATX_BTIME | STATX_MTIME, &stx) != 0) return -1;
  const struct statx_timestamp& t = (stx.stx_mask & STATX_BTIME) ? stx.stx_btime : stx.stx_mtime;
  return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

uint64_t NextSegmentId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

absl::Status CorruptBatchError(const std::string& path, int64_t position, absl::string_view what) {
  return absl::DataLossError(absl::StrCat(path, ": batch at position ", position, " ", what));
}

void ScanBuffer::Reserve(size_t n, size_t keep) {
  if (n <= capacity) return;
  std::unique_ptr<char[]> bigger(new char[n]);
  if (keep > 0) std::memcpy(bigger.get(), data.get(), keep);
  data = std::move(bigger);
  capacity = n;
}

std::string LogSegment::FileName(int64_t base_offset, absl::string_view extension) {
  return absl::StrFormat("%020d%s", base_offset, extension);
}

LogSegment::LogSegment(std::string dir, int64_t base_offset, const LogConfig& config, File log,
                       absl::string_view suffix)
    : dir_(std::move(dir)),
      base_offset_(base_offset),
      id_(NextSegmentId()),
      index_interval_bytes_(config.index_interval_bytes),
      segment_bytes_(config.segment_bytes),
      log_(std::move(log)),
      offset_index_(absl::StrCat(dir_, "/", FileName(base_offset, ".index"), suffix), base_offset,
                    static_cast<size_t>(config.segment_index_bytes) / OffsetIndex::kEntrySize),
      time_index_(absl::StrCat(dir_, "/", FileName(base_offset, ".timeindex"), suffix), base_offset,
                  static_cast<size_t>(config.segment_index_bytes) / TimeIndex::kEntrySize),
      next_offset_(base_offset) {}

absl::StatusOr<std::shared_ptr<LogSegment>> LogSegment::Create(const std::string& dir, int64_t base_offset,
                                                               const LogConfig& config, absl::string_view suffix) {
  const std::string path = absl::StrCat(dir, "/", FileName(base_offset, ".log"), suffix);
  EDDY_ASSIGN_OR_RETURN(File f, File::Open(path, O_RDWR | O_CREAT | O_TRUNC));
  std::shared_ptr<LogSegment> seg(new LogSegment(dir, base_offset, config, std::move(f), suffix));
  // Leftover index files would otherwise be appended to.
  EDDY_RETURN_IF_ERROR(RemoveFile(seg->offset_index_.path()));
  EDDY_RETURN_IF_ERROR(RemoveFile(seg->time_index_.path()));
  return seg;
}

absl::StatusOr<std::shared_ptr<LogSegment>> LogSegment::Open(const std::string& dir, int64_t base_offset,
                                                             const LogConfig& config, absl::string_view suffix) {
  const std::string path = absl::StrCat(dir, "/", FileName(base_offset, ".log"), suffix);
  EDDY_ASSIGN_OR_RETURN(File f, File::Open(path, O_RDWR));
  EDDY_ASSIGN_OR_RETURN(int64_t size, f.Size());
  std::shared_ptr<LogSegment> seg(new LogSegment(dir, base_offset, config, std::move(f), suffix));
  seg->size_.store(size, std::memory_order_release);
  seg->preallocated_end_ = size;
  seg->trim_on_seal_ = true;
  if (size > 0) seg->first_append_ms_ = FileBirthMs(path);
  return seg;
}

// ---- Readers ----------------------------------------------------------------------------------------------

absl::StatusOr<BatchLocation> LogSegment::FindBatch(int64_t offset, int64_t end_offset) const {
  BatchLocation loc;
  const int64_t limit = size();
  absl::Status s = ForEachBatch(offset_index_.Lookup(offset), limit, [&](const BatchHeaderView& h, int64_t pos) {
    if (h.base_offset() >= end_offset) return false;
    if (h.last_offset() < offset) return true;
    loc.position = pos;
    loc.size = h.size_in_bytes();
    return false;
  });
  if (!s.ok()) return s;
  return loc;
}

absl::StatusOr<int64_t> LogSegment::LocateBatches(int64_t position, int64_t limit, int64_t max_bytes,
                                                  bool at_least_one, int64_t* next_offset) const {
  if (next_offset != nullptr) *next_offset = -1;
  limit = std::min(limit, size());
  if (position >= limit) return 0;
  if (limit - position <= max_bytes) return limit - position;
  auto batch_size = [&](const char* h, int64_t at) -> absl::StatusOr<int64_t> {
    const int64_t n = BatchHeaderView(h).size_in_bytes();
    if (n < bf::kHeaderSize || at + n > limit) return CorruptBatchError(log_.path(), at, "has an invalid length");
    return n;
  };
  // The first batch's whole header (a batch is never shorter): its last offset is where a reader goes on
  // when the cut falls right after it.
  char header[bf::kHeaderSize];
  const int64_t header_bytes = std::min<int64_t>(bf::kHeaderSize, limit - position);
  EDDY_RETURN_IF_ERROR(log_.PreadFull(header, static_cast<size_t>(header_bytes), position));
  EDDY_ASSIGN_OR_RETURN(const int64_t first, batch_size(header, position));
  if (first > max_bytes || max_bytes - first < bf::kHeaderSize) {
    // Only the first batch fits (or not even that): no need to read further to know the cut. Consumers
    // that read about one batch per fetch (a share of max.poll.records) come through here every time.
    if (first > max_bytes && !at_least_one) return 0;
    if (next_offset != nullptr) *next_offset = BatchHeaderView(header).next_offset();
    return first;
  }
  // The cut is the last batch boundary at or before `target`. Walk the batch headers from the offset
  // index's entry below it (at most index.interval.bytes plus one batch away), not from `position`.
  const int64_t target = position + max_bytes;
  int64_t at = std::max(position + first, offset_index_.FloorPosition(target));
  // Reads the header at `pos` and returns its batch's size; when that batch passes `target`, *next_offset
  // is its base offset (the reader goes on there).
  auto header_at = [&](int64_t pos) -> absl::StatusOr<int64_t> {
    char h[bf::kLogOverhead];
    EDDY_RETURN_IF_ERROR(log_.PreadFull(h, sizeof(h), pos));
    EDDY_ASSIGN_OR_RETURN(const int64_t batch, batch_size(h, pos));
    if (pos + batch > target && next_offset != nullptr) *next_offset = BatchHeaderView(h).base_offset();
    return batch;
  };
  constexpr int64_t kSpanRead = 64 * 1024;
  constexpr int64_t kHeaderFirst = 1024;  // a longer span starts with a header read: large batches end it
  if (target + bf::kLogOverhead - at <= kSpanRead) {
    if (target + bf::kLogOverhead - at > kHeaderFirst && at + bf::kLogOverhead <= limit) {
      EDDY_ASSIGN_OR_RETURN(const int64_t batch, header_at(at));
      if (at + batch > target) return at - position;
    }
    // Small batches: one read of the span and a walk in memory.
    char span[kSpanRead];
    const int64_t n = std::min(target + bf::kLogOverhead, limit) - at;
    EDDY_RETURN_IF_ERROR(log_.PreadFull(span, static_cast<size_t>(n), at));
    int64_t i = 0;
    while (i + bf::kLogOverhead <= n) {
      EDDY_ASSIGN_OR_RETURN(const int64_t batch, batch_size(span + i, at + i));
      if (at + i + batch > target) {
        if (next_offset != nullptr) *next_offset = BatchHeaderView(span + i).base_offset();
        break;
      }
      i += batch;
    }
    return at + i - position;
  }
  // Large batches: one small read per header.
  while (at < limit) {
    EDDY_ASSIGN_OR_RETURN(const int64_t batch, header_at(at));
    if (at + batch > target) break;
    at += batch;
  }
  return at - position;
}

absl::Status LogSegment::ReadAt(int64_t position, int64_t n, std::string* out) const {
  out->resize(static_cast<size_t>(n));
  return log_.PreadFull(out->data(), static_cast<size_t>(n), position);
}

absl::Status LogSegment::AppendAt(int64_t position, int64_t n, std::string* out) const {
  const size_t start = out->size();
  out->resize(start + static_cast<size_t>(n));
  absl::Status s = log_.PreadFull(out->data() + start, static_cast<size_t>(n), position);
  if (!s.ok()) out->resize(start);
  return s;
}

// ---- Durability --------------------------------------------------------------------------------------------

absl::Status LogSegment::SyncLog() { return log_.DataSync(); }

absl::Status LogSegment::SyncIndexes() const {
  EDDY_RETURN_IF_ERROR(offset_index_.Sync());
  return time_index_.Sync();
}

// ---- Writer ------------------------------------------------------------------------------------------------

void LogSegment::IndexBatch(const BatchHeaderView& h, int64_t position, int64_t* max_ts) {
  *max_ts = std::max(*max_ts, h.max_timestamp());
  if (bytes_since_index_ >= index_interval_bytes_) {
    offset_index_.Append(h.last_offset(), position);
    time_index_.MaybeAppend(*max_ts, h.last_offset());
    bytes_since_index_ = 0;
    ++unwritten_index_entries_;
  }
  bytes_since_index_ += h.size_in_bytes();
  next_offset_ = h.next_offset();
}

absl::Status LogSegment::Append(absl::string_view batches, int64_t now_ms, bool* file_damaged) {
  *file_damaged = false;
  const int64_t position = size_.load(std::memory_order_relaxed);
  const int64_t end = position + static_cast<int64_t>(batches.size());
  if (end > preallocated_end_ && preallocate_) PreallocateFor(end);
  absl::Status s = log_.PwriteFull(batches.data(), batches.size(), position);
  if (!s.ok()) {
    preallocated_end_ = position;  // the truncation releases the reservation too
    absl::Status t = log_.Truncate(position);
    if (!t.ok()) {
      *file_damaged = true;
      return absl::Status(s.code(), absl::StrCat(s.message(), "; cutting the partial write back also failed: ",
                                                 t.message()));
    }
    return s;
  }
  int64_t max_ts = max_timestamp_.load(std::memory_order_relaxed);
  for (size_t at = 0; at < batches.size();) {
    const BatchHeaderView h(batches.data() + at);
    IndexBatch(h, position + static_cast<int64_t>(at), &max_ts);
    at += static_cast<size_t>(h.size_in_bytes());
  }
  if (first_append_ms_ < 0) first_append_ms_ = now_ms;
  max_timestamp_.store(max_ts, std::memory_order_release);
  size_.store(position + static_cast<int64_t>(batches.size()), std::memory_order_release);
  if (unwritten_index_entries_ >= kIndexWriteBatch) {
    // Best effort: the in-memory index is complete, and Seal writes the files out again (and reports errors).
    if (offset_index_.WritePending().ok() && time_index_.WritePending().ok()) unwritten_index_entries_ = 0;
  }
  return absl::OkStatus();
}

void LogSegment::PreallocateFor(int64_t end) {
  const int64_t ahead = std::clamp(end, kMinPreallocate, kMaxPreallocate);
  const int64_t target = std::max(end, std::min(end + ahead, segment_bytes_));
  const int64_t from = std::max(preallocated_end_, size_.load(std::memory_order_relaxed));
  if (!log_.Preallocate(from, target - from).ok()) {
    preallocate_ = false;  // e.g. not supported here, or the disk is nearly full: the pwrite will say
    return;
  }
  preallocated_end_ = target;
  trim_on_seal_ = true;
}

absl::Status LogSegment::Seal() {
  if (next_offset_ > base_offset_) time_index_.MaybeAppend(max_timestamp(), next_offset_ - 1);
  EDDY_RETURN_IF_ERROR(offset_index_.WritePending());
  EDDY_RETURN_IF_ERROR(time_index_.WritePending());
  unwritten_index_entries_ = 0;
  if (trim_on_seal_) {
    // Truncating to the size releases the blocks reserved past it. A failure costs disk space only.
    if (log_.Truncate(size()).ok()) trim_on_seal_ = false;
    preallocated_end_ = size();
  }
  return absl::OkStatus();
}

// ---- Loading and recovery ---------------------------------------------------------------------------------

absl::Status LogSegment::LoadIndexes() {
  if (size() == 0) {
    // Nothing to index (e.g. a segment created by a roll just before the shutdown).
    offset_index_.Clear();
    time_index_.Clear();
    max_timestamp_.store(-1, std::memory_order_release);
    return absl::OkStatus();
  }
  // Each index is kept if it is valid, even if the other is not (recovery can use a partial index).
  absl::Status s = offset_index_.Load(size());
  if (!s.ok()) offset_index_.Clear();
  absl::Status t = time_index_.Load();
  if (!t.ok()) time_index_.Clear();
  max_timestamp_.store(time_index_.last_timestamp(), std::memory_order_release);
  return s.ok() ? t : s;
}

absl::Status LogSegment::LoadTail() {
  const int64_t start = offset_index_.last_position();
  int64_t max_ts = max_timestamp();
  int64_t last_pos = start;
  next_offset_ = base_offset_;
  bytes_since_index_ = 0;
  EDDY_RETURN_IF_ERROR(ForEachBatch(start, size(), [&](const BatchHeaderView& h, int64_t pos) {
    max_ts = std::max(max_ts, h.max_timestamp());
    next_offset_ = h.next_offset();
    last_pos = pos + h.size_in_bytes();
    return true;
  }));
  bytes_since_index_ = last_pos - start;
  max_timestamp_.store(max_ts, std::memory_order_release);
  return absl::OkStatus();
}

absl::StatusOr<SegmentScan> LogSegment::Recover(int64_t position, int64_t next_offset, int64_t max_timestamp,
                                                ScanBuffer* buffer, bool allow_gaps) {
  SegmentScan scan;
  EDDY_ASSIGN_OR_RETURN(const int64_t file_size, log_.Size());
  if (position > file_size) {
    return absl::InternalError(absl::StrCat(log_.path(), ": recovery from position ", position,
                                            " beyond the end of the file (", file_size, " bytes)"));
  }
  if (position == 0) {
    offset_index_.Clear();
    time_index_.Clear();
  } else {
    offset_index_.TruncateToPosition(position);
    time_index_.TruncateToOffset(next_offset);
  }
  int64_t max_ts = std::max(max_timestamp, time_index_.last_timestamp());
  next_offset_ = next_offset;
  bytes_since_index_ = position - offset_index_.last_position();
  scan.scanned_bytes = file_size - position;

  if (buffer->capacity == 0) buffer->Reserve(8 << 20, 0);
  int64_t pos = position;      // next batch
  int64_t buf_pos = position;  // file position of buffer->data[0]
  int64_t buf_len = 0;
  // Moves the unread bytes [pos, buf_pos + buf_len) to the front and fills the rest of the buffer, grown to
  // at least `need` bytes.
  auto refill = [&](int64_t need) -> absl::Status {
    const int64_t off = pos - buf_pos;
    const int64_t keep = buf_len - off;
    if (keep > 0 && off > 0) std::memmove(buffer->data.get(), buffer->data.get() + off, static_cast<size_t>(keep));
    buffer->Reserve(static_cast<size_t>(need), static_cast<size_t>(keep));
    const int64_t n = std::min<int64_t>(static_cast<int64_t>(buffer->capacity) - keep, file_size - pos - keep);
    EDDY_RETURN_IF_ERROR(log_.PreadFull(buffer->data.get() + keep, static_cast<size_t>(n), pos + keep));
    buf_pos = pos;
    buf_len = keep + n;
    return absl::OkStatus();
  };
  while (pos < file_size) {
    if (buf_len - (pos - buf_pos) < bf::kHeaderSize) {
      if (file_size - pos < bf::kHeaderSize) {
        scan.stop_reason = absl::StrCat("incomplete batch header at position ", pos, ": ", file_size - pos,
                                        " bytes present");
        break;
      }
      EDDY_RETURN_IF_ERROR(refill(bf::kHeaderSize));
    }
    const BatchHeaderView h(buffer->data.get() + (pos - buf_pos));
    if (h.batch_length() < bf::kHeaderSize - bf::kLogOverhead) {
      scan.stop_reason = absl::StrCat("invalid batch length ", h.batch_length(), " at position ", pos);
      break;
    }
    const int64_t size = h.size_in_bytes();
    if (pos + size > file_size) {
      scan.stop_reason = absl::StrCat("incomplete batch at position ", pos, ": ", size, " bytes declared, ",
                                      file_size - pos, " present");
      break;
    }
    if (size > buf_len - (pos - buf_pos)) {
      EDDY_RETURN_IF_ERROR(refill(size));
      continue;  // the header moved
    }
    const char* p = buffer->data.get() + (pos - buf_pos);
    absl::StatusOr<BatchHeaderView> valid = ValidateBatch(absl::string_view(p, static_cast<size_t>(size)));
    if (!valid.ok()) {
      scan.stop_reason = absl::StrCat("invalid batch at position ", pos, ": ", valid.status().message());
      break;
    }
    const bool offsets_ok = allow_gaps ? h.base_offset() >= next_offset_ : h.base_offset() == next_offset_;
    if (!offsets_ok || h.last_offset_delta() < 0 ||
        h.last_offset() - base_offset_ > std::numeric_limits<int32_t>::max()) {
      scan.stop_reason = absl::StrCat("batch at position ", pos, " has offsets [", h.base_offset(), ", ",
                                      h.last_offset(), "], expected to start at ",
                                      allow_gaps ? "or after " : "", next_offset_);
      break;
    }
    IndexBatch(h, pos, &max_ts);
    pos += size;
  }
  if (pos < file_size) {
    EDDY_RETURN_IF_ERROR(log_.Truncate(pos));
    scan.truncated_bytes = file_size - pos;
  }
  size_.store(pos, std::memory_order_release);
  max_timestamp_.store(max_ts, std::memory_order_release);
  if (first_append_ms_ < 0 && pos > 0) first_append_ms_ = FileBirthMs(log_.path());
  unwritten_index_entries_ = kIndexWriteBatch;  // write the rebuilt entries out at the next chance
  return scan;
}

absl::Status LogSegment::Truncate(int64_t size, int64_t next_offset) {
  EDDY_RETURN_IF_ERROR(log_.Truncate(size));
  preallocated_end_ = size;  // the truncation released any reservation
  trim_on_seal_ = false;
  offset_index_.TruncateToPosition(size);
  time_index_.TruncateToOffset(next_offset);
  size_.store(size, std::memory_order_release);
  next_offset_ = next_offset;
  bytes_since_index_ = size - offset_index_.last_position();
  max_timestamp_.store(time_index_.last_timestamp(), std::memory_order_release);
  return absl::OkStatus();
}

absl::Status LogSegment::DeleteFiles() {
  EDDY_RETURN_IF_ERROR(RemoveFile(log_.path()));
  EDDY_RETURN_IF_ERROR(RemoveFile(offset_index_.path()));
  return RemoveFile(time_index_.path());
}

}  // namespace eddy::broker
