// ThreadCache: the write cache budget of one stream thread (Kafka Streams' statestore.cache.max.bytes,
// formerly cache.max.bytes.buffering), shared by the caches in front of all the caching-enabled stores of
// the thread's tasks.
//
// Each store built WithCachingEnabled keeps its own namespace of entries (its NamedCache, internal) and
// counts them against this budget. Writes land in the cache as dirty entries; a commit's Flush writes a
// store's dirty entries to it and its changelog once each, however many times they were updated. When a
// write takes the thread over budget, the written store evicts its least recently used entries; evicting a
// dirty entry first flushes all the store's dirty entries (one WriteBatch, as Kafka's NamedCache does), so
// eviction costs a batched write, not one per entry.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"

namespace eddy {

namespace state_internal {
class NamedCache;
}  // namespace state_internal

// Created by the runtime, one per stream thread, and passed to stores in StateStoreContext::cache. Must
// outlive the stores that use it. Owned by one stream thread: not thread-safe.
class ThreadCache {
 public:
  // Kafka's default statestore.cache.max.bytes: 10 MiB.
  static constexpr int64_t kDefaultMaxBytes = 10485760;

  struct Stats {
    int64_t hits = 0;       // reads served by the cache
    int64_t misses = 0;     // reads that went to the store
    int64_t puts = 0;       // writes into the cache (dirty or read-through)
    int64_t flushes = 0;    // flushes of a store's dirty entries (commit or eviction)
    int64_t flushed_entries = 0;
    int64_t evictions = 0;  // entries evicted for space
  };

  explicit ThreadCache(int64_t max_bytes = kDefaultMaxBytes);
  ~ThreadCache();
  ThreadCache(const ThreadCache&) = delete;
  ThreadCache& operator=(const ThreadCache&) = delete;

  int64_t max_bytes() const { return max_bytes_; }
  // Bytes of all entries: key + value + a fixed per-entry overhead (kEntryOverhead in named_cache.h).
  int64_t size_bytes() const { return size_bytes_; }
  const Stats& stats() const { return stats_; }

  // Resize sets the budget (Kafka resizes when stream threads are added or removed) and evicts from the
  // stores' caches, round robin, until within it; evicting flushes dirty entries, whose errors it returns.
  [[nodiscard]] absl::Status Resize(int64_t max_bytes);

 private:
  friend class state_internal::NamedCache;

  int64_t max_bytes_;
  int64_t size_bytes_ = 0;
  Stats stats_;
  std::vector<state_internal::NamedCache*> caches_;  // registered by NamedCache; not owned
};

}  // namespace eddy
