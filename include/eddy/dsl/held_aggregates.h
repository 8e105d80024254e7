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
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "eddy/core/serde.h"
#include "eddy/core/status.h"
#include "eddy/runtime/task_context.h"
#include "eddy/state/state_store.h"

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

  // Start makes `owner` (the node, whose WriteBack calls WriteBackWith) the held writes of `store` and of
  // the task, if the store accepts them (it has a cache); holding() says whether it did. Stop undoes it (the
  // node's Close: the task flushed its stores, writing back, before closing its nodes).
  void Start(StateStore* store, TaskContext* ctx, HeldWrites* owner) {
    if (!store->SetHeldWrites(owner)) return;
    ctx->AddHeldWrites(owner);
    store_ = store;
    ctx_ = ctx;
    owner_ = owner;
  }
  void Stop() {
    if (owner_ == nullptr) return;
    (void)store_->SetHeldWrites(nullptr);
    ctx_->RemoveHeldWrites(owner_);
    owner_ = nullptr;
  }
  bool holding() const { return owner_ != nullptr; }

  // WriteBackWith drains the held aggregates (Drain): each serialized with `serde` into *buf and written
  // with put(held, bytes), stamped with the timestamp of its last update (the store stamps a write with the
  // task's current record timestamp, restored afterwards).
  template <typename VS, typename Put>
  absl::Status WriteBackWith(const VS& serde, std::string* buf, Put put) {
    const int64_t ts = ctx_->timestamp();
    absl::Status st = Drain([&](const Held& h) -> absl::Status {
      EDDY_RETURN_IF_ERROR(SerializeWith(serde, h.agg, buf));
      ctx_->set_timestamp(h.timestamp);
      return put(h, *buf);
    });
    ctx_->set_timestamp(ts);
    return st;
  }

  // HoldNext says whether the next update is to be held (else written directly): false unless holding().
  bool HoldNext() {
    if (owner_ == nullptr) return false;
    if (direct_left_ == 0) [[likely]] return true;
    --direct_left_;
    return false;
  }
  bool empty() const { return count_ == 0; }

  // Update applies one record to the held aggregate of (key, start): the new aggregate is fn(old) ->
  // VA, with old the held aggregate or, when (key, start) is not held yet, what read() ->
  // absl::StatusOr<const VA*> finds in the store (null: nothing there); the result is held, stamped with
  // `timestamp`. Returns whether the aggregate is new: neither held nor in the store.
  template <typename Read, typename Fn>
  absl::StatusOr<bool> Update(absl::string_view key, int64_t start, int64_t timestamp, Read read, Fn fn) {
    if (Held* h = Find(key, start); h != nullptr) {
      h->agg = fn(&h->agg);
      h->timestamp = timestamp;
      return false;
    }
    EDDY_ASSIGN_OR_RETURN(const VA* old, read());
    VA agg = fn(old);
    Held& h = Add(key, start);
    h.agg = std::move(agg);
    h.timestamp = timestamp;
    return old == nullptr;
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

  struct HeldKey {
    absl::string_view key;
    int64_t start;
    bool operator==(const HeldKey&) const = default;
  };
  struct HeldKeyHash {
    size_t operator()(const HeldKey& k) const { return absl::HashOf(k.key, k.start); }
  };

  StateStore* store_ = nullptr;
  TaskContext* ctx_ = nullptr;
  HeldWrites* owner_ = nullptr;  // set while holding
  // [0, count_) held; the rest kept for their buffers. A deque: growing it moves no element, so the
  // index's views of the keys stay valid.
  std::deque<Held> held_;
  size_t count_ = 0;
  size_t updates_ = 0;      // updates since the last Drain
  size_t direct_left_ = 0;  // updates to write directly before holding again
  absl::flat_hash_map<HeldKey, size_t, HeldKeyHash> index_;  // views of held_[i].key
};

}  // namespace eddy::dsl_internal
