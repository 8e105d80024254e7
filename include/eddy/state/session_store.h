// SessionStore: values per (key, session window), as Kafka Streams' SessionStore<Bytes, byte[]>, the store
// behind session-windowed aggregations. A session is [start, end], both inclusive (the first and last
// record times). FindSessions returns the sessions that a new record may merge with: to aggregate a record
// at time t with inactivity gap g, the DSL calls FindSessions(key, t - g, t + g), merges them with the record,
// Removes them and Puts the merged session.
//
// Persistent (RocksDB, one key range per time segment of session ends) or in memory; retention as for
// window stores (window_store.h), with the session end as the time. Build one with
// Stores::PersistentSessionStore / InMemorySessionStore (stores.h).
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
#include "eddy/state/windowed.h"

namespace eddy {

// Iterates (key, session window, value) entries, for one key in (end, start) order. Views valid as for
// KeyValueIterator, whose rules it follows. Movable; must be destroyed before its store is closed.
class SessionStoreIterator {
 public:
  // Takes an iterator over session store keys (store_key_format.h): for store implementations.
  explicit SessionStoreIterator(std::unique_ptr<KeyValueIterator> raw) : raw_(std::move(raw)) {}

  bool Valid() const { return raw_->Valid(); }
  // REQUIRES: Valid().
  void Next() { raw_->Next(); }
  absl::string_view key() const;
  Window window() const;
  absl::string_view value() const { return raw_->value(); }
  absl::Status status() const { return raw_->status(); }

 private:
  std::unique_ptr<KeyValueIterator> raw_;
};

// A change reported to a session store's flush listener (see KeyValueFlushListener for when and how).
struct SessionChange {
  absl::string_view key;
  Window window;
  std::optional<absl::string_view> new_value;  // nullopt: removed
  std::optional<absl::string_view> old_value;  // only with send_old_values
  int64_t timestamp = 0;                       // of the record that made the last update
};
using SessionFlushListener = std::function<absl::Status(absl::Span<const SessionChange>)>;

// See the file comment. Owned by one task, used by its stream thread (see StateStore). Times are ms since
// the epoch; a session with start < 0 or end < start is kInvalidArgument. Every method except the
// accessors requires an open store (kFailedPrecondition otherwise).
class SessionStore : public StateStore {
 public:
  // Put stores value for the session, replacing any value of the same (key, start, end). A put to an
  // expired segment is dropped (OK) and counted.
  [[nodiscard]] virtual absl::Status Put(const Windowed<absl::string_view>& session, absl::string_view value) = 0;
  // Remove deletes the session (exactly this key, start and end).
  [[nodiscard]] virtual absl::Status Remove(const Windowed<absl::string_view>& session) = 0;
  // FetchSession reads one session's value: true and *value replaced, or false.
  [[nodiscard]] virtual absl::StatusOr<bool> FetchSession(absl::string_view key, int64_t start, int64_t end,
                                                          std::string* value) = 0;
  // FindSessions iterates key's sessions with end >= earliest_session_end and start <= latest_session_start,
  // that is, those overlapping [earliest_session_end, latest_session_start], in (end, start) order.
  virtual SessionStoreIterator FindSessions(absl::string_view key, int64_t earliest_session_end,
                                            int64_t latest_session_start) = 0;
  // Fetch iterates all of key's live sessions.
  virtual SessionStoreIterator Fetch(absl::string_view key) = 0;

  virtual int64_t retention_ms() const = 0;
  virtual int64_t segment_interval_ms() const = 0;
  // The largest session end put or restored so far (persistent stores resume it, as window stores do).
  virtual int64_t observed_stream_time() const = 0;
  // Puts dropped because their segment had expired, since Init.
  virtual int64_t expired_records_dropped() const = 0;

  // See KeyValueStore::SetFlushListener.
  virtual void SetFlushListener(SessionFlushListener listener, bool send_old_values) = 0;
};

}  // namespace eddy
