// StoreCore: what every store type shares, below its typed API and above its Backend: the thread cache
// namespace, the changelog, the flush listener, time segments and retention, and restoration. Kafka Streams
// builds this from wrapper layers (caching, change-logging, segmented bytes store); here it is one object
// that a key-value, window or session store owns, so a write costs one virtual call (the store's API) and
// a flush one WriteBatch.
//
// Store keys (store_key_format.h) come with a time: the window start or session end that picks the segment,
// ignored (-1) by key-value stores. Writes with caching go to the cache (cache key = segment | store key for
// segmented stores); without, straight through Apply. Apply is the single write path below the cache:
// old values for the listener, one backend WriteBatch, one changelog Send per change, the listener.
//
// Owned by its store; used by the store's stream thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "eddy/state/key_value_store.h"
#include "eddy/state/state_store.h"
#include "state/backend.h"
#include "state/merged_iterator.h"
#include "state/named_cache.h"

namespace eddy::state_internal {

enum class StoreKind { kKeyValue, kWindow, kSession };

// A store's configuration, filled in by its builder (stores.cc).
struct StoreOptions {
  std::string name;
  StoreKind kind = StoreKind::kKeyValue;
  bool persistent = true;
  bool caching = false;
  bool logging = true;
  std::map<std::string, std::string> changelog_config;  // the builder's overrides
  int64_t retention_ms = 0;         // window and session stores
  int64_t window_size_ms = 0;       // window stores
  int64_t segment_interval_ms = 0;  // window and session stores; 0 for key-value stores
  bool retain_duplicates = false;   // window stores
  // Tests only: wraps the backend Init opened (to count writes). Null in production.
  std::function<std::unique_ptr<Backend>(std::unique_ptr<Backend>)> wrap_backend_for_testing;
};

// A change handed to the typed store's listener adapter: store key (not the cache key) and values.
struct RawChange {
  absl::string_view store_key;
  std::optional<absl::string_view> new_value;
  std::optional<absl::string_view> old_value;
  int64_t timestamp = 0;
};
using RawListener = std::function<absl::Status(absl::Span<const RawChange>)>;

class StoreCore {
 public:
  explicit StoreCore(StoreOptions options);
  ~StoreCore();

  const StoreOptions& options() const { return options_; }
  bool segmented() const { return options_.segment_interval_ms > 0; }
  bool caching_enabled() const { return options_.caching; }
  std::map<std::string, std::string> ChangelogConfig() const;

  absl::Status Init(StateStoreContext* context);
  bool is_open() const { return backend_ != nullptr; }
  // True once Init gave the store a cache (caching enabled and the thread has one).
  bool has_cache() const { return cache_ != nullptr; }
  // kFailedPrecondition unless open.
  absl::Status CheckOpen() const;
  absl::Status Flush();
  absl::Status Close();

  // Write puts (value) or deletes (nullopt) store_key at `time`. Segmented stores drop writes to expired
  // segments (counted) and advance their observed stream time.
  absl::Status Write(int64_t time, absl::string_view store_key, std::optional<absl::string_view> value);
  // WriteAll writes key-value entries; without caching as one WriteBatch. Key-value stores only.
  absl::Status WriteAll(absl::Span<const KeyValueEntry> entries);
  // Get reads store_key at `time`: cache, then backend; `read_through` caches what the backend returned.
  absl::StatusOr<bool> Get(int64_t time, absl::string_view store_key, std::string* value, bool read_through);
  // Range iterates [lower, upper) (upper nullopt: unbounded) of every live segment overlapping
  // [time_from, time_to] (all of segment 0 for key-value stores), cache merged, keys passing `filter`.
  std::unique_ptr<KeyValueIterator> Range(int64_t time_from, int64_t time_to, std::string lower,
                                          std::optional<std::string> upper,
                                          SegmentChainIterator::Filter filter = nullptr);
  absl::StatusOr<uint64_t> ApproximateNumEntries();

  void SetListener(RawListener listener, bool send_old_values);

  absl::Status BeginRestore(const RestoreOptions& options);
  absl::Status RestoreBatch(absl::Span<const ChangelogRecord> records);
  absl::Status EndRestore();

  int64_t observed_stream_time() const { return observed_stream_time_; }
  int64_t expired_records_dropped() const { return expired_dropped_; }
  // The first time that reads return: observed stream time - retention + 1 (Kafka's fetch bound).
  int64_t live_from() const;

 private:
  struct Change {
    int64_t segment;
    absl::string_view store_key;
    std::optional<absl::string_view> value;
    int64_t timestamp;
  };
  // A record buffered for SST ingestion; its bytes are in chunk_arena_.
  struct ChunkEntry {
    int64_t segment;
    uint64_t key_offset;
    uint64_t value_offset;
    uint32_t key_size;
    int32_t value_size;  // -1: tombstone
  };

  absl::Status Apply(absl::Span<const Change> changes);
  absl::Status FlushCacheEntries(absl::Span<NamedCache::Entry* const> entries);
  absl::Status AdvanceStreamTime(int64_t time);
  // Saves the observed stream time as backend metadata if it moved (segmented stores), before a flush.
  absl::Status SaveStreamTime();
  // The time (window start / session end) of a changelog key; kDataLoss if the key is too short.
  absl::StatusOr<int64_t> TimeOfStoreKey(absl::string_view store_key) const;
  int64_t SegmentOf(int64_t time) const;
  // The cache key of a store key: itself for key-value stores, segment | store key (in cache_key_) else.
  absl::string_view CacheKey(int64_t segment, absl::string_view store_key);
  absl::Status IngestChunk();

  const StoreOptions options_;
  StateStoreContext* context_ = nullptr;  // not owned; set by Init
  bool closed_ = false;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<NamedCache> cache_;
  std::string topic_;  // changelog topic
  RawListener listener_;
  bool send_old_values_ = false;
  bool applying_ = false;  // inside Apply: the listener must not write to this store

  // Segments and retention (segmented stores).
  int64_t observed_stream_time_ = -1;
  int64_t saved_stream_time_ = -1;
  int64_t min_live_segment_ = -1;
  int64_t expired_dropped_ = 0;
  std::set<int64_t> known_segments_;  // in the backend or written to the cache

  // Restoration.
  bool restoring_ = false;
  bool ingest_ = false;  // kIngestSst mode
  size_t chunk_limit_ = 0;
  std::string chunk_arena_;
  std::vector<ChunkEntry> chunk_;
  std::set<int64_t> ingested_segments_;

  // Scratch, reused so that steady-state writes do not allocate.
  std::string cache_key_;
  std::vector<Change> changes_;
  std::vector<BackendWrite> writes_;
  std::vector<int64_t> write_timestamps_;
  std::vector<RawChange> raw_changes_;
  std::vector<std::string> old_values_;
};

}  // namespace eddy::state_internal
