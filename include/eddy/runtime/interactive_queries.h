// Interactive queries: read-only views of a running eddy::Streams application's local state stores, as
// Kafka Streams' KafkaStreams.store(StoreQueryParameters.fromNameAndType(name, QueryableStoreTypes...)).
//
//   EDDY_ASSIGN_OR_RETURN(eddy::ReadOnlyKeyValueStore counts, app.QueryableKeyValueStore("counts"));
//   EDDY_ASSIGN_OR_RETURN(std::optional<std::string> n, counts.Get(key_bytes));   // serialized key
//
// A view spans the store's instances in all local tasks of all stream threads. Keys and values are the
// serialized bytes the store holds (the key as the store's key serde writes it, the value as its value
// serde): Get(key) goes to the one task whose partition the key hashes to (murmur2, as the producer's
// default partitioner), so it reads one store; Range, All and FetchAll read every local instance and merge
// the results in key order. Reads see what the stream threads have written, cached (not yet flushed)
// values included, as Kafka's do. Results are copies: nothing returned refers to a store.
//
// Errors of every read: kUnavailable while the application is not RUNNING (REBALANCING, restoring, not
// yet started or stopping: Kafka's InvalidStateStoreException "... is not available"; retry later), or
// while a task holding the store is restoring; kInvalidArgument for a store of another type; a store's own
// read errors. A key whose partition is not local (another instance has it) reads as absent.
//
// Thread-safe: any thread may read through a view while the stream threads run. A read waits for the
// stream thread that owns the store to finish the batch of records it is processing (the thread takes
// the same lock around each batch and each commit, never per record). A view must not outlive its Streams.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eddy/runtime/key_value.h"
#include "eddy/state/state_store.h"
#include "eddy/state/windowed.h"

namespace eddy {

namespace runtime_internal {

// Where views find the store instances: implemented by Streams.
class StoreProvider {
 public:
  virtual ~StoreProvider() = default;
  // WithStores calls fn(partition, store) for each local instance of store `name` (only the one of
  // `partition` when >= 0), each under its stream thread's lock. Errors as the file comment says.
  virtual absl::Status WithStores(absl::string_view name, int32_t partition,
                                  absl::FunctionRef<absl::Status(int32_t, StateStore&)> fn) const = 0;
};

// What the views share: the provider, the store's name and its number of partitions (tasks).
class StoreView {
 public:
  StoreView(const StoreProvider* provider, std::string name, int32_t partitions)
      : provider_(provider), name_(std::move(name)), partitions_(partitions) {}
  const std::string& name() const { return name_; }

 protected:
  // fn(store) on the instance of the task that `key` hashes to; false if that task is not local.
  template <typename S>
  absl::StatusOr<bool> OnKeyStore(absl::string_view key, absl::FunctionRef<absl::Status(S&)> fn) const;
  // fn(store) on every local instance.
  template <typename S>
  absl::Status OnEveryStore(absl::FunctionRef<absl::Status(S&)> fn) const;

 private:
  template <typename S>
  absl::Status Typed(StateStore& store, absl::FunctionRef<absl::Status(S&)> fn) const;

  const StoreProvider* provider_;
  std::string name_;
  int32_t partitions_;
};

}  // namespace runtime_internal

// Kafka's ReadOnlyKeyValueStore, over serialized keys and values. Copyable; see the file comment.
class ReadOnlyKeyValueStore : public runtime_internal::StoreView {
 public:
  using StoreView::StoreView;
  // The value of `key`, nullopt if absent.
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) const;
  // Keys in [from, to] (bytewise, both inclusive), in key order.
  absl::StatusOr<std::vector<KeyValue<std::string, std::string>>> Range(absl::string_view from,
                                                                        absl::string_view to) const;
  // Every entry, in key order.
  absl::StatusOr<std::vector<KeyValue<std::string, std::string>>> All() const;
  // The sum of the instances' estimates (KeyValueStore::ApproximateNumEntries).
  absl::StatusOr<uint64_t> ApproximateNumEntries() const;
};

// Kafka's ReadOnlyWindowStore, over serialized keys and values; windows are [start, start + size).
class ReadOnlyWindowStore : public runtime_internal::StoreView {
 public:
  using StoreView::StoreView;
  // The value of key's window starting at `window_start`, nullopt if none.
  absl::StatusOr<std::optional<std::string>> Fetch(absl::string_view key, int64_t window_start) const;
  // key's windows with time_from <= start <= time_to: (window start, value) in start order.
  absl::StatusOr<std::vector<KeyValue<int64_t, std::string>>> Fetch(absl::string_view key, int64_t time_from,
                                                                    int64_t time_to) const;
  // Every key's windows with time_from <= start <= time_to, in (key, start) order.
  absl::StatusOr<std::vector<KeyValue<Windowed<std::string>, std::string>>> FetchAll(int64_t time_from,
                                                                                     int64_t time_to) const;
  // Every live window, in (key, start) order.
  absl::StatusOr<std::vector<KeyValue<Windowed<std::string>, std::string>>> All() const;
};

// Kafka's ReadOnlySessionStore, over serialized keys and values; sessions are [start, end], both inclusive.
class ReadOnlySessionStore : public runtime_internal::StoreView {
 public:
  using StoreView::StoreView;
  // key's live sessions, in (end, start) order.
  absl::StatusOr<std::vector<KeyValue<Windowed<std::string>, std::string>>> Fetch(absl::string_view key) const;
};

}  // namespace eddy
