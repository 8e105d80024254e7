// Stores: the factory of state stores, as Kafka Streams' Stores + StoreBuilder in one value type per store
// kind. A builder is a plain value: build one store per task from it.
//
//   auto counts = Stores::PersistentKeyValueStore("counts").WithCachingEnabled().Build();
//   auto sums = Stores::PersistentWindowStore("sums", absl::Hours(25), absl::Minutes(1),
//                                           /*retain_duplicates=*/false)
//                   .WithCachingEnabled()
//                   .WithLoggingEnabled({{"min.insync.replicas", "1"}})
//                   .Build();
//
// Defaults as Kafka's StoreBuilder: logging enabled (changelog "<application.id>-<store>-changelog"),
// caching disabled (the DSL's Materialized enables it). Persistent stores are RocksDB databases under
// <task dir>/rocksdb/<store>; in-memory stores hold everything in std::maps and are restored from their
// changelog whenever their task starts.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "eddy/state/key_value_store.h"
#include "eddy/state/session_store.h"
#include "eddy/state/window_store.h"

namespace eddy {

// What the builders share. Derived is the concrete builder (for chaining). Thread-compatible value type.
template <typename Derived>
class StoreBuilderBase {
 public:
  // Caching: writes are coalesced in the thread's ThreadCache until commit or eviction (thread_cache.h).
  Derived& WithCachingEnabled() { return Set(&caching_, true); }
  Derived& WithCachingDisabled() { return Set(&caching_, false); }
  // Logging: every change that reaches the store also goes to its changelog topic, created by the runtime
  // with StateStore::changelog_config(): Kafka's defaults for the store kind overridden by `topic_config`.
  Derived& WithLoggingEnabled(std::map<std::string, std::string> topic_config = {}) {
    changelog_config_ = std::move(topic_config);
    return Set(&logging_, true);
  }
  // Without logging a store is not restored: a persistent one keeps what is on local disk, an in-memory
  // one starts empty.
  Derived& WithLoggingDisabled() { return Set(&logging_, false); }

  const std::string& name() const { return name_; }
  bool persistent() const { return persistent_; }
  bool caching_enabled() const { return caching_; }
  bool logging_enabled() const { return logging_; }
  const std::map<std::string, std::string>& changelog_config() const { return changelog_config_; }

 protected:
  StoreBuilderBase(std::string name, bool persistent) : name_(std::move(name)), persistent_(persistent) {}

  std::string name_;
  bool persistent_;
  bool caching_ = false;
  bool logging_ = true;
  std::map<std::string, std::string> changelog_config_;

 private:
  Derived& Set(bool* field, bool v) {
    *field = v;
    return static_cast<Derived&>(*this);
  }
};

class KeyValueStoreBuilder : public StoreBuilderBase<KeyValueStoreBuilder> {
 public:
  // Build returns a new, uninitialised store. kInvalidArgument for a name that is not a legal topic name
  // part ([a-zA-Z0-9._-]+, at most 200 chars).
  [[nodiscard]] absl::StatusOr<std::unique_ptr<KeyValueStore>> Build() const;

 private:
  friend class Stores;
  using StoreBuilderBase::StoreBuilderBase;
};

class WindowStoreBuilder : public StoreBuilderBase<WindowStoreBuilder> {
 public:
  // Time segments (column families) of this length; default max(retention / 2, 1 minute), as Kafka's.
  WindowStoreBuilder& WithSegmentInterval(absl::Duration interval) {
    segment_interval_ = interval;
    return *this;
  }
  absl::Duration retention() const { return retention_; }
  absl::Duration window_size() const { return window_size_; }
  bool retain_duplicates() const { return retain_duplicates_; }

  // Build returns a new, uninitialised store. kInvalidArgument for a bad name (see KeyValueStoreBuilder),
  // a negative retention or window size, a retention shorter than the window size, a segment interval
  // under 1 ms. A store that retains duplicates is built with caching disabled (its caching_enabled() is
  // false), as Kafka does: coalescing would merge the duplicates it must keep.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<WindowStore>> Build() const;

 private:
  friend class Stores;
  WindowStoreBuilder(std::string name, bool persistent, absl::Duration retention, absl::Duration window_size,
                     bool retain_duplicates)
      : StoreBuilderBase(std::move(name), persistent),
        retention_(retention),
        window_size_(window_size),
        retain_duplicates_(retain_duplicates) {}

  absl::Duration retention_;
  absl::Duration window_size_;
  bool retain_duplicates_;
  absl::Duration segment_interval_ = absl::ZeroDuration();  // zero: Kafka's default
};

class SessionStoreBuilder : public StoreBuilderBase<SessionStoreBuilder> {
 public:
  // See WindowStoreBuilder::WithSegmentInterval.
  SessionStoreBuilder& WithSegmentInterval(absl::Duration interval) {
    segment_interval_ = interval;
    return *this;
  }
  absl::Duration retention() const { return retention_; }

  // Build returns a new, uninitialised store. kInvalidArgument for a bad name, a negative retention or a
  // segment interval under 1 ms.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<SessionStore>> Build() const;

 private:
  friend class Stores;
  SessionStoreBuilder(std::string name, bool persistent, absl::Duration retention)
      : StoreBuilderBase(std::move(name), persistent), retention_(retention) {}

  absl::Duration retention_;
  absl::Duration segment_interval_ = absl::ZeroDuration();
};

// The entry points, named as Kafka's Stores methods.
class Stores {
 public:
  static KeyValueStoreBuilder PersistentKeyValueStore(std::string name) { return {std::move(name), true}; }
  static KeyValueStoreBuilder InMemoryKeyValueStore(std::string name) { return {std::move(name), false}; }
  // Windows of `window_size` kept for `retention` of stream time (at least the window size plus the
  // grace period). retain_duplicates keeps every put (stream-stream joins).
  static WindowStoreBuilder PersistentWindowStore(std::string name, absl::Duration retention,
                                                  absl::Duration window_size, bool retain_duplicates) {
    return {std::move(name), true, retention, window_size, retain_duplicates};
  }
  static WindowStoreBuilder InMemoryWindowStore(std::string name, absl::Duration retention,
                                                absl::Duration window_size, bool retain_duplicates) {
    return {std::move(name), false, retention, window_size, retain_duplicates};
  }
  static SessionStoreBuilder PersistentSessionStore(std::string name, absl::Duration retention) {
    return {std::move(name), true, retention};
  }
  static SessionStoreBuilder InMemorySessionStore(std::string name, absl::Duration retention) {
    return {std::move(name), false, retention};
  }
};

}  // namespace eddy
