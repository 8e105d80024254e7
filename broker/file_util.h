// POSIX file helpers for the log: an owning file descriptor with positional I/O that reports errors as
// absl::Status, plus directory and atomic-replace helpers.
//
// Error mapping (the same everywhere in the broker): ENOSPC, EDQUOT and EFBIG -> kResourceExhausted (disk
// full, quota, file size limit), ENOENT -> kNotFound, EACCES/EPERM -> kPermissionDenied, EIO -> kDataLoss,
// anything else -> kInternal. Every message names the operation, the path and strerror.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eddy::broker {

// PosixError builds the status for a failed system call `op` on `path` with errno `err`.
absl::Status PosixError(absl::string_view op, absl::string_view path, int err);

// An open file. Owns its descriptor (closed by the destructor). Positional reads (Pread*) are thread-safe
// and may run concurrently with writes and with each other; everything else is thread-compatible.
class File {
 public:
  File() = default;
  File(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  // Open opens `path` with open(2) flags (O_CLOEXEC is added).
  static absl::StatusOr<File> Open(const std::string& path, int flags, int mode = 0644);

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  // Pread reads up to n bytes at `offset`, fewer only at end of file; returns the count.
  absl::StatusOr<size_t> Pread(char* buf, size_t n, int64_t offset) const;
  // PreadFull reads exactly n bytes at `offset`; kDataLoss if the file ends first.
  absl::Status PreadFull(char* buf, size_t n, int64_t offset) const;
  // PwriteFull writes all n bytes at `offset` (retrying short writes). On error some bytes may have been
  // written: the caller truncates back if it needs to.
  absl::Status PwriteFull(const char* buf, size_t n, int64_t offset);
  absl::Status Truncate(int64_t size);
  // Preallocate reserves disk blocks for [offset, offset + n) without changing the file's size
  // (fallocate(2) with FALLOC_FL_KEEP_SIZE): later writes there need no block allocation. Blocks past the
  // size stay reserved until Truncate (even to the same size) releases them. kUnimplemented where the file
  // system cannot do it, kResourceExhausted when the disk is full.
  absl::Status Preallocate(int64_t offset, int64_t n);
  absl::StatusOr<int64_t> Size() const;
  // DataSync is fdatasync(2): the data and the metadata needed to read it (e.g. the size) are durable.
  absl::Status DataSync();
  // Sync is fsync(2).
  absl::Status Sync();
  absl::Status Close();

 private:
  int fd_ = -1;
  std::string path_;
};

// SyncDir fsyncs a directory, making the creation, rename or removal of its entries durable.
absl::Status SyncDir(const std::string& dir);

// WriteFileAtomically replaces `path` with `contents`: writes `path`.tmp, fsyncs it, renames it over `path`
// and fsyncs the directory. After a crash the file holds either the old or the new contents.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents);

// ReadFileToString reads a whole file. kNotFound if it does not exist.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// ListDir returns the names (not paths) of the entries of `dir`, sorted, without "." and "..".
absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir);

// CreateDirs is mkdir -p.
absl::Status CreateDirs(const std::string& dir);

// RemoveAll is rm -rf; OK if `path` does not exist.
absl::Status RemoveAll(const std::string& path);

// RemoveFile unlinks one file; OK if it does not exist.
absl::Status RemoveFile(const std::string& path);

bool PathExists(const std::string& path);

}  // namespace eddy::broker
