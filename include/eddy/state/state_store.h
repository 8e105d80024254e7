// The state store contract shared by every store type (key-value, window, session), and what a store needs
// from the runtime: a StateStoreContext (where its files go, where its changelog records go, the thread's
// cache) and, for restoration, the records read back from its changelog.
//
// A store is built by a builder from stores.h, initialised once with Init, used by one stream thread's task,
// flushed at every commit, and closed. Kafka Streams users know the shape: this is StateStore,
// StateStoreContext and the restore callback in one place.
//
// The commit sequence the runtime follows for a task (Kafka Streams' at-least-once order):
//   1. Flush() every store: the cache's dirty entries go to RocksDB in one WriteBatch and to the changelog
//      sink, and RocksDB's memtables are flushed to SST files (RocksDB's WAL is off: the changelog is the
//      durability, and a flushed memtable is what makes the checkpoint below true after a crash);
//   2. flush the producer and note the offset of the last record of each changelog partition;
//   3. commit the input offsets;
//   4. write the task's checkpoint (StateDirectory::WriteCheckpoint) with those changelog offsets.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace eddy {

class BlockCache;
class ThreadCache;

// Where logged stores send their changes. The runtime implements it with a Producer (topic
// `<application.id>-<store>-changelog`, partition = the task's partition); tests record the calls.
// Called only from the thread that owns the store.
class ChangelogSink {
 public:
  virtual ~ChangelogSink() = default;
  // Send queues one changelog record. `value` nullopt is a tombstone (the key was deleted). The views are
  // valid only during the call: copy what is kept. An error is returned from the store call that caused the
  // send (Put, Flush, ...), after the change reached the local store; the task is then expected to fail
  // and restore. Success means queued, not durable: durability comes with the producer flush at commit.
  virtual absl::Status Send(absl::string_view topic, int32_t partition, absl::string_view key,
                            std::optional<absl::string_view> value, int64_t timestamp) = 0;
};

// The changelog topic of `store_name` in application `application_id`: "<application.id>-<store>-changelog".
std::string ChangelogTopicName(absl::string_view application_id, absl::string_view store_name);

// The part of the record being processed that stores use: its timestamp is stamped on the changes the
// record causes (changelog records and flush-listener changes carry it).
struct RecordContext {
  int64_t timestamp = 0;  // ms since the epoch
};

// What a store needs from its task. Owned by the task (the runtime), which must keep it alive and at the same
// address from Init until the store's Close returns; stores keep a pointer to it. Only `record` changes
// after Init: the runtime updates it before processing each record.
struct StateStoreContext {
  std::string application_id;  // names changelog topics
  std::string task_id;         // Kafka's "<subtopology>_<partition>", e.g. "0_3"; names the cache namespace
  int32_t partition = 0;       // the task's input partition: the changelog partition of its stores
  // The task's state directory, <state.dir>/<application.id>/<task-id> (StateDirectory::TaskDir).
  // Persistent stores live in <task_dir>/rocksdb/<store>. Unused by in-memory stores.
  std::string task_dir;
  // Not owned. Required by stores with logging enabled (Init fails with kInvalidArgument without it).
  ChangelogSink* changelog = nullptr;
  // Not owned; the stream thread's cache, shared by all the stores of its tasks. nullptr turns caching off
  // for stores built WithCachingEnabled (as Kafka does with statestore.cache.max.bytes=0).
  ThreadCache* cache = nullptr;
  // Not owned; RocksDB's block cache, one per stream thread. nullptr: each persistent store gets its own
  // (BlockCache::kDefaultCapacity).
  BlockCache* block_cache = nullptr;
  RecordContext record;
};

// One record read from a changelog topic, as the runtime hands it to a store to restore it. Views into the
// consumer's buffers, valid for the duration of the call.
struct ChangelogRecord {
  absl::string_view key;
  std::optional<absl::string_view> value;  // nullopt: tombstone
  int64_t timestamp = 0;
  int64_t offset = -1;
};

// How RestoreBatch applies records between BeginRestore and EndRestore.
enum class RestoreMode {
  // kIngestSst when the store is persistent and empty when restoration begins, else kWriteBatch. The
  // default: ingestion measured 2.5x faster than batched puts on an idle machine, 3.6-4x on a loaded one
  // (docs/state.md, "Performance").
  kAuto,
  // Each RestoreBatch call is one RocksDB WriteBatch (WAL off), applied before the call returns.
  kWriteBatch,
  // Records are buffered in memory up to `sst_chunk_bytes`, sorted (the last record of a key wins), written
  // to SST files and ingested with IngestExternalFile. Only for persistent stores that are empty when
  // restoration begins (otherwise BeginRestore fails with kFailedPrecondition); in-memory stores fall back to
  // kWriteBatch. Records are visible only after the chunk holding them is ingested (at the latest in
  // EndRestore).
  kIngestSst,
};

// Writes that a store's one writer holds back and applies later in a batch (the DSL's windowed aggregation
// keeps the windows a batch of records updates as typed values, and writes each once when the batch ends:
// one cache write per window per batch instead of one per record). A store that accepts it
// (StateStore::SetHeldWrites) calls WriteBack() before every read, Flush and Close while pending(), so no
// reader sees the store without the held writes; the task calls it after each batch and each round of
// wall-clock punctuation (TaskContext::AddHeldWrites), so nothing is held between batches, where commits
// and interactive queries happen.
// Implemented and owned by the writer; used on the task's stream thread only.
class HeldWrites {
 public:
  virtual ~HeldWrites() = default;
  bool pending() const { return pending_; }
  // Writes what is held to the store and clears pending().
  [[nodiscard]] virtual absl::Status WriteBack() = 0;

 protected:
  bool pending_ = false;
};

struct RestoreOptions {
  RestoreMode mode = RestoreMode::kAuto;
  // Memory for one sorted chunk in kIngestSst mode (keys, values and a 40-byte index entry per record).
  size_t sst_chunk_bytes = 64 << 20;
};

// The interface of every store. Owned by its task (unique_ptr); used by the task's stream thread only
// (thread-compatible; interactive queries from other threads will go through a read-only view, not here).
// Lifecycle: built -> Init -> (BeginRestore, RestoreBatch..., EndRestore)? -> reads/writes, Flush at each
// commit -> Close. A closed store cannot be reopened: build a new one. Iterators must be destroyed before
// Close.
class StateStore {
 public:
  virtual ~StateStore() = default;

  virtual const std::string& name() const = 0;
  // True for RocksDB stores (files under the task directory), false for in-memory ones.
  virtual bool persistent() const = 0;
  virtual bool logging_enabled() const = 0;
  virtual bool caching_enabled() const = 0;
  // The configs the changelog topic must be created with: Kafka's defaults for the store type
  // (cleanup.policy=compact; compact,delete with retention.ms = retention + 1 day for window and session
  // stores) overridden by the builder's WithLoggingEnabled(config). Empty when logging is disabled.
  virtual std::map<std::string, std::string> changelog_config() const = 0;

  // Init opens the store: RocksDB under context->task_dir for persistent stores (creating it if missing),
  // and registers it with context->cache. Errors: kFailedPrecondition if already initialised or closed;
  // kInvalidArgument if logging is enabled and context->changelog is null; RocksDB open failures as
  // kInternal, kResourceExhausted (disk full) or kDataLoss (corrupt files: wipe and restore).
  [[nodiscard]] virtual absl::Status Init(StateStoreContext* context) = 0;
  virtual bool is_open() const = 0;

  // Flush writes the cache's dirty entries to the store (one WriteBatch) and the changelog sink, calls the
  // flush listener with them, then makes the store's contents durable on local disk (RocksDB memtables to
  // SST files). After it returns, a crash loses nothing that the store holds now: what a checkpoint written
  // next may claim. Errors from RocksDB, the sink or the flush listener.
  [[nodiscard]] virtual absl::Status Flush() = 0;
  // Close flushes (as Flush), unregisters from the cache and closes files. The store is unusable after,
  // even if Close failed.
  [[nodiscard]] virtual absl::Status Close() = 0;
  // SetHeldWrites makes `held` (not owned; nullptr removes it) the store's held writes (see HeldWrites):
  // every read and write by anyone else, Flush and Close write them back first. Accepted (true) only by an
  // open key-value or window store with a cache: without one every write is meant to reach the store, its
  // changelog and its flush listener at once (Kafka's behaviour with caching off), so the writer must write
  // directly. Other stores return false.
  virtual bool SetHeldWrites(HeldWrites* held) {
    (void)held;
    return false;
  }

  // Restoration: the runtime reads the store's changelog partition from the checkpointed offset (or the
  // start) to its end and hands the records over in batches. Records are applied as they are, bypassing
  // the cache (which must hold no dirty entries: kFailedPrecondition), the changelog and the flush
  // listener; window and session stores drop records of expired segments, as Kafka's do. RestoreBatch
  // without BeginRestore applies each batch as a WriteBatch. A changelog key that does not fit the store's
  // key layout is kDataLoss. StateRestorer (state_restorer.h) drives these calls with progress reporting.
  [[nodiscard]] virtual absl::Status BeginRestore(const RestoreOptions& options) = 0;
  [[nodiscard]] virtual absl::Status RestoreBatch(absl::Span<const ChangelogRecord> records) = 0;
  // EndRestore applies what is still buffered (kIngestSst) and flushes the store to disk.
  [[nodiscard]] virtual absl::Status EndRestore() = 0;
};

}  // namespace eddy
