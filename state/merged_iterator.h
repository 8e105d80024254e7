// Iterators that stores build their range reads from:
//   MergedIterator        a store iterator and a cache cursor over the same key range, merged in key order;
//                         the cache wins on equal keys and its tombstones hide the store's entries (Kafka's
//                         MergedSortedCacheKeyValueBytesStoreIterator).
//   SegmentChainIterator  one such iterator per time segment, one after the other, keeping only the
//                         entries a filter accepts (the key and time checks of window and session fetches).
//   EmptyIterator         nothing, or an error.
// Thread model and view lifetimes as KeyValueIterator.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "eddy/state/key_value_store.h"
#include "state/named_cache.h"

namespace eddy::state_internal {

class EmptyIterator final : public KeyValueIterator {
 public:
  explicit EmptyIterator(absl::Status status = absl::OkStatus()) : status_(std::move(status)) {}
  bool Valid() const override { return false; }
  void Next() override {}
  absl::string_view key() const override { return {}; }
  absl::string_view value() const override { return {}; }
  absl::Status status() const override { return status_; }

 private:
  absl::Status status_;
};

class MergedIterator final : public KeyValueIterator {
 public:
  // cache may be null (no caching): then this is `store`.
  MergedIterator(std::unique_ptr<KeyValueIterator> store, std::unique_ptr<NamedCache::Cursor> cache);

  bool Valid() const override { return current_ != Source::kNone; }
  void Next() override;
  absl::string_view key() const override { return current_ == Source::kCache ? cache_->key() : store_->key(); }
  absl::string_view value() const override {
    return current_ == Source::kCache ? absl::string_view(cache_->entry().value) : store_->value();
  }
  absl::Status status() const override { return store_->status(); }

 private:
  enum class Source { kNone, kStore, kCache };
  // Settle moves to the next visible entry at or after the current positions.
  void Settle();

  std::unique_ptr<KeyValueIterator> store_;
  std::unique_ptr<NamedCache::Cursor> cache_;
  Source current_ = Source::kNone;
  bool store_at_same_key_ = false;  // when current_ is kCache: the store is positioned at the same key
};

class SegmentChainIterator final : public KeyValueIterator {
 public:
  using Factory = std::function<std::unique_ptr<KeyValueIterator>(int64_t segment)>;
  // Accepts the keys to return; null accepts all.
  using Filter = std::function<bool(absl::string_view key)>;

  SegmentChainIterator(std::vector<int64_t> segments, Factory factory, Filter filter);

  bool Valid() const override { return current_ != nullptr && current_->Valid(); }
  void Next() override;
  absl::string_view key() const override { return current_->key(); }
  absl::string_view value() const override { return current_->value(); }
  absl::Status status() const override { return status_; }

 private:
  // Skip moves to the next accepted entry, opening the next segments as needed.
  void Skip();

  std::vector<int64_t> segments_;
  size_t next_segment_ = 0;
  Factory factory_;
  Filter filter_;
  std::unique_ptr<KeyValueIterator> current_;
  absl::Status status_;
};

}  // namespace eddy::state_internal
