// KeyValueStore: a sorted map from byte keys to byte values (Kafka Streams' KeyValueStore<Bytes, byte[]>),
// persistent (RocksDB) or in memory, optionally behind the thread's write cache and logged to a changelog.
// Typed access (serdes) belongs to the DSL; the store sees bytes. Build one with
// Stores::PersistentKeyValueStore(name) or Stores::InMemoryKeyValueStore(name) (stores.h).
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
#include "eddy/state/state_store.h"

namespace eddy {

// An iterator over key-value entries in ascending bytewise key order, in the style of RocksDB's:
//   for (auto it = store->Range(a, b); it->Valid(); it->Next()) Use(it->key(), it->value());
//   if (!it->status().ok()) ...
// key() and value() point into memory the iterator or the store owns: valid until the next Next(), the
// iterator's destruction or any write to the store, whichever is first. No allocation per entry.
// Writing to the store while an iterator is open is allowed (a processor may update the windows it
// iterates): the iterator then sees, for keys after its position, either the old or the new value. It must
// be destroyed before its store is closed. Not thread-safe.
class KeyValueIterator {
 public:
  virtual ~KeyValueIterator() = default;
  virtual bool Valid() const = 0;
  // REQUIRES: Valid().
  virtual void Next() = 0;
  virtual absl::string_view key() const = 0;
  virtual absl::string_view value() const = 0;
  // The error that ended the iteration early (Valid() false), or OK.
  virtual absl::Status status() const = 0;
};

// One entry for PutAll; value nullopt deletes the key.
struct KeyValueEntry {
  absl::string_view key;
  std::optional<absl::string_view> value;
};

// One change reported to a flush listener: what a key's value became (nullopt: deleted), and, when the
// listener asked for them, what it was in the store before (nullopt: absent).
struct KeyValueChange {
  absl::string_view key;
  std::optional<absl::string_view> new_value;
  std::optional<absl::string_view> old_value;  // only with send_old_values
  int64_t timestamp = 0;                       // of the record that made the last update
};

// Called with the changes a cache flush or eviction wrote, after they reached the store and the changelog
// sink, in the order the keys first became dirty; with caching disabled, from every write with its one
// change. This is how the DSL emits "every update, coalesced by the cache". The views are valid during the
// call. The listener must not write to the store that calls it (kFailedPrecondition); writing to other
// stores is fine. An error is returned from the store call that flushed.
using KeyValueFlushListener = std::function<absl::Status(absl::Span<const KeyValueChange>)>;

// See the file comment. Owned by one task, used by its stream thread (see StateStore). Every method except
// name() and the flags requires an open store (kFailedPrecondition otherwise).
class KeyValueStore : public StateStore {
 public:
  // Get looks `key` up: true and *value replaced with its value, or false (absent; *value untouched).
  // Reads the cache first, then the store (and caches what it read, as Kafka's caching store does).
  [[nodiscard]] virtual absl::StatusOr<bool> Get(absl::string_view key, std::string* value) = 0;
  // Get, returning a copy; nullopt when absent.
  [[nodiscard]] absl::StatusOr<std::optional<std::string>> Get(absl::string_view key);

  // Put sets key to value. With caching, the write stays in the cache until a flush or an eviction, so
  // repeated puts to a key between commits reach RocksDB and the changelog once.
  [[nodiscard]] virtual absl::Status Put(absl::string_view key, absl::string_view value) = 0;
  // PutIfAbsent puts only if the key is absent; returns whether it did.
  [[nodiscard]] virtual absl::StatusOr<bool> PutIfAbsent(absl::string_view key, absl::string_view value) = 0;
  // PutAll applies the entries in order. Without caching they reach RocksDB in one WriteBatch.
  [[nodiscard]] virtual absl::Status PutAll(absl::Span<const KeyValueEntry> entries) = 0;
  // Delete removes key (a tombstone goes to the changelog even if it was absent, as Kafka's).
  [[nodiscard]] virtual absl::Status Delete(absl::string_view key) = 0;

  // Range iterates the keys in [from, to], both inclusive, in bytewise order; empty if from > to.
  virtual std::unique_ptr<KeyValueIterator> Range(absl::string_view from, absl::string_view to) = 0;
  // All iterates every key.
  virtual std::unique_ptr<KeyValueIterator> All() = 0;
  // An estimate of the number of keys in the store below the cache (RocksDB's estimate-num-keys; exact
  // for in-memory stores). Entries only in the cache are not counted.
  [[nodiscard]] virtual absl::StatusOr<uint64_t> ApproximateNumEntries() = 0;

  // SetFlushListener installs the listener (replacing any). With send_old_values each flushed key is read
  // from the store before it is overwritten (one extra read per flushed key).
  virtual void SetFlushListener(KeyValueFlushListener listener, bool send_old_values) = 0;
};

}  // namespace eddy
