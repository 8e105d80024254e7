// StateDirectory: the on-disk layout of an application's local state, as Kafka Streams':
//
//   <state.dir>/<application.id>/                    the application directory
//     <task-id>/                                     one per task ("<subtopology>_<partition>", e.g. 0_3)
//       .lock                                        flock()ed by the task's owner (one stream thread)
//       .checkpoint                                  changelog offsets the stores are flushed to
//       rocksdb/<store>/                             a persistent store's RocksDB
//
// The runtime locks a task's directory before opening its stores and keeps the lock while it owns the task;
// after each commit's store flush it writes the checkpoint; on start it decides, per store, whether to trust
// local state (store_recovery.h), wiping what it cannot trust; it removes the directories of tasks no longer
// assigned anywhere after state.cleanup.delay.ms.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eddy/core/record.h"

namespace eddy {

// Holds a task directory's lock (flock on <task dir>/.lock) until destroyed or Unlock()ed. Movable, not
// copyable. Thread-compatible.
class TaskDirectoryLock {
 public:
  TaskDirectoryLock(TaskDirectoryLock&& other) noexcept;
  TaskDirectoryLock& operator=(TaskDirectoryLock&& other) noexcept;
  ~TaskDirectoryLock();

  const std::string& task_id() const { return task_id_; }
  const std::string& dir() const { return dir_; }
  bool held() const { return fd_ >= 0; }
  // Unlock releases the lock (idempotent).
  void Unlock();

 private:
  friend class StateDirectory;
  TaskDirectoryLock(std::string task_id, std::string dir, int fd)
      : task_id_(std::move(task_id)), dir_(std::move(dir)), fd_(fd) {}

  std::string task_id_;
  std::string dir_;
  int fd_ = -1;
};

// One application's state directory. Create one per application instance (process); the stream threads
// share it. Thread-safe: methods touch only the file system, and the locks are the file locks.
class StateDirectory {
 public:
  // Kafka's default state.cleanup.delay.ms: 10 minutes.
  static constexpr absl::Duration kDefaultCleanupDelay = absl::Minutes(10);

  // Open creates <state_dir>/<application_id> if missing. kInvalidArgument for an empty state_dir or an
  // application id with '/' or that is empty, "." or "..".
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<StateDirectory>> Open(std::string state_dir,
                                                                            std::string application_id);

  const std::string& app_dir() const { return app_dir_; }
  // TaskDir returns <app dir>/<task_id>, creating it if missing. kInvalidArgument unless task_id is
  // "<non-negative int>_<non-negative int>" (Kafka's TaskId).
  [[nodiscard]] absl::StatusOr<std::string> TaskDir(absl::string_view task_id) const;
  // The directory of a persistent store of a task: <task dir>/rocksdb/<store> (not created).
  std::string StoreDir(absl::string_view task_id, absl::string_view store) const;
  // Whether a persistent store has local files.
  bool StoreHasLocalState(absl::string_view task_id, absl::string_view store) const;

  // Lock takes the task directory's lock, creating the directory. kFailedPrecondition if someone else holds
  // it, whether another process, another StateDirectory or another Lock() through this one (locks are
  // per open file, so a second Lock of a task held in this process fails too).
  [[nodiscard]] absl::StatusOr<TaskDirectoryLock> Lock(absl::string_view task_id) const;

  // Checkpoints (offset_checkpoint.h): the task's <task dir>/.checkpoint. ReadCheckpoint returns an empty
  // map when there is none. Writing and deleting need the task's lock (kFailedPrecondition otherwise).
  [[nodiscard]] absl::StatusOr<std::map<TopicPartition, int64_t>> ReadCheckpoint(absl::string_view task_id) const;
  [[nodiscard]] absl::Status WriteCheckpoint(const TaskDirectoryLock& lock,
                                             const std::map<TopicPartition, int64_t>& offsets) const;
  [[nodiscard]] absl::Status DeleteCheckpoint(const TaskDirectoryLock& lock) const;

  // WipeTask deletes everything in the task's directory except its lock file: the stores (which must be
  // closed) and the checkpoint. The checkpoint goes first, so that a crash in the middle leaves a
  // directory that the recovery rules wipe again. kFailedPrecondition without the lock.
  [[nodiscard]] absl::Status WipeTask(const TaskDirectoryLock& lock) const;
  // WipeStore deletes one closed persistent store's files (<task dir>/rocksdb/<store>); the caller then
  // rewrites the checkpoint without the store's changelog partition. kFailedPrecondition without the lock.
  [[nodiscard]] absl::Status WipeStore(const TaskDirectoryLock& lock, absl::string_view store) const;

  // The task ids that have a directory here, sorted.
  [[nodiscard]] absl::StatusOr<std::vector<std::string>> ListTaskIds() const;
  // CleanObsoleteTaskDirs deletes the task directories that nobody has locked and that were last modified
  // before now - cleanup_delay (Kafka's cleanRemovedTasks), and returns their task ids. A directory locked
  // at the time of the check is skipped.
  [[nodiscard]] absl::StatusOr<std::vector<std::string>> CleanObsoleteTaskDirs(absl::Duration cleanup_delay,
                                                                  absl::Time now) const;

 private:
  StateDirectory(std::string app_dir) : app_dir_(std::move(app_dir)) {}
  [[nodiscard]] absl::Status CheckLock(const TaskDirectoryLock& lock) const;

  std::string app_dir_;
};

// IsValidTaskId: "<non-negative int>_<non-negative int>".
bool IsValidTaskId(absl::string_view task_id);

}  // namespace eddy
