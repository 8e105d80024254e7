// The in-memory Backend: one std::map per segment (Kafka's InMemoryKeyValueStore is a TreeMap too).
//
// Iterators read the live maps. While any is open nothing is erased: a delete marks the slot dead (iterators
// skip dead slots) and a dropped segment waits in a graveyard, so an open iterator never points at freed
// memory; the erasures happen when the last iterator closes.
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "state/backend.h"

namespace eddy::state_internal {
namespace {

struct Slot {
  std::string value;
  bool live = true;
};
using Rows = std::map<std::string, Slot, std::less<>>;

class MemoryBackend;

class MemoryIterator final : public KeyValueIterator {
 public:
  MemoryIterator(MemoryBackend* owner, Rows* rows, absl::string_view lower,
                 std::optional<absl::string_view> upper);
  ~MemoryIterator() override;

  bool Valid() const override {
    return rows_ != nullptr && it_ != rows_->end() && (!upper_.has_value() || absl::string_view(it_->first) < *upper_);
  }
  void Next() override {
    ++it_;
    SkipDead();
  }
  absl::string_view key() const override { return it_->first; }
  absl::string_view value() const override { return it_->second.value; }
  absl::Status status() const override { return absl::OkStatus(); }

 private:
  void SkipDead() {
    if (rows_ == nullptr) return;
    while (it_ != rows_->end() && !it_->second.live) ++it_;
  }

  MemoryBackend* owner_;
  Rows* rows_;  // nullptr: the segment does not exist
  Rows::iterator it_;
  std::optional<std::string> upper_;
};

class MemoryBackend final : public Backend {
 public:
  bool persistent() const override { return false; }

  absl::StatusOr<bool> Get(int64_t segment, absl::string_view key, std::string* value) override {
    auto seg = segments_.find(segment);
    if (seg == segments_.end()) return false;
    auto it = seg->second->find(key);
    if (it == seg->second->end() || !it->second.live) return false;
    value->assign(it->second.value);
    return true;
  }

  absl::Status Write(absl::Span<const BackendWrite> writes) override {
    for (const BackendWrite& w : writes) {
      if (w.value.has_value()) {
        std::unique_ptr<Rows>& rows = segments_[w.segment];
        if (rows == nullptr) rows = std::make_unique<Rows>();
        auto [it, inserted] = rows->try_emplace(std::string(w.key));
        if (inserted || !it->second.live) ++live_entries_;
        it->second.live = true;
        it->second.value.assign(w.value->data(), w.value->size());
        continue;
      }
      auto seg = segments_.find(w.segment);
      if (seg == segments_.end()) continue;
      auto it = seg->second->find(w.key);
      if (it == seg->second->end() || !it->second.live) continue;
      --live_entries_;
      if (open_iterators_ > 0) {
        it->second.live = false;
        pending_erase_.emplace_back(w.segment, it->first);
      } else {
        seg->second->erase(it);
      }
    }
    return absl::OkStatus();
  }

  std::unique_ptr<KeyValueIterator> NewIterator(int64_t segment, absl::string_view lower,
                                                std::optional<absl::string_view> upper) override {
    auto seg = segments_.find(segment);
    Rows* rows = seg == segments_.end() ? nullptr : seg->second.get();
    return std::make_unique<MemoryIterator>(this, rows, lower, upper);
  }

  std::vector<int64_t> Segments() const override {
    std::vector<int64_t> ids;
    ids.reserve(segments_.size());
    for (const auto& [id, rows] : segments_) ids.push_back(id);
    return ids;
  }

  absl::Status DropSegmentsBefore(int64_t segment) override {
    while (!segments_.empty() && segments_.begin()->first < segment) {
      for (const auto& [key, slot] : *segments_.begin()->second) live_entries_ -= slot.live ? 1 : 0;
      if (open_iterators_ > 0) graveyard_.push_back(std::move(segments_.begin()->second));
      segments_.erase(segments_.begin());
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<std::string>> GetMetadata(absl::string_view name) override {
    auto it = metadata_.find(name);
    if (it == metadata_.end()) return std::nullopt;
    return it->second;
  }
  absl::Status PutMetadata(absl::string_view name, absl::string_view value) override {
    metadata_[std::string(name)] = std::string(value);
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> ApproximateNumEntries() override { return live_entries_; }
  absl::StatusOr<bool> Empty() override { return live_entries_ == 0; }
  absl::Status Flush() override { return absl::OkStatus(); }
  absl::Status Close() override {
    segments_.clear();
    live_entries_ = 0;
    return absl::OkStatus();
  }
  bool SupportsIngest() const override { return false; }
  absl::Status IngestSorted(int64_t, absl::Span<const BackendWrite>) override {
    return absl::UnimplementedError("in-memory stores restore with write batches");
  }

  void IteratorOpened() { ++open_iterators_; }
  void IteratorClosed() {
    if (--open_iterators_ > 0) return;
    for (const auto& [segment, key] : pending_erase_) {
      auto seg = segments_.find(segment);
      if (seg == segments_.end()) continue;
      auto it = seg->second->find(key);
      if (it != seg->second->end() && !it->second.live) seg->second->erase(it);
    }
    pending_erase_.clear();
    graveyard_.clear();
  }

 private:
  std::map<int64_t, std::unique_ptr<Rows>> segments_;
  std::map<std::string, std::string, std::less<>> metadata_;
  std::vector<std::pair<int64_t, std::string>> pending_erase_;
  std::vector<std::unique_ptr<Rows>> graveyard_;  // dropped while iterators were open
  int open_iterators_ = 0;
  uint64_t live_entries_ = 0;
};

MemoryIterator::MemoryIterator(MemoryBackend* owner, Rows* rows, absl::string_view lower,
                               std::optional<absl::string_view> upper)
    : owner_(owner), rows_(rows) {
  owner_->IteratorOpened();
  if (upper.has_value()) upper_.emplace(*upper);
  if (rows_ != nullptr) {
    it_ = rows_->lower_bound(lower);
    SkipDead();
  }
}

MemoryIterator::~MemoryIterator() { owner_->IteratorClosed(); }

}  // namespace

std::unique_ptr<Backend> NewMemoryBackend() { return std::make_unique<MemoryBackend>(); }

}  // namespace eddy::state_internal
