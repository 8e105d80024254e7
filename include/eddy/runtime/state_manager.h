// StateManager: what stands between one task's state stores and the broker, as Kafka Streams'
// ProcessorStateManager and StoreChangelogReader together: it owns the task directory's lock, applies the
// recovery rules (store_recovery.h) to each store against its changelog, wipes what cannot be trusted,
// restores stores from their changelogs through a restore consumer, and writes the task's checkpoint at
// each commit and at a clean close. Also here: EnsureChangelogTopics, which creates the changelog topics.
//
// The runtime's sequence for one task (docs/state.md, "The state manager"):
//
//   EDDY_ASSIGN_OR_RETURN(auto manager, StateManager::Open(config));   // lock + read checkpoint
//   ... build and Init the task's stores (Task::InitializeStores) ...
//   EDDY_RETURN_IF_ERROR(manager->RegisterStores(stores, replace));      // decide, wipe, plan restoration
//   while (!manager->ready()) {                                         // RESTORING
//     EDDY_RETURN_IF_ERROR(manager->Restore(1000).status());            // interleave with the main poll
//   }
//   ... process; at each commit: flush stores, sink.Flush(), commit input offsets, manager->Checkpoint() ...
//   flush stores, sink.Flush(), manager->Close(/*clean=*/true), close stores;    // or Close(false) on error
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "eddy/core/admin.h"
#include "eddy/core/consumer.h"
#include "eddy/core/consumer_records.h"
#include "eddy/core/record.h"
#include "eddy/runtime/changelog_sink.h"
#include "eddy/runtime/error_handlers.h"
#include "eddy/state/state_directory.h"
#include "eddy/state/state_restorer.h"
#include "eddy/state/state_store.h"
#include "eddy/state/store_recovery.h"

namespace eddy {

// A changelog topic the application needs: the Topology lists one per logged store.
struct ChangelogTopicSpec {
  std::string name;         // the real topic name, "<application.id>-<store>-changelog"
  int32_t partitions = 1;   // one per task partition of the store's subtopology
  std::map<std::string, std::string> configs;  // StateStore::changelog_config()
};

// The spec of `store`'s changelog in application `application_id`, with `partitions` partitions.
ChangelogTopicSpec ChangelogTopicFor(absl::string_view application_id, const StateStore& store,
                                     int32_t partitions);

// EnsureChangelogTopics creates each missing topic with its partitions and configs, and checks that each
// existing one has the expected partition count (a topic created concurrently by another instance counts
// as existing). Configs of existing topics are left as they are, as Kafka Streams does. Errors:
// kFailedPrecondition naming the topic, the expected and the actual partition count (as Kafka's "Existing
// internal topic ... has invalid partitions"); Admin's errors otherwise. Thread-safe (Admin is).
[[nodiscard]] absl::Status EnsureChangelogTopics(Admin& admin, absl::Span<const ChangelogTopicSpec> topics);

struct StateManagerConfig {
  std::string application_id;  // names the changelog topics
  std::string task_id;         // "<subtopology>_<partition>"
  int32_t partition = 0;       // the task's partition: every store's changelog partition
  // Not owned; must outlive the manager. Required.
  const StateDirectory* state_directory = nullptr;
  // Not owned; must outlive the manager. Required when a store is logged: it gives the changelogs' start
  // and end offsets (ListOffsets).
  Admin* admin = nullptr;
  // Not owned; must outlive the manager. Required when a store needs restoring. A consumer without a group
  // (Assign only), which may be shared by the tasks of one stream thread: each Restore call re-assigns it
  // to the partition it reads and seeks to where that task stopped. Kafka's restore consumer.
  Consumer* restore_consumer = nullptr;
  // Not owned; must outlive the manager. The sink the task's stores send their changes to; its
  // acknowledged offsets become the checkpoint. May be null when no store is logged.
  ProducerChangelogSink* changelog_sink = nullptr;
  // Not owned; may be null. Told about each store's restoration (a stream thread's listener logs its
  // progress).
  StateRestoreListener* restore_listener = nullptr;
  // Receives the manager's own lines (a corrupt checkpoint, why a store is wiped or restored, restoration
  // complete); called on the manager's thread. Null: stderr. A stream thread passes StreamsConfig::log.
  LogSink log;
  // How stores apply restored records (kAuto: SST ingestion into an empty persistent store).
  RestoreOptions restore_options;
  // How long one restore-consumer poll waits for data.
  absl::Duration poll_timeout = absl::Milliseconds(100);
  // A restoration that reads nothing for this long while its changelog end is not reached fails with
  // kDeadlineExceeded (Kafka's task.timeout.ms, 5 minutes).
  absl::Duration restore_stall_timeout = absl::Minutes(5);
};

// Called when a store must be wiped: the manager has closed `closed` and deleted its files. The callback
// destroys it, builds a new store of the same name and kind, Inits it with the task's context and returns
// it (owned by the task, as the old one was). The manager uses the returned pointer from then on.
using StoreReplacer = absl::AnyInvocable<absl::StatusOr<StateStore*>(StateStore* closed)>;

// One per task, on the task's stream thread (thread-compatible). Lifecycle: Open (holds the task lock) ->
// RegisterStores -> Restore until ready() -> Checkpoint at each commit -> Close(clean). Destroying an
// unclosed manager is Close(false). It does not own the stores; they must stay open until Close returns.
class StateManager {
 public:
  // Open takes the task directory's lock (kFailedPrecondition if another stream thread or process holds
  // it), reads the checkpoint (a corrupt one counts as none: its stores are wiped and restored) and notes
  // which persistent stores have local files. Call before the stores are Init'ed: Init creates their files.
  // kInvalidArgument for a missing state directory or a bad task id.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<StateManager>> Open(StateManagerConfig config);
  ~StateManager();
  StateManager(const StateManager&) = delete;
  StateManager& operator=(const StateManager&) = delete;

  // RegisterStores takes the task's stores (Init'ed, names unique), asks the broker for each logged
  // store's changelog start and end, and decides per store (DecideStoreRecovery). Stores to wipe are
  // closed, wiped (files, then checkpoint entries) and replaced through `replace`. Stores to
  // restore are queued. Resets the sink's acknowledged offsets of the task's changelog partitions.
  // Errors: kNotFound for a missing changelog topic (EnsureChangelogTopics first), kInvalidArgument for a
  // missing admin/consumer/sink or duplicate store names, kFailedPrecondition if called twice; I/O and
  // `replace` errors.
  [[nodiscard]] absl::Status RegisterStores(std::vector<StateStore*> stores, StoreReplacer replace);

  // Restore reads up to about `max_records` changelog records (whole polls) into the stores being
  // restored, one store at a time, and returns ready(). When the last store is done it writes the
  // checkpoint and unassigns the restore consumer. Errors: the consumer's, the stores' (kDataLoss for a
  // record that does not fit the store), kDeadlineExceeded (see restore_stall_timeout). After an error
  // the task should be closed uncleanly.
  [[nodiscard]] absl::StatusOr<bool> Restore(int64_t max_records);
  // RestoreAll restores until ready().
  [[nodiscard]] absl::Status RestoreAll();
  // Whether every store is up to date with its changelog (the task may process records).
  bool ready() const { return registered_ && next_restore_ >= restore_queue_.size(); }

  // Checkpoint writes the task's checkpoint: for each persistent logged store, the offset of the last
  // changelog record it holds (the sink's last acknowledged offset for its partition, else the offset it
  // was restored or checkpointed to). Call after the stores were flushed and the sink flushed. Errors: the
  // sink's first delivery error; kFailedPrecondition if records to the task's changelogs are still
  // unacknowledged (flush the sink first), before RegisterStores or after Close; kResourceExhausted/kInternal from the
  // file write. Durable when it returns (OffsetCheckpoint::Write).
  [[nodiscard]] absl::Status Checkpoint();

  // Close(true), the clean close: finishes the store being restored where it is (so the next owner
  // resumes there), writes the checkpoint (as Checkpoint) and releases the lock. If the checkpoint
  // cannot be written the existing one is deleted and the error returned. Close(false), after a task
  // failure: deletes the checkpoint (once stores were registered), so the next owner wipes and restores
  // persistent stores that have local files, and releases the lock. The caller closes the stores afterwards. Idempotent.
  absl::Status Close(bool clean);

  // The stores as registered, with replacements applied.
  std::vector<StateStore*> stores() const;
  // What was decided for `store` at registration (nullopt for an unknown name).
  std::optional<RecoveryDecision> decision(absl::string_view store) const;
  const std::string& task_id() const { return config_.task_id; }

 private:
  struct Store;
  explicit StateManager(StateManagerConfig config, TaskDirectoryLock lock,
                        std::map<TopicPartition, int64_t> checkpoint, std::set<std::string> local_stores);

  [[nodiscard]] absl::Status RegisterOne(Store& s, StoreReplacer& replace);
  [[nodiscard]] absl::Status StartRestore(Store& s);
  [[nodiscard]] absl::Status PollInto(Store& s, int64_t* polled);
  [[nodiscard]] absl::Status FinishRestore(Store& s);
  [[nodiscard]] absl::Status WriteCheckpoint();

  StateManagerConfig config_;
  TaskDirectoryLock lock_;
  std::map<TopicPartition, int64_t> checkpoint_;  // as read at Open
  std::set<std::string> local_stores_;            // stores with files under rocksdb/ at Open
  std::vector<std::unique_ptr<Store>> stores_;
  std::vector<Store*> restore_queue_;  // stores to restore, in registration order
  size_t next_restore_ = 0;            // index into restore_queue_ of the store being restored
  bool registered_ = false;
  bool closed_ = false;
  ConsumerRecords records_;               // reused by every poll
  std::vector<ChangelogRecord> batch_;    // views into records_
  absl::Time last_progress_;              // for restore_stall_timeout
};

}  // namespace eddy
