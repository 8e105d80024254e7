// LogSegment: one segment of a partition log: <dir>/<20-digit base offset>.log holding record batches
// back to back exactly as stored (Kafka's format), with its sparse .index and .timeindex. See
// docs/log-format.md.
//
// Lifecycle: created empty by a roll (Create) or found on disk (Open, then LoadIndexes/LoadTail or
// Recover); receives appends while it is the active (last) segment; sealed (Seal) when the log rolls or
// closes; eventually deleted by retention (DeleteFiles). Held by shared_ptr: a reader that took a
// snapshot of the segment list keeps the segment (and its open file descriptor) alive even after
// retention deleted its files.
//
// Thread-safety: the writer methods (Append, Seal, Load*, Recover, Truncate) are called by one thread at a
// time: the owner of the partition log's append lock, or the thread opening the log. The reader methods
// (size, max_timestamp, FindBatch, LocateBatches, ReadAt, AppendAt, ForEachBatch) and the sync methods may be
// called from any thread concurrently with the writer: they read only below the published size().
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "broker/file_util.h"
#include "broker/log_config.h"
#include "broker/offset_index.h"
#include "broker/time_index.h"
#include "eddy/core/record_batch_format.h"

namespace eddy::broker {

// A growable read buffer, reused across segments by recovery (no zero-filling on growth).
struct ScanBuffer {
  std::unique_ptr<char[]> data;
  size_t capacity = 0;
  void Reserve(size_t n, size_t keep);  // grows to at least n bytes, keeping the first `keep`
};

// What a recovery scan of a segment found.
struct SegmentScan {
  int64_t scanned_bytes = 0;    // bytes examined (from the start position to the old end of file)
  int64_t truncated_bytes = 0;  // bytes cut off the end of the file
  std::string stop_reason;      // why the scan stopped before the end of file; empty if it did not
};

// The position and size of one batch inside a segment file.
struct BatchLocation {
  int64_t position = -1;  // -1: no such batch
  int64_t size = 0;
};

class LogSegment {
 public:
  // File names: 20-digit zero-padded base offset plus the extension, as Kafka.
  static std::string FileName(int64_t base_offset, absl::string_view extension);

  // Create makes a new, empty segment (its .log exists on return; the indexes are written lazily).
  // Leftover files with the same name are truncated. A non-empty `suffix` is appended to the three file
  // names: the log cleaner writes its output as <base>.log.cleaned etc. (docs/log-compaction.md).
  static absl::StatusOr<std::shared_ptr<LogSegment>> Create(const std::string& dir, int64_t base_offset,
                                                            const LogConfig& config, absl::string_view suffix = "");
  // Open opens an existing segment's .log for reading and appending. Its indexes are empty until
  // LoadIndexes or Recover. `suffix` as for Create.
  static absl::StatusOr<std::shared_ptr<LogSegment>> Open(const std::string& dir, int64_t base_offset,
                                                          const LogConfig& config, absl::string_view suffix = "");

  LogSegment(const LogSegment&) = delete;
  LogSegment& operator=(const LogSegment&) = delete;

  int64_t base_offset() const { return base_offset_; }
  // id tells this segment object apart from every other one of the process (a cleaned copy that replaces
  // it has the same base offset but another id); never 0.
  uint64_t id() const { return id_; }
  const std::string& log_path() const { return log_.path(); }

  // ---- Any thread ----
  // Bytes of whole batches published to readers.
  int64_t size() const { return size_.load(std::memory_order_acquire); }
  // The largest record timestamp in the segment, -1 when empty.
  int64_t max_timestamp() const { return max_timestamp_.load(std::memory_order_acquire); }

  // FindBatch returns the first batch whose last offset is >= `offset` and whose base offset is below
  // `end_offset`, starting the search at the offset index's hint. position -1 if there is none below
  // size(). kDataLoss if the framing on disk is corrupt.
  absl::StatusOr<BatchLocation> FindBatch(int64_t offset, int64_t end_offset) const;

  // LocateBatches returns the length of the whole batches starting at `position` (a batch boundary) and
  // ending at or before `limit` (a batch boundary <= size()): as many as fit in max_bytes, but at least
  // the first one if `at_least_one`. Reads batch headers only when the range is larger than max_bytes.
  // kDataLoss on corrupt framing. When it stops short of `limit` at a batch whose first offset it knows,
  // *next_offset (if given) is that offset: the base offset of the batch that did not fit, or, when only
  // the first batch fits, its last offset + 1 (where a reader goes on, compaction gaps included); else -1.
  absl::StatusOr<int64_t> LocateBatches(int64_t position, int64_t limit, int64_t max_bytes, bool at_least_one,
                                        int64_t* next_offset = nullptr) const;

  // The descriptor of the .log file, for sendfile(2) of ranges LocateBatches returned. It stays open while
  // the segment lives (a reader holding the shared_ptr keeps it), even after DeleteFiles.
  int log_fd() const { return log_.fd(); }

  // ForEachBatch calls fn(const BatchHeaderView&, int64_t position) for each batch from `position` (a
  // batch boundary) up to `limit` bytes, until fn returns false. Only the 61-byte header is valid in the
  // view. kDataLoss on corrupt framing.
  template <typename Fn>
  absl::Status ForEachBatch(int64_t position, int64_t limit, Fn&& fn) const;

  // Reads `n` bytes at `position` (e.g. one whole batch found by ForEachBatch) into *out, replacing it.
  absl::Status ReadAt(int64_t position, int64_t n, std::string* out) const;
  // Appends `n` bytes at `position` to *out (*out is unchanged on error).
  absl::Status AppendAt(int64_t position, int64_t n, std::string* out) const;

  // Offset of the last entry of the time index whose timestamp is below `timestamp` (see TimeIndex),
  // and the offset index's position hint for an offset.
  int64_t TimeIndexLookup(int64_t timestamp) const { return time_index_.Lookup(timestamp); }
  int64_t OffsetIndexLookup(int64_t offset) const { return offset_index_.Lookup(offset); }

  // ---- Durability (any thread; serialized by the partition log's flush lock) ----
  absl::Status SyncLog();
  // Writes nothing: fdatasyncs the index files as they are on disk (called after Seal).
  absl::Status SyncIndexes() const;
  // Whether the segment is sealed and was synced after sealing (log and indexes): nothing left to sync.
  bool fully_synced() const { return fully_synced_.load(std::memory_order_acquire); }
  void set_fully_synced(bool v) { fully_synced_.store(v, std::memory_order_release); }

  // ---- Writer (the log's append lock, or the opening thread) ----
  // Append writes `batches` (whole, validated batches whose offsets start at next_offset()) at the end of
  // the file with one pwrite, indexes them and publishes the new size. Disk blocks are reserved ahead of
  // the writes (File::Preallocate, as much as the segment already holds, 64 KiB to 8 MiB and at most to
  // segment.bytes): on ext4 that takes block allocation off every 4 KiB page of the pwrite (about 40% of
  // its CPU, docs/PERFORMANCE.md). Seal releases what was reserved past the end. On error nothing is published and
  // the file is cut back to its old size; kResourceExhausted when the disk is full. If cutting back fails
  // too, *file_damaged is set: the caller must stop using the segment.
  absl::Status Append(absl::string_view batches, int64_t now_ms, bool* file_damaged);
  // Offset after the last batch (base_offset when empty).
  int64_t next_offset() const { return next_offset_; }
  // Wall time of the first append (-1 when empty); after a reopen, the file's creation time.
  int64_t first_append_ms() const { return first_append_ms_; }
  bool index_full() const { return offset_index_.full() || time_index_.full(); }
  // Seal writes the indexes out completely, with a final time index entry holding max_timestamp(), and
  // releases the disk blocks reserved past the end of the log. No fsync (SyncLog/SyncIndexes do that).
  // Called on roll and on close.
  absl::Status Seal();

  // LoadIndexes reads both index files and checks them against the log's size (trusting the log). Errors
  // (kNotFound, kDataLoss) mean the caller must Recover(0, ...) to rebuild them; a valid index is kept even
  // if the other one is not.
  absl::Status LoadIndexes();
  // LoadTail finds next_offset() by stepping over the batch headers after the last offset index entry
  // (after a clean shutdown). kDataLoss if the framing there is corrupt.
  absl::Status LoadTail();
  // Recover checks the batches from `position` (a batch boundary known valid, e.g. the recovery point) to
  // the end of the file: framing, CRC-32C, offsets contiguous from `next_offset`, relative offsets within
  // int32. Index entries at or after `position` are dropped and rebuilt from the scan; `max_timestamp` is
  // the largest timestamp before `position`. The file is cut at the first invalid or incomplete batch.
  // Reads in chunks of buffer->capacity bytes. With allow_gaps (compacted logs, whose cleaned segments
  // have holes between batches) offsets need only increase: a batch may start after `next_offset`.
  absl::StatusOr<SegmentScan> Recover(int64_t position, int64_t next_offset, int64_t max_timestamp,
                                      ScanBuffer* buffer, bool allow_gaps = false);
  // Truncate cuts the segment to `size` bytes (a batch boundary) with next offset `next_offset`; indexes
  // are cut to match. Used by recovery only.
  absl::Status Truncate(int64_t size, int64_t next_offset);

  // DeleteFiles unlinks the segment's files. Open descriptors (readers) stay valid.
  absl::Status DeleteFiles();

 private:
  LogSegment(std::string dir, int64_t base_offset, const LogConfig& config, File log, absl::string_view suffix);

  // Reserves blocks so that the file can grow to at least `end` bytes without allocating (best effort:
  // on failure the writes allocate as they go, and preallocation stops for this segment).
  void PreallocateFor(int64_t end);

  // Adds index entries for the batch `h` at `position` and advances next_offset_/bytes_since_index_.
  // Returns the batch's max timestamp.
  void IndexBatch(const BatchHeaderView& h, int64_t position, int64_t* max_ts);

  const std::string dir_;
  const int64_t base_offset_;
  const uint64_t id_;
  const int32_t index_interval_bytes_;
  const int64_t segment_bytes_;
  File log_;
  OffsetIndex offset_index_;
  TimeIndex time_index_;

  std::atomic<int64_t> size_{0};
  std::atomic<int64_t> max_timestamp_{-1};
  std::atomic<bool> fully_synced_{false};

  // Writer-owned.
  int64_t next_offset_;
  int64_t bytes_since_index_ = 0;
  int64_t first_append_ms_ = -1;
  int64_t unwritten_index_entries_ = 0;
  // Blocks are reserved up to here (file bytes). Past size(), they are released by Seal.
  int64_t preallocated_end_ = 0;
  bool preallocate_ = true;  // false after a failed Preallocate
  // Whether blocks may be reserved past size(): set by a preallocation, and on Open (a crash may have
  // left some).
  bool trim_on_seal_ = false;
};

// ---- Template implementation ----------------------------------------------------------------------------

absl::Status CorruptBatchError(const std::string& path, int64_t position, absl::string_view what);

template <typename Fn>
absl::Status LogSegment::ForEachBatch(int64_t position, int64_t limit, Fn&& fn) const {
  constexpr int64_t kChunk = 8192;
  char buf[kChunk];
  int64_t buf_pos = 0, buf_len = 0;  // file range [buf_pos, buf_pos + buf_len) is in buf
  while (position + batch_format::kHeaderSize <= limit) {
    if (position < buf_pos || position + batch_format::kHeaderSize > buf_pos + buf_len) {
      const int64_t n = std::min(kChunk, limit - position);
      absl::Status s = log_.PreadFull(buf, static_cast<size_t>(n), position);
      if (!s.ok()) return s;
      buf_pos = position;
      buf_len = n;
    }
    const BatchHeaderView h(buf + (position - buf_pos));
    if (h.batch_length() < batch_format::kHeaderSize - batch_format::kLogOverhead ||
        position + h.size_in_bytes() > limit) {
      return CorruptBatchError(log_.path(), position, "has an invalid length");
    }
    if (!fn(static_cast<const BatchHeaderView&>(h), position)) return absl::OkStatus();
    position += h.size_in_bytes();
  }
  if (position != limit) return CorruptBatchError(log_.path(), position, "is truncated");
  return absl::OkStatus();
}

}  // namespace eddy::broker
