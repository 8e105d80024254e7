// The RocksDB cache behind an eddy::BlockCache. Internal: only state/*.cc include RocksDB headers.
#pragma once

#include <memory>

#include "rocksdb/cache.h"

namespace eddy::state_internal {

struct BlockCacheRep {
  std::shared_ptr<rocksdb::Cache> cache;
};

}  // namespace eddy::state_internal
