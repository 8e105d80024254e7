#include "eddy/state/state_directory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/status.h"
#include "eddy/state/offset_checkpoint.h"
#include "state/file_util.h"

namespace eddy {
namespace fs = std::filesystem;
namespace {

constexpr char kLockFile[] = ".lock";
constexpr char kCheckpointFile[] = ".checkpoint";

bool AllDigits(absl::string_view s) {
  return !s.empty() && s.size() <= 9 && std::all_of(s.begin(), s.end(), absl::ascii_isdigit);
}

absl::Status FsError(const std::error_code& ec, absl::string_view what) {
  return state_internal::ErrnoStatus(ec.value(), what);
}

// TryLock opens (creating) dir/.lock and flock()s it without waiting: the fd, or -1 if someone holds it.
absl::StatusOr<int> TryLock(const std::string& dir) {
  const std::string path = absl::StrCat(dir, "/", kLockFile);
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return state_internal::ErrnoStatus(errno, absl::StrCat("opening ", path));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    close(fd);
    if (err == EWOULDBLOCK) return -1;
    return state_internal::ErrnoStatus(err, absl::StrCat("locking ", path));
  }
  return fd;
}

// Removes everything in dir except the lock file.
absl::Status RemoveContents(const std::string& dir) {
  std::error_code ec;
  // The checkpoint first: a crash midway must not leave a checkpoint beside half-deleted stores.
  if (unlink(absl::StrCat(dir, "/", kCheckpointFile).c_str()) != 0 && errno != ENOENT) {
    return state_internal::ErrnoStatus(errno, absl::StrCat("deleting the checkpoint in ", dir));
  }
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    if (e.path().filename() == kLockFile) continue;
    fs::remove_all(e.path(), ec);
    if (ec) return FsError(ec, absl::StrCat("deleting ", e.path().string()));
  }
  if (ec) return FsError(ec, absl::StrCat("listing ", dir));
  return state_internal::FsyncDir(dir);
}

}  // namespace

bool IsValidTaskId(absl::string_view task_id) {
  const size_t sep = task_id.find('_');
  return sep != absl::string_view::npos && AllDigits(task_id.substr(0, sep)) && AllDigits(task_id.substr(sep + 1));
}

TaskDirectoryLock::TaskDirectoryLock(TaskDirectoryLock&& other) noexcept
    : task_id_(std::move(other.task_id_)), dir_(std::move(other.dir_)), fd_(other.fd_) {
  other.fd_ = -1;
}

TaskDirectoryLock& TaskDirectoryLock::operator=(TaskDirectoryLock&& other) noexcept {
  if (this != &other) {
    Unlock();
    task_id_ = std::move(other.task_id_);
    dir_ = std::move(other.dir_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

TaskDirectoryLock::~TaskDirectoryLock() { Unlock(); }

void TaskDirectoryLock::Unlock() {
  if (fd_ < 0) return;
  flock(fd_, LOCK_UN);
  close(fd_);
  fd_ = -1;
}

absl::StatusOr<std::unique_ptr<StateDirectory>> StateDirectory::Open(std::string state_dir,
                                                                     std::string application_id) {
  if (state_dir.empty()) return absl::InvalidArgumentError("empty state.dir");
  if (application_id.empty() || application_id == "." || application_id == ".." ||
      application_id.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("application.id '", application_id, "' is not a directory name"));
  }
  std::string app_dir = absl::StrCat(state_dir, "/", application_id);
  std::error_code ec;
  fs::create_directories(app_dir, ec);
  if (ec) return FsError(ec, absl::StrCat("creating ", app_dir));
  return std::unique_ptr<StateDirectory>(new StateDirectory(std::move(app_dir)));
}

absl::StatusOr<std::string> StateDirectory::TaskDir(absl::string_view task_id) const {
  if (!IsValidTaskId(task_id)) {
    return absl::InvalidArgumentError(absl::StrCat("task id '", task_id, "' is not <subtopology>_<partition>"));
  }
  std::string dir = absl::StrCat(app_dir_, "/", task_id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return FsError(ec, absl::StrCat("creating ", dir));
  return dir;
}

std::string StateDirectory::StoreDir(absl::string_view task_id, absl::string_view store) const {
  return absl::StrCat(app_dir_, "/", task_id, "/rocksdb/", store);
}

bool StateDirectory::StoreHasLocalState(absl::string_view task_id, absl::string_view store) const {
  std::error_code ec;
  return fs::exists(StoreDir(task_id, store), ec);
}

absl::StatusOr<TaskDirectoryLock> StateDirectory::Lock(absl::string_view task_id) const {
  EDDY_ASSIGN_OR_RETURN(std::string dir, TaskDir(task_id));
  EDDY_ASSIGN_OR_RETURN(int fd, TryLock(dir));
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "task directory ", dir, " is locked by another owner (stream thread or process): task ", task_id,
        " is already open"));
  }
  return TaskDirectoryLock(std::string(task_id), std::move(dir), fd);
}

absl::Status StateDirectory::CheckLock(const TaskDirectoryLock& lock) const {
  if (!lock.held() || lock.dir() != absl::StrCat(app_dir_, "/", lock.task_id())) {
    return absl::FailedPreconditionError(
        absl::StrCat("task ", lock.task_id(), ": its directory lock is not held in ", app_dir_));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<TopicPartition, int64_t>> StateDirectory::ReadCheckpoint(absl::string_view task_id) const {
  if (!IsValidTaskId(task_id)) return absl::InvalidArgumentError(absl::StrCat("bad task id '", task_id, "'"));
  return OffsetCheckpoint(absl::StrCat(app_dir_, "/", task_id, "/", kCheckpointFile)).Read();
}

absl::Status StateDirectory::WriteCheckpoint(const TaskDirectoryLock& lock,
                                             const std::map<TopicPartition, int64_t>& offsets) const {
  EDDY_RETURN_IF_ERROR(CheckLock(lock));
  return OffsetCheckpoint(absl::StrCat(lock.dir(), "/", kCheckpointFile)).Write(offsets);
}

absl::Status StateDirectory::DeleteCheckpoint(const TaskDirectoryLock& lock) const {
  EDDY_RETURN_IF_ERROR(CheckLock(lock));
  return OffsetCheckpoint(absl::StrCat(lock.dir(), "/", kCheckpointFile)).Delete();
}

absl::Status StateDirectory::WipeTask(const TaskDirectoryLock& lock) const {
  EDDY_RETURN_IF_ERROR(CheckLock(lock));
  return RemoveContents(lock.dir());
}

absl::Status StateDirectory::WipeStore(const TaskDirectoryLock& lock, absl::string_view store) const {
  EDDY_RETURN_IF_ERROR(CheckLock(lock));
  std::error_code ec;
  const std::string dir = StoreDir(lock.task_id(), store);
  for (const std::string& path : {dir, dir + ".ingest"}) {
    fs::remove_all(path, ec);
    if (ec) return FsError(ec, absl::StrCat("deleting ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> StateDirectory::ListTaskIds() const {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(app_dir_, ec)) {
    std::string name = e.path().filename().string();
    if (e.is_directory(ec) && IsValidTaskId(name)) ids.push_back(std::move(name));
  }
  if (ec) return FsError(ec, absl::StrCat("listing ", app_dir_));
  std::sort(ids.begin(), ids.end());
  return ids;
}

absl::StatusOr<std::vector<std::string>> StateDirectory::CleanObsoleteTaskDirs(absl::Duration cleanup_delay,
                                                                               absl::Time now) const {
  EDDY_ASSIGN_OR_RETURN(std::vector<std::string> ids, ListTaskIds());
  std::vector<std::string> removed;
  for (const std::string& id : ids) {
    const std::string dir = absl::StrCat(app_dir_, "/", id);
    struct stat st;
    if (stat(dir.c_str(), &st) != 0) continue;  // removed meanwhile
    const absl::Time modified = absl::TimeFromTimespec(st.st_mtim);
    if (modified > now - cleanup_delay) continue;
    EDDY_ASSIGN_OR_RETURN(int fd, TryLock(dir));
    if (fd < 0) continue;  // in use
    TaskDirectoryLock lock(id, dir, fd);
    EDDY_RETURN_IF_ERROR(RemoveContents(dir));
    // Delete the lock file and the directory while holding the lock, then release it.
    std::error_code ec;
    fs::remove(absl::StrCat(dir, "/", kLockFile), ec);
    fs::remove(dir, ec);
    if (ec) return FsError(ec, absl::StrCat("deleting ", dir));
    removed.push_back(id);
  }
  return removed;
}

}  // namespace eddy
