// The window store: store keys are key | window start | seqnum (store_key_format.h), segmented by window
// start.
#include "eddy/state/window_store.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eddy/core/status.h"
#include "state/core_store.h"
#include "state/merged_iterator.h"
#include "state/store_key_format.h"

namespace eddy {

absl::string_view WindowStoreIterator::key() const { return state_internal::WindowKeyKey(raw_->key()); }
int64_t WindowStoreIterator::window_start() const { return state_internal::WindowKeyStart(raw_->key()); }

namespace state_internal {
namespace {

constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max();

absl::Status NegativeTime(absl::string_view store, int64_t t) {
  return absl::InvalidArgumentError(absl::StrCat("window store ", store, ": negative window start ", t));
}

class WindowStoreImpl final : public CoreStore<WindowStore> {
 public:
  using CoreStore::CoreStore;

  absl::Status Put(absl::string_view key, absl::string_view value, int64_t window_start) override {
    if (window_start < 0) return NegativeTime(name(), window_start);
    EDDY_RETURN_IF_ERROR(WriteBackHeld());
    uint32_t seqnum = 0;
    if (retain_duplicates()) seqnum = seqnum_ = (seqnum_ + 1) & 0x7FFFFFFF;  // Kafka's sequence
    EncodeWindowKey(key, window_start, seqnum, &key_);
    return core_.Write(window_start, key_, value);
  }

  absl::Status Remove(absl::string_view key, int64_t window_start) override {
    if (window_start < 0) return NegativeTime(name(), window_start);
    EDDY_RETURN_IF_ERROR(WriteBackHeld());
    if (retain_duplicates()) return core_.CheckOpen();
    EncodeWindowKey(key, window_start, 0, &key_);
    return core_.Write(window_start, key_, std::nullopt);
  }

  absl::StatusOr<bool> Fetch(absl::string_view key, int64_t window_start, std::string* value) override {
    EDDY_RETURN_IF_ERROR(core_.CheckOpen());
    EDDY_RETURN_IF_ERROR(WriteBackHeld());
    if (window_start < 0) return NegativeTime(name(), window_start);
    if (window_start < core_.live_from()) return false;
    if (retain_duplicates()) {  // the first of the duplicates
      WindowStoreIterator it = Fetch(key, window_start, window_start);
      if (!it.Valid()) {
        EDDY_RETURN_IF_ERROR(it.status());
        return false;
      }
      value->assign(it.value().data(), it.value().size());
      return true;
    }
    EncodeWindowKey(key, window_start, 0, &key_);
    return core_.Get(window_start, key_, value, /*read_through=*/false);
  }

  WindowStoreIterator Fetch(absl::string_view key, int64_t time_from, int64_t time_to) override {
    if (absl::Status st = WriteBackHeld(); !st.ok()) return WindowStoreIterator(std::make_unique<EmptyIterator>(st));
    const int64_t from = std::max(time_from, core_.live_from());
    std::string lower, upper;
    EncodeWindowKey(key, std::max<int64_t>(from, 0), 0, &lower);
    EncodeWindowKey(key, std::max<int64_t>(time_to, 0), 0xFFFFFFFF, &upper);
    upper.push_back('\0');  // just after the last key of the range
    const size_t size = key.size() + kWindowSuffixSize;
    // Keys of other lengths interleave with this one's; those of the same length sort outside the range.
    auto filter = [size, from, time_to](absl::string_view k) {
      if (k.size() != size) return false;
      const int64_t t = WindowKeyStart(k);
      return t >= from && t <= time_to;
    };
    return WindowStoreIterator(core_.Range(from, time_to, std::move(lower), std::move(upper), filter));
  }

  WindowStoreIterator FetchAll(int64_t time_from, int64_t time_to) override {
    if (absl::Status st = WriteBackHeld(); !st.ok()) return WindowStoreIterator(std::make_unique<EmptyIterator>(st));
    const int64_t from = std::max(time_from, core_.live_from());
    auto filter = [from, time_to](absl::string_view k) {
      if (k.size() < kWindowSuffixSize) return false;
      const int64_t t = WindowKeyStart(k);
      return t >= from && t <= time_to;
    };
    return WindowStoreIterator(core_.Range(from, time_to, std::string(), std::nullopt, filter));
  }

  WindowStoreIterator All() override { return FetchAll(0, kMaxTime); }

  int64_t retention_ms() const override { return core_.options().retention_ms; }
  int64_t window_size_ms() const override { return core_.options().window_size_ms; }
  int64_t segment_interval_ms() const override { return core_.options().segment_interval_ms; }
  bool retain_duplicates() const override { return core_.options().retain_duplicates; }
  int64_t observed_stream_time() const override { return core_.observed_stream_time(); }
  int64_t expired_records_dropped() const override { return core_.expired_records_dropped(); }

  void SetFlushListener(WindowFlushListener listener, bool send_old_values) override {
    if (listener == nullptr) {
      core_.SetListener(nullptr, false);
      return;
    }
    core_.SetListener(
        [this, listener = std::move(listener)](absl::Span<const RawChange> raw) {
          changes_.clear();
          for (const RawChange& r : raw) {
            changes_.push_back({WindowKeyKey(r.store_key), WindowKeyStart(r.store_key), r.new_value, r.old_value,
                                r.timestamp});
          }
          return listener(changes_);
        },
        send_old_values);
  }

  bool SetHeldWrites(HeldWrites* held) override { return AcceptHeldWrites(held); }

 private:
  std::string key_;  // scratch store key
  uint32_t seqnum_ = 0;
  std::vector<WindowChange> changes_;
};

}  // namespace

std::unique_ptr<WindowStore> NewWindowStore(StoreOptions options) {
  return std::make_unique<WindowStoreImpl>(std::move(options));
}

}  // namespace state_internal
}  // namespace eddy
