// Restoration from changelogs: WriteBatch and SST ingestion give identical contents, for every store type;
// a logged store's own changelog restores it; StateRestorer's bookkeeping and listener.
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "eddy/state/state_restorer.h"
#include "eddy/state/stores.h"
#include "gtest/gtest.h"
#include "state/store_key_format.h"
#include "state/test_util.h"

namespace eddy {
namespace {

using state_testing::RandomKey;
using state_testing::RecordingSink;
using state_testing::TestTask;

// A changelog: owned keys and values, and ChangelogRecords viewing them.
struct Changelog {
  std::vector<std::string> keys;
  std::vector<std::optional<std::string>> values;
  std::vector<ChangelogRecord> records;

  void Add(std::string key, std::optional<std::string> value) {
    keys.push_back(std::move(key));
    values.push_back(std::move(value));
  }
  void Seal() {
    for (size_t i = 0; i < keys.size(); ++i) {
      ChangelogRecord r{keys[i], std::nullopt, 0, static_cast<int64_t>(i)};
      if (values[i].has_value()) r.value = *values[i];
      records.push_back(r);
    }
  }
};

std::vector<std::pair<std::string, std::string>> Contents(KeyValueIterator& it) {
  std::vector<std::pair<std::string, std::string>> out;
  for (; it.Valid(); it.Next()) out.emplace_back(std::string(it.key()), std::string(it.value()));
  EXPECT_TRUE(it.status().ok()) << it.status();
  return out;
}

std::vector<std::tuple<std::string, int64_t, std::string>> Contents(WindowStoreIterator it) {
  std::vector<std::tuple<std::string, int64_t, std::string>> out;
  for (; it.Valid(); it.Next()) out.emplace_back(std::string(it.key()), it.window_start(), std::string(it.value()));
  EXPECT_TRUE(it.status().ok()) << it.status();
  return out;
}

// Restores `log` into `store` in batches of 1000.
absl::Status Restore(StateStore& store, const Changelog& log, RestoreMode mode, size_t chunk_bytes) {
  RestoreOptions options;
  options.mode = mode;
  options.sst_chunk_bytes = chunk_bytes;
  StateRestorer restorer(&store, {"app-s-changelog", 3}, 0, static_cast<int64_t>(log.records.size()), nullptr,
                         options);
  if (absl::Status s = restorer.Begin(); !s.ok()) return s;
  for (size_t i = 0; i < log.records.size(); i += 1000) {
    const size_t n = std::min<size_t>(1000, log.records.size() - i);
    absl::Status s = restorer.Restore(absl::MakeConstSpan(log.records).subspan(i, n), static_cast<int64_t>(i + n));
    if (!s.ok()) return s;
  }
  EXPECT_TRUE(restorer.done());
  return restorer.End();
}

TEST(RestoreTest, WriteBatchAndSstIngestionRestoreIdenticalKeyValueContents) {
  std::mt19937_64 rng(3);
  Changelog log;
  std::map<std::string, std::string> model;
  for (int i = 0; i < 30000; ++i) {
    std::string key = RandomKey(rng);
    if (rng() % 10 == 0) {
      model.erase(key);
      log.Add(std::move(key), std::nullopt);
    } else {
      std::string value = absl::StrCat("v", i);
      model[key] = value;
      log.Add(std::move(key), std::move(value));
    }
  }
  log.Seal();
  const std::vector<std::pair<std::string, std::string>> expected(model.begin(), model.end());
  for (RestoreMode mode : {RestoreMode::kWriteBatch, RestoreMode::kIngestSst, RestoreMode::kAuto}) {
    for (bool persistent : {true, false}) {
      TestTask task;
      auto store = *(persistent ? Stores::PersistentKeyValueStore("s") : Stores::InMemoryKeyValueStore("s"))
                        .WithCachingEnabled()
                        .Build();
      ASSERT_TRUE(store->Init(&task.context).ok());
      // 64 KiB chunks: the SST path ingests many overlapping files.
      ASSERT_TRUE(Restore(*store, log, mode, 64 << 10).ok()) << static_cast<int>(mode);
      auto it = store->All();
      EXPECT_EQ(Contents(*it), expected) << static_cast<int>(mode) << persistent;
      it.reset();
      EXPECT_TRUE(task.sink.records.empty());  // restoration is not logged
      ASSERT_TRUE(store->Close().ok());
      if (persistent) {  // and it is on disk
        auto reopened = *Stores::PersistentKeyValueStore("s").Build();
        ASSERT_TRUE(reopened->Init(&task.context).ok());
        auto it2 = reopened->All();
        EXPECT_EQ(Contents(*it2), expected);
        it2.reset();
        ASSERT_TRUE(reopened->Close().ok());
      }
    }
  }
}

TEST(RestoreTest, WriteBatchAndSstIngestionRestoreIdenticalWindowContentsAndSkipExpiredSegments) {
  std::mt19937_64 rng(9);
  Changelog log;
  for (int i = 0; i < 20000; ++i) {
    std::string key;
    const int64_t t = i / 4 + static_cast<int64_t>(rng() % 300);  // 0 .. ~5300 ms, out of order
    state_internal::EncodeWindowKey(absl::StrCat("k", rng() % 50), t, 0, &key);
    log.Add(std::move(key), rng() % 8 == 0 ? std::nullopt : std::optional<std::string>(absl::StrCat("v", i)));
  }
  log.Seal();
  std::vector<std::tuple<std::string, int64_t, std::string>> first;
  for (RestoreMode mode : {RestoreMode::kWriteBatch, RestoreMode::kIngestSst}) {
    TestTask task;
    auto store = *Stores::PersistentWindowStore("s", absl::Milliseconds(1000), absl::Milliseconds(10), false)
                      .WithSegmentInterval(absl::Milliseconds(250))
                      .Build();
    ASSERT_TRUE(store->Init(&task.context).ok());
    ASSERT_TRUE(Restore(*store, log, mode, 32 << 10).ok());
    auto contents = Contents(store->All());
    ASSERT_FALSE(contents.empty());
    for (const auto& [k, t, v] : contents) EXPECT_GT(t, store->observed_stream_time() - 1000);
    if (first.empty()) first = contents;
    else EXPECT_EQ(contents, first);
    ASSERT_TRUE(store->Close().ok());
  }
}

TEST(RestoreTest, LoggedStoreIsRestoredFromItsOwnChangelog) {
  std::mt19937_64 rng(1);
  TestTask original(4096);  // a small cache: evictions and flushes interleave
  auto store = *Stores::PersistentSessionStore("s", absl::Hours(1)).WithCachingEnabled().Build();
  ASSERT_TRUE(store->Init(&original.context).ok());
  for (int i = 0; i < 5000; ++i) {
    const std::string key = RandomKey(rng);
    const int64_t start = static_cast<int64_t>(rng() % 1000);
    if (rng() % 5 == 0) {
      ASSERT_TRUE(store->Remove({key, {start, start + 10}}).ok());
    }
    else ASSERT_TRUE(store->Put({key, {start, start + 10}}, absl::StrCat(i)).ok());
    if (i % 1000 == 0) {
      ASSERT_TRUE(store->Flush().ok());
    }
  }
  ASSERT_TRUE(store->Flush().ok());
  Changelog log;
  for (const auto& r : original.sink.records) log.Add(r.key, r.value);
  log.Seal();
  TestTask fresh;
  auto restored = *Stores::PersistentSessionStore("s", absl::Hours(1)).Build();
  ASSERT_TRUE(restored->Init(&fresh.context).ok());
  ASSERT_TRUE(Restore(*restored, log, RestoreMode::kAuto, 64 << 10).ok());
  for (int i = 0; i < 300; ++i) {
    const std::string key = RandomKey(rng);
    std::vector<std::pair<Window, std::string>> a, b;
    for (auto it = store->Fetch(key); it.Valid(); it.Next()) a.emplace_back(it.window(), it.value());
    for (auto it = restored->Fetch(key); it.Valid(); it.Next()) b.emplace_back(it.window(), it.value());
    EXPECT_EQ(a, b);
  }
  ASSERT_TRUE(store->Close().ok());
  ASSERT_TRUE(restored->Close().ok());
}

class CountingListener : public StateRestoreListener {
 public:
  void OnRestoreStart(const TopicPartition& tp, absl::string_view store, int64_t start, int64_t end) override {
    calls.push_back(absl::StrCat("start ", ToString(tp), " ", store, " ", start, " ", end));
  }
  void OnBatchRestored(const TopicPartition&, absl::string_view, int64_t batch_end, int64_t n) override {
    calls.push_back(absl::StrCat("batch ", batch_end, " ", n));
  }
  void OnRestoreEnd(const TopicPartition&, absl::string_view, int64_t total) override {
    calls.push_back(absl::StrCat("end ", total));
  }
  std::vector<std::string> calls;
};

TEST(RestoreTest, RestorerReportsProgressAndCountsCompactedGapsAsRestored) {
  TestTask task;
  auto store = *Stores::InMemoryKeyValueStore("s").Build();
  ASSERT_TRUE(store->Init(&task.context).ok());
  CountingListener listener;
  StateRestorer restorer(store.get(), {"app-s-changelog", 3}, 10, 20, &listener);
  ASSERT_TRUE(restorer.Begin().ok());
  std::vector<ChangelogRecord> batch = {{"a", "1", 0, 10}, {"b", "2", 0, 13}};  // 11, 12 compacted away
  ASSERT_TRUE(restorer.Restore(batch, 14).ok());
  EXPECT_FALSE(restorer.done());
  EXPECT_EQ(restorer.restored_offset(), 13);
  std::vector<ChangelogRecord> bad = {{"c", "3", 0, 12}};
  EXPECT_EQ(restorer.Restore(bad, 15).code(), absl::StatusCode::kOutOfRange);  // goes backwards
  std::vector<ChangelogRecord> past_end = {{"c", "3", 0, 20}};
  EXPECT_EQ(restorer.Restore(past_end, 21).code(), absl::StatusCode::kOutOfRange);
  std::vector<ChangelogRecord> last = {{"a", std::nullopt, 0, 17}};
  ASSERT_TRUE(restorer.Restore(last, 20).ok());  // 18, 19 compacted away: the position says we are done
  EXPECT_TRUE(restorer.done());
  EXPECT_EQ(restorer.restored_offset(), 19);
  ASSERT_TRUE(restorer.End().ok());
  EXPECT_EQ(restorer.restored_records(), 3);
  EXPECT_EQ(listener.calls, (std::vector<std::string>{"start app-s-changelog-3 s 10 20", "batch 13 2", "batch 17 1",
                                                      "end 3"}));
  EXPECT_FALSE(store->Get("a").value().has_value());
  EXPECT_EQ(*store->Get("b").value(), "2");
  ASSERT_TRUE(store->Close().ok());
}

TEST(RestoreTest, RefusesSstIngestionIntoANonEmptyStoreAndRestoringOverDirtyCache) {
  TestTask task;
  auto store = *Stores::PersistentKeyValueStore("s").WithCachingEnabled().Build();
  ASSERT_TRUE(store->Init(&task.context).ok());
  ASSERT_TRUE(store->Put("k", "v").ok());
  EXPECT_EQ(store->BeginRestore({}).code(), absl::StatusCode::kFailedPrecondition);  // dirty cache
  ASSERT_TRUE(store->Flush().ok());
  RestoreOptions sst;
  sst.mode = RestoreMode::kIngestSst;
  EXPECT_EQ(store->BeginRestore(sst).code(), absl::StatusCode::kFailedPrecondition);  // not empty
  ASSERT_TRUE(store->BeginRestore({}).ok());  // kAuto: WriteBatch, since the store has data
  std::vector<ChangelogRecord> records = {{"k", "restored", 0, 0}};
  ASSERT_TRUE(store->RestoreBatch(records).ok());
  EXPECT_EQ(*store->Get("k").value(), "restored");  // visible at once in WriteBatch mode
  ASSERT_TRUE(store->EndRestore().ok());
  ASSERT_TRUE(store->Close().ok());
}

TEST(RestoreTest, MalformedWindowChangelogKeyIsDataLoss) {
  TestTask task;
  auto store = *Stores::InMemoryWindowStore("s", absl::Minutes(1), absl::Minutes(1), false).Build();
  ASSERT_TRUE(store->Init(&task.context).ok());
  std::vector<ChangelogRecord> records = {{"short", "v", 0, 0}};
  EXPECT_EQ(store->RestoreBatch(records).code(), absl::StatusCode::kDataLoss);
  ASSERT_TRUE(store->Close().ok());
}

}  // namespace
}  // namespace eddy
