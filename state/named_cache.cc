#include "state/named_cache.h"

#include <algorithm>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/status.h"

namespace eddy {

ThreadCache::ThreadCache(int64_t max_bytes) : max_bytes_(max_bytes) {}

ThreadCache::~ThreadCache() = default;

absl::Status ThreadCache::Resize(int64_t max_bytes) {
  max_bytes_ = max_bytes;
  // Round robin over the stores' caches, one entry each, as Kafka's ThreadCache.resize does.
  bool progress = true;
  while (size_bytes_ > max_bytes_ && progress) {
    progress = false;
    for (size_t i = 0; i < caches_.size() && size_bytes_ > max_bytes_; ++i) {
      EDDY_ASSIGN_OR_RETURN(bool evicted, caches_[i]->EvictOne());
      progress |= evicted;
    }
  }
  return absl::OkStatus();
}

namespace state_internal {

NamedCache::NamedCache(std::string name, ThreadCache* thread, FlushFn flush)
    : name_(std::move(name)), thread_(thread), flush_(std::move(flush)) {
  thread_->caches_.push_back(this);
}

NamedCache::~NamedCache() {
  Clear();
  auto& caches = thread_->caches_;
  caches.erase(std::remove(caches.begin(), caches.end(), this), caches.end());
}

void NamedCache::AddBytes(int64_t delta) {
  size_bytes_ += delta;
  thread_->size_bytes_ += delta;
}

void NamedCache::UnlinkLru(Entry* e) {
  if (e->lru_newer != nullptr) e->lru_newer->lru_older = e->lru_older;
  else lru_newest_ = e->lru_older;
  if (e->lru_older != nullptr) e->lru_older->lru_newer = e->lru_newer;
  else lru_oldest_ = e->lru_newer;
  e->lru_newer = e->lru_older = nullptr;
}

void NamedCache::TouchLru(Entry* e) {
  if (lru_newest_ == e) return;
  if (e->lru_newer != nullptr || e->lru_older != nullptr || lru_oldest_ == e) UnlinkLru(e);
  e->lru_older = lru_newest_;
  e->lru_newer = nullptr;
  if (lru_newest_ != nullptr) lru_newest_->lru_newer = e;
  lru_newest_ = e;
  if (lru_oldest_ == nullptr) lru_oldest_ = e;
}

NamedCache::Entry* NamedCache::Find(absl::string_view key) {
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++thread_->stats_.misses;
    return nullptr;
  }
  ++thread_->stats_.hits;
  TouchLru(it->second);
  last_ = it->second;
  return it->second;
}

absl::Status NamedCache::Put(absl::string_view key, std::optional<absl::string_view> value, int64_t timestamp,
                             bool dirty) {
  if (flushing_) {
    if (!dirty) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("cache ", name_, ": a flush listener wrote to the store being flushed"));
  }
  Entry* found = nullptr;
  if (last_ != nullptr && *last_->key == key) {
    found = last_;
  } else if (auto it = index_.find(key); it != index_.end()) {
    found = it->second;
  }
  int64_t delta = 0;
  if (found == nullptr) {
    auto node = map_.try_emplace(std::string(key)).first;
    found = &node->second;
    found->key = &node->first;
    index_.emplace(absl::string_view(node->first), found);
    delta = kEntryOverhead + static_cast<int64_t>(key.size());
  } else {
    delta = -static_cast<int64_t>(found->value.size());
  }
  last_ = found;
  Entry& e = *found;
  if (value.has_value()) {
    e.value.assign(value->data(), value->size());
  } else {
    e.value.clear();
  }
  delta += static_cast<int64_t>(e.value.size());
  e.has_value = value.has_value();
  e.timestamp = timestamp;
  if (dirty && !e.dirty) {
    e.dirty = true;
    dirty_.push_back(&e);
  }
  TouchLru(&e);
  AddBytes(delta);
  ++thread_->stats_.puts;
  while (thread_->size_bytes_ > thread_->max_bytes_) {
    EDDY_ASSIGN_OR_RETURN(bool evicted, EvictOne());
    if (!evicted) break;
  }
  return absl::OkStatus();
}

absl::Status NamedCache::Flush() {
  if (dirty_.empty()) return absl::OkStatus();
  if (flushing_) {
    return absl::FailedPreconditionError(absl::StrCat("cache ", name_, ": flush during its own flush"));
  }
  flushing_ = true;
  flushing_entries_.swap(dirty_);
  dirty_.clear();
  absl::Status s = flush_(flushing_entries_);
  for (Entry* e : flushing_entries_) e->dirty = false;
  flushing_ = false;
  ++thread_->stats_.flushes;
  thread_->stats_.flushed_entries += static_cast<int64_t>(flushing_entries_.size());
  if (open_cursors_ == 0) {
    // A flushed tombstone says what the store now says: drop it (Kafka does), unless it was rewritten.
    for (Entry* e : flushing_entries_) {
      if (!e->has_value && !e->dirty) Erase(e);
    }
  }
  flushing_entries_.clear();
  return s;
}

void NamedCache::Erase(Entry* e) {
  if (e == last_) last_ = nullptr;
  UnlinkLru(e);
  AddBytes(-(kEntryOverhead + static_cast<int64_t>(e->key->size() + e->value.size())));
  index_.erase(absl::string_view(*e->key));
  map_.erase(map_.find(*e->key));
}

absl::StatusOr<bool> NamedCache::EvictOne() {
  if (lru_oldest_ == nullptr || flushing_ || open_cursors_ > 0) return false;
  if (lru_oldest_->dirty) EDDY_RETURN_IF_ERROR(Flush());
  // Flush may have dropped tombstones, the oldest entry among them.
  if (lru_oldest_ == nullptr) return true;
  Erase(lru_oldest_);
  ++thread_->stats_.evictions;
  return true;
}

void NamedCache::Clear() {
  AddBytes(-size_bytes_);
  last_ = nullptr;
  index_.clear();
  map_.clear();
  dirty_.clear();
  lru_newest_ = lru_oldest_ = nullptr;
}

NamedCache::Cursor::Cursor(NamedCache* cache, absl::string_view lower, std::optional<absl::string_view> upper,
                           size_t strip_prefix)
    : cache_(cache), it_(cache->map_.lower_bound(lower)), strip_prefix_(strip_prefix) {
  if (upper.has_value()) upper_.emplace(*upper);
  ++cache_->open_cursors_;
}

NamedCache::Cursor::~Cursor() { --cache_->open_cursors_; }

bool NamedCache::Cursor::Valid() const {
  if (it_ == cache_->map_.end()) return false;
  return !upper_.has_value() || absl::string_view(it_->first) < *upper_;
}

}  // namespace state_internal
}  // namespace eddy
