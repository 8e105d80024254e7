#include "state/merged_iterator.h"

#include <utility>

namespace eddy::state_internal {

MergedIterator::MergedIterator(std::unique_ptr<KeyValueIterator> store, std::unique_ptr<NamedCache::Cursor> cache)
    : store_(std::move(store)), cache_(std::move(cache)) {
  Settle();
}

void MergedIterator::Settle() {
  while (true) {
    const bool in_store = store_->Valid();
    if (!in_store && !store_->status().ok()) {  // the store failed: end here, status() tells why
      current_ = Source::kNone;
      return;
    }
    const bool in_cache = cache_ != nullptr && cache_->Valid();
    if (!in_store && !in_cache) {
      current_ = Source::kNone;
      return;
    }
    if (in_cache) {
      const int cmp = in_store ? cache_->key().compare(store_->key()) : -1;
      if (cmp <= 0) {
        store_at_same_key_ = cmp == 0;
        if (!cache_->entry().has_value) {  // a tombstone: the key is deleted
          cache_->Next();
          if (store_at_same_key_) store_->Next();
          continue;
        }
        current_ = Source::kCache;
        return;
      }
    }
    current_ = Source::kStore;
    return;
  }
}

void MergedIterator::Next() {
  if (current_ == Source::kCache) {
    cache_->Next();
    if (store_at_same_key_) store_->Next();
  } else if (current_ == Source::kStore) {
    store_->Next();
  }
  Settle();
}

SegmentChainIterator::SegmentChainIterator(std::vector<int64_t> segments, Factory factory, Filter filter)
    : segments_(std::move(segments)), factory_(std::move(factory)), filter_(std::move(filter)) {
  Skip();
}

void SegmentChainIterator::Next() {
  current_->Next();
  Skip();
}

void SegmentChainIterator::Skip() {
  while (true) {
    if (current_ != nullptr) {
      while (current_->Valid()) {
        if (filter_ == nullptr || filter_(current_->key())) return;
        current_->Next();
      }
      status_ = current_->status();
      if (!status_.ok()) return;  // Valid() is false: the iteration ends with the error
    }
    if (next_segment_ == segments_.size()) {
      current_.reset();
      return;
    }
    current_ = factory_(segments_[next_segment_++]);
  }
}

}  // namespace eddy::state_internal
