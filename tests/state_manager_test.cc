// StateManager, ProducerChangelogSink and EnsureChangelogTopics against the embedded broker, with real
// RocksDB and in-memory stores: checkpoints, the recovery rules, wipes, restoration (full, resumed,
// interleaved between tasks), window and session stores, the restore listener, changelog topic creation
// and the task lock.
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "eddy/runtime/changelog_sink.h"
#include "eddy/runtime/state_manager.h"
#include "eddy/state/offset_checkpoint.h"
#include "eddy/state/state_directory.h"
#include "eddy/state/stores.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e_util.h"
#include "tests/state_task_harness.h"

namespace eddy {
namespace {

using e2e::E2eTest;
using state_harness::FactoryOf;
using state_harness::StoreFactory;
using state_harness::TaskStateDeps;
using state_harness::TaskStateHarness;
using ::testing::HasSubstr;

#define SM_ASSERT_OK(expr) E2E_ASSERT_OK(expr)

// Counts what restoration reports, per store.
class CountingListener : public StateRestoreListener {
 public:
  struct Counts {
    int64_t start = -1;
    int64_t end = -1;
    int64_t batches = 0;
    int64_t batch_records = 0;
    int64_t total = -1;
  };
  void OnRestoreStart(const TopicPartition&, absl::string_view store, int64_t start, int64_t end) override {
    Counts& c = counts[std::string(store)];
    c.start = start;
    c.end = end;
  }
  void OnBatchRestored(const TopicPartition&, absl::string_view store, int64_t, int64_t n) override {
    Counts& c = counts[std::string(store)];
    ++c.batches;
    c.batch_records += n;
  }
  void OnRestoreEnd(const TopicPartition&, absl::string_view store, int64_t total) override {
    counts[std::string(store)].total = total;
  }
  std::map<std::string, Counts> counts;
};

std::map<std::string, std::string> Contents(KeyValueStore* store) {
  std::map<std::string, std::string> out;
  for (auto it = store->All(); it->Valid(); it->Next()) out[std::string(it->key())] = std::string(it->value());
  return out;
}

class StateManagerTest : public E2eTest {
 protected:
  static constexpr char kApp[] = "app";

  void SetUp() override {
    E2eTest::SetUp();
    absl::StatusOr<std::unique_ptr<StateDirectory>> dir = StateDirectory::Open(state_dir_.path(), kApp);
    ASSERT_TRUE(dir.ok()) << dir.status();
    state_directory_ = *std::move(dir);
    ProducerConfig pc;
    pc.acks = Acks::kLeader;
    pc.linger_ms = 0;
    pc.batch_size = 2048;  // small batches: polls return about max.poll.records
    producer_ = NewProducer(pc);
    sink_ = std::make_unique<ProducerChangelogSink>(producer_.get());
    ConsumerConfig cc = EarliestConfig();
    cc.max_poll_records = 100;
    restore_consumer_ = NewConsumer(cc);
    ASSERT_NE(restore_consumer_, nullptr);
  }
  void TearDown() override {
    sink_.reset();
    producer_.reset();
    restore_consumer_.reset();
    E2eTest::TearDown();
  }

  // Creates the changelogs of `factories`' stores with `partitions` partitions.
  void CreateChangelogs(const std::vector<StoreFactory>& factories, int32_t partitions = 1) {
    std::vector<ChangelogTopicSpec> specs;
    for (const StoreFactory& f : factories) {
      absl::StatusOr<std::unique_ptr<StateStore>> store = f();
      ASSERT_TRUE(store.ok()) << store.status();
      specs.push_back(ChangelogTopicFor(kApp, **store, partitions));
    }
    SM_ASSERT_OK(EnsureChangelogTopics(admin(), specs));
  }

  std::unique_ptr<TaskStateHarness> NewTask(std::vector<StoreFactory> factories, int32_t partition = 0,
                                            RestoreOptions options = {}) {
    TaskStateDeps deps;
    deps.application_id = kApp;
    deps.partition = partition;
    deps.state_directory = state_directory_.get();
    deps.admin = &admin();
    deps.restore_consumer = restore_consumer_.get();
    deps.sink = sink_.get();
    deps.listener = &listener_;
    deps.restore_options = options;
    deps.log = [this](absl::string_view line) { log_lines_.emplace_back(line); };
    return std::make_unique<TaskStateHarness>(std::move(deps), std::move(factories));
  }

  std::map<TopicPartition, int64_t> ReadCheckpoint(const std::string& task_id) {
    absl::StatusOr<std::map<TopicPartition, int64_t>> c = state_directory_->ReadCheckpoint(task_id);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : std::map<TopicPartition, int64_t>{};
  }
  int64_t EndOffset(const std::string& topic, int32_t partition = 0) {
    absl::StatusOr<OffsetAndTimestamp> o = admin().ListOffsets({topic, partition}, kLatestTimestamp);
    EXPECT_TRUE(o.ok()) << o.status();
    return o.ok() ? o->offset : -1;
  }

  // Writes `n` puts (keys k0..k{keys-1}, cycling) and every seventh key's delete into the store "counts".
  static void WriteCounts(KeyValueStore* store, int n, int keys, std::map<std::string, std::string>* expected) {
    for (int i = 0; i < n; ++i) {
      const std::string key = absl::StrCat("k", i % keys);
      const std::string value = absl::StrCat("v", i);
      SM_ASSERT_OK(store->Put(key, value));
      (*expected)[key] = value;
      if (i % 7 == 6) {
        SM_ASSERT_OK(store->Delete(key));
        expected->erase(key);
      }
    }
  }

  static StoreFactory PersistentCounts() { return FactoryOf(Stores::PersistentKeyValueStore("counts")); }

  e2e::TempDir state_dir_;
  std::unique_ptr<StateDirectory> state_directory_;
  std::unique_ptr<Producer> producer_;
  std::unique_ptr<ProducerChangelogSink> sink_;
  std::unique_ptr<Consumer> restore_consumer_;
  CountingListener listener_;
  std::vector<std::string> log_lines_;  // every task's StateManager lines
};

TEST_F(StateManagerTest, CleanCloseCheckpointsAndReopenRestoresNothing) {
  CreateChangelogs({PersistentCounts()});
  std::map<std::string, std::string> expected;
  auto task = NewTask({PersistentCounts()});
  SM_ASSERT_OK(task->OpenAndRestore());
  WriteCounts(task->store<KeyValueStore>("counts"), 200, 50, &expected);
  SM_ASSERT_OK(task->Commit());
  const TopicPartition tp{"app-counts-changelog", 0};
  const int64_t end = EndOffset(tp.topic);
  EXPECT_EQ(end, 200 + 200 / 7);  // every put and every delete is one changelog record
  EXPECT_EQ(ReadCheckpoint("0_0"), (std::map<TopicPartition, int64_t>{{tp, end - 1}}));
  SM_ASSERT_OK(task->Close(/*clean=*/true));
  EXPECT_EQ(ReadCheckpoint("0_0"), (std::map<TopicPartition, int64_t>{{tp, end - 1}}));

  listener_.counts.clear();
  auto reopened = NewTask({PersistentCounts()});
  SM_ASSERT_OK(reopened->Open());
  EXPECT_TRUE(reopened->manager()->ready());
  EXPECT_EQ(reopened->manager()->decision("counts")->action, RecoveryAction::kUseLocalState);
  EXPECT_TRUE(listener_.counts.empty());
  EXPECT_EQ(Contents(reopened->store<KeyValueStore>("counts")), expected);
  SM_ASSERT_OK(reopened->Close(true));
}

TEST_F(StateManagerTest, DeletedLocalStateIsRestoredFullyWithListenerCounts) {
  CreateChangelogs({PersistentCounts()});
  std::map<std::string, std::string> expected;
  {
    auto task = NewTask({PersistentCounts()});
    SM_ASSERT_OK(task->OpenAndRestore());
    WriteCounts(task->store<KeyValueStore>("counts"), 1000, 300, &expected);
    SM_ASSERT_OK(task->Close(true));
  }
  const int64_t end = EndOffset("app-counts-changelog");
  std::filesystem::remove_all(std::filesystem::path(state_directory_->app_dir()) / "0_0");

  auto task = NewTask({PersistentCounts()});
  SM_ASSERT_OK(task->Open());
  EXPECT_FALSE(task->manager()->ready());
  EXPECT_EQ(task->manager()->decision("counts")->action, RecoveryAction::kRestore);
  SM_ASSERT_OK(task->manager()->RestoreAll());
  EXPECT_TRUE(task->manager()->ready());
  EXPECT_EQ(Contents(task->store<KeyValueStore>("counts")), expected);
  const CountingListener::Counts& c = listener_.counts["counts"];
  EXPECT_EQ(c.start, 0);
  EXPECT_EQ(c.end, end);
  EXPECT_EQ(c.total, end);  // nothing compacted yet: one record per offset
  EXPECT_EQ(c.batch_records, end);
  EXPECT_GE(c.batches, 2);  // max.poll.records = 100, batch.size = 2 KiB
  // Restoration ends with a checkpoint at the restored offset.
  EXPECT_EQ(ReadCheckpoint("0_0"), (std::map<TopicPartition, int64_t>{{{"app-counts-changelog", 0}, end - 1}}));
  SM_ASSERT_OK(task->Close(true));
}

TEST_F(StateManagerTest, UncleanCloseWithLocalFilesWipesAndRestores) {
  CreateChangelogs({PersistentCounts()});
  std::map<std::string, std::string> expected;
  {
    auto task = NewTask({PersistentCounts()});
    SM_ASSERT_OK(task->OpenAndRestore());
    WriteCounts(task->store<KeyValueStore>("counts"), 100, 40, &expected);
    SM_ASSERT_OK(task->Commit());
    EXPECT_FALSE(ReadCheckpoint("0_0").empty());
    SM_ASSERT_OK(task->Close(/*clean=*/false));
  }
  EXPECT_TRUE(ReadCheckpoint("0_0").empty());
  // A change that reached the local files but never the changelog (what a crashed task may leave).
  {
    auto ghost = NewTask({FactoryOf(Stores::PersistentKeyValueStore("counts").WithLoggingDisabled())});
    SM_ASSERT_OK(ghost->Open());
    SM_ASSERT_OK(ghost->store<KeyValueStore>("counts")->Put("ghost", "never logged"));
    SM_ASSERT_OK(ghost->Close(false));
  }
  log_lines_.clear();
  auto task = NewTask({PersistentCounts()});
  SM_ASSERT_OK(task->OpenAndRestore());
  EXPECT_EQ(task->manager()->decision("counts")->action, RecoveryAction::kWipeAndRestore);
  EXPECT_EQ(Contents(task->store<KeyValueStore>("counts")), expected);
  // Why the store was wiped, and the end of restoration, go to the task's log sink (not straight to stderr).
  ASSERT_EQ(log_lines_.size(), 2u) << absl::StrJoin(log_lines_, "\n");
  EXPECT_EQ(log_lines_[0], "task 0_0: store counts: " + task->manager()->decision("counts")->reason);
  EXPECT_FALSE(task->manager()->decision("counts")->reason.empty());
  EXPECT_EQ(log_lines_[1], "task 0_0: restoration complete");
  SM_ASSERT_OK(task->Close(true));
}

TEST_F(StateManagerTest, CheckpointAheadOfRecreatedChangelogWipesAndRestores) {
  CreateChangelogs({PersistentCounts()});
  {
    auto task = NewTask({PersistentCounts()});
    SM_ASSERT_OK(task->OpenAndRestore());
    std::map<std::string, std::string> old;
    WriteCounts(task->store<KeyValueStore>("counts"), 60, 60, &old);
    SM_ASSERT_OK(task->Close(true));
  }
  // The broker's data is replaced: the changelog now holds fewer records than the checkpoint claims.
  SM_ASSERT_OK(admin().DeleteTopic("app-counts-changelog"));
  CreateChangelogs({PersistentCounts()});
  std::map<std::string, std::string> expected;
  for (int i = 0; i < 10; ++i) {
    const std::string key = absl::StrCat("new", i);
    SM_ASSERT_OK(producer_->Send({.topic = "app-counts-changelog", .partition = 0, .key = key, .value = "x"}));
    expected[key] = "x";
  }
  SM_ASSERT_OK(producer_->Flush());

  auto task = NewTask({PersistentCounts()});
  SM_ASSERT_OK(task->OpenAndRestore());
  EXPECT_EQ(task->manager()->decision("counts")->action, RecoveryAction::kWipeAndRestore);
  EXPECT_EQ(Contents(task->store<KeyValueStore>("counts")), expected);
  EXPECT_EQ(ReadCheckpoint("0_0"), (std::map<TopicPartition, int64_t>{{{"app-counts-changelog", 0}, 9}}));
  SM_ASSERT_OK(task->Close(true));
}

TEST_F(StateManagerTest, WindowAndSessionStoresRestoreIdentically) {
  const std::vector<StoreFactory> factories = {
      FactoryOf(Stores::PersistentWindowStore("win", absl::Hours(24), absl::Minutes(1), false)),
      FactoryOf(Stores::InMemoryWindowStore("win-mem", absl::Hours(24), absl::Minutes(1), false)),
      FactoryOf(Stores::PersistentSessionStore("sess", absl::Hours(24))),
      FactoryOf(Stores::InMemorySessionStore("sess-mem", absl::Hours(24)))};
  CreateChangelogs(factories);
  // An hour ago, on a minute: changelog records carry these timestamps, and window changelogs are
  // compact,delete (retention 25 h), so they must be recent.
  const int64_t t0 = (e2e::NowMs() / 60'000 - 60) * 60'000;
  auto dump_windows = [](WindowStore* s) {
    std::vector<std::string> out;
    for (WindowStoreIterator it = s->All(); it.Valid(); it.Next()) {
      out.push_back(absl::StrCat(it.key(), "@", it.window_start(), "=", it.value()));
    }
    return out;
  };
  auto dump_sessions = [](SessionStore* s) {
    std::vector<std::string> out;
    for (int k = 0; k < 5; ++k) {
      for (SessionStoreIterator it = s->Fetch(absl::StrCat("user", k)); it.Valid(); it.Next()) {
        out.push_back(absl::StrCat(it.key(), "[", it.window().start, ",", it.window().end, "]=", it.value()));
      }
    }
    return out;
  };
  std::map<std::string, std::vector<std::string>> before;
  {
    auto task = NewTask(factories);
    SM_ASSERT_OK(task->OpenAndRestore());
    task->set_record_timestamp(t0 + 3'600'000);
    for (const char* name : {"win", "win-mem"}) {
      WindowStore* w = task->store<WindowStore>(name);
      for (int i = 0; i < 300; ++i) {
        SM_ASSERT_OK(w->Put(absl::StrCat("cat", i % 7), absl::StrCat(i), t0 + (i % 40) * 60'000));
      }
      SM_ASSERT_OK(w->Remove("cat3", t0));
      before[name] = dump_windows(w);
    }
    for (const char* name : {"sess", "sess-mem"}) {
      SessionStore* s = task->store<SessionStore>(name);
      for (int i = 0; i < 100; ++i) {
        const int64_t start = t0 + i * 1000;
        SM_ASSERT_OK(s->Put({absl::StrCat("user", i % 5), {start, start + 500 + i}}, absl::StrCat(i)));
      }
      SM_ASSERT_OK(s->Remove({"user2", {t0 + 2000, t0 + 2502}}));
      before[name] = dump_sessions(s);
    }
    SM_ASSERT_OK(task->Close(true));
  }
  std::filesystem::remove_all(std::filesystem::path(state_directory_->app_dir()) / "0_0");

  auto task = NewTask(factories);
  SM_ASSERT_OK(task->OpenAndRestore());
  EXPECT_EQ(dump_windows(task->store<WindowStore>("win")), before["win"]);
  EXPECT_EQ(dump_windows(task->store<WindowStore>("win-mem")), before["win-mem"]);
  EXPECT_EQ(dump_sessions(task->store<SessionStore>("sess")), before["sess"]);
  EXPECT_EQ(dump_sessions(task->store<SessionStore>("sess-mem")), before["sess-mem"]);
  EXPECT_EQ(before["win"].size(), 279u);  // 7 keys x 40 windows, one removed
  for (const char* name : {"win", "win-mem", "sess", "sess-mem"}) {
    EXPECT_EQ(listener_.counts[name].total, EndOffset(absl::StrCat("app-", name, "-changelog"))) << name;
  }
  // Only persistent stores are checkpointed; in-memory ones restore whenever their task starts.
  EXPECT_EQ(ReadCheckpoint("0_0").size(), 2u);
  SM_ASSERT_OK(task->Close(true));
}

TEST_F(StateManagerTest, InMemoryStoreIsRestoredOnEveryStart) {
  const StoreFactory memory = FactoryOf(Stores::InMemoryKeyValueStore("mem"));
  CreateChangelogs({memory});
  std::map<std::string, std::string> expected;
  {
    auto task = NewTask({memory});
    SM_ASSERT_OK(task->OpenAndRestore());
    WriteCounts(task->store<KeyValueStore>("mem"), 50, 20, &expected);
    SM_ASSERT_OK(task->Close(true));
  }
  auto task = NewTask({memory});
  SM_ASSERT_OK(task->OpenAndRestore());
  EXPECT_EQ(task->manager()->decision("mem")->action, RecoveryAction::kRestore);
  EXPECT_EQ(Contents(task->store<KeyValueStore>("mem")), expected);
  SM_ASSERT_OK(task->Close(true));
}

TEST_F(StateManagerTest, IncrementalRestorationOfTwoTasksSharingOneConsumer) {
  CreateChangelogs({PersistentCounts()}, /*partitions=*/2);
  std::map<std::string, std::string> expected[2];
  for (int p = 0; p < 2; ++p) {
    auto task = NewTask({PersistentCounts()}, p);
    SM_ASSERT_OK(task->OpenAndRestore());
    WriteCounts(task->store<KeyValueStore>("counts"), 700 + 300 * p, 500, &expected[p]);
    SM_ASSERT_OK(task->Close(true));
  }
  std::filesystem::remove_all(std::filesystem::path(state_directory_->app_dir()) / "0_0");
  std::filesystem::remove_all(std::filesystem::path(state_directory_->app_dir()) / "0_1");

  auto a = NewTask({PersistentCounts()}, 0);
  auto b = NewTask({PersistentCounts()}, 1);
  SM_ASSERT_OK(a->Open());
  SM_ASSERT_OK(b->Open());
  int calls = 0;
  bool a_ready = false, b_ready = false;
  while (!(a_ready && b_ready) && calls < 1000) {
    absl::StatusOr<bool> ra = a->manager()->Restore(100);
    ASSERT_TRUE(ra.ok()) << ra.status();
    absl::StatusOr<bool> rb = b->manager()->Restore(100);
    ASSERT_TRUE(rb.ok()) << rb.status();
    // A call reads a few polls (about 100 records of 800-1,200): neither is done after the first.
    if (calls == 0) {
      EXPECT_FALSE(*ra || *rb);
    }
    a_ready = *ra;
    b_ready = *rb;
    ++calls;
  }
  EXPECT_EQ(Contents(a->store<KeyValueStore>("counts")), expected[0]);
  EXPECT_EQ(Contents(b->store<KeyValueStore>("counts")), expected[1]);
  SM_ASSERT_OK(a->Close(true));
  SM_ASSERT_OK(b->Close(true));
}

TEST_F(StateManagerTest, CleanCloseDuringRestorationResumesWhereItStopped) {
  CreateChangelogs({PersistentCounts()});
  std::map<std::string, std::string> expected;
  {
    auto task = NewTask({PersistentCounts()});
    SM_ASSERT_OK(task->OpenAndRestore());
    WriteCounts(task->store<KeyValueStore>("counts"), 1000, 1000, &expected);
    SM_ASSERT_OK(task->Close(true));
  }
  std::filesystem::remove_all(std::filesystem::path(state_directory_->app_dir()) / "0_0");
  int64_t stopped_at = -1;
  {
    auto task = NewTask({PersistentCounts()});
    SM_ASSERT_OK(task->Open());
    absl::StatusOr<bool> done = task->manager()->Restore(200);
    ASSERT_TRUE(done.ok()) << done.status();
    EXPECT_FALSE(*done);
    SM_ASSERT_OK(task->Close(true));
    const auto checkpoint = ReadCheckpoint("0_0");
    ASSERT_EQ(checkpoint.size(), 1u);
    stopped_at = checkpoint.begin()->second;
    EXPECT_GT(stopped_at, 0);
    EXPECT_LT(stopped_at, EndOffset("app-counts-changelog") - 1);
  }
  listener_.counts.clear();
  auto task = NewTask({PersistentCounts()});
  SM_ASSERT_OK(task->OpenAndRestore());
  EXPECT_EQ(task->manager()->decision("counts")->action, RecoveryAction::kRestore);
  EXPECT_EQ(listener_.counts["counts"].start, stopped_at + 1);
  EXPECT_EQ(Contents(task->store<KeyValueStore>("counts")), expected);
  SM_ASSERT_OK(task->Close(true));
}

TEST_F(StateManagerTest, EnsureChangelogTopicsCreatesWithStoreConfigsAndRejectsPartitionMismatch) {
  const StoreFactory window = FactoryOf(Stores::PersistentWindowStore("win", absl::Hours(1), absl::Minutes(1), false));
  CreateChangelogs({PersistentCounts(), window}, 4);
  absl::StatusOr<TopicDescription> kv = admin().DescribeTopic("app-counts-changelog");
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_EQ(kv->partitions.size(), 4u);
  EXPECT_EQ(kv->configs["cleanup.policy"], "compact");
  absl::StatusOr<TopicDescription> win = admin().DescribeTopic("app-win-changelog");
  ASSERT_TRUE(win.ok()) << win.status();
  EXPECT_EQ(win->configs["cleanup.policy"], "compact,delete");
  EXPECT_EQ(win->configs["retention.ms"], absl::StrCat(3600000 + 86400000));
  // Existing with the right count: accepted again.
  CreateChangelogs({PersistentCounts()}, 4);

  absl::Status mismatch = EnsureChangelogTopics(
      admin(), std::vector<ChangelogTopicSpec>{{"app-counts-changelog", 6, {{"cleanup.policy", "compact"}}}});
  EXPECT_EQ(mismatch.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(mismatch.message(), HasSubstr("app-counts-changelog"));
  EXPECT_THAT(mismatch.message(), HasSubstr("expected: 6"));
  EXPECT_THAT(mismatch.message(), HasSubstr("actual: 4"));
}

TEST_F(StateManagerTest, MissingChangelogTopicIsNotFound) {
  auto task = NewTask({PersistentCounts()});
  absl::Status s = task->Open();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
}

TEST_F(StateManagerTest, TaskLockIsExclusiveUntilClose) {
  CreateChangelogs({PersistentCounts()});
  auto first = NewTask({PersistentCounts()});
  SM_ASSERT_OK(first->OpenAndRestore());
  StateManagerConfig config;
  config.application_id = kApp;
  config.task_id = "0_0";
  config.state_directory = state_directory_.get();
  absl::StatusOr<std::unique_ptr<StateManager>> second = StateManager::Open(config);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  // Another process's view of the same directory is refused too.
  absl::StatusOr<std::unique_ptr<StateDirectory>> other = StateDirectory::Open(state_dir_.path(), kApp);
  ASSERT_TRUE(other.ok());
  config.state_directory = other->get();
  EXPECT_EQ(StateManager::Open(config).status().code(), absl::StatusCode::kFailedPrecondition);
  SM_ASSERT_OK(first->Close(true));
  absl::StatusOr<std::unique_ptr<StateManager>> third = StateManager::Open(config);
  EXPECT_TRUE(third.ok()) << third.status();
}

TEST_F(StateManagerTest, CheckpointRefusesUnacknowledgedChangelogRecordsAndSinkTracksOffsets) {
  CreateChangelogs({PersistentCounts()});
  const TopicPartition tp{"app-counts-changelog", 0};
  // A producer that holds records until flushed: the sink's records are pending until Flush.
  ProducerConfig pc;
  pc.linger_ms = 60'000;
  pc.batch_size = 1 << 20;
  std::unique_ptr<Producer> lingering = NewProducer(pc);
  ProducerChangelogSink sink(lingering.get());
  TaskStateDeps deps;
  deps.application_id = kApp;
  deps.state_directory = state_directory_.get();
  deps.admin = &admin();
  deps.restore_consumer = restore_consumer_.get();
  deps.sink = &sink;
  TaskStateHarness task(deps, {PersistentCounts()});
  SM_ASSERT_OK(task.Open());  // the changelog is empty: nothing to restore
  EXPECT_TRUE(task.manager()->ready());

  SM_ASSERT_OK(sink.Send(tp.topic, 0, "a", "1", 5));
  SM_ASSERT_OK(sink.Send(tp.topic, 0, "a", std::nullopt, 6));
  EXPECT_EQ(sink.Pending(tp), 2);
  EXPECT_EQ(sink.AckedOffset(tp), std::nullopt);
  EXPECT_EQ(task.manager()->Checkpoint().code(), absl::StatusCode::kFailedPrecondition);
  SM_ASSERT_OK(sink.Flush());
  EXPECT_EQ(sink.Pending(tp), 0);
  EXPECT_EQ(sink.AckedOffset(tp), 1);
  SM_ASSERT_OK(task.manager()->Checkpoint());
  EXPECT_EQ(ReadCheckpoint("0_0"), (std::map<TopicPartition, int64_t>{{tp, 1}}));
  // The tombstone went out as a null value.
  std::unique_ptr<Consumer> reader = NewConsumer(EarliestConfig());
  SM_ASSERT_OK(reader->Assign({tp}));
  std::vector<e2e::OwnedRecord> read;
  SM_ASSERT_OK(e2e::PollFor(reader.get(), 2, &read));
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].value, "1");
  EXPECT_EQ(read[1].value, std::nullopt);
  EXPECT_EQ(read[1].timestamp, 6);
  SM_ASSERT_OK(task.Close(true));
}

TEST_F(StateManagerTest, DeliveryErrorSurfacesAtFlushCheckpointAndCleanClose) {
  CreateChangelogs({PersistentCounts()});
  ProducerConfig pc;
  pc.linger_ms = 60'000;
  pc.batch_size = 1 << 20;
  std::unique_ptr<Producer> lingering = NewProducer(pc);
  ProducerChangelogSink sink(lingering.get());
  TaskStateDeps deps;
  deps.application_id = kApp;
  deps.state_directory = state_directory_.get();
  deps.admin = &admin();
  deps.restore_consumer = restore_consumer_.get();
  deps.sink = &sink;
  TaskStateHarness task(deps, {PersistentCounts()});
  SM_ASSERT_OK(task.Open());
  SM_ASSERT_OK(task.store<KeyValueStore>("counts")->Put("a", "1"));
  SM_ASSERT_OK(task.Commit());
  ASSERT_EQ(ReadCheckpoint("0_0").size(), 1u);

  // The changelog disappears while a record to it waits in the producer.
  SM_ASSERT_OK(task.store<KeyValueStore>("counts")->Put("b", "2"));
  SM_ASSERT_OK(admin().DeleteTopic("app-counts-changelog"));
  EXPECT_FALSE(task.store<KeyValueStore>("counts")->Put("c", "3").ok());  // kNotFound from Send
  EXPECT_FALSE(sink.Flush().ok());
  EXPECT_FALSE(sink.status().ok());
  EXPECT_FALSE(task.manager()->Checkpoint().ok());
  // A clean close that cannot checkpoint leaves no checkpoint: the next owner wipes and restores.
  EXPECT_FALSE(task.Close(true).ok());
  EXPECT_TRUE(ReadCheckpoint("0_0").empty());
}

}  // namespace
}  // namespace eddy
