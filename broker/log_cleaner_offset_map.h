// OffsetMap: the log cleaner's map from record key to the latest offset of that key in the dirty part of
// a log (Kafka's OffsetMap). The cleaner fills it from the dirty records in offset order, then rewrites
// the log keeping only records that no later offset of the same key supersedes.
//
// Kafka's SkimpyOffsetMap stores a 16-byte MD5 digest per key and accepts the (tiny) chance that two keys
// share a digest, in which case the cleaner removes a live record of one of them. Eddy stores the keys
// themselves, packed in 1 MiB arena chunks: more memory for long keys, but a record is never removed
// because of another key. The memory budget (log.cleaner.dedupe.buffer.size) bounds keys plus table; when
// the next new key would exceed it, Put refuses and the cleaner cleans up to the last offset it mapped.
//
// Thread-compatible: one cleaner thread owns each map. No allocation per key beyond arena chunks and the
// table's growth; Clear keeps both for the next log.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace eddy::broker {

class OffsetMap {
 public:
  // memory_bytes: the budget for keys and table together (at least one key always fits).
  explicit OffsetMap(int64_t memory_bytes);
  OffsetMap(const OffsetMap&) = delete;
  OffsetMap& operator=(const OffsetMap&) = delete;

  // Put records `offset` as the latest offset of `key` (callers put offsets in increasing order). Returns
  // false, changing nothing, when `key` is new and would take the map past its budget.
  bool Put(absl::string_view key, int64_t offset);
  // Get returns the latest offset put for `key`, or -1 if none.
  int64_t Get(absl::string_view key) const;

  // The last offset of the last batch whose records were all put (Kafka's latestOffset); -1 when empty.
  // Records after it were not seen by the map and are kept by the cleaner.
  int64_t latest_offset() const { return latest_offset_; }
  void set_latest_offset(int64_t offset) { latest_offset_ = offset; }

  // Clear forgets every key (keeping the memory for reuse).
  void Clear();

  size_t size() const { return map_.size(); }
  // Estimated bytes in use (keys + table), compared against the budget.
  int64_t memory_used() const { return EstimateMemory(map_.size(), key_bytes_); }

 private:
  // Table cost per entry: a 24-byte slot plus control byte, at a load factor between 7/16 and 7/8.
  static constexpr int64_t kEntryBytes = 48;
  static constexpr size_t kChunkBytes = size_t{1} << 20;

  static int64_t EstimateMemory(size_t entries, int64_t key_bytes) {
    return static_cast<int64_t>(entries) * kEntryBytes + key_bytes;
  }
  // Copies `key` into the arena.
  absl::string_view Store(absl::string_view key);

  const int64_t budget_;
  absl::flat_hash_map<absl::string_view, int64_t> map_;
  std::vector<std::unique_ptr<char[]>> chunks_;
  std::vector<size_t> chunk_sizes_;
  size_t chunk_ = 0;       // chunk being filled
  size_t chunk_used_ = 0;  // bytes used in it
  int64_t key_bytes_ = 0;
  int64_t latest_offset_ = -1;
};

}  // namespace eddy::broker
