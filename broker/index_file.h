// IndexFile: the shared mechanics of a segment's sparse indexes (.index and .timeindex): entries kept in
// memory for lookups and appended to their file in chunks, without fsync. The file is a plain array of
// fixed-size big-endian entries, as Kafka's (without Kafka's preallocation). See docs/log-format.md.
//
// Thread-safety: one writer (the thread holding the partition log's append lock, or the thread opening the
// log) calls Push/TruncateTo/Reset/WritePending; any thread may read entries (WithEntries, size, back) or
// Sync. Readers take a reader lock only for the binary search, never across I/O.
#pragma once

#include <fcntl.h>

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "broker/file_util.h"

namespace eddy::broker {

// Codec must provide: `static constexpr size_t kSize`, `static void Encode(const Entry&, char*)` and
// `static Entry Decode(const char*)`.
template <typename Entry, typename Codec>
class IndexFile {
 public:
  explicit IndexFile(std::string path) : path_(std::move(path)) {}
  IndexFile(const IndexFile&) = delete;
  IndexFile& operator=(const IndexFile&) = delete;

  const std::string& path() const { return path_; }

  // Calls fn(const std::vector<Entry>&) under the reader lock and returns its result.
  template <typename Fn>
  auto WithEntries(Fn&& fn) const {
    absl::ReaderMutexLock l(&mu_);
    return fn(static_cast<const std::vector<Entry>&>(entries_));
  }
  size_t size() const {
    absl::ReaderMutexLock l(&mu_);
    return entries_.size();
  }
  std::optional<Entry> back() const {
    absl::ReaderMutexLock l(&mu_);
    if (entries_.empty()) return std::nullopt;
    return entries_.back();
  }

  // Writer side.
  void Push(const Entry& e) {
    absl::MutexLock l(&mu_);
    entries_.push_back(e);
  }
  // TruncateTo keeps the first n entries; the file is cut to match on the next WritePending.
  void TruncateTo(size_t n) {
    absl::MutexLock l(&mu_);
    if (n >= entries_.size()) return;
    entries_.resize(n);
    if (persisted_ > n) {
      persisted_ = n;
      truncate_file_ = true;
    }
  }
  // Reset replaces the entries with ones that the file already holds (after a successful Read).
  void Reset(std::vector<Entry> entries) {
    absl::MutexLock l(&mu_);
    entries_ = std::move(entries);
    persisted_ = entries_.size();
    truncate_file_ = false;
    file_exists_ = true;
  }
  // Clear drops every entry and marks the file for truncation (before a rebuild).
  void Clear() {
    absl::MutexLock l(&mu_);
    entries_.clear();
    persisted_ = 0;
    truncate_file_ = true;
  }

  // Read decodes the whole file. kNotFound if it is missing, kDataLoss if its size is not a multiple of the
  // entry size. Does not change the in-memory entries.
  absl::StatusOr<std::vector<Entry>> Read() const {
    absl::StatusOr<std::string> data = ReadFileToString(path_);
    if (!data.ok()) return data.status();
    if (data->size() % Codec::kSize != 0) {
      return absl::DataLossError(
          absl::StrCat(path_, ": size ", data->size(), " is not a multiple of the entry size ", Codec::kSize));
    }
    std::vector<Entry> entries(data->size() / Codec::kSize);
    for (size_t i = 0; i < entries.size(); ++i) entries[i] = Codec::Decode(data->data() + i * Codec::kSize);
    return entries;
  }

  // WritePending makes the file equal to the in-memory entries by appending the ones it lacks (and first
  // cutting it, after TruncateTo or Clear). Not durable until Sync.
  absl::Status WritePending() {
    std::string buf;
    size_t count, from;
    bool truncate;
    {
      absl::ReaderMutexLock l(&mu_);
      count = entries_.size();
      from = persisted_;
      truncate = truncate_file_;
      if (count == from && !truncate && file_exists_) return absl::OkStatus();
      buf.resize((count - from) * Codec::kSize);
      for (size_t i = from; i < count; ++i) Codec::Encode(entries_[i], buf.data() + (i - from) * Codec::kSize);
    }
    absl::StatusOr<File> f = File::Open(path_, O_WRONLY | O_CREAT);
    if (!f.ok()) return f.status();
    if (truncate) {
      absl::Status s = f->Truncate(static_cast<int64_t>(from * Codec::kSize));
      if (!s.ok()) return s;
    }
    absl::Status s = f->PwriteFull(buf.data(), buf.size(), static_cast<int64_t>(from * Codec::kSize));
    if (!s.ok()) return s;
    absl::MutexLock l(&mu_);
    persisted_ = count;
    truncate_file_ = false;
    file_exists_ = true;
    return absl::OkStatus();
  }

  // Sync fdatasyncs the file (any thread). A missing file is not an error: there is nothing to sync.
  absl::Status Sync() const {
    absl::StatusOr<File> f = File::Open(path_, O_RDONLY);
    if (!f.ok()) return absl::IsNotFound(f.status()) ? absl::OkStatus() : f.status();
    return f->DataSync();
  }

 private:
  const std::string path_;
  mutable absl::Mutex mu_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
  // Entries already in the file, and whether the file holds more than that (must be cut first).
  size_t persisted_ ABSL_GUARDED_BY(mu_) = 0;
  bool truncate_file_ ABSL_GUARDED_BY(mu_) = false;
  // Whether the file is known to exist (WritePending creates it even with no entries, so that a sealed
  // segment always has its index files).
  bool file_exists_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace eddy::broker
