// POSIX file helpers. See file_util.h.
#include "broker/file_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"

namespace eddy::broker {

absl::Status PosixError(absl::string_view op, absl::string_view path, int err) {
  std::string msg = absl::StrCat(op, " ", path, ": ", std::strerror(err));
  switch (err) {
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return absl::ResourceExhaustedError(msg);
    case ENOENT:
      return absl::NotFoundError(msg);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(msg);
    case EIO:
      return absl::DataLossError(msg);
    default:
      return absl::InternalError(msg);
  }
}

File::File(File&& other) noexcept : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<File> File::Open(const std::string& path, int flags, int mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return PosixError("open", path, errno);
  return File(fd, path);
}

absl::StatusOr<size_t> File::Pread(char* buf, size_t n, int64_t offset) const {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd_, buf + done, n - done, offset + static_cast<int64_t>(done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return PosixError("pread", path_, errno);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return done;
}

absl::Status File::PreadFull(char* buf, size_t n, int64_t offset) const {
  absl::StatusOr<size_t> r = Pread(buf, n, offset);
  if (!r.ok()) return r.status();
  if (*r != n) {
    return absl::DataLossError(
        absl::StrCat("unexpected end of file ", path_, ": wanted ", n, " bytes at ", offset, ", got ", *r));
  }
  return absl::OkStatus();
}

absl::Status File::PwriteFull(const char* buf, size_t n, int64_t offset) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pwrite(fd_, buf + done, n - done, offset + static_cast<int64_t>(done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return PosixError("write", path_, errno);
    }
    done += static_cast<size_t>(r);
  }
  return absl::OkStatus();
}

absl::Status File::Truncate(int64_t size) {
  int r;
  do {
    r = ::ftruncate(fd_, size);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return PosixError("ftruncate", path_, errno);
  return absl::OkStatus();
}

absl::Status File::Preallocate(int64_t offset, int64_t n) {
  int r;
  do {
    r = ::fallocate(fd_, FALLOC_FL_KEEP_SIZE, offset, n);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return absl::OkStatus();
  if (errno == EOPNOTSUPP || errno == ENOSYS) {
    return absl::UnimplementedError(absl::StrCat("fallocate ", path_, ": ", strerror(errno)));
  }
  return PosixError("fallocate", path_, errno);
}

absl::StatusOr<int64_t> File::Size() const {
  struct stat st;
  if (::fstat(fd_, &st) < 0) return PosixError("fstat", path_, errno);
  return static_cast<int64_t>(st.st_size);
}

absl::Status File::DataSync() {
  if (::fdatasync(fd_) < 0) return PosixError("fdatasync", path_, errno);
  return absl::OkStatus();
}

absl::Status File::Sync() {
  if (::fsync(fd_) < 0) return PosixError("fsync", path_, errno);
  return absl::OkStatus();
}

absl::Status File::Close() {
  if (fd_ < 0) return absl::OkStatus();
  int fd = std::exchange(fd_, -1);
  if (::close(fd) < 0 && errno != EINTR) return PosixError("close", path_, errno);
  return absl::OkStatus();
}

absl::Status SyncDir(const std::string& dir) {
  absl::StatusOr<File> f = File::Open(dir, O_RDONLY | O_DIRECTORY);
  if (!f.ok()) return f.status();
  return f->Sync();
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents) {
  const std::string tmp = path + ".tmp";
  {
    absl::StatusOr<File> f = File::Open(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    if (!f.ok()) return f.status();
    absl::Status s = f->PwriteFull(contents.data(), contents.size(), 0);
    if (s.ok()) s = f->Sync();
    if (s.ok()) s = f->Close();
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return s;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) return PosixError("rename", tmp, errno);
  return SyncDir(std::filesystem::path(path).parent_path().string());
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  absl::StatusOr<File> f = File::Open(path, O_RDONLY);
  if (!f.ok()) return f.status();
  absl::StatusOr<int64_t> size = f->Size();
  if (!size.ok()) return size.status();
  std::string out(static_cast<size_t>(*size), '\0');
  absl::StatusOr<size_t> n = f->Pread(out.data(), out.size(), 0);
  if (!n.ok()) return n.status();
  out.resize(*n);
  return out;
}

absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return PosixError("opendir", dir, errno);
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return PosixError("readdir", dir, err);
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status CreateDirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return PosixError("mkdir", dir, ec.value());
  return absl::OkStatus();
}

absl::Status RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return PosixError("remove", path, ec.value());
  return absl::OkStatus();
}

absl::Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) return PosixError("unlink", path, errno);
  return absl::OkStatus();
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace eddy::broker
