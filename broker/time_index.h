// TimeIndex: a segment's sparse time index, <base offset>.timeindex, for ListOffsets by timestamp and for
// time-based retention (a sealed segment's last entry holds its largest timestamp).
//
// File format: 12-byte big-endian entries {int64 timestamp, int32 relative offset}: every record at an
// offset <= base_offset + relative offset has a timestamp <= `timestamp` (the largest timestamp so far).
// Timestamps strictly increase, offsets do not decrease. An entry is added with each offset index entry
// when the largest timestamp grew, and once more when the segment is sealed (rolled or closed).
//
// Thread-safety: as IndexFile (one writer, concurrent readers).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "broker/index_file.h"

namespace eddy::broker {

class TimeIndex {
 public:
  struct Entry {
    int64_t timestamp = -1;
    int32_t relative_offset = 0;
  };
  static constexpr size_t kEntrySize = 12;

  TimeIndex(std::string path, int64_t base_offset, size_t max_entries);

  const std::string& path() const { return file_.path(); }

  // Load reads the file and checks its order. kNotFound if missing, kDataLoss if invalid (the in-memory
  // index is left empty; the caller rebuilds it from the log).
  absl::Status Load();

  // MaybeAppend records that every record up to `last_offset` has a timestamp <= max_timestamp, if
  // max_timestamp is larger than the last entry's. Writer only.
  void MaybeAppend(int64_t max_timestamp, int64_t last_offset);

  // Lookup returns the offset of the last entry whose timestamp is < `timestamp` (every record up to it is
  // older than `timestamp`), or -1 if none. Any thread.
  int64_t Lookup(int64_t timestamp) const;

  // TruncateToOffset drops the entries for offsets >= `offset` (recovery). Writer only.
  void TruncateToOffset(int64_t offset);
  void Clear() { file_.Clear(); }

  // The last entry's timestamp, -1 if empty.
  int64_t last_timestamp() const;
  bool full() const { return file_.size() >= max_entries_; }
  size_t entry_count() const { return file_.size(); }

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
