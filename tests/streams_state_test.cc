// eddy::Streams with state stores on the embedded broker: a counting application (GroupByKey -> Count into
// a persistent store) run, closed and run again with its local state intact, deleted, or without its
// checkpoints (an unclean stop); the write cache between commits; a task that comes back to its thread
// after a rebalance; interactive queries (key-value and window, over two threads and four partitions, and
// during REBALANCING); a suppressed window's final result across a restart; a changelog topic with the
// wrong partition count.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "eddy/broker/embedded_client_supplier.h"
#include "eddy/core/status.h"
#include "eddy/dsl/dsl.h"
#include "eddy/runtime/streams.h"
#include "eddy/state/stores.h"
#include "eddy/state/window_store.h"
#include "gmock/gmock.h"
#include "tests/e2e_util.h"

namespace eddy {
namespace {

using e2e::kDeadline;
using ::testing::HasSubstr;

constexpr int kKeys = 20;
constexpr int kUpdatesPerKey = 10;
const char* const kChangelog = "app-counts-changelog";

template <typename Pred>
bool Eventually(Pred pred, absl::Duration deadline = kDeadline) {
  const absl::Time end = absl::Now() + deadline;
  while (!pred() && absl::Now() < end) absl::SleepFor(absl::Milliseconds(10));
  return pred();
}

int64_t DecodeInt64(absl::string_view bytes) {
  int64_t v = 0;
  EXPECT_TRUE(Int64Serde().Deserialize(bytes, &v).ok());
  return v;
}

// words -> GroupByKey -> Count into the persistent, cached, logged store "counts".
Topology Counting() {
  StreamsBuilder builder;
  builder.Stream<std::string, std::string>("words").GroupByKey().Count(Materialized::As("counts"));
  return *builder.Build();
}

// Counts records per (key, 1-second window) in the window store "windows", through the Processor API.
class WindowCounter : public Processor<std::string, std::string, std::string, std::string> {
 public:
  absl::Status Init(ProcessorContext<std::string, std::string>& context) override {
    EDDY_ASSIGN_OR_RETURN(store_, context.template GetStateStore<WindowStore>("windows"));
    return absl::OkStatus();
  }
  absl::Status Process(const Record<std::string, std::string>& record) override {
    const int64_t start = record.timestamp() / 1000 * 1000;
    std::string value;
    EDDY_ASSIGN_OR_RETURN(bool found, store_->Fetch(record.key(), start, &value));
    std::string next;
    Int64Serde().Serialize(found ? DecodeInt64(value) + 1 : 1, &next);
    return store_->Put(record.key(), next, start);
  }

 private:
  WindowStore* store_ = nullptr;
};

// Counts the records restored per store; blocks the first OnRestoreStart until released, if asked.
class RecordingListener : public StateRestoreListener {
 public:
  explicit RecordingListener(bool block_first = false) : block_first_(block_first) {}
  void OnRestoreStart(const TopicPartition&, absl::string_view, int64_t start_offset, int64_t) override {
    {
      absl::MutexLock lock(&mu_);
      start_offsets_.push_back(start_offset);
    }
    if (block_first_ && !started_.HasBeenNotified()) {
      started_.Notify();
      release_.WaitForNotification();
    }
  }
  void OnBatchRestored(const TopicPartition&, absl::string_view, int64_t, int64_t n) override {
    absl::MutexLock lock(&mu_);
    restored_ += n;
  }
  void OnRestoreEnd(const TopicPartition&, absl::string_view, int64_t) override {}

  int64_t restored() const {
    absl::MutexLock lock(&mu_);
    return restored_;
  }
  std::vector<int64_t> start_offsets() const {
    absl::MutexLock lock(&mu_);
    return start_offsets_;
  }
  absl::Notification started_;
  absl::Notification release_;

 private:
  const bool block_first_;
  mutable absl::Mutex mu_;
  int64_t restored_ = 0;
  std::vector<int64_t> start_offsets_;
};

class StreamsStateTest : public e2e::E2eTest {
 protected:
  void SetUp() override {
    e2e::E2eTest::SetUp();
    clients_ = std::make_unique<EmbeddedClientSupplier>(broker_.get());
    state_dir_ = dir_.path() + "/state";
  }
  // Record timestamps start here (a whole second): recent, or the broker's retention (7 days, checked
  // every 100 ms in these tests) would delete the input.
  const int64_t base_ms_ = e2e::NowMs() / 1000 * 1000;

  StreamsConfig Config(int threads = 1, const std::string& state_dir = "") {
    StreamsConfig config;
    config.application_id = "app";
    config.num_stream_threads = threads;
    config.commit_interval_ms = 100;
    config.state_dir = state_dir.empty() ? state_dir_ : state_dir;
    config.log = [](absl::string_view) {};
    return config;
  }

  // kKeys keys "k0".., kUpdatesPerKey records each, partitioned by key (murmur2).
  void ProduceWords(const std::string& topic = "words") {
    std::unique_ptr<Producer> producer = NewProducer();
    for (int round = 0; round < kUpdatesPerKey; ++round) {
      for (int k = 0; k < kKeys; ++k) {
        const std::string key = absl::StrCat("k", k);
        E2E_ASSERT_OK(producer->Send({.topic = topic, .key = key, .value = "x", .timestamp = base_ms_ + 1000 * (round + 1)}));
      }
    }
    E2E_ASSERT_OK(producer->Flush(kDeadline));
  }

  // Starts `app` and waits until the store "counts" holds kUpdatesPerKey for every key; returns its entries.
  std::map<std::string, int64_t> RunToCompletion(Streams& app) {
    EXPECT_TRUE(app.Start().ok());
    std::map<std::string, int64_t> counts;
    const bool done = Eventually([&] {
      absl::StatusOr<ReadOnlyKeyValueStore> store = app.QueryableKeyValueStore("counts");
      if (!store.ok()) return false;
      absl::StatusOr<std::vector<KeyValue<std::string, std::string>>> all = store->All();
      if (!all.ok() || all->size() != kKeys) return false;
      counts.clear();
      for (const auto& kv : *all) counts[kv.key] = DecodeInt64(kv.value);
      for (const auto& [k, n] : counts) {
        if (n != kUpdatesPerKey) return false;
      }
      return true;
    });
    std::string seen;
    for (const auto& [k, n] : counts) absl::StrAppend(&seen, " ", k, "=", n);
    EXPECT_TRUE(done) << "counts never complete; state " << ToString(app.state()) << "; seen:" << seen;
    return counts;
  }

  static int64_t Restored(const Streams& app) {
    int64_t n = 0;
    for (const ThreadMetricsSnapshot& t : app.metrics()) {
      for (const auto& [store, count] : t.restored_records) n += count;
    }
    return n;
  }
  int64_t ChangelogRecords(const std::string& topic = kChangelog) {
    absl::StatusOr<TopicDescription> d = admin().DescribeTopic(topic);
    if (!d.ok()) return -1;
    int64_t n = 0;
    for (const auto& p : d->partitions) n += p.log_end_offset;
    return n;
  }
  // Deletes every task's .checkpoint: what a kill -9 leaves (a clean close always writes one).
  void DeleteCheckpoints() {
    for (const auto& task : std::filesystem::directory_iterator(state_dir_ + "/app")) {
      std::filesystem::remove(task.path() / ".checkpoint");
    }
  }

  std::unique_ptr<EmbeddedClientSupplier> clients_;
  std::string state_dir_;
};

TEST_F(StreamsStateTest, RerunWithCleanCheckpointsRestoresNothing) {
  CreateTopic("words", 4);
  ProduceWords();
  std::map<std::string, int64_t> first;
  {
    Streams app(Counting(), Config(), clients_.get());
    first = RunToCompletion(app);
    EXPECT_EQ(Restored(app), 0);  // the changelog was empty
    E2E_ASSERT_OK(app.Close());
  }
  EXPECT_GT(ChangelogRecords(), 0);
  Streams again(Counting(), Config(), clients_.get());
  EXPECT_EQ(RunToCompletion(again), first);
  EXPECT_EQ(Restored(again), 0);
  E2E_EXPECT_OK(again.Close());
}

TEST_F(StreamsStateTest, DeletedStateDirIsRestoredFromTheChangelog) {
  CreateTopic("words", 4);
  ProduceWords();
  std::map<std::string, int64_t> first;
  {
    Streams app(Counting(), Config(), clients_.get());
    first = RunToCompletion(app);
    E2E_ASSERT_OK(app.Close());
  }
  std::filesystem::remove_all(state_dir_);
  RecordingListener listener;
  Streams again(Counting(), Config(), clients_.get());
  E2E_ASSERT_OK(again.SetGlobalStateRestoreListener(&listener));
  EXPECT_EQ(RunToCompletion(again), first);
  // Every changelog record was restored (none is compacted away this soon), and nothing was reprocessed:
  // the input offsets were committed.
  EXPECT_EQ(listener.restored(), ChangelogRecords());
  EXPECT_TRUE(Eventually([&] { return Restored(again) == ChangelogRecords(); }))  // metrics lag up to 100 ms
      << Restored(again);
  E2E_EXPECT_OK(again.Close());
}

// A suppressed window still owing its final result when the application stops is emitted once after the
// restart, whether the local state is intact or deleted (the close buffer is in memory, restored from its
// changelog either way).
TEST_F(StreamsStateTest, SuppressedWindowsEmitTheirFinalResultAfterARestart) {
  const TimeWindows w = TimeWindows::OfSizeAndGrace(absl::Seconds(10), absl::Seconds(5));
  const TimeWindowedSerde<StringSerde> wserde(StringSerde(), w.size_ms);
  const int64_t w0 = base_ms_ / 10000 * 10000;
  for (const bool delete_state : {false, true}) {
    SCOPED_TRACE(delete_state ? "state directory deleted" : "state directory intact");
    const std::string in = absl::StrCat("in-", delete_state), out = absl::StrCat("final-", delete_state);
    CreateTopic(in, 2);
    CreateTopic(out, 1);
    auto topology = [&] {
      StreamsBuilder builder;
      builder.Stream<std::string, int64_t>(in)
          .GroupByKey()
          .WindowedBy(w)
          .Count(Materialized::As("counts"))
          .Suppress(Suppressed::UntilWindowCloses(BufferConfig::Unbounded()))
          .ToStream()
          .To(out, Produced(wserde, Int64Serde()));
      return *builder.Build();
    };
    StreamsConfig config = Config();
    config.application_id = absl::StrCat("suppress-", delete_state);
    std::unique_ptr<Producer> producer = NewProducer();
    auto send = [&](int64_t ts) {
      std::string value;
      Int64Serde().Serialize(1, &value);
      E2E_ASSERT_OK(producer->Send({.topic = in, .key = "a", .value = value, .timestamp = ts}));
      E2E_ASSERT_OK(producer->Flush(kDeadline));
    };
    auto processed = [](const Streams& app) {
      int64_t n = 0;
      for (const ThreadMetricsSnapshot& t : app.metrics()) n += t.processed_records;
      return n;
    };
    {
      Streams app(topology(), config, clients_.get());
      E2E_ASSERT_OK(app.Start());
      send(w0 + 1000);
      send(w0 + 2000);
      ASSERT_TRUE(Eventually([&] { return processed(app) == 2; }));
      E2E_ASSERT_OK(app.Close());
    }
    if (delete_state) std::filesystem::remove_all(state_dir_);
    Streams again(topology(), config, clients_.get());
    E2E_ASSERT_OK(again.Start());
    send(w0 + 16000);  // 10 s + 5 s grace: window [w0, w0 + 10 s) closes
    std::unique_ptr<Consumer> reader = NewConsumer(EarliestConfig());
    E2E_ASSERT_OK(reader->Assign({{out, 0}}));
    std::vector<e2e::OwnedRecord> results;
    E2E_ASSERT_OK(e2e::PollFor(reader.get(), 1, &results));
    ASSERT_TRUE(Eventually([&] { return processed(again) == 1; }));
    E2E_ASSERT_OK(again.Close());
    E2E_ASSERT_OK(e2e::PollFor(reader.get(), 2, &results, absl::Milliseconds(300)));  // nothing more comes
    ASSERT_EQ(results.size(), 1u) << "the buffered window was remembered across the restart";
    Windowed<std::string> key;
    E2E_ASSERT_OK(wserde.Deserialize(*results[0].key, &key));
    EXPECT_EQ(key.key, "a");
    EXPECT_EQ(key.window.start, w0);
    EXPECT_EQ(DecodeInt64(*results[0].value), 2);
  }
}

TEST_F(StreamsStateTest, UncleanStopWipesLocalStateAndRestores) {
  CreateTopic("words", 4);
  ProduceWords();
  std::map<std::string, int64_t> first;
  {
    Streams app(Counting(), Config(), clients_.get());
    first = RunToCompletion(app);
    E2E_ASSERT_OK(app.Close());
  }
  DeleteCheckpoints();  // local RocksDB files without a checkpoint: not trusted
  RecordingListener listener;
  Streams again(Counting(), Config(), clients_.get());
  E2E_ASSERT_OK(again.SetGlobalStateRestoreListener(&listener));
  EXPECT_EQ(RunToCompletion(again), first);
  EXPECT_EQ(listener.restored(), ChangelogRecords());
  EXPECT_THAT(listener.start_offsets(), ::testing::Each(0));  // wiped: restored from the start
  E2E_EXPECT_OK(again.Close());
}

TEST_F(StreamsStateTest, CacheCoalescesUpdatesOfAKeyBetweenCommits) {
  CreateTopic("words", 1);
  StreamsConfig config = Config();
  config.commit_interval_ms = 3600000;  // only Close commits
  Streams app(Counting(), config, clients_.get());
  E2E_ASSERT_OK(app.Start());
  std::unique_ptr<Producer> producer = NewProducer();
  for (int i = 0; i < 50; ++i) E2E_ASSERT_OK(producer->Send({.topic = "words", .key = "hot", .value = "x"}));
  E2E_ASSERT_OK(producer->Flush(kDeadline));
  // The query sees the cached count before anything reached the store or the changelog.
  ASSERT_TRUE(Eventually([&] {
    absl::StatusOr<ReadOnlyKeyValueStore> store = app.QueryableKeyValueStore("counts");
    if (!store.ok()) return false;
    absl::StatusOr<std::optional<std::string>> v = store->Get("hot");
    return v.ok() && v->has_value() && DecodeInt64(**v) == 50;
  }));
  EXPECT_EQ(ChangelogRecords(), 0);
  E2E_ASSERT_OK(app.Close());
  EXPECT_EQ(ChangelogRecords(), 1);
}

TEST_F(StreamsStateTest, TaskBackOnItsThreadAfterARebalanceRestoresNothing) {
  CreateTopic("words", 4);
  ProduceWords();
  Streams app(Counting(), Config(), clients_.get());
  const std::map<std::string, int64_t> first = RunToCompletion(app);
  EXPECT_EQ(Restored(app), 0);
  {
    // A second instance joins (taking some tasks, restoring them into its own state.dir), then leaves: the
    // tasks come back to the first instance, which restores nothing (its checkpoints are clean and the
    // changelogs did not move).
    Streams other(Counting(), Config(1, dir_.path() + "/state2"), clients_.get());
    E2E_ASSERT_OK(other.Start());
    ASSERT_TRUE(Eventually([&] {
      return other.state() == StreamsState::kRunning && app.state() == StreamsState::kRunning &&
             !other.metrics().empty() && !other.metrics()[0].tasks.empty();
    }));
    EXPECT_TRUE(Eventually([&] { return Restored(other) > 0; }));
    E2E_ASSERT_OK(other.Close());
  }
  ASSERT_TRUE(Eventually([&] {
    const std::vector<ThreadMetricsSnapshot> m = app.metrics();
    return app.state() == StreamsState::kRunning && m[0].tasks.size() == 4;
  }));
  EXPECT_GE(app.metrics()[0].tasks_created, 8);  // every task was closed and created again at least once
  EXPECT_EQ(Restored(app), 0);
  absl::StatusOr<ReadOnlyKeyValueStore> store = app.QueryableKeyValueStore("counts");
  ASSERT_TRUE(store.ok());
  absl::StatusOr<std::vector<KeyValue<std::string, std::string>>> all = store->All();
  ASSERT_TRUE(all.ok()) << all.status();
  std::map<std::string, int64_t> now;
  for (const auto& kv : *all) now[kv.key] = DecodeInt64(kv.value);
  EXPECT_EQ(now, first);
  E2E_EXPECT_OK(app.Close());
}

TEST_F(StreamsStateTest, QueriesReadEveryTaskOfEveryThread) {
  CreateTopic("words", 4);
  CreateTopic("clicks", 4);
  ProduceWords();
  ProduceWords("clicks");
  StreamsBuilder builder;
  builder.Stream<std::string, std::string>("words").GroupByKey().Count(Materialized::As("counts"));
  builder.AddStateStore(Stores::PersistentWindowStore("windows", absl::Hours(24), absl::Seconds(1), false)
                            .WithCachingEnabled());
  builder.Stream<std::string, std::string>("clicks").Process([] { return std::make_unique<WindowCounter>(); },
                                                             {"windows"});
  Streams app(*builder.Build(), Config(/*threads=*/2), clients_.get());
  const std::map<std::string, int64_t> counts = RunToCompletion(app);
  ASSERT_EQ(counts.size(), kKeys);
  ASSERT_EQ(app.metrics().size(), 2u);
  EXPECT_FALSE(app.metrics()[0].tasks.empty());
  EXPECT_FALSE(app.metrics()[1].tasks.empty());

  absl::StatusOr<ReadOnlyKeyValueStore> kv = app.QueryableKeyValueStore("counts");
  ASSERT_TRUE(kv.ok());
  for (int k = 0; k < kKeys; ++k) {
    absl::StatusOr<std::optional<std::string>> v = kv->Get(absl::StrCat("k", k));
    ASSERT_TRUE(v.ok() && v->has_value()) << k;
    EXPECT_EQ(DecodeInt64(**v), kUpdatesPerKey);
  }
  absl::StatusOr<std::optional<std::string>> missing = kv->Get("nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  // Range across the four partitions, in key order: k1, k10..k19 (bytewise between "k1" and "k19").
  absl::StatusOr<std::vector<KeyValue<std::string, std::string>>> range = kv->Range("k1", "k19");
  ASSERT_TRUE(range.ok());
  std::vector<std::string> keys;
  for (const auto& e : *range) keys.push_back(e.key);
  std::vector<std::string> expected = {"k1"};
  for (int k = 10; k < 20; ++k) expected.push_back(absl::StrCat("k", k));
  EXPECT_EQ(keys, expected);

  absl::StatusOr<ReadOnlyWindowStore> windows = app.QueryableWindowStore("windows");
  ASSERT_TRUE(windows.ok());
  // Each key had one record per second from base + 1000 to base + 10000: ten windows of count 1.
  ASSERT_TRUE(Eventually([&] {
    absl::StatusOr<std::vector<KeyValue<int64_t, std::string>>> w = windows->Fetch("k7", base_ms_, base_ms_ + 100000);
    return w.ok() && w->size() == kUpdatesPerKey;
  }));
  absl::StatusOr<std::vector<KeyValue<int64_t, std::string>>> w = windows->Fetch("k7", base_ms_ + 3000, base_ms_ + 5000);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->size(), 3u);
  EXPECT_EQ((*w)[0].key, base_ms_ + 3000);
  EXPECT_EQ((*w)[2].key, base_ms_ + 5000);
  EXPECT_EQ(DecodeInt64((*w)[1].value), 1);
  ASSERT_TRUE(Eventually([&] {
    auto all = windows->FetchAll(base_ms_ + 2000, base_ms_ + 2000);
    return all.ok() && all->size() == kKeys;
  }));
  auto all = windows->FetchAll(base_ms_ + 2000, base_ms_ + 2000);
  EXPECT_EQ((*all)[0].key.key, "k0");
  EXPECT_EQ((*all)[0].key.window, (Window{base_ms_ + 2000, base_ms_ + 3000}));

  EXPECT_EQ(app.QueryableKeyValueStore("windows").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(app.QueryableKeyValueStore("nope").status().code(), absl::StatusCode::kNotFound);
  E2E_EXPECT_OK(app.Close());
  EXPECT_EQ(kv->Get("k1").status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(StreamsStateTest, QueriesAreUnavailableWhileRestoring) {
  CreateTopic("words", 2);
  ProduceWords();
  {
    Streams app(Counting(), Config(), clients_.get());
    RunToCompletion(app);
    E2E_ASSERT_OK(app.Close());
  }
  const int64_t changelog_records = ChangelogRecords();
  std::filesystem::remove_all(state_dir_);
  RecordingListener listener(/*block_first=*/true);
  StreamsConfig config = Config();
  config.restore_max_records_per_loop = 3;  // restoration spans many polls, which return new input
  Streams app(Counting(), config, clients_.get());
  E2E_ASSERT_OK(app.SetGlobalStateRestoreListener(&listener));
  E2E_ASSERT_OK(app.Start());
  ASSERT_TRUE(listener.started_.WaitForNotificationWithTimeout(kDeadline));
  // A store is being restored: the application is REBALANCING and its stores cannot be queried.
  EXPECT_EQ(app.state(), StreamsState::kRebalancing);
  absl::StatusOr<ReadOnlyKeyValueStore> store = app.QueryableKeyValueStore("counts");
  ASSERT_TRUE(store.ok());
  const absl::Status st = store->Get("k1").status();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_THAT(st.message(), HasSubstr("not available"));
  // Input arriving while the tasks restore is held back (rewound), then counted once each.
  ProduceWords();
  listener.release_.Notify();
  ASSERT_TRUE(Eventually([&] {
    absl::StatusOr<std::vector<KeyValue<std::string, std::string>>> all = store->All();
    if (!all.ok() || all->size() != kKeys) return false;
    for (const auto& kv : *all) {
      if (DecodeInt64(kv.value) != 2 * kUpdatesPerKey) return false;
    }
    return true;
  }));
  EXPECT_EQ(listener.restored(), changelog_records);
  E2E_EXPECT_OK(app.Close());
}

TEST_F(StreamsStateTest, ChangelogWithOtherPartitionCountFailsStart) {
  CreateTopic("words", 4);
  CreateTopic(kChangelog, 2);
  Streams app(Counting(), Config(), clients_.get());
  const absl::Status st = app.Start();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_THAT(st.message(), HasSubstr("app-counts-changelog has invalid partitions: expected: 4; actual: 2"));
  EXPECT_EQ(app.state(), StreamsState::kCreated);
}

}  // namespace
}  // namespace eddy
