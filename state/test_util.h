// Helpers for state_test: a temporary directory, a changelog sink that records what it is sent, a task
// context around both, a backend wrapper that counts writes, and deterministic random data.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eddy/state/state_store.h"
#include "eddy/state/thread_cache.h"
#include "gtest/gtest.h"
#include "state/backend.h"

namespace eddy::state_testing {

// A fresh directory, removed with its contents on destruction. On /dev/shm when there is one: these tests
// check logic, not disks, and RocksDB's MANIFEST fsyncs cost ~5 ms each on the reference machine's disk.
class TempDir {
 public:
  TempDir() {
    std::error_code ec;
    const std::filesystem::path base =
        std::filesystem::is_directory("/dev/shm", ec) && access("/dev/shm", W_OK) == 0
            ? std::filesystem::path("/dev/shm")
            : std::filesystem::temp_directory_path();
    std::string tmpl = (base / "eddy-state-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
    EXPECT_FALSE(path_.empty());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct SentRecord {
  std::string topic;
  int32_t partition;
  std::string key;
  std::optional<std::string> value;
  int64_t timestamp;
};

// Records every Send; offsets are the positions in `records`.
class RecordingSink : public ChangelogSink {
 public:
  absl::Status Send(absl::string_view topic, int32_t partition, absl::string_view key,
                    std::optional<absl::string_view> value, int64_t timestamp) override {
    if (!fail_with.ok()) return fail_with;
    SentRecord r{std::string(topic), partition, std::string(key), std::nullopt, timestamp};
    if (value.has_value()) r.value = std::string(*value);
    records.push_back(std::move(r));
    return absl::OkStatus();
  }
  // The records as a changelog a restoring store reads back (offsets = indexes).
  std::vector<ChangelogRecord> AsChangelog() const {
    std::vector<ChangelogRecord> out;
    for (size_t i = 0; i < records.size(); ++i) {
      ChangelogRecord c{records[i].key, std::nullopt, records[i].timestamp, static_cast<int64_t>(i)};
      if (records[i].value.has_value()) c.value = *records[i].value;
      out.push_back(c);
    }
    return out;
  }

  std::vector<SentRecord> records;
  absl::Status fail_with;
};

// A task's context for stores under test: task "0_3" of application "app" in a temporary directory.
struct TestTask {
  explicit TestTask(int64_t cache_bytes = ThreadCache::kDefaultMaxBytes) : cache(cache_bytes) {
    context.application_id = "app";
    context.task_id = "0_3";
    context.partition = 3;
    context.task_dir = dir.path() + "/app/0_3";
    context.changelog = &sink;
    context.cache = &cache;
  }
  TempDir dir;
  RecordingSink sink;
  ThreadCache cache;
  StateStoreContext context;
};

// Wraps a backend and counts Write calls and the writes in them.
class CountingBackend : public state_internal::Backend {
 public:
  explicit CountingBackend(std::unique_ptr<Backend> inner, int64_t* batches, int64_t* writes)
      : inner_(std::move(inner)), batches_(batches), writes_(writes) {}
  bool persistent() const override { return inner_->persistent(); }
  absl::StatusOr<bool> Get(int64_t s, absl::string_view k, std::string* v) override { return inner_->Get(s, k, v); }
  absl::Status Write(absl::Span<const state_internal::BackendWrite> w) override {
    ++*batches_;
    *writes_ += static_cast<int64_t>(w.size());
    return inner_->Write(w);
  }
  std::unique_ptr<KeyValueIterator> NewIterator(int64_t s, absl::string_view lo,
                                                std::optional<absl::string_view> hi) override {
    return inner_->NewIterator(s, lo, hi);
  }
  std::vector<int64_t> Segments() const override { return inner_->Segments(); }
  absl::Status DropSegmentsBefore(int64_t s) override { return inner_->DropSegmentsBefore(s); }
  absl::StatusOr<std::optional<std::string>> GetMetadata(absl::string_view n) override {
    return inner_->GetMetadata(n);
  }
  absl::Status PutMetadata(absl::string_view n, absl::string_view v) override { return inner_->PutMetadata(n, v); }
  absl::StatusOr<uint64_t> ApproximateNumEntries() override { return inner_->ApproximateNumEntries(); }
  absl::StatusOr<bool> Empty() override { return inner_->Empty(); }
  absl::Status Flush() override { return inner_->Flush(); }
  absl::Status Close() override { return inner_->Close(); }
  bool SupportsIngest() const override { return inner_->SupportsIngest(); }
  absl::Status IngestSorted(int64_t s, absl::Span<const state_internal::BackendWrite> w) override {
    return inner_->IngestSorted(s, w);
  }

 private:
  std::unique_ptr<Backend> inner_;
  int64_t* batches_;
  int64_t* writes_;
};

// Keys over a small alphabet including 0x00 and 0xff, lengths 0..4, so that prefixes, embedded zero bytes
// and bytes above 0x7f (negative as char) all occur.
inline std::string RandomKey(std::mt19937_64& rng) {
  static constexpr char kAlphabet[] = {'\x00', '\x01', 'a', 'b', '\x7f', '\x80', '\xff'};
  std::string k(rng() % 5, '\0');
  for (char& c : k) c = kAlphabet[rng() % sizeof(kAlphabet)];
  return k;
}

inline std::string RandomValue(std::mt19937_64& rng) { return absl::StrCat("v", rng() % 100000); }

}  // namespace eddy::state_testing
