// OffsetMap. See log_cleaner_offset_map.h.
#include "broker/log_cleaner_offset_map.h"

#include <algorithm>
#include <cstring>

namespace eddy::broker {

OffsetMap::OffsetMap(int64_t memory_bytes) : budget_(memory_bytes) {}

absl::string_view OffsetMap::Store(absl::string_view key) {
  if (key.empty()) return absl::string_view();
  if (chunk_ < chunks_.size() && chunk_used_ + key.size() > chunk_sizes_[chunk_]) {
    ++chunk_;
    chunk_used_ = 0;
  }
  // Skip reused chunks too small for this key (only a key larger than a chunk gets a chunk of its own).
  while (chunk_ < chunks_.size() && key.size() > chunk_sizes_[chunk_]) ++chunk_;
  if (chunk_ == chunks_.size()) {
    const size_t size = std::max(kChunkBytes, key.size());
    chunks_.push_back(std::unique_ptr<char[]>(new char[size]));
    chunk_sizes_.push_back(size);
    chunk_used_ = 0;
  }
  char* p = chunks_[chunk_].get() + chunk_used_;
  std::memcpy(p, key.data(), key.size());
  chunk_used_ += key.size();
  return absl::string_view(p, key.size());
}

bool OffsetMap::Put(absl::string_view key, int64_t offset) {
  auto it = map_.find(key);
  if (it != map_.end()) {
    it->second = offset;
    return true;
  }
  const int64_t key_bytes = key_bytes_ + static_cast<int64_t>(key.size());
  if (!map_.empty() && EstimateMemory(map_.size() + 1, key_bytes) > budget_) return false;
  map_.emplace(Store(key), offset);
  key_bytes_ = key_bytes;
  return true;
}

int64_t OffsetMap::Get(absl::string_view key) const {
  auto it = map_.find(key);
  return it == map_.end() ? -1 : it->second;
}

void OffsetMap::Clear() {
  map_.clear();
  chunk_ = 0;
  chunk_used_ = 0;
  key_bytes_ = 0;
  latest_offset_ = -1;
}

}  // namespace eddy::broker
