#include "eddy/runtime/streams.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/abseil_mode.h"
#include "eddy/core/status.h"
#include "runtime/stream_thread.h"

namespace eddy {

using runtime_internal::StreamThread;
using runtime_internal::ThreadState;

const char* ToString(StreamsState state) {
  switch (state) {
    case StreamsState::kCreated:
      return "CREATED";
    case StreamsState::kRebalancing:
      return "REBALANCING";
    case StreamsState::kRunning:
      return "RUNNING";
    case StreamsState::kPendingShutdown:
      return "PENDING_SHUTDOWN";
    case StreamsState::kNotRunning:
      return "NOT_RUNNING";
    case StreamsState::kPendingError:
      return "PENDING_ERROR";
    case StreamsState::kError:
      return "ERROR";
  }
  return "?";
}

bool IsValidTransition(StreamsState from, StreamsState to) {
  using S = StreamsState;
  switch (from) {
    case S::kCreated:
      return to == S::kRebalancing || to == S::kPendingShutdown || to == S::kPendingError;
    case S::kRebalancing:
      return to == S::kRunning || to == S::kPendingShutdown || to == S::kPendingError;
    case S::kRunning:
      return to == S::kRebalancing || to == S::kPendingShutdown || to == S::kPendingError;
    case S::kPendingShutdown:
      return to == S::kNotRunning;
    case S::kPendingError:
      return to == S::kError;
    case S::kNotRunning:
    case S::kError:
      return false;
  }
  return false;
}

// Receives the stream threads' reports and forwards them to the Streams.
class Streams::Owner final : public runtime_internal::StreamThreadOwner, public runtime_internal::StoreProvider {
 public:
  explicit Owner(Streams* streams) : streams_(streams) {}
  StreamThread::Shared shared;

  void OnThreadStateChange(StreamThread*, ThreadState) override {
    absl::MutexLock lock(&streams_->mu_);
    streams_->UpdateRunningState();
  }
  void OnThreadFailed(StreamThread* thread, const absl::Status& error) override {
    streams_->OnThreadFailed(thread, error);
  }
  absl::Status WithStores(absl::string_view name, int32_t partition,
                          absl::FunctionRef<absl::Status(int32_t, StateStore&)> fn) const override {
    return streams_->WithStores(name, partition, fn);
  }

 private:
  Streams* const streams_;
};

Streams::Streams(Topology topology, StreamsConfig config, ClientSupplier* clients)
    : topology_(std::move(topology)),
      config_(std::move(config)),
      clients_(clients),
      owner_(std::make_unique<Owner>(this)),
      store_provider_(owner_.get()) {
  internal::UseReleaseMutexMode();  // before the stream threads start
}

Streams::~Streams() { (void)Close(); }

absl::Status Streams::SetStateListener(StateListener listener) {
  absl::MutexLock lock(&mu_);
  if (state_ != StreamsState::kCreated) return absl::FailedPreconditionError("SetStateListener after Start");
  state_listener_ = std::move(listener);
  return absl::OkStatus();
}

absl::Status Streams::SetGlobalStateRestoreListener(StateRestoreListener* listener) {
  absl::MutexLock lock(&mu_);
  if (state_ != StreamsState::kCreated) {
    return absl::FailedPreconditionError("SetGlobalStateRestoreListener after Start");
  }
  restore_listener_ = listener;
  return absl::OkStatus();
}

absl::Status Streams::SetUncaughtExceptionHandler(UncaughtExceptionHandler handler) {
  absl::MutexLock lock(&mu_);
  if (state_ != StreamsState::kCreated) {
    return absl::FailedPreconditionError("SetUncaughtExceptionHandler after Start");
  }
  exception_handler_ = std::move(handler);
  return absl::OkStatus();
}

void Streams::SetState(StreamsState next) {
  if (next == state_) return;
  const StreamsState old = state_;
  if (!IsValidTransition(old, next)) return;  // e.g. a thread reporting RUNNING during PENDING_SHUTDOWN
  state_ = next;
  if (state_listener_) state_listener_(next, old);
}

void Streams::UpdateRunningState() {
  if (state_ != StreamsState::kRebalancing && state_ != StreamsState::kRunning) return;
  bool any_alive = false;
  bool all_running = true;
  for (const auto& t : threads_) {
    const ThreadState s = t->state();
    if (s == ThreadState::kDead || s == ThreadState::kPendingShutdown) continue;
    any_alive = true;
    all_running = all_running && s == ThreadState::kRunning;
  }
  SetState(any_alive && all_running ? StreamsState::kRunning : StreamsState::kRebalancing);
}

absl::Status Streams::ValidateTopics(Admin& admin) {
  const std::string& app = config_.application_id;
  std::set<std::string> internal;
  for (const InternalTopic& t : topology_.internal_topics()) internal.insert(topology_.TopicName(t.name, app));
  // Partition counts of the user's source topics; missing ones are collected and reported together.
  std::map<std::string, int32_t> partitions;
  std::vector<std::string> missing;
  for (const std::string& topic : source_topics_) {
    if (internal.count(topic) > 0) continue;
    absl::StatusOr<TopicDescription> d = admin.DescribeTopic(topic);
    if (absl::IsNotFound(d.status())) {
      missing.push_back(topic);
      continue;
    }
    EDDY_RETURN_IF_ERROR(d.status());
    partitions[topic] = static_cast<int32_t>(d->partitions.size());
  }
  if (!missing.empty()) {
    return absl::NotFoundError(absl::StrCat("missing source topic", missing.size() > 1 ? "s" : "", " ",
                                            absl::StrJoin(missing, ", "), " of application ", app,
                                            ": create them before starting it"));
  }
  // Internal (repartition) topics: create the missing ones with the partition count the topology asks for.
  EDDY_ASSIGN_OR_RETURN(auto internal_topics,
                        topology_.InternalTopics(app, [&](const std::string& topic) -> absl::StatusOr<int32_t> {
                          auto it = partitions.find(topic);
                          if (it != partitions.end()) return it->second;
                          EDDY_ASSIGN_OR_RETURN(TopicDescription d, admin.DescribeTopic(topic));
                          return static_cast<int32_t>(d.partitions.size());
                        }));
  for (const auto& [topic, count] : internal_topics) {
    absl::StatusOr<TopicDescription> d = admin.DescribeTopic(topic);
    if (absl::IsNotFound(d.status())) {
      // retention.ms=-1, as Kafka Streams creates repartition topics: their records carry event time, and
      // time-based retention must not delete old events before the downstream task has read them.
      absl::Status st =
          admin.CreateTopic(NewTopic{.name = topic, .partitions = count, .configs = {{"retention.ms", "-1"}}});
      if (!st.ok() && !absl::IsAlreadyExists(st)) {
        return absl::Status(st.code(), absl::StrCat("creating internal topic ", topic, ": ", st.message()));
      }
      partitions[topic] = count;
      continue;
    }
    EDDY_RETURN_IF_ERROR(d.status());
    const int32_t have = static_cast<int32_t>(d->partitions.size());
    if (have != count) {
      return absl::InvalidArgumentError(absl::StrCat("internal topic ", topic, " has ", have,
                                                     " partitions, the topology needs ", count));
    }
    partitions[topic] = have;
  }
  // Co-partitioned sources share tasks: their partition counts must match.
  for (const std::vector<std::string>& group : topology_.CopartitionGroups(app)) {
    for (size_t i = 1; i < group.size(); ++i) {
      const int32_t a = partitions[group[0]];
      const int32_t b = partitions[group[i]];
      if (a != b) {
        return absl::InvalidArgumentError(absl::StrCat(
            "co-partitioned source topics ", group[0], " (", a, " partitions) and ", group[i], " (", b,
            " partitions) must have the same number of partitions: they are read by the same tasks"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Streams::Start() {
  {
    absl::MutexLock lock(&mu_);
    if (state_ != StreamsState::kCreated) {
      return absl::FailedPreconditionError(absl::StrCat("Start: the application is ", ToString(state_)));
    }
  }
  EDDY_RETURN_IF_ERROR(config_.Validate());
  if (topology_.subtopologies().empty()) return absl::InvalidArgumentError("the topology has no sub-topology");
  source_topics_ = topology_.AllSourceTopics(config_.application_id);
  EDDY_ASSIGN_OR_RETURN(Admin * admin, clients_->GetAdmin());
  EDDY_RETURN_IF_ERROR(ValidateTopics(*admin));
  EDDY_RETURN_IF_ERROR(PrepareState(*admin));

  StreamThread::Shared& shared = owner_->shared;
  shared.topology = &topology_;
  shared.config = &config_;
  shared.source_topics = source_topics_;
  TaskConfig& tc = shared.task_config;
  tc.application_id = config_.application_id;
  tc.deserialization_handler = config_.deserialization_handler;
  if (tc.deserialization_handler == nullptr) {
    tc.deserialization_handler = config_.deserialization_handler_kind == DeserializationHandlerKind::kLogAndContinue
                                     ? static_cast<DeserializationExceptionHandler*>(&log_and_continue_)
                                     : &log_and_fail_;
  }
  tc.production_handler = config_.production_handler;
  tc.invalid_timestamp_policy = config_.invalid_timestamp_policy;
  tc.dead_letter_topic = config_.dead_letter_topic;
  tc.log = config_.log;
  tc.stream_time_idle_advance_ms = config_.stream_time_idle_advance_ms;
  if (state_directory_ != nullptr) {
    shared.state_directory = state_directory_.get();
    shared.admin = admin;
    shared.cache_bytes = config_.statestore_cache_max_bytes / config_.num_stream_threads;
    absl::MutexLock lock(&mu_);
    shared.restore_listener = restore_listener_;
  }

  std::vector<std::unique_ptr<StreamThread>> failed;  // destroyed (joined) after the lock is released
  absl::Status st;
  {
    absl::MutexLock lock(&mu_);
    for (int i = 0; i < config_.num_stream_threads && st.ok(); ++i) st = StartThread();
    if (st.ok()) {
      SetState(StreamsState::kRebalancing);
      started_.store(true, std::memory_order_release);
      return absl::OkStatus();
    }
    // Stop what started; the application stays CREATED.
    for (auto& t : threads_) t->RequestShutdown();
    failed = std::move(threads_);
    threads_.clear();
  }
  return st;
}

absl::Status Streams::StartThread() {
  const std::string prefix = config_.client_id.empty() ? config_.application_id : config_.client_id;
  const std::string name = absl::StrCat(prefix, "-StreamThread-", next_thread_number_++);
  ConsumerConfig cc = config_.consumer;
  cc.group_id = config_.application_id;
  cc.client_id = name + "-consumer";
  cc.enable_auto_commit = false;
  ProducerConfig pc = config_.producer;
  pc.client_id = name + "-producer";
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<Consumer> consumer, clients_->GetConsumer(cc));
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<Producer> producer, clients_->GetProducer(pc));
  std::unique_ptr<Consumer> restore_consumer;
  if (state_directory_ != nullptr) {
    ConsumerConfig rc = config_.restore_consumer;
    rc.group_id.clear();  // Assign only
    rc.client_id = name + "-restore-consumer";
    rc.enable_auto_commit = false;
    EDDY_ASSIGN_OR_RETURN(restore_consumer, clients_->GetConsumer(rc));
  }
  threads_.push_back(std::make_unique<StreamThread>(name, &owner_->shared, std::move(consumer),
                                                    std::move(producer), std::move(restore_consumer), owner_.get()));
  threads_.back()->Start();
  return absl::OkStatus();
}

void Streams::OnThreadFailed(StreamThread* thread, const absl::Status& error) {
  UncaughtExceptionHandler handler;
  {
    absl::MutexLock lock(&mu_);
    if (state_ != StreamsState::kRunning && state_ != StreamsState::kRebalancing) return;  // already stopping
    handler = exception_handler_;
  }
  const StreamThreadExceptionResponse response =
      handler ? handler(error) : StreamThreadExceptionResponse::kShutdownClient;  // Kafka's default
  absl::MutexLock lock(&mu_);
  if (state_ != StreamsState::kRunning && state_ != StreamsState::kRebalancing) return;
  if (response == StreamThreadExceptionResponse::kReplaceThread) {
    LogLine(config_.log, absl::StrCat("replacing stream thread ", thread->name(), " after: ", error.message()));
    absl::Status st = StartThread();
    if (st.ok()) return;
    LogLine(config_.log, absl::StrCat("cannot replace stream thread ", thread->name(), ": ", st.message()));
  }
  error_ = error;
  SetState(StreamsState::kPendingError);
  // This is a stream thread: another thread stops the others and waits for them.
  shutdown_thread_ = std::thread([this] { ShutdownAfterError(); });
}

void Streams::ShutdownAfterError() {
  std::vector<StreamThread*> threads;
  {
    absl::MutexLock lock(&mu_);
    for (auto& t : threads_) {
      t->RequestShutdown();
      threads.push_back(t.get());
    }
  }
  for (StreamThread* t : threads) t->Join();
  absl::MutexLock lock(&mu_);
  SetState(StreamsState::kError);
}

bool Streams::AllThreadsDead() const {
  for (const auto& t : threads_) {
    if (t->state() != ThreadState::kDead) return false;
  }
  return true;
}

absl::Status Streams::Close(absl::Duration timeout) {
  absl::MutexLock close_lock(&close_mu_);
  const absl::Time deadline = absl::Now() + timeout;
  {
    absl::MutexLock lock(&mu_);
    switch (state_) {
      case StreamsState::kNotRunning:
      case StreamsState::kError:
        break;
      case StreamsState::kPendingError:
        break;  // the shutdown thread stops the stream threads
      case StreamsState::kPendingShutdown:
        break;  // an earlier Close timed out
      default:
        SetState(StreamsState::kPendingShutdown);
        for (auto& t : threads_) t->RequestShutdown();
    }
    // Stream threads report kDead through OnThreadStateChange, which takes mu_: wait on that.
    if (!mu_.AwaitWithDeadline(absl::Condition(this, &Streams::AllThreadsDead), deadline)) {
      return absl::DeadlineExceededError("Close: stream threads still stopping");
    }
  }
  if (shutdown_thread_.joinable()) shutdown_thread_.join();
  std::vector<StreamThread*> threads;
  {
    absl::MutexLock lock(&mu_);
    for (auto& t : threads_) threads.push_back(t.get());
  }
  // Each has reported kDead and only returns from Run. The objects stay (for metrics()) until destruction;
  // no thread is added once every one is dead and the state is PENDING_SHUTDOWN or ERROR.
  for (StreamThread* t : threads) t->Join();
  absl::MutexLock lock(&mu_);
  if (state_ == StreamsState::kPendingShutdown) SetState(StreamsState::kNotRunning);
  return absl::OkStatus();
}

StreamsState Streams::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

absl::Status Streams::error() const {
  absl::MutexLock lock(&mu_);
  return error_;
}

std::vector<ThreadMetricsSnapshot> Streams::metrics() const {
  absl::MutexLock lock(&mu_);
  std::vector<ThreadMetricsSnapshot> out;
  for (const auto& t : threads_) out.push_back(t->metrics());
  return out;
}

std::vector<std::string> Streams::thread_names() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& t : threads_) {
    if (t->state() != ThreadState::kDead) out.push_back(t->name());
  }
  return out;
}

}  // namespace eddy
