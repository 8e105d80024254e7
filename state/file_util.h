// Small POSIX file helpers for state/: errno to absl::Status, atomic file replacement. Internal.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eddy::state_internal {

// ENOSPC/EDQUOT -> kResourceExhausted, ENOENT -> kNotFound, others kInternal; message "<what>: <strerror>".
absl::Status ErrnoStatus(int err, absl::string_view what);
// WriteFileAtomically writes data to "<path>.tmp", fsyncs it, renames it over path and fsyncs the directory.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view data);
// ReadFileIfExists returns the file's contents, or nullopt if it does not exist.
absl::StatusOr<std::optional<std::string>> ReadFileIfExists(const std::string& path);
// FsyncDir fsyncs a directory (so that a rename or unlink in it survives a crash).
absl::Status FsyncDir(const std::string& dir);

}  // namespace eddy::state_internal
