// BlockCache: RocksDB's block cache (an LRU of uncompressed data blocks), shared by the persistent stores of
// one stream thread so that their read memory has one bound, as Kafka Streams users set up with a
// RocksDBConfigSetter. Opaque: RocksDB's headers stay out of Eddy's public headers.
#pragma once

#include <cstddef>
#include <memory>

namespace eddy {

namespace state_internal {
struct BlockCacheRep;
}  // namespace state_internal

// Created by the runtime, one per stream thread, and passed to stores in StateStoreContext::block_cache.
// Must outlive every store opened with it. Thread-safe (RocksDB's cache is), though a stream thread's
// stores use it from that thread only.
class BlockCache {
 public:
  // Kafka Streams' default block cache (50 MiB, per store there; per thread here).
  static constexpr size_t kDefaultCapacity = 50 << 20;

  explicit BlockCache(size_t capacity_bytes = kDefaultCapacity);
  ~BlockCache();
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  size_t capacity() const;
  // Bytes of blocks cached now.
  size_t usage() const;

  // For store implementations.
  const state_internal::BlockCacheRep& rep() const { return *rep_; }

 private:
  std::unique_ptr<state_internal::BlockCacheRep> rep_;
};

}  // namespace eddy
