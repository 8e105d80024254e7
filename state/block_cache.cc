#include "eddy/state/block_cache.h"

#include "state/block_cache_rep.h"

namespace eddy {

BlockCache::BlockCache(size_t capacity_bytes)
    : rep_(std::make_unique<state_internal::BlockCacheRep>(
          state_internal::BlockCacheRep{rocksdb::NewLRUCache(capacity_bytes)})) {}

BlockCache::~BlockCache() = default;

size_t BlockCache::capacity() const { return rep_->cache->GetCapacity(); }

size_t BlockCache::usage() const { return rep_->cache->GetUsage(); }

}  // namespace eddy
