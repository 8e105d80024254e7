// StreamThread's part for tasks with state stores (stream_thread.h): the thread's cache, block cache,
// changelog sink and restore listener; a stateful task's way from CREATED through RESTORING to RUNNING;
// and the interactive queries' access to the stores (WithStores).
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "eddy/core/status.h"
#include "runtime/stream_thread.h"

namespace eddy::runtime_internal {
namespace {

// A task waiting for its directory lock (held by a thread or process that has not let the task go yet)
// tries again this often. Kafka retries on its next poll, after a backoff.
constexpr absl::Duration kLockRetry = absl::Milliseconds(10);

}  // namespace

std::string ThreadRestoreListener::ProgressKey(const TopicPartition& changelog, absl::string_view store) {
  return absl::StrCat(store, "/", ToString(changelog));
}

void ThreadRestoreListener::OnRestoreStart(const TopicPartition& changelog, absl::string_view store,
                                           int64_t start_offset, int64_t end_offset) {
  LogLine(*log_, absl::StrCat("stream thread ", thread_name_, ": restoring store ", store, " from ",
                              ToString(changelog), " offsets [", start_offset, ", ", end_offset, ")"));
  const absl::Time now = absl::Now();
  progress_[ProgressKey(changelog, store)] = Progress{start_offset, end_offset, 0, now, now};
  if (user_ != nullptr) user_->OnRestoreStart(changelog, store, start_offset, end_offset);
}

void ThreadRestoreListener::OnBatchRestored(const TopicPartition& changelog, absl::string_view store,
                                            int64_t batch_end_offset, int64_t num_restored) {
  restored_[std::string(store)] += num_restored;
  auto it = progress_.find(ProgressKey(changelog, store));
  if (it != progress_.end()) {
    Progress& p = it->second;
    p.restored += num_restored;
    const absl::Time now = absl::Now();
    if (now - p.last_logged >= progress_interval_) {
      p.last_logged = now;
      // Offsets, not records, measure the way left: a compacted changelog has gaps.
      const int64_t span = std::max<int64_t>(1, p.end_offset - p.start_offset);
      const int64_t done = std::clamp<int64_t>(batch_end_offset + 1 - p.start_offset, 0, span);
      LogLine(*log_, absl::StrCat("stream thread ", thread_name_, ": restoring store ", store, " from ",
                                  ToString(changelog), ": ", p.restored, " records, offset ", batch_end_offset + 1,
                                  " of [", p.start_offset, ", ", p.end_offset, ") (", done * 100 / span, "%)"));
    }
  }
  if (user_ != nullptr) user_->OnBatchRestored(changelog, store, batch_end_offset, num_restored);
}

void ThreadRestoreListener::OnRestoreEnd(const TopicPartition& changelog, absl::string_view store,
                                         int64_t total_restored) {
  auto it = progress_.find(ProgressKey(changelog, store));
  std::string rate;
  if (it != progress_.end()) {
    const double seconds = absl::ToDoubleSeconds(absl::Now() - it->second.started);
    rate = absl::StrFormat(" in %.2f s (%.0f records/s)", seconds,
                           seconds > 0 ? static_cast<double>(total_restored) / seconds : 0.0);
    progress_.erase(it);
  }
  LogLine(*log_, absl::StrCat("stream thread ", thread_name_, ": restored store ", store, " from ",
                              ToString(changelog), ": ", total_restored, " records", rate));
  if (user_ != nullptr) user_->OnRestoreEnd(changelog, store, total_restored);
}

void StreamThread::CreateStateStructures() {
  const StreamsConfig& config = *shared_->config;
  if (shared_->cache_bytes > 0) cache_ = std::make_unique<ThreadCache>(shared_->cache_bytes);
  bool persistent = false;
  for (const StoreSpec& spec : shared_->topology->stores()) persistent = persistent || spec.persistent;
  if (persistent) block_cache_ = std::make_unique<BlockCache>(static_cast<size_t>(config.rocksdb_block_cache_bytes));
  sink_ = std::make_unique<ProducerChangelogSink>(producer_.get());
  restore_listener_ = std::make_unique<ThreadRestoreListener>(name_, &config.log, shared_->restore_listener);
}

TaskConfig StreamThread::TaskConfigFor(const TaskId& id, absl::Status* error) const {
  TaskConfig config = shared_->task_config;
  absl::StatusOr<std::string> dir = shared_->state_directory->TaskDir(id.ToString());
  if (!dir.ok()) {
    *error = Prefix(dir.status(), absl::StrCat("stream thread ", name_, ": task ", id.ToString()));
    return config;
  }
  config.task_dir = *std::move(dir);
  config.changelog = sink_.get();
  config.cache = cache_.get();
  config.block_cache = block_cache_.get();
  return config;
}

absl::Status StreamThread::OpenTaskState(TaskEntry& entry) {
  Task& task = *entry.task;
  const std::string task_id = task.id().ToString();
  StateManagerConfig mc;
  mc.application_id = shared_->config->application_id;
  mc.task_id = task_id;
  mc.partition = task.id().partition;
  mc.state_directory = shared_->state_directory;
  mc.admin = shared_->admin;
  mc.restore_consumer = restore_consumer_.get();
  mc.changelog_sink = sink_.get();
  mc.restore_listener = restore_listener_.get();
  mc.log = shared_->config->log;
  absl::StatusOr<std::unique_ptr<StateManager>> opened = StateManager::Open(std::move(mc));
  if (absl::IsFailedPrecondition(opened.status())) {
    // The previous owner (another thread of this process after a rebalance, or another process) has not
    // released the task yet: try again on the next loop iteration.
    if (!entry.lock_wait_logged) {
      LogLine(shared_->config->log, absl::StrCat("stream thread ", name_, ": task ", task_id,
                                                 " waits for its state directory: ", opened.status().message()));
      entry.lock_wait_logged = true;
    }
    return absl::OkStatus();
  }
  EDDY_RETURN_IF_ERROR(Prefix(opened.status(), absl::StrCat("stream thread ", name_, ": task ", task_id)));
  absl::MutexLock lock(&tasks_mu_);
  entry.state = *std::move(opened);
  EDDY_RETURN_IF_ERROR(task.InitializeStores());
  Task* t = &task;
  return Prefix(entry.state->RegisterStores(
                    task.stores(), [t](StateStore* closed) { return t->ReplaceStore(closed->name()); }),
                absl::StrCat("stream thread ", name_, ": registering the stores of task ", task_id));
}

absl::Status StreamThread::AdvanceTasks(int64_t now_ms) {
  int64_t budget = shared_->config->restore_max_records_per_loop;
  bool restoring = false;
  bool lock_wait = false;
  for (auto& [id, entry] : tasks_) {
    Task& task = *entry.task;
    if (task.state() == TaskState::kRunning) continue;
    if (entry.state == nullptr) {
      EDDY_RETURN_IF_ERROR(OpenTaskState(entry));
      if (entry.state == nullptr) {
        lock_wait = true;
        continue;
      }
    }
    if (!entry.state->ready() && budget > 0) {
      absl::MutexLock lock(&tasks_mu_);
      EDDY_RETURN_IF_ERROR(Prefix(entry.state->Restore(budget).status(),
                                  absl::StrCat("stream thread ", name_, ": restoring task ", id.ToString())));
      budget = 0;  // Restore reads about `budget` records; the other tasks wait for the next iteration
    }
    if (!entry.state->ready()) {
      restoring = true;
      continue;
    }
    absl::MutexLock lock(&tasks_mu_);
    EDDY_RETURN_IF_ERROR(Prefix(task.Initialize(now_ms),
                                absl::StrCat("stream thread ", name_, ": initializing task ", id.ToString())));
  }
  restoring_ = restoring;
  lock_wait_ = lock_wait;
  return absl::OkStatus();
}

bool StreamThread::AllTasksRunning() const {
  return std::all_of(tasks_.begin(), tasks_.end(),
                     [](const auto& e) { return e.second.task->state() == TaskState::kRunning; });
}

absl::Duration StreamThread::PollTimeout() const {
  const absl::Duration configured = absl::Milliseconds(shared_->config->poll_ms);
  if (restoring_) return absl::ZeroDuration();
  if (lock_wait_) return std::min(configured, kLockRetry);
  return configured;
}

absl::Status StreamThread::WithStores(absl::string_view store, int subtopology, int32_t partition,
                                      absl::FunctionRef<absl::Status(int32_t, StateStore&)> fn,
                                      int* found) const {
  absl::MutexLock lock(&tasks_mu_);
  for (const auto& [id, entry] : tasks_) {
    if (id.subtopology != subtopology || (partition >= 0 && id.partition != partition)) continue;
    if (entry.task->state() != TaskState::kRunning) {
      return absl::UnavailableError(absl::StrCat("state store ", store, " may have migrated to another instance or "
                                                 "is not available yet: task ", id.ToString(), " is ",
                                                 ToString(entry.task->state())));
    }
    StateStore* s = entry.task->store(store);
    if (s == nullptr) continue;
    ++*found;
    EDDY_RETURN_IF_ERROR(fn(id.partition, *s));
  }
  return absl::OkStatus();
}

}  // namespace eddy::runtime_internal
