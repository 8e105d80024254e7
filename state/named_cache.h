// NamedCache: one store's namespace in its stream thread's ThreadCache (Kafka Streams' NamedCache): a sorted
// map of cache key -> entry (value or tombstone, dirty flag, timestamp) with an LRU list, counted against the
// ThreadCache budget. Sorted because range and window fetches merge it with the store's own iterator; point
// lookups go through a hash index of the same entries (one hash and one compare instead of a tree descent).
//
// Owned by the store it caches (StoreCore); registers itself with the ThreadCache for its lifetime.
// Owned by one stream thread: not thread-safe.
//
// Iteration safety: while a Cursor is open nothing is erased from the map (eviction and the removal of
// flushed tombstones wait), so cursors stay valid while the store is written, and an entry flushed to the
// store during an iteration stays visible to the merged iterator, whose store side may be a snapshot.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "eddy/state/thread_cache.h"

namespace eddy::state_internal {

class NamedCache {
 public:
  // Bytes counted per entry beyond its key and value: the map node with its key string and the entry's
  // fields (about 150 with malloc's header) and the hash index slot. Keys and values longer than 15 bytes
  // also cost malloc's rounding, which is not counted.
  static constexpr int64_t kEntryOverhead = 176;

  struct Entry {
    std::string value;
    int64_t timestamp = 0;
    bool has_value = false;  // false: a tombstone (the key is deleted)
    bool dirty = false;
    Entry* lru_newer = nullptr;
    Entry* lru_older = nullptr;
    const std::string* key = nullptr;  // the map node's key
  };
  using Map = std::map<std::string, Entry, std::less<>>;
  // Writes the dirty entries (in the order they first became dirty since the last flush) to the store and
  // its changelog. Entries stay in the cache, clean, afterwards.
  using FlushFn = std::function<absl::Status(absl::Span<Entry* const>)>;

  NamedCache(std::string name, ThreadCache* thread, FlushFn flush);
  ~NamedCache();  // drops the entries (flush first) and unregisters
  NamedCache(const NamedCache&) = delete;
  NamedCache& operator=(const NamedCache&) = delete;

  const std::string& name() const { return name_; }
  // Find returns key's entry (which may be a tombstone) or nullptr, and counts a hit or a miss. A hit
  // makes the entry the most recently used.
  Entry* Find(absl::string_view key);
  // Put sets key's entry: value, or a tombstone for nullopt; dirty for writes, clean for read-through
  // caching of what the store returned. Then, if the thread is over budget, evicts from this cache (which
  // may flush). A dirty Put during this cache's own flush is kFailedPrecondition (a flush listener wrote
  // to its own store); a clean one is skipped.
  [[nodiscard]] absl::Status Put(absl::string_view key, std::optional<absl::string_view> value,
                                 int64_t timestamp, bool dirty);
  // Flush hands all dirty entries to the FlushFn and marks them clean; flushed tombstones are then dropped.
  [[nodiscard]] absl::Status Flush();
  // Clear drops every entry, dirty or not (restoration replaces the store's contents underneath).
  void Clear();

  bool has_dirty() const { return !dirty_.empty(); }
  size_t entries() const { return map_.size(); }
  int64_t size_bytes() const { return size_bytes_; }

  // Cursor iterates the entries with lower <= key < upper (upper nullopt: to the end) in key order,
  // including tombstones. key() has the first `strip_prefix` bytes removed (the segment id of a segmented
  // cache key). Keep no entry reference across writes to the cache. Must not outlive the cache.
  class Cursor {
   public:
    Cursor(NamedCache* cache, absl::string_view lower, std::optional<absl::string_view> upper,
           size_t strip_prefix);
    ~Cursor();
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;

    bool Valid() const;
    void Next() { ++it_; }
    absl::string_view key() const { return absl::string_view(it_->first).substr(strip_prefix_); }
    const Entry& entry() const { return it_->second; }

   private:
    NamedCache* cache_;
    Map::iterator it_;
    std::optional<std::string> upper_;
    size_t strip_prefix_;
  };

 private:
  friend class eddy::ThreadCache;

  void TouchLru(Entry* e);
  void UnlinkLru(Entry* e);
  void Erase(Entry* e);
  // EvictOne removes the least recently used entry, flushing all dirty entries first if it is dirty.
  // Returns false if nothing can be evicted now (empty, flushing or cursors open).
  absl::StatusOr<bool> EvictOne();
  void AddBytes(int64_t delta);

  std::string name_;
  ThreadCache* thread_;  // not owned
  FlushFn flush_;
  Map map_;
  absl::flat_hash_map<absl::string_view, Entry*> index_;  // views of map_'s node keys
  // The entry Find or Put returned last: a read-modify-write (Find, then Put of the same key) compares the
  // key instead of hashing it again. Reset when that entry is erased.
  Entry* last_ = nullptr;
  Entry* lru_newest_ = nullptr;
  Entry* lru_oldest_ = nullptr;
  std::vector<Entry*> dirty_;  // in the order they became dirty
  std::vector<Entry*> flushing_entries_;
  int64_t size_bytes_ = 0;
  int open_cursors_ = 0;
  bool flushing_ = false;
};

}  // namespace eddy::state_internal
