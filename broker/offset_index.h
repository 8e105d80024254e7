// OffsetIndex: a segment's sparse offset index, <base offset>.index. Maps an offset to the file position
// of a batch at or before the batch that holds it, so a read steps over at most ~index.interval.bytes.
//
// File format: 8-byte big-endian entries {int32 relative offset, int32 position}: the batch starting at
// `position` has last offset base_offset + relative offset. Relative offsets and positions strictly
// increase. One entry per index.interval.bytes of log data (Kafka's rule).
//
// Thread-safety: as IndexFile (one writer, concurrent readers).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "broker/index_file.h"

namespace eddy::broker {

class OffsetIndex {
 public:
  struct Entry {
    int32_t relative_offset = 0;
    int32_t position = 0;
  };
  static constexpr size_t kEntrySize = 8;

  // max_entries: segment.index.bytes / 8; the segment rolls once the index holds that many.
  OffsetIndex(std::string path, int64_t base_offset, size_t max_entries);

  const std::string& path() const { return file_.path(); }

  // Load reads the file and checks it against a log of `log_size` bytes: offsets and positions strictly
  // increasing, positions below log_size. kNotFound if missing, kDataLoss if invalid; on error the
  // in-memory index is left empty and the caller rebuilds it from the log.
  absl::Status Load(int64_t log_size);

  // Append indexes the batch starting at `position` whose last offset is `last_offset`. Writer only;
  // offsets and positions must be larger than the last entry's.
  void Append(int64_t last_offset, int64_t position);

  // Lookup returns the position of the last indexed batch whose last offset is <= `offset`, 0 if none: the
  // batch holding `offset` starts there or later. Any thread.
  int64_t Lookup(int64_t offset) const;

  // FloorPosition returns the largest indexed batch position <= `position`, 0 if none: a batch boundary
  // near a byte position (fetch's max_bytes cut). Any thread.
  int64_t FloorPosition(int64_t position) const;

  // TruncateToPosition drops the entries at positions >= `position` (recovery). Writer only.
  void TruncateToPosition(int64_t position);
  void Clear() { file_.Clear(); }

  size_t entry_count() const { return file_.size(); }
  bool full() const { return file_.size() >= max_entries_; }
  // The position of the last entry, or 0.
  int64_t last_position() const;

  // Writes entries not yet in the file (not durable); Sync makes the file durable.
  absl::Status WritePending() { return file_.WritePending(); }
  absl::Status Sync() const { return file_.Sync(); }

 private:
  struct Codec {
    static constexpr size_t kSize = kEntrySize;
    static void Encode(const Entry& e, char* p);
    static Entry Decode(const char* p);
  };

  const int64_t base_offset_;
  const size_t max_entries_;
  IndexFile<Entry, Codec> file_;
};

}  // namespace eddy::broker
