// WindowCloseBuffer: the windows of one task that are waiting to close, kept in a (logged) key-value store
// so that a restarted task still knows which final results it owes. Both ways of emitting one final result
// per window use it: EmitStrategy::OnWindowClose in a windowed aggregation, and KTable::Suppress
// (Suppressed::UntilWindowCloses).
//
// Store key: close time (8 bytes, big-endian) | serialized windowed key; empty value. Keys sort by close
// time, so Evict reads only the closed prefix. The value to emit is not buffered: the caller reads it from
// the aggregation's store at eviction, which is always the latest value (the store's cache included), so a
// result emitted at close can never be followed by a fresher one.
//
// Implementation detail of the DSL. Owned by one node of one task; the task's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "eddy/state/key_value_store.h"

namespace eddy::dsl_internal {

class WindowCloseBuffer {
 public:
  // Init uses `store` (owned by the task, open) and reads the earliest close time it holds.
  absl::Status Init(KeyValueStore* store);
  // Add notes that the window whose serialized windowed key is `key` closes when stream time reaches
  // `close_time` (idempotent). Remove forgets it (a session merged into another).
  absl::Status Add(int64_t close_time, absl::string_view key);
  absl::Status Remove(int64_t close_time, absl::string_view key);
  // Whether some window has closed by `stream_time` (cheap: one comparison).
  bool HasClosed(int64_t stream_time) const { return next_close_ <= stream_time; }
  // Evict calls emit(key) for every window with close time <= stream_time, in close time order, and
  // removes them. Stops at the first error of emit or the store.
  absl::Status Evict(int64_t stream_time, const std::function<absl::Status(absl::string_view key)>& emit);
  int64_t next_close_time() const { return next_close_; }

 private:
  absl::Status ReadNextClose();

  KeyValueStore* store_ = nullptr;
  int64_t next_close_ = INT64_MAX;
  std::string scratch_;
  std::vector<std::string> closed_;  // reused by Evict
};

}  // namespace eddy::dsl_internal
