#include "runtime/stream_thread.h"

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eddy/core/status.h"

namespace eddy::runtime_internal {
namespace {

constexpr int64_t kPublishIntervalMs = 100;
constexpr int64_t kIdlePublishMs = 5;
constexpr int64_t kRateWindowMs = 1000;

int64_t NowMs() { return absl::GetCurrentTimeNanos() / 1000000; }

}  // namespace

const char* ToString(ThreadState state) {
  switch (state) {
    case ThreadState::kCreated:
      return "CREATED";
    case ThreadState::kStarting:
      return "STARTING";
    case ThreadState::kPartitionsRevoked:
      return "PARTITIONS_REVOKED";
    case ThreadState::kPartitionsAssigned:
      return "PARTITIONS_ASSIGNED";
    case ThreadState::kRunning:
      return "RUNNING";
    case ThreadState::kPendingShutdown:
      return "PENDING_SHUTDOWN";
    case ThreadState::kDead:
      return "DEAD";
  }
  return "?";
}

StreamThread::StreamThread(std::string name, const Shared* shared, std::unique_ptr<Consumer> consumer,
                           std::unique_ptr<Producer> producer, std::unique_ptr<Consumer> restore_consumer,
                           StreamThreadOwner* owner)
    : name_(std::move(name)),
      shared_(shared),
      consumer_(std::move(consumer)),
      producer_(std::move(producer)),
      restore_consumer_(std::move(restore_consumer)),
      collector_(producer_.get()),
      owner_(owner) {
  if (shared_->state_directory != nullptr) CreateStateStructures();
  absl::MutexLock lock(&metrics_mu_);
  published_.thread_name = name_;
  published_.state = ToString(ThreadState::kCreated);
}

StreamThread::~StreamThread() { Join(); }

void StreamThread::Start() {
  thread_ = std::thread([this] {
    // "eddy-stream-<n>" in top and perf (Linux keeps 15 characters).
    const size_t dash = name_.rfind('-');
    const std::string short_name = absl::StrCat("eddy-stream", name_.substr(dash == std::string::npos ? name_.size() : dash));
    pthread_setname_np(pthread_self(), short_name.substr(0, 15).c_str());
    Run();
  });
}

void StreamThread::Join() {
  if (thread_.joinable()) thread_.join();
}

void StreamThread::SetState(ThreadState state) {
  state_.store(state, std::memory_order_release);
  {
    absl::MutexLock lock(&metrics_mu_);
    published_.state = ToString(state);
  }
  owner_->OnThreadStateChange(this, state);
}

void StreamThread::Run() {
  absl::Status st;
  try {
    st = RunLoop();
  } catch (const std::exception& e) {
    st = absl::InternalError(absl::StrCat("stream thread ", name_, ": exception: ", e.what()));
  } catch (...) {
    st = absl::InternalError(absl::StrCat("stream thread ", name_, ": unknown exception"));
  }
  const bool clean = st.ok();
  if (state() != ThreadState::kPendingShutdown) SetState(ThreadState::kPendingShutdown);
  absl::Status close = CloseTasks(clean);
  if (st.ok()) st = close;
  // Leaving the group lets the other members take the partitions at once.
  absl::Status consumer_close = consumer_->Close();
  if (st.ok() && clean) st = Prefix(consumer_close, "closing the consumer");
  if (restore_consumer_ != nullptr) (void)restore_consumer_->Close();
  (void)producer_->Close();
  PublishMetrics(NowMs(), /*force=*/true);
  if (!st.ok()) {
    LogLine(shared_->config->log, absl::StrCat("stream thread ", name_, " failed: ", st.message()));
    SetState(ThreadState::kDead);
    owner_->OnThreadFailed(this, st);
  } else {
    SetState(ThreadState::kDead);
  }
}

absl::Status StreamThread::RunLoop() {
  SetState(ThreadState::kStarting);
  EDDY_RETURN_IF_ERROR(consumer_->Subscribe(shared_->source_topics, this));
  const StreamsConfig& config = *shared_->config;
  const absl::Duration poll_timeout = absl::Milliseconds(config.poll_ms);
  last_commit_ms_ = NowMs();
  while (!shutdown_requested_.load(std::memory_order_relaxed)) {
    absl::Status polled = consumer_->Poll(restoring_ || lock_wait_ ? PollTimeout() : poll_timeout, &records_);
    if (!rebalance_error_.ok()) return std::exchange(rebalance_error_, absl::OkStatus());
    if (!polled.ok()) return Prefix(polled, absl::StrCat("stream thread ", name_, ": poll"));
    if (restoring_ || lock_wait_) EDDY_RETURN_IF_ERROR(AdvanceTasks(NowMs()));
    if (state() == ThreadState::kPartitionsAssigned && AllTasksRunning()) SetState(ThreadState::kRunning);
    if (!records_.empty()) EDDY_RETURN_IF_ERROR(ProcessPolled());
    const int64_t now = NowMs();
    for (auto& [id, entry] : tasks_) {
      if (entry.task->state() != TaskState::kRunning) continue;
      absl::MutexLock lock(&tasks_mu_);
      SendBurst burst(producer_.get());
      EDDY_RETURN_IF_ERROR(entry.task->Punctuate(now));
    }
    if (now - last_commit_ms_ >= config.commit_interval_ms) {
      EDDY_RETURN_IF_ERROR(Commit());
      last_commit_ms_ = now;
    }
    PublishMetrics(now, /*force=*/false,
                   /*drained=*/records_.count() < static_cast<int64_t>(config.consumer.max_poll_records));
  }
  return absl::OkStatus();
}

absl::Status StreamThread::ProcessPolled() {
  polled_records_ += records_.count();
  absl::Status error;
  absl::Status st = records_.ForEachPartition(
      &scratch_, [this, &error](const TopicPartition& tp, absl::Span<const RecordView> records) {
        if (!error.ok()) [[unlikely]] return;
        auto it = task_of_partition_.find(tp);
        if (it == task_of_partition_.end()) [[unlikely]] {
          error = absl::InternalError(absl::StrCat("stream thread ", name_, ": polled partition ", ToString(tp),
                                                   " that none of its tasks reads"));
          return;
        }
        Task* task = it->second;
        if (task->state() != TaskState::kRunning) {  // restoring: fetch these again once it runs
          rewinds_.push_back(TopicPartitionOffset{tp, records.front().offset()});
          return;
        }
        const int64_t start = absl::GetCurrentTimeNanos();
        {
          absl::MutexLock lock(&tasks_mu_);
          SendBurst burst(producer_.get());  // the sink's Sends take no lock per record
          error = task->Process(tp, records);
        }
        const int64_t ns = absl::GetCurrentTimeNanos() - start;
        ++process_calls_;
        process_ns_total_ += ns;
        process_ns_max_ = std::max(process_ns_max_, ns);
      });
  if (!error.ok()) return error;
  if (!st.ok()) return Prefix(st, absl::StrCat("stream thread ", name_, ": reading polled records"));
  for (const TopicPartitionOffset& r : rewinds_) {
    EDDY_RETURN_IF_ERROR(Prefix(consumer_->Seek(r.tp, r.offset), absl::StrCat("stream thread ", name_,
                                                                             ": rewinding a restoring task's input")));
  }
  rewinds_.clear();
  return absl::OkStatus();
}

// The commit sequence (at-least-once, Kafka's order), over the RUNNING tasks.
absl::Status StreamThread::Commit(bool force) {
  bool needed = false;
  for (const auto& [id, entry] : tasks_) needed = needed || entry.task->commit_needed();
  if (!needed && !(force && sink_ != nullptr)) return absl::OkStatus();
  const int64_t start = absl::GetCurrentTimeNanos();
  // 1. The stores' caches go to the stores and their changelogs (and what they emit downstream to the
  //    collector); the stores are made durable on local disk.
  for (auto& [id, entry] : tasks_) {
    if (entry.state == nullptr || entry.task->state() != TaskState::kRunning) continue;
    absl::MutexLock lock(&tasks_mu_);
    SendBurst burst(producer_.get());
    EDDY_RETURN_IF_ERROR(Prefix(entry.task->FlushStores(), absl::StrCat("stream thread ", name_)));
  }
  // 2. Every record the tasks sent is acknowledged, changelog records included (their outputs and store
  //    changes are durable before their inputs are marked consumed).
  absl::Status flushed = sink_ != nullptr ? sink_->Flush() : producer_->Flush();
  if (!flushed.ok()) {
    return Prefix(flushed, absl::StrCat("stream thread ", name_, ": flushing the producer before a commit"));
  }
  // 3. Commit the input offsets after the last processed record of every task.
  std::vector<TopicPartitionOffset> offsets;
  for (const auto& [id, entry] : tasks_) {
    std::vector<TopicPartitionOffset> task_offsets = entry.task->CommittableOffsets();
    for (TopicPartitionOffset& o : task_offsets) offsets.push_back(std::move(o));
  }
  if (absl::Status st = offsets.empty() ? absl::OkStatus() : consumer_->CommitSync(offsets); !st.ok()) {
    std::string tasks;
    for (const auto& [id, entry] : tasks_) absl::StrAppend(&tasks, tasks.empty() ? "" : ", ", id.ToString());
    return absl::Status(st.code(), absl::StrCat("stream thread ", name_, ": committing tasks ", tasks, ": ",
                                                st.message()));
  }
  // 4. The tasks remember what is committed.
  for (auto& [id, entry] : tasks_) entry.task->MarkCommitted();
  // 5. The checkpoints: the changelog offsets the local stores now hold.
  for (auto& [id, entry] : tasks_) {
    if (entry.state == nullptr || entry.task->state() != TaskState::kRunning) continue;
    EDDY_RETURN_IF_ERROR(Prefix(entry.state->Checkpoint(),
                                absl::StrCat("stream thread ", name_, ": checkpointing task ", id.ToString())));
  }
  if (!needed) return absl::OkStatus();
  const int64_t ns = absl::GetCurrentTimeNanos() - start;
  ++commits_;
  commit_ns_total_ += ns;
  commit_ns_max_ = std::max(commit_ns_max_, ns);
  PublishMetrics(NowMs(), /*force=*/true);
  return absl::OkStatus();
}

// Task creation. A task without stores is Initialized at once; one with stores starts CREATED and is moved
// along by AdvanceTasks (lock, register, restore, Initialize) before it is handed records.
// The partition times in the metadata of the committed offsets of `assignment`, as Task::CommittableOffsets
// writes them; a commit without one (another client's, or an older format) is left out, as Kafka Streams
// treats an unreadable one as unknown.
absl::StatusOr<std::vector<std::pair<TopicPartition, int64_t>>> StreamThread::CommittedPartitionTimes(
    const std::vector<TopicPartition>& assignment) {
  std::vector<std::pair<TopicPartition, int64_t>> out;
  if (assignment.empty()) return out;
  absl::StatusOr<std::vector<TopicPartitionOffset>> committed = consumer_->CommittedOffsets(assignment);
  if (!committed.ok()) {
    return Prefix(committed.status(), absl::StrCat("stream thread ", name_, ": reading committed partition times"));
  }
  for (TopicPartitionOffset& o : *committed) {
    int64_t time = -1;
    if (absl::SimpleAtoi(o.metadata, &time) && time >= 0) out.emplace_back(std::move(o.tp), time);
  }
  return out;
}

absl::Status StreamThread::CreateTasks(const std::vector<TopicPartition>& assignment) {
  const Shared& s = *shared_;
  const int64_t now = NowMs();
  EDDY_ASSIGN_OR_RETURN(auto partition_times, CommittedPartitionTimes(assignment));
  for (auto& [id, partitions] : s.topology->GroupPartitions(assignment, s.config->application_id)) {
    if (tasks_.count(id) > 0) continue;
    const bool stateful = !s.topology->StoresOf(id.subtopology).empty();
    absl::Status error;
    TaskConfig config = stateful ? TaskConfigFor(id, &error) : s.task_config;
    EDDY_RETURN_IF_ERROR(error);
    auto task = std::make_unique<Task>(id, *s.topology, partitions, std::move(config), &collector_);
    for (const auto& [tp, time] : partition_times) {
      if (std::binary_search(task->partitions().begin(), task->partitions().end(), tp)) {
        EDDY_RETURN_IF_ERROR(task->SetInitialPartitionTime(tp, time));
      }
    }
    if (!stateful) {
      EDDY_RETURN_IF_ERROR(Prefix(task->Initialize(now), absl::StrCat("stream thread ", name_,
                                                                      ": creating task ", id.ToString())));
    }
    for (const TopicPartition& tp : task->partitions()) task_of_partition_[tp] = task.get();
    {
      absl::MutexLock lock(&tasks_mu_);
      tasks_[id].task = std::move(task);
    }
    ++tasks_created_;
    if (stateful) lock_wait_ = true;
  }
  if (lock_wait_) return AdvanceTasks(now);
  return absl::OkStatus();
}

absl::Status StreamThread::CloseTasks(bool clean) {
  absl::Status first;
  if (clean) first = Commit(/*force=*/true);
  absl::MutexLock lock(&tasks_mu_);
  for (auto& [id, entry] : tasks_) {
    // The state manager checkpoints (clean) or deletes the checkpoint (a failure) while the stores are open.
    absl::Status st = entry.state != nullptr ? entry.state->Close(clean && first.ok()) : absl::OkStatus();
    if (first.ok()) first = st;
    st = entry.task->Close();
    if (first.ok()) first = st;
    const TaskMetrics& m = entry.task->metrics();
    closed_.processed_records += m.processed_records;
    closed_.dropped_records += m.dropped_records;
    closed_.dead_lettered_records += m.dead_lettered_records;
    closed_.production_errors_skipped += m.production_errors_skipped;
    closed_.punctuations += m.punctuations;
  }
  tasks_.clear();
  task_of_partition_.clear();
  restoring_ = lock_wait_ = false;
  PublishMetrics(NowMs(), /*force=*/true);
  return first;
}

void StreamThread::OnPartitionsRevoked(const std::vector<TopicPartition>& partitions) {
  // Eager protocol: the whole assignment is revoked. Commit what was processed, then let the tasks go.
  SetState(ThreadState::kPartitionsRevoked);
  absl::Status st = CloseTasks(/*clean=*/true);
  if (!st.ok() && rebalance_error_.ok()) rebalance_error_ = st;
}

void StreamThread::OnPartitionsAssigned(const std::vector<TopicPartition>& partitions) {
  absl::Status st = CreateTasks(consumer_->Assignment());
  if (!st.ok() && rebalance_error_.ok()) rebalance_error_ = st;
  SetState(ThreadState::kPartitionsAssigned);
}

void StreamThread::PublishMetrics(int64_t now_ms, bool force, bool drained) {
  if (!force && now_ms < next_publish_ms_ && !(drained && now_ms >= last_publish_ms_ + kIdlePublishMs)) return;
  next_publish_ms_ = now_ms + kPublishIntervalMs;
  last_publish_ms_ = now_ms;
  ThreadMetricsSnapshot s;
  s.thread_name = name_;
  s.state = ToString(state());
  s.polled_records = polled_records_;
  s.tasks_created = tasks_created_;
  timespec cpu{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0) s.cpu_time_ns = cpu.tv_sec * 1000000000LL + cpu.tv_nsec;
  s.processed_records = closed_.processed_records;
  s.dropped_records = closed_.dropped_records;
  s.dead_lettered_records = closed_.dead_lettered_records;
  const bool new_window = now_ms - rate_sample_ms_ >= kRateWindowMs;
  for (auto& [id, entry] : tasks_) {
    const TaskMetrics& m = entry.task->metrics();
    if (new_window) {
      entry.rate = rate_sample_ms_ == 0 ? 0
                                        : static_cast<double>(m.processed_records - entry.rate_base_records) *
                                              1000.0 / static_cast<double>(now_ms - rate_sample_ms_);
      entry.rate_base_records = m.processed_records;
    }
    s.tasks.push_back(TaskMetricsSnapshot{id, m.processed_records, entry.rate, m.dropped_records,
                                          m.dead_lettered_records, m.production_errors_skipped, m.punctuations,
                                          ToString(entry.task->state())});
    s.processed_records += m.processed_records;
    s.dropped_records += m.dropped_records;
    s.dead_lettered_records += m.dead_lettered_records;
  }
  if (new_window) {
    rate_ = rate_sample_ms_ == 0 ? 0
                                 : static_cast<double>(s.processed_records - rate_base_records_) * 1000.0 /
                                       static_cast<double>(now_ms - rate_sample_ms_);
    rate_base_records_ = s.processed_records;
    rate_sample_ms_ = now_ms;
  }
  s.process_rate = rate_;
  if (restore_listener_ != nullptr) s.restored_records = restore_listener_->restored();
  s.process_calls = process_calls_;
  s.process_latency_avg_ns =
      process_calls_ == 0 ? 0 : static_cast<double>(process_ns_total_) / static_cast<double>(process_calls_);
  s.process_latency_max_ns = process_ns_max_;
  s.commits = commits_;
  s.commit_latency_avg_ms = commits_ == 0 ? 0 : static_cast<double>(commit_ns_total_) / 1e6 / commits_;
  s.commit_latency_max_ms = static_cast<double>(commit_ns_max_) / 1e6;
  absl::MutexLock lock(&metrics_mu_);
  published_ = std::move(s);
}

ThreadMetricsSnapshot StreamThread::metrics() const {
  absl::MutexLock lock(&metrics_mu_);
  return published_;
}

}  // namespace eddy::runtime_internal
