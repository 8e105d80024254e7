// Backend: the bottom layer of every store: sorted byte keys to byte values, split into segments (key
// ranges of RocksDB's default column family, or maps in memory). Key-value stores use segment 0 only; window and session stores
// one segment per time interval (store_key_format.h). Above it, StoreCore adds the cache, the changelog, the
// flush listener, retention and restoration, once for all store types.
//
// Owned by its StoreCore; used by the owning stream thread only (thread-compatible).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "eddy/state/key_value_store.h"

namespace eddy {
class BlockCache;
}  // namespace eddy

namespace eddy::state_internal {

// One write of a batch; value nullopt deletes.
struct BackendWrite {
  int64_t segment = 0;
  absl::string_view key;
  std::optional<absl::string_view> value;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual bool persistent() const = 0;
  // Get looks key up in segment: true and *value replaced, or false.
  [[nodiscard]] virtual absl::StatusOr<bool> Get(int64_t segment, absl::string_view key, std::string* value) = 0;
  // Write applies the writes in order, atomically (one RocksDB WriteBatch, WAL off), creating segments that
  // do not exist yet.
  [[nodiscard]] virtual absl::Status Write(absl::Span<const BackendWrite> writes) = 0;
  // NewIterator iterates segment's keys in [lower, upper) (upper nullopt: to the end). A missing segment
  // iterates nothing. RocksDB iterators read a snapshot taken here; in-memory ones read the live map.
  virtual std::unique_ptr<KeyValueIterator> NewIterator(int64_t segment, absl::string_view lower,
                                                        std::optional<absl::string_view> upper) = 0;
  // The segments that exist, ascending.
  virtual std::vector<int64_t> Segments() const = 0;
  // DropSegmentsBefore deletes the segments with id < segment, whole.
  [[nodiscard]] virtual absl::Status DropSegmentsBefore(int64_t segment) = 0;
  [[nodiscard]] virtual absl::StatusOr<uint64_t> ApproximateNumEntries() = 0;
  // Empty: no key in any segment.
  [[nodiscard]] virtual absl::StatusOr<bool> Empty() = 0;
  // Small named values beside the data of segmented stores (their observed stream time), made durable by the
  // next Flush. Unsegmented RocksDB backends have none (their default column family holds the data):
  // kUnimplemented.
  [[nodiscard]] virtual absl::StatusOr<std::optional<std::string>> GetMetadata(absl::string_view name) = 0;
  [[nodiscard]] virtual absl::Status PutMetadata(absl::string_view name, absl::string_view value) = 0;
  // Flush makes everything written so far survive a crash (RocksDB: memtables to SST files).
  [[nodiscard]] virtual absl::Status Flush() = 0;
  [[nodiscard]] virtual absl::Status Close() = 0;

  // Bulk loading for restoration. SupportsIngest: IngestSorted is available (RocksDB).
  virtual bool SupportsIngest() const = 0;
  // IngestSorted writes `sorted` (strictly ascending keys, one segment) to an SST file and ingests it: the
  // entries replace any older value of their keys. REQUIRES: SupportsIngest().
  [[nodiscard]] virtual absl::Status IngestSorted(int64_t segment, absl::Span<const BackendWrite> sorted) = 0;
};

// OpenRocksDbBackend opens (creating if missing) the RocksDB at `path`. segment_interval 0: one segment
// (key-value store, default column family); otherwise segments as key ranges of the default column family
// (a store of an earlier layout, with a column family per segment or one named "segments", is converted).
// block_cache may be null (a cache of its own).
absl::StatusOr<std::unique_ptr<Backend>> OpenRocksDbBackend(const std::string& path, int64_t segment_interval,
                                                            BlockCache* block_cache);
std::unique_ptr<Backend> NewMemoryBackend();

}  // namespace eddy::state_internal
