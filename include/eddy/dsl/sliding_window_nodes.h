// SlidingWindowAggregateTerminal: the physical node of Count/Reduce/Aggregate over SlidingWindows (Kafka's
// KStreamSlidingWindowAggregate, KIP-450), into a window store of window size d (see nodes.h for the
// terminal interface, window_nodes.h for what it shares with the other windowed aggregations).
//
// Windows are [start, start + d], both ends inclusive, defined by records (windows.h). Each stored value is
// Kafka's timestamped layout: the largest record timestamp in the window (8 bytes, big-endian), then the
// serialized aggregate. That timestamp is what lets a record find its neighbours without reading them: for
// a record at t the node reads the key's windows starting in [t - 2d, t + 1] (one range fetch), adds the
// record to every one containing it, and creates what is missing, from aggregates already there:
//   - its left window [t - d, t]: the aggregate of the latest window ending before t (it holds exactly the
//     records in [t - d, t) when the previous record is within d), plus the record;
//   - its right window [t + 1, t + 1 + d], if a later record is within d: a copy of the latest window
//     containing t before the record was added;
//   - the previous record's right window, if the record falls in it: the record alone.
// Records before d share the window [0, d] (no negative starts), as in Kafka. A record whose every window
// has closed is dropped and counted once; otherwise each closed window it misses is counted, as Kafka.
//
// Implementation detail of the DSL (namespace dsl_internal). A terminal is owned by one task's node and
// used by that task's stream thread only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/serde.h"
#include "eddy/core/status.h"
#include "eddy/dsl/window_nodes.h"
#include "eddy/dsl/windows.h"
#include "eddy/runtime/processor_node.h"
#include "eddy/runtime/task_context.h"
#include "eddy/state/key_value_store.h"
#include "eddy/state/window_store.h"
#include "eddy/state/windowed.h"

namespace eddy::dsl_internal {

// Bytes before the aggregate in a sliding window store's value (the window's largest record timestamp).
inline constexpr size_t kSlidingValuePrefix = 8;

// fn(key, value, const VA* old) -> VA (old null: a new window starts from the initializer).
// `close_buffer`: the WindowCloseBuffer's store with EmitStrategy::OnWindowClose or Suppress, else empty.
template <typename K, typename V, typename KS, typename VAS, typename Fn>
class SlidingWindowAggregateTerminal final
    : public WindowedAggregateTerminal<SlidingWindowAggregateTerminal<K, V, KS, VAS, Fn>, WindowStore, K, V, KS, VAS> {
  using Base = WindowedAggregateTerminal<SlidingWindowAggregateTerminal, WindowStore, K, V, KS, VAS>;
  EDDY_WINDOWED_TERMINAL_MEMBERS(Base);

 public:
  using VA = typename VAS::Type;
  SlidingWindowAggregateTerminal(std::string store, std::string close_buffer, SlidingWindows windows, KS ks,
                                 VAS vas, Fn fn)
      : Base(std::move(store), std::move(close_buffer), std::move(ks), std::move(vas)), windows_(windows),
        fn_(std::move(fn)) {}

 private:
  // A window of the record's key read from the store: its start, largest record timestamp and aggregate.
  struct Found {
    int64_t start = 0;
    int64_t max_ts = 0;
    std::string agg;
  };
  int64_t d() const { return windows_.time_difference_ms; }

  absl::Status Apply(const K& k, const V& v) {
    ts_ = ctx_->timestamp();
    stream_time_ = std::max(ctx_->stream_time(), ts_);
    if (ts_ < 0) return absl::InvalidArgumentError(absl::StrCat("negative record timestamp ", ts_));
    // Kafka: dropped whole when even the last window that could hold it, [t, t + d], has closed.
    if (windows_.CloseTime(ts_) <= stream_time_) {
      const int64_t start = std::max<int64_t>(0, ts_ - d());
      late_.Drop(ctx_, *node_, ts_, Window{start, start + d()}, stream_time_, true);
      return absl::OkStatus();
    }
    EDDY_RETURN_IF_ERROR(SerializeWith(key_serde_, k, &key_buf_));
    return ts_ < d() ? ApplyEarly(k, v) : ApplyInOrder(k, v);
  }

  // A record at t >= d (Kafka's processInOrder).
  absl::Status ApplyInOrder(const K& k, const V& v) {
    const int64_t t = ts_;
    EDDY_RETURN_IF_ERROR(FetchWindows(std::max<int64_t>(0, t - 2 * d()), t + 1));
    const Found* left_agg = nullptr;   // the latest window ending before t
    const Found* right_agg = nullptr;  // the latest window containing t, before t was added
    bool left_exists = false, right_exists = false;
    std::optional<int64_t> previous;   // the timestamp of the key's latest record before t, if within 2d
    for (size_t i = 0; i < n_found_; ++i) {
      const Found& f = found_[i];
      const int64_t end = f.start + d();
      if (end < t) {
        left_agg = &f;
        previous = f.max_ts;
      } else if (end == t) {
        left_exists = true;
        if (f.max_ts < t) previous = f.max_ts;
        EDDY_RETURN_IF_ERROR(Update(k, v, f.start, &f, /*is_new=*/false));
      } else if (f.start <= t) {
        right_agg = &f;
        EDDY_RETURN_IF_ERROR(Update(k, v, f.start, &f, /*is_new=*/false));
      } else if (f.start == t + 1) {
        right_exists = true;
      } else {
        return UnexpectedWindow(f.start);
      }
    }
    if (previous.has_value()) {
      // The previous record's right window, if it does not exist and the record falls in it.
      const int64_t start = *previous + 1;
      if (!HasWindow(start) && start + d() >= t) {
        bool stored = false;
        EDDY_RETURN_IF_ERROR(Update(k, v, start, nullptr, /*is_new=*/true, &stored));
        // At t = previous + d + 1 it is also the record's left window, now complete (Kafka writes it twice).
        if (stored && start == t - d()) left_exists = true;
      }
    }
    if (!left_exists) {
      const bool has_earlier = previous.has_value() && t - d() <= *previous;
      EDDY_RETURN_IF_ERROR(Update(k, v, t - d(), has_earlier ? left_agg : nullptr, /*is_new=*/true));
    }
    if (!right_exists && right_agg != nullptr && right_agg->max_ts > t) {
      EDDY_RETURN_IF_ERROR(Put(t + 1, right_agg->max_ts, right_agg->agg, /*is_new=*/true));
    }
    return absl::OkStatus();
  }

  // A record at t < d: its left window would start before 0, so the key's records before d share the window
  // [0, d] (Kafka's processEarly).
  absl::Status ApplyEarly(const K& k, const V& v) {
    const int64_t t = ts_;
    EDDY_RETURN_IF_ERROR(FetchWindows(0, t + 1));
    const Found* combined = nullptr;   // [0, d]
    const Found* right_agg = nullptr;  // the latest other window containing t, before t was added
    bool right_exists = false;
    std::optional<int64_t> previous;
    for (size_t i = 0; i < n_found_; ++i) {
      const Found& f = found_[i];
      if (f.start == 0) {
        combined = &f;
        if (f.max_ts < t) previous = f.max_ts;
      } else if (f.start <= t) {
        right_agg = &f;
        EDDY_RETURN_IF_ERROR(Update(k, v, f.start, &f, /*is_new=*/false));
      } else if (f.start == t + 1) {
        right_exists = true;
      } else {
        return UnexpectedWindow(f.start);
      }
    }
    // Without another window containing t, [0, d] holds only records after t when it holds any after t
    // (a record before t and one after would have made a right window containing t).
    if (right_agg == nullptr && combined != nullptr && combined->max_ts > t) right_agg = combined;
    if (!right_exists && right_agg != nullptr && right_agg->max_ts > t) {
      EDDY_RETURN_IF_ERROR(Put(t + 1, right_agg->max_ts, right_agg->agg, /*is_new=*/true));
    }
    if (previous.has_value() && !HasWindow(*previous + 1)) {
      EDDY_RETURN_IF_ERROR(Update(k, v, *previous + 1, nullptr, /*is_new=*/true));
    }
    return Update(k, v, 0, combined, /*is_new=*/combined == nullptr);
  }

  // Reads the key's windows starting in [from, to], in start order, into found_[0, n_found_).
  absl::Status FetchWindows(int64_t from, int64_t to) {
    n_found_ = 0;
    WindowStoreIterator it = store_->Fetch(key_buf_, from, to);
    for (; it.Valid(); it.Next()) {
      const absl::string_view value = it.value();
      if (value.size() < kSlidingValuePrefix) {
        return absl::DataLossError(absl::StrCat("sliding window store \"", store_name_, "\": value of ",
                                                value.size(), " bytes has no timestamp"));
      }
      if (n_found_ == found_.size()) found_.emplace_back();
      Found& f = found_[n_found_++];
      f.start = it.window_start();
      f.max_ts = LoadBigEndian64At(value, 0);
      f.agg.assign(value.data() + kSlidingValuePrefix, value.size() - kSlidingValuePrefix);
    }
    return it.status();
  }
  bool HasWindow(int64_t start) const {
    for (size_t i = 0; i < n_found_; ++i) {
      if (found_[i].start == start) return true;
    }
    return false;
  }
  absl::Status UnexpectedWindow(int64_t start) const {
    return absl::InternalError(absl::StrCat("unexpected sliding window starting at ", start, " for a record at ", ts_));
  }

  // Adds the record to the window starting at `start`, whose aggregate so far is base's (null: the
  // initializer's), unless the window has closed (then counted as dropped). *stored: whether it was written.
  absl::Status Update(const K& k, const V& v, int64_t start, const Found* base, bool is_new,
                      bool* stored = nullptr) {
    if (windows_.CloseTime(start) <= stream_time_) {
      late_.Drop(ctx_, *node_, ts_, Window{start, start + d()}, stream_time_, true);
      return absl::OkStatus();
    }
    int64_t max_ts = ts_;
    if (base != nullptr) {
      EDDY_RETURN_IF_ERROR(value_serde_.Deserialize(base->agg, &agg_));
      agg_ = fn_(k, v, &agg_);
      max_ts = std::max(max_ts, base->max_ts);
    } else {
      agg_ = fn_(k, v, static_cast<const VA*>(nullptr));
    }
    EDDY_RETURN_IF_ERROR(SerializeWith(value_serde_, agg_, &agg_buf_));
    if (stored != nullptr) *stored = true;
    return Put(start, max_ts, agg_buf_, is_new);
  }

  absl::Status Put(int64_t start, int64_t max_ts, absl::string_view agg, bool is_new) {
    value_buf_.clear();
    AppendBigEndian64(max_ts, &value_buf_);
    value_buf_.append(agg.data(), agg.size());
    EDDY_RETURN_IF_ERROR(store_->Put(key_buf_, value_buf_, start));
    if (on_close() && is_new) {
      windowed_buf_ = key_buf_;
      AppendBigEndian64(start, &windowed_buf_);
      EDDY_RETURN_IF_ERROR(buffer_.Add(windows_.CloseTime(start), windowed_buf_));
    }
    return absl::OkStatus();
  }

  // Deserializes a stored value into agg_ and returns the window's largest record timestamp.
  absl::StatusOr<int64_t> ReadValue(absl::string_view value) {
    if (value.size() < kSlidingValuePrefix) return absl::DataLossError("sliding window value has no timestamp");
    EDDY_RETURN_IF_ERROR(value_serde_.Deserialize(value.substr(kSlidingValuePrefix), &agg_));
    return LoadBigEndian64At(value, 0);
  }

  // The flush listener (default emit strategy): each change goes downstream with the window's largest
  // record timestamp, as Kafka forwards it.
  absl::Status EmitUpdates(absl::Span<const WindowChange> changes) {
    if (out_.empty()) return absl::OkStatus();
    for (const WindowChange& c : changes) {
      EDDY_RETURN_IF_ERROR(key_serde_.Deserialize(c.key, &windowed_.key));
      windowed_.window = Window{c.window_start, c.window_start + d()};
      std::optional<VA> value;
      int64_t timestamp = c.timestamp;
      if (c.new_value) {
        EDDY_ASSIGN_OR_RETURN(timestamp, ReadValue(*c.new_value));
        value = agg_;
      }
      out_.Forward(ctx_, windowed_, value, timestamp);
      if (ctx_->failed()) break;
    }
    return absl::OkStatus();
  }

  // OnWindowClose / Suppress: every buffered window closed by `stream_time` goes downstream once, with its
  // value read from the store now, stamped with the window's end (its last millisecond).
  absl::Status EmitClosed(int64_t stream_time) {
    return buffer_.Evict(stream_time, [this](absl::string_view windowed) -> absl::Status {
      const absl::string_view key = windowed.substr(0, windowed.size() - 8);
      const int64_t start = LoadBigEndian64At(windowed, windowed.size() - 8);
      EDDY_ASSIGN_OR_RETURN(bool found, store_->Fetch(key, start, &value_buf_));
      if (!found) return absl::OkStatus();  // expired from the store (retention shorter than the close)
      EDDY_RETURN_IF_ERROR(key_serde_.Deserialize(key, &windowed_.key));
      EDDY_RETURN_IF_ERROR(ReadValue(value_buf_).status());
      windowed_.window = Window{start, start + d()};
      out_.Forward(ctx_, windowed_, std::optional<VA>(agg_), windowed_.window.end);
      return absl::OkStatus();
    });
  }

  SlidingWindows windows_;
  Fn fn_;
  int64_t ts_ = 0;           // the record being applied
  int64_t stream_time_ = 0;  // including it
  std::vector<Found> found_;  // reused; the first n_found_ are the current record's
  size_t n_found_ = 0;
  std::string agg_buf_;
  VA agg_{};
};

}  // namespace eddy::dsl_internal
