// Window specifications for windowed aggregations (KGroupedStream::WindowedBy), as Kafka Streams'
// TimeWindows, SlidingWindows and SessionWindows, plus EmitStrategy and Suppressed (when results go out).
//
//   grouped.WindowedBy(eddy::TimeWindows::OfSizeAndGrace(absl::Minutes(1), absl::Seconds(30))).Count();
//   grouped.WindowedBy(eddy::TimeWindows::OfSizeWithNoGrace(absl::Minutes(5)).AdvanceBy(absl::Minutes(1)));
//   grouped.WindowedBy(eddy::SlidingWindows::OfTimeDifferenceAndGrace(absl::Minutes(5), absl::Seconds(30)));
//   grouped.WindowedBy(eddy::SessionWindows::OfInactivityGapAndGrace(absl::Minutes(5), absl::Seconds(30)));
//
// Semantics (Kafka's; docs/windows.md has the long form). Times are event times in ms since the epoch, as
// the source's timestamp extractor gives them. Stream time is the task's: the largest timestamp it has
// processed. A window is *closed* once stream time reaches its close time; a record that would update only
// closed windows is dropped and counted in the task's dropped-records metric.
//   - Time windows (tumbling: advance == size; hopping: advance < size) are aligned to the epoch:
//     [n * advance, n * advance + size), start inclusive, end exclusive. Close time: end + grace.
//   - Sliding windows (KIP-450) of time difference d: windows [start, start + d], both ends inclusive,
//     whose bounds are defined by records: each record at t has its left window [t - d, t] ([0, d] while
//     t < d) and, when a later record falls within d + 1 of it, its right window [t + 1, t + 1 + d]. Empty
//     windows never exist; equal windows are one. Close time: end + grace + 1.
//   - Session windows: records of a key closer than the inactivity gap form one session [first, last]
//     (both inclusive); a record between two sessions merges them. Close time: end + gap + grace + 1 (a
//     session still merges with a record at end + gap).
// Plain value types; validation happens when WindowedBy uses them (a bad spec makes StreamsBuilder::Build
// fail with kInvalidArgument, as Kafka's constructors throw IllegalArgumentException).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace eddy {

// Tumbling and hopping windows of a fixed size.
struct TimeWindows {
  int64_t size_ms = 0;
  int64_t advance_ms = 0;  // == size_ms for tumbling windows
  int64_t grace_ms = 0;

  // Tumbling windows of `size` that drop records as soon as their window has ended (Kafka 3.0+).
  static TimeWindows OfSizeWithNoGrace(absl::Duration size) { return OfSizeAndGrace(size, absl::ZeroDuration()); }
  // Tumbling windows of `size` that accept out-of-order records until stream time passes end + grace.
  static TimeWindows OfSizeAndGrace(absl::Duration size, absl::Duration grace) {
    const int64_t s = absl::ToInt64Milliseconds(size);
    return TimeWindows{s, s, absl::ToInt64Milliseconds(grace)};
  }
  // Hopping windows: a new window every `advance` (0 < advance <= size).
  TimeWindows AdvanceBy(absl::Duration advance) const {
    TimeWindows w = *this;
    w.advance_ms = absl::ToInt64Milliseconds(advance);
    return w;
  }

  // The stream time at which the window [start, start + size) closes.
  int64_t CloseTime(int64_t start) const { return start + size_ms + grace_ms; }
  // ForEachWindow calls fn(start) for every window containing `timestamp`, in start order (Kafka's
  // TimeWindows.windowsFor).
  template <typename Fn>
  void ForEachWindow(int64_t timestamp, Fn fn) const {
    int64_t start = timestamp - size_ms + advance_ms;
    start = start < 0 ? 0 : start / advance_ms * advance_ms;
    for (; start <= timestamp; start += advance_ms) fn(start);
  }
  absl::Status Validate() const {
    if (size_ms <= 0) return absl::InvalidArgumentError("TimeWindows: the window size must be positive");
    if (advance_ms <= 0 || advance_ms > size_ms) {
      return absl::InvalidArgumentError(
          absl::StrCat("TimeWindows: the advance (", advance_ms, " ms) must be in (0, size = ", size_ms, " ms]"));
    }
    if (grace_ms < 0) return absl::InvalidArgumentError("TimeWindows: the grace period must not be negative");
    return absl::OkStatus();
  }
};

// Session windows: activity periods separated by an inactivity gap.
struct SessionWindows {
  int64_t gap_ms = 0;
  int64_t grace_ms = 0;

  static SessionWindows OfInactivityGapWithNoGrace(absl::Duration gap) {
    return OfInactivityGapAndGrace(gap, absl::ZeroDuration());
  }
  static SessionWindows OfInactivityGapAndGrace(absl::Duration gap, absl::Duration grace) {
    return SessionWindows{absl::ToInt64Milliseconds(gap), absl::ToInt64Milliseconds(grace)};
  }
  // The stream time at which a session ending at `end` (inclusive) closes (Kafka: dropped once
  // end < stream time - gap - grace).
  int64_t CloseTime(int64_t end) const { return end + gap_ms + grace_ms + 1; }
  absl::Status Validate() const {
    if (gap_ms <= 0) return absl::InvalidArgumentError("SessionWindows: the inactivity gap must be positive");
    if (grace_ms < 0) return absl::InvalidArgumentError("SessionWindows: the grace period must not be negative");
    return absl::OkStatus();
  }
};

// Sliding windows: windows of a fixed time difference that move with the records (Kafka's SlidingWindows).
// Unlike TimeWindows they are not aligned to the epoch, and a window exists only if it holds records.
struct SlidingWindows {
  int64_t time_difference_ms = 0;  // d: a window is [start, start + d], both ends inclusive
  int64_t grace_ms = 0;

  // Windows of time difference `d` that drop records as soon as stream time passes their window end.
  static SlidingWindows OfTimeDifferenceWithNoGrace(absl::Duration d) {
    return OfTimeDifferenceAndGrace(d, absl::ZeroDuration());
  }
  // Windows of time difference `d` that accept out-of-order records until stream time passes end + grace.
  static SlidingWindows OfTimeDifferenceAndGrace(absl::Duration d, absl::Duration grace) {
    return SlidingWindows{absl::ToInt64Milliseconds(d), absl::ToInt64Milliseconds(grace)};
  }
  // The stream time at which the window [start, start + d] closes (Kafka: updated while its end is at least
  // stream time - grace).
  int64_t CloseTime(int64_t start) const { return start + time_difference_ms + grace_ms + 1; }
  // The least window store retention, and the default: a record on time (t >= stream time - grace) reads
  // the windows starting from t - 2d, and a store shows only windows starting after its observed stream
  // time - retention. Kafka uses 2d + grace, one millisecond short: a record at exactly stream time - grace
  // then misses the window starting at t - 2d (and with d = grace = 0, every window at stream time).
  int64_t MinRetention() const { return 2 * time_difference_ms + grace_ms + 1; }
  absl::Status Validate() const {
    if (time_difference_ms < 0) {
      return absl::InvalidArgumentError("SlidingWindows: the time difference must not be negative");
    }
    if (grace_ms < 0) return absl::InvalidArgumentError("SlidingWindows: the grace period must not be negative");
    return absl::OkStatus();
  }
};

// When a windowed aggregation emits (Kafka's EmitStrategy, 3.3+): every update (OnWindowUpdate, the
// default; coalesced by the store's cache), or exactly one final result per window once it closes
// (OnWindowClose). Closing needs stream time to pass the close time: see the idle timeout in docs/windows.md.
class EmitStrategy {
 public:
  static EmitStrategy OnWindowUpdate() { return EmitStrategy(false); }
  static EmitStrategy OnWindowClose() { return EmitStrategy(true); }
  bool on_window_close() const { return on_close_; }

 private:
  explicit EmitStrategy(bool on_close) : on_close_(on_close) {}
  bool on_close_;
};

// The buffer of KTable::Suppress. Only Unbounded exists (Kafka's other configs bound memory and either
// fail or emit early); the buffer is a logged key-value store, restored like any other.
struct BufferConfig {
  static BufferConfig Unbounded() { return BufferConfig(); }
};

// What KTable::Suppress holds back: UntilWindowCloses (the only mode for now) keeps every update of a
// windowed table until its window closes and then emits the final value once (Kafka's
// Suppressed.untilWindowCloses). The node is named `name` (WithName) or "<table node>-suppress", its
// buffer store "<node>-store".
struct Suppressed {
  static Suppressed UntilWindowCloses(BufferConfig buffer) { return Suppressed(); }
  Suppressed WithName(std::string node_name) const {
    Suppressed s = *this;
    s.name = std::move(node_name);
    return s;
  }
  std::string name;
};

template <typename K, typename V>
class TimeWindowedKStream;  // time_windowed_kstream.h
template <typename K, typename V>
class SlidingWindowedKStream;  // sliding_windowed_kstream.h
template <typename K, typename V>
class SessionWindowedKStream;  // session_windowed_kstream.h

}  // namespace eddy
