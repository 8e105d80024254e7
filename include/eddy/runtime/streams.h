// Streams: runs a Topology against a broker (Kafka Streams' KafkaStreams). It joins the consumer group
// application.id with num.stream.threads stream threads; each thread has its own consumer and producer, gets
// partitions from the group, creates one Task per (sub-topology, partition) it is assigned, and runs the
// poll -> process -> punctuate -> commit loop (docs/runtime.md, docs/ARCHITECTURE.md).
//
//   eddy::EmbeddedClientSupplier clients(broker.get());
//   eddy::Streams app(*builder.Build(), config, &clients);
//   EDDY_RETURN_IF_ERROR(app.Start());
//   ...
//   EDDY_RETURN_IF_ERROR(app.Close());  // commits, closes the tasks and leaves the group
//
// States and their legal transitions (Kafka's KafkaStreams.State):
//   CREATED -> REBALANCING | PENDING_SHUTDOWN | PENDING_ERROR
//   REBALANCING -> RUNNING | PENDING_SHUTDOWN | PENDING_ERROR
//   RUNNING -> REBALANCING | PENDING_SHUTDOWN | PENDING_ERROR
//   PENDING_SHUTDOWN -> NOT_RUNNING;  PENDING_ERROR -> ERROR;  NOT_RUNNING and ERROR are final.
// REBALANCING: some stream thread is joining the group or has its partitions revoked; RUNNING: all have
// their tasks. A stream thread that fails (a task error, a commit error) is handled by the uncaught
// exception handler: REPLACE_THREAD starts a new thread in its place (the group rebalances, the new thread
// resumes from the last commit); SHUTDOWN_CLIENT (the default, as Kafka) stops every thread and ends in ERROR.
//
// State stores (docs/runtime.md, "State"): Start creates the changelog topics and opens state.dir; each
// stream thread restores its tasks' stores from their changelogs before they process (the application
// stays REBALANCING until every task is RUNNING), and checkpoints them at each commit. Their contents can
// be read while the application runs through the Queryable*Store views (interactive_queries.h).
//
// Thread-safe: every method may be called from any thread, except that Close must not be called from the
// state listener or the uncaught exception handler (they run on stream threads; Close waits for them).
// The ClientSupplier is not owned and must outlive the Streams.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "eddy/core/client_supplier.h"
#include "eddy/runtime/error_handlers.h"
#include "eddy/runtime/interactive_queries.h"
#include "eddy/runtime/streams_config.h"
#include "eddy/runtime/streams_metrics.h"
#include "eddy/runtime/topology.h"
#include "eddy/state/state_directory.h"
#include "eddy/state/state_restorer.h"

namespace eddy {

enum class StreamsState : uint8_t {
  kCreated,
  kRebalancing,
  kRunning,
  kPendingShutdown,
  kNotRunning,
  kPendingError,
  kError,
};
// "CREATED", "REBALANCING", ..., as Kafka prints them.
const char* ToString(StreamsState state);
// Whether Kafka allows `from` -> `to` (see the table above).
bool IsValidTransition(StreamsState from, StreamsState to);

// Kafka's StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse (SHUTDOWN_APPLICATION, which needs
// the group protocol's cooperation, is not offered).
enum class StreamThreadExceptionResponse : uint8_t {
  kReplaceThread,   // REPLACE_THREAD
  kShutdownClient,  // SHUTDOWN_CLIENT
};
// Called on the failing stream thread with its error (naming task, topic, partition and offset).
using UncaughtExceptionHandler = std::function<StreamThreadExceptionResponse(const absl::Status& error)>;
// Called on the thread that changes the state, with the state lock held: keep it short, do not call Close.
using StateListener = std::function<void(StreamsState new_state, StreamsState old_state)>;

namespace runtime_internal {
class StreamThread;
class StreamThreadOwner;
}  // namespace runtime_internal

class Streams {
 public:
  // `topology` is copied (cheaply); `clients` is not owned.
  Streams(Topology topology, StreamsConfig config, ClientSupplier* clients);
  // Closes (waiting without limit) if still running.
  ~Streams();
  Streams(const Streams&) = delete;
  Streams& operator=(const Streams&) = delete;

  // Set before Start (kFailedPrecondition otherwise).
  absl::Status SetStateListener(StateListener listener);
  absl::Status SetUncaughtExceptionHandler(UncaughtExceptionHandler handler);
  // Kafka's setGlobalStateRestoreListener: told about every store restoration of every stream thread
  // (called on the stream threads, concurrently: it must be thread-safe). Not owned; must outlive the
  // Streams. Null: none.
  absl::Status SetGlobalStateRestoreListener(StateRestoreListener* listener);

  // Start validates the config and the topics, then starts the stream threads (state REBALANCING; RUNNING
  // once every thread has its tasks). Errors: kFailedPrecondition unless CREATED; kInvalidArgument for a bad
  // config or co-partitioned source topics with different partition counts (naming both topics and counts);
  // kNotFound naming every missing source topic (Kafka's MissingSourceTopicException); the admin's errors
  // creating the internal (repartition) topics; with stores, kFailedPrecondition for an existing changelog
  // topic with another partition count than the store's tasks (naming topic and counts, as Kafka refuses
  // to start), state.dir errors. On error the state stays CREATED.
  absl::Status Start();

  // Close stops the stream threads: each commits its tasks (producer flushed first), closes them and leaves
  // the group; then the state is NOT_RUNNING. Waits up to `timeout` for the threads (kDeadlineExceeded if
  // they are not done: they keep stopping in the background and the destructor waits for them). OK if
  // already closed; after a SHUTDOWN_CLIENT it waits for that shutdown and returns OK (the state stays ERROR).
  absl::Status Close(absl::Duration timeout = absl::InfiniteDuration());

  StreamsState state() const;
  // The error that moved the application to ERROR (OK otherwise).
  absl::Status error() const;
  // Per stream thread (in start order, replaced threads included, DEAD), a snapshot of its metrics and its
  // tasks' (updated by each thread at least every 100 ms and at every commit).
  std::vector<ThreadMetricsSnapshot> metrics() const;
  // The names of the stream threads alive now.
  std::vector<std::string> thread_names() const;

  // Interactive queries (Kafka's store(StoreQueryParameters.fromNameAndType(name, type))): a read-only view
  // of the store `name` across all local tasks (interactive_queries.h, which has the reads' errors).
  // Errors: kFailedPrecondition before Start; kNotFound for a store the topology does not use;
  // kInvalidArgument for a store of another type.
  absl::StatusOr<ReadOnlyKeyValueStore> QueryableKeyValueStore(absl::string_view name) const;
  absl::StatusOr<ReadOnlyWindowStore> QueryableWindowStore(absl::string_view name) const;
  absl::StatusOr<ReadOnlySessionStore> QueryableSessionStore(absl::string_view name) const;

 private:
  class Owner;
  friend class Owner;

  absl::Status ValidateTopics(Admin& admin);
  // PrepareState (streams_state.cc): the stores' partition counts, their changelog topics, state.dir.
  absl::Status PrepareState(Admin& admin);
  // For the views: see runtime_internal::StoreProvider.
  absl::Status WithStores(absl::string_view name, int32_t partition,
                          absl::FunctionRef<absl::Status(int32_t, StateStore&)> fn) const;
  // The store's partition count, after checking it exists and, by building an unused instance, its type.
  template <typename S>
  absl::StatusOr<int32_t> QueryableStore(absl::string_view name) const;
  absl::Status StartThread() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetState(StreamsState next) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateRunningState() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnThreadFailed(runtime_internal::StreamThread* thread, const absl::Status& error);
  void ShutdownAfterError();
  bool AllThreadsDead() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Topology topology_;
  const StreamsConfig config_;
  ClientSupplier* const clients_;
  std::unique_ptr<Owner> owner_;
  const runtime_internal::StoreProvider* store_provider_;  // owner_, for the store views
  // The built-in handlers the tasks use when the config names no user handler.
  LogAndFailExceptionHandler log_and_fail_;
  LogAndContinueExceptionHandler log_and_continue_;
  std::vector<std::string> source_topics_;  // set by Start
  // Set by Start (PrepareState), read-only afterwards.
  struct StoreInfo {
    int subtopology = -1;
    int32_t partitions = 0;  // tasks of the sub-topology
  };
  std::map<std::string, StoreInfo, std::less<>> stores_;
  std::unique_ptr<StateDirectory> state_directory_;  // null when the topology has no stores
  std::atomic<bool> started_{false};

  mutable absl::Mutex mu_;
  StreamsState state_ ABSL_GUARDED_BY(mu_) = StreamsState::kCreated;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  StateListener state_listener_ ABSL_GUARDED_BY(mu_);
  UncaughtExceptionHandler exception_handler_ ABSL_GUARDED_BY(mu_);
  StateRestoreListener* restore_listener_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::vector<std::unique_ptr<runtime_internal::StreamThread>> threads_ ABSL_GUARDED_BY(mu_);
  int next_thread_number_ ABSL_GUARDED_BY(mu_) = 1;
  std::thread shutdown_thread_;  // started for SHUTDOWN_CLIENT; joined by Close/destructor
  absl::Mutex close_mu_;         // serializes Close calls
};

}  // namespace eddy
