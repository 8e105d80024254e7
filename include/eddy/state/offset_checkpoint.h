// OffsetCheckpoint: a task's `.checkpoint` file, in Kafka Streams' format (OffsetCheckpoint.java), so that
// the files of the two are interchangeable:
//
//   0                              version
//   2                              number of entries
//   app-counts-changelog 3 1234    "<topic> <partition> <offset>", one line per changelog partition
//   app-sums-changelog 3 987
//
// Each offset is that of the last changelog record the store holds (restoration resumes at offset + 1);
// kOffsetUnknown (-4) is Kafka's "unknown". Format spec: docs/state.md, "Checkpoints".
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eddy/core/record.h"

namespace eddy {

// Reads and writes one checkpoint file. Holds only its path: cheap, copyable, thread-compatible (two
// writers of one file must be serialised by the caller, which the task directory lock does).
class OffsetCheckpoint {
 public:
  static constexpr int kVersion = 0;
  static constexpr int64_t kOffsetUnknown = -4;

  explicit OffsetCheckpoint(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  // Read returns the offsets; an empty map if the file does not exist. kDataLoss for a malformed file
  // (unknown version, bad line, fewer or more entries than announced); entries with an invalid offset (below
  // zero and not kOffsetUnknown) are skipped, as Kafka does.
  [[nodiscard]] absl::StatusOr<std::map<TopicPartition, int64_t>> Read() const;
  // Write replaces the file atomically: the entries go to "<path>.tmp", which is fsynced, renamed over the
  // path, and the directory fsynced. After a crash the file holds either the old or the new entries, never
  // a mix; once Write returns the new ones survive a crash. Writing no entries deletes the file (Kafka does).
  // kResourceExhausted when the disk is full, kInternal for other I/O errors.
  [[nodiscard]] absl::Status Write(const std::map<TopicPartition, int64_t>& offsets) const;
  // Delete removes the file (OK if absent).
  [[nodiscard]] absl::Status Delete() const;

 private:
  std::string path_;
};

}  // namespace eddy
