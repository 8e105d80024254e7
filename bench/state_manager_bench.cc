// State manager benchmarks: restoration through the full path (embedded broker -> restore consumer ->
// StateRestorer -> RocksDB store) with WriteBatch puts and with SST ingestion; the time from opening a task
// with a large intact store to its being ready to process; and the changelog sink's send path against a
// bare Producer::Send. Broker and state files go under $TMPDIR (default /tmp), on disk.
//
//   build/bin/eddy_bench --benchmark_filter='StateManager|ChangelogSink'
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/base/internal/endian.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "eddy/broker/broker.h"
#include "eddy/runtime/changelog_sink.h"
#include "eddy/runtime/state_manager.h"
#include "eddy/state/stores.h"
#include "tests/state_task_harness.h"

namespace eddy {
namespace {

namespace fs = std::filesystem;
using state_harness::FactoryOf;
using state_harness::TaskStateDeps;
using state_harness::TaskStateHarness;

void Check(const absl::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "state_manager_bench: %s\n", s.ToString().c_str());
    std::abort();
  }
}

// A broker, a state directory, a producer with its changelog sink and a restore consumer, in a fresh
// directory removed afterwards.
struct BenchEnv {
  explicit BenchEnv(int32_t max_poll_records = 1000) {
    std::string tmpl = (fs::temp_directory_path() / "eddy-statemgr-bench-XXXXXX").string();
    dir = mkdtemp(tmpl.data()) != nullptr ? tmpl : "/tmp/eddy-statemgr-bench";
    broker = *Broker::Open({.data_dir = dir + "/broker"});
    state_directory = *StateDirectory::Open(dir + "/state", "app");
    ProducerConfig pc;
    pc.acks = Acks::kLeader;
    pc.batch_size = 1 << 20;
    producer = broker->NewProducer(pc);
    sink = std::make_unique<ProducerChangelogSink>(producer.get());
    ConsumerConfig cc;
    cc.auto_offset_reset = OffsetReset::kEarliest;
    cc.enable_auto_commit = false;
    cc.max_poll_records = max_poll_records;
    restore_consumer = *broker->NewConsumer(cc);
  }
  ~BenchEnv() {
    sink.reset();
    producer.reset();
    restore_consumer.reset();
    (void)broker->Close();
    broker.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  std::unique_ptr<TaskStateHarness> NewTask(RestoreOptions options = {}) {
    TaskStateDeps deps;
    deps.state_directory = state_directory.get();
    deps.admin = &broker->admin();
    deps.restore_consumer = restore_consumer.get();
    deps.sink = sink.get();
    deps.restore_options = options;
    return std::make_unique<TaskStateHarness>(deps, std::vector{FactoryOf(Stores::PersistentKeyValueStore("kv"))});
  }
  void WipeTaskDir() {
    std::error_code ec;
    fs::remove_all(fs::path(state_directory->app_dir()) / "0_0", ec);
  }

  // Fills app-kv-changelog-0 with `n` records of random 16-byte keys (all distinct) and 84-byte values.
  void FillChangelog(int64_t n) {
    Check(broker->admin().CreateTopic({.name = "app-kv-changelog", .partitions = 1,
                                       .configs = {{"cleanup.policy", "compact"}}}));
    std::mt19937_64 rng(7);
    std::string key(16, 'k');
    const std::string value(84, 'r');
    for (int64_t i = 0; i < n; ++i) {
      absl::big_endian::Store64(key.data(), rng());
      Check(producer->Send({.topic = "app-kv-changelog", .partition = 0, .key = key, .value = value}));
    }
    Check(producer->Flush());
  }

  std::string dir;
  std::unique_ptr<Broker> broker;
  std::unique_ptr<StateDirectory> state_directory;
  std::unique_ptr<Producer> producer;
  std::unique_ptr<ProducerChangelogSink> sink;
  std::unique_ptr<Consumer> restore_consumer;
};

constexpr int64_t kRecordBytes = 100;
constexpr double kGiB = 1024.0 * 1024 * 1024;

// Restores 2,000,000 records (100 bytes each, 191 MiB) from the broker into an empty persistent store:
// StateManager open, RegisterStores, RestoreAll (polls, RestoreBatch, EndRestore's flush), as a task does
// after losing its disk. Args: mode (0 WriteBatch, 1 SST ingestion), restore consumer's max.poll.records.
void BM_StateManagerRestore(benchmark::State& state) {
  constexpr int64_t kRecords = 2'000'000;
  BenchEnv env(static_cast<int32_t>(state.range(1)));
  env.FillChangelog(kRecords);
  RestoreOptions options;
  options.mode = state.range(0) == 0 ? RestoreMode::kWriteBatch : RestoreMode::kIngestSst;
  double seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    env.WipeTaskDir();
    auto task = env.NewTask(options);
    state.ResumeTiming();
    const absl::Time start = absl::Now();
    Check(task->OpenAndRestore());
    seconds += absl::ToDoubleSeconds(absl::Now() - start);
    state.PauseTiming();
    Check(task->Close(true));
    state.ResumeTiming();
  }
  const double gib = static_cast<double>(kRecords * kRecordBytes) / kGiB;
  state.counters["s_per_GiB"] = seconds / static_cast<double>(state.iterations()) / gib;
  state.SetItemsProcessed(state.iterations() * kRecords);
  state.SetBytesProcessed(state.iterations() * kRecords * kRecordBytes);
}
BENCHMARK(BM_StateManagerRestore)
    ->ArgNames({"sst", "max_poll"})
    ->Args({0, 1000})
    ->Args({1, 1000})
    ->Args({1, 10000})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->UseRealTime();

// A task restarting with intact local state of `n` records: time from StateManager::Open to ready (lock,
// checkpoint, the store's RocksDB open, ListOffsets, the recovery decision). The goal: under 2 s whatever
// the size.
void BM_StateManagerOpenIntactState(benchmark::State& state) {
  const int64_t records = state.range(0);
  BenchEnv env;
  env.FillChangelog(records);
  {
    auto task = env.NewTask();
    Check(task->OpenAndRestore());
    Check(task->Close(true));
  }
  for (auto _ : state) {
    auto task = env.NewTask();
    Check(task->Open());
    if (!task->manager()->ready()) std::abort();
    state.PauseTiming();
    Check(task->Close(true));
    state.ResumeTiming();
  }
  uintmax_t bytes = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(env.state_directory->app_dir(), ec)) {
    if (e.is_regular_file(ec)) bytes += e.file_size(ec);
  }
  state.counters["store_MiB"] = static_cast<double>(bytes) / (1024.0 * 1024);
}
BENCHMARK(BM_StateManagerOpenIntactState)
    ->ArgName("records")
    ->Arg(200'000)
    ->Arg(2'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5)
    ->UseRealTime();

// The changelog send path: 100,000 records (16-byte keys, 32-byte values) then a flush, through the sink
// (Arg 1: a delivery callback per record that stores the offset) or straight to Producer::Send without a
// callback (Arg 0), to measure what tracking acknowledged offsets costs.
void BM_ChangelogSinkSend(benchmark::State& state) {
  constexpr int kRecords = 100'000;
  BenchEnv env;
  Check(env.broker->admin().CreateTopic({.name = "app-kv-changelog", .partitions = 1}));
  std::string key(16, 'k');
  const std::string value(32, 'v');
  int64_t n = 0;
  for (auto _ : state) {
    for (int i = 0; i < kRecords; ++i, ++n) {
      absl::big_endian::Store64(key.data(), static_cast<uint64_t>(n));
      if (state.range(0) == 1) {
        Check(env.sink->Send("app-kv-changelog", 0, key, value, 1));
      } else {
        Check(env.producer->Send({.topic = "app-kv-changelog", .partition = 0, .key = key, .value = value,
                                  .timestamp = 1}));
      }
    }
    Check(state.range(0) == 1 ? env.sink->Flush() : env.producer->Flush());
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
}
BENCHMARK(BM_ChangelogSinkSend)->ArgName("sink")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace eddy
