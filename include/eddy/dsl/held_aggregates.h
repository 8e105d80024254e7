// HeldAggregates: the aggregates that an aggregation node holds during one batch of records (see
// HeldWrites, eddy/state/state_store.h), keyed by (serialized key, window start; 0 for key-value
// aggregations), in the order they were first updated. Shared by the key-value and the time-window
// aggregation terminals. Holding pays only when keys repeat within a batch: after a write back in which
// they hardly did (under 4 updates per 3 aggregates; measured, with every update to a new key holding costs
// 10-20% more than writing directly), the node writes directly for the next 8 times as many updates, then
// tries again.
//
// Implementation detail of the DSL (namespace dsl_internal). Owned by one node; its stream thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace eddy::dsl_internal {

template <typename VA>
class HeldAggregates {
 public:
  struct Held {
    std::string key;
    int64_t start = 0;
    VA agg{};
    int64_t timestamp = 0;  // of the record that made the last update
  };

  // HoldNext says whether the next update is to be held (else written directly).
  bool HoldNext() {
    if (direct_left_ == 0) [[likely]] return true;
    --direct_left_;
    return false;
  }
  bool empty() const { return count_ == 0; }

  // Find counts an update and returns its held aggregate, or null (then Add it).
  Held* Find(absl::string_view key, int64_t start) {
    ++updates_;
    auto it = index_.find(HeldKey{key, start});
    return it == index_.end() ? nullptr : &held_[it->second];
  }
  // Add holds a new aggregate for (key, start); the caller sets agg and timestamp.
  Held& Add(absl::string_view key, int64_t start) {
    if (count_ == held_.size()) held_.emplace_back();
    Held& h = held_[count_];
    h.key.assign(key.data(), key.size());
    h.start = start;
    index_.emplace(HeldKey{h.key, start}, count_);
    ++count_;
    return h;
  }

  // Drain calls put(const Held&) -> absl::Status for each held aggregate in first-update order, stopping at
  // the first error, which it returns; then holds nothing and decides whether to hold the next updates.
  template <typename Put>
  absl::Status Drain(Put put) {
    absl::Status st;
    for (size_t i = 0; i < count_ && st.ok(); ++i) st = put(held_[i]);
    if (count_ * 4 > updates_ * 3) direct_left_ = 8 * updates_;
    updates_ = 0;
    index_.clear();
    count_ = 0;
    return st;
  }

 private:
  struct HeldKey {
    absl::string_view key;
    int64_t start;
    bool operator==(const HeldKey&) const = default;
  };
  struct HeldKeyHash {
    size_t operator()(const HeldKey& k) const { return absl::HashOf(k.key, k.start); }
  };

  // [0, count_) held; the rest kept for their buffers. A deque: growing it moves no element, so the
  // index's views of the keys stay valid.
  std::deque<Held> held_;
  size_t count_ = 0;
  size_t updates_ = 0;      // updates since the last Drain
  size_t direct_left_ = 0;  // updates to write directly before holding again
  absl::flat_hash_map<HeldKey, size_t, HeldKeyHash> index_;  // views of held_[i].key
};

}  // namespace eddy::dsl_internal
