// WindowStore: values per (key, window start), segmented by time and expiring after a retention period, as
// Kafka Streams' WindowStore<Bytes, byte[]> (the store behind windowed aggregations and stream-stream
// joins). Persistent (RocksDB: one key range per time segment, dropped whole when it expires) or in
// memory. Build one with Stores::PersistentWindowStore / InMemoryWindowStore (stores.h).
//
// Retention: the store tracks its observed stream time, the largest window start put so far. A put whose
// segment has expired (window start < observed stream time - retention, rounded down to its segment) is
// dropped and counted in expired_records_dropped(); fetches return only windows that start after observed
// stream time - retention; whole segments older than that are deleted as time advances.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "eddy/state/key_value_store.h"
#include "eddy/state/state_store.h"

namespace eddy {

// Iterates (key, window start, value) entries: for Fetch(key, ...) in window start order; for FetchAll and
// All segment by segment, and within a segment in store key order (store_key_format.h: key bytes, then
// window start; keys of different lengths interleave). Views valid as for KeyValueIterator, whose rules it follows.
// Movable; must be destroyed before its store is closed.
class WindowStoreIterator {
 public:
  // Takes an iterator over window store keys (store_key_format.h): for store implementations.
  explicit WindowStoreIterator(std::unique_ptr<KeyValueIterator> raw) : raw_(std::move(raw)) {}

  bool Valid() const { return raw_->Valid(); }
  // REQUIRES: Valid().
  void Next() { raw_->Next(); }
  absl::string_view key() const;
  int64_t window_start() const;
  absl::string_view value() const { return raw_->value(); }
  absl::Status status() const { return raw_->status(); }

 private:
  std::unique_ptr<KeyValueIterator> raw_;
};

// A change reported to a window store's flush listener (see KeyValueFlushListener for when and how).
struct WindowChange {
  absl::string_view key;
  int64_t window_start = 0;
  std::optional<absl::string_view> new_value;  // nullopt: removed
  std::optional<absl::string_view> old_value;  // only with send_old_values
  int64_t timestamp = 0;                       // of the record that made the last update
};
using WindowFlushListener = std::function<absl::Status(absl::Span<const WindowChange>)>;

// See the file comment. Owned by one task, used by its stream thread (see StateStore). Times are ms since
// the epoch; negative window starts are kInvalidArgument. Every method except the accessors requires an
// open store (kFailedPrecondition otherwise).
class WindowStore : public StateStore {
 public:
  // Put stores value for (key, window_start), replacing any; with retain_duplicates every put is kept as a
  // new entry (for stream-stream joins) and caching is off. A put to an expired segment is dropped (OK).
  [[nodiscard]] virtual absl::Status Put(absl::string_view key, absl::string_view value,
                                         int64_t window_start) = 0;
  // Remove deletes (key, window_start); a no-op for stores that retain duplicates (as Kafka's put(null)).
  [[nodiscard]] virtual absl::Status Remove(absl::string_view key, int64_t window_start) = 0;
  // Fetch reads the value of one window: true and *value replaced, or false.
  [[nodiscard]] virtual absl::StatusOr<bool> Fetch(absl::string_view key, int64_t window_start,
                                                   std::string* value) = 0;
  // Fetch iterates key's windows with time_from <= window start <= time_to, in window start order.
  virtual WindowStoreIterator Fetch(absl::string_view key, int64_t time_from, int64_t time_to) = 0;
  // FetchAll iterates every key's windows with time_from <= window start <= time_to.
  virtual WindowStoreIterator FetchAll(int64_t time_from, int64_t time_to) = 0;
  // All iterates every live window.
  virtual WindowStoreIterator All() = 0;

  virtual int64_t retention_ms() const = 0;
  virtual int64_t window_size_ms() const = 0;
  virtual int64_t segment_interval_ms() const = 0;
  virtual bool retain_duplicates() const = 0;
  // The largest window start put or restored so far; a persistent store resumes the value saved by its last
  // Flush (Kafka restarts at -1, showing expired windows until the next put). -1 before any.
  virtual int64_t observed_stream_time() const = 0;
  // Puts dropped because their segment had expired, since Init (Kafka's expired-window-record-drop).
  virtual int64_t expired_records_dropped() const = 0;

  // See KeyValueStore::SetFlushListener.
  virtual void SetFlushListener(WindowFlushListener listener, bool send_old_values) = 0;
};

}  // namespace eddy
