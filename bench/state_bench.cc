// State store benchmarks: raw RocksDB (batched puts, get-then-put) against the same work through Eddy's
// stores (uncached and behind the write cache), range and window fetches, and restoration with WriteBatch
// puts against SST ingestion. 16-byte keys throughout, as the RocksDB figures. Files go under
// $TMPDIR (default /tmp), on disk.
//
//   build/bin/eddy_bench --benchmark_filter='RocksDb|Store|Restore'
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "eddy/state/state_restorer.h"
#include "eddy/state/stores.h"
#include "eddy/state/thread_cache.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace eddy {
namespace {

namespace fs = std::filesystem;

class BenchDir {
 public:
  BenchDir() {
    std::string tmpl = (fs::temp_directory_path() / "eddy-state-bench-XXXXXX").string();
    path_ = mkdtemp(tmpl.data()) != nullptr ? tmpl : "/tmp/eddy-state-bench";
  }
  ~BenchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// `n` random 16-byte keys drawn from `keyspace` distinct ones: an 8-byte big-endian id, then 8 fixed bytes.
std::vector<std::string> Keys(size_t n, uint64_t keyspace, uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> keys(n);
  for (std::string& k : keys) {
    k.assign(16, 'k');
    absl::big_endian::Store64(k.data(), rng() % keyspace);
  }
  return keys;
}

class NullSink : public ChangelogSink {
 public:
  absl::Status Send(absl::string_view, int32_t, absl::string_view, std::optional<absl::string_view>,
                    int64_t) override {
    ++sent;
    return absl::OkStatus();
  }
  int64_t sent = 0;
};

// A task context in a fresh directory, with a logging sink and the default 10 MiB thread cache.
struct BenchTask {
  BenchTask() {
    context.application_id = "bench";
    context.task_id = "0_0";
    context.task_dir = dir.path() + "/bench/0_0";
    context.changelog = &sink;
    context.cache = &cache;
  }
  BenchDir dir;
  NullSink sink;
  ThreadCache cache;
  StateStoreContext context;
};

std::unique_ptr<rocksdb::DB> OpenRawRocksDb(const std::string& path) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.compression = rocksdb::kNoCompression;
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::Open(options, path, &db).ok()) std::abort();
  return std::unique_ptr<rocksdb::DB>(db);
}

constexpr uint64_t kKeyspace = 1'000'000;
const std::string kValue(32, 'v');

void BM_RocksDbRawBatchedPut(benchmark::State& state) {
  BenchDir dir;
  auto db = OpenRawRocksDb(dir.path() + "/db");
  std::vector<std::string> keys = Keys(1 << 20, kKeyspace);
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  rocksdb::WriteBatch batch;
  size_t i = 0;
  for (auto _ : state) {
    batch.Clear();
    for (int j = 0; j < 1000; ++j) batch.Put(keys[i++ & (keys.size() - 1)], kValue);
    if (!db->Write(wo, &batch).ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_RocksDbRawBatchedPut);

void BM_RocksDbRawGetThenPut(benchmark::State& state) {
  BenchDir dir;
  auto db = OpenRawRocksDb(dir.path() + "/db");
  std::vector<std::string> keys = Keys(1 << 20, kKeyspace);
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  std::string value;
  size_t i = 0;
  for (auto _ : state) {
    const std::string& k = keys[i++ & (keys.size() - 1)];
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), k, &value);
    if (!s.ok() && !s.IsNotFound()) std::abort();
    if (!db->Put(wo, k, kValue).ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RocksDbRawGetThenPut);

// Eddy's persistent key-value store, logged; arg 0: uncached, 1: cached. Arg 2: keyspace. A commit (Flush)
// every 100,000 operations, as a stream thread would every few hundred milliseconds at this rate.
std::unique_ptr<KeyValueStore> OpenKv(BenchTask& task, bool cached, bool persistent = true) {
  auto b = persistent ? Stores::PersistentKeyValueStore("kv") : Stores::InMemoryKeyValueStore("kv");
  if (cached) b.WithCachingEnabled();
  auto store = *b.Build();
  if (!store->Init(&task.context).ok()) std::abort();
  return store;
}

void BM_StoreGetThenPut(benchmark::State& state) {
  BenchTask task;
  auto store = OpenKv(task, state.range(0) != 0);
  std::vector<std::string> keys = Keys(1 << 20, static_cast<uint64_t>(state.range(1)));
  std::string value;
  size_t i = 0;
  for (auto _ : state) {
    const std::string& k = keys[i & (keys.size() - 1)];
    if (!store->Get(k, &value).ok() || !store->Put(k, kValue).ok()) std::abort();
    if (++i % 100000 == 0 && !store->Flush().ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["changelog_per_op"] = static_cast<double>(task.sink.sent) / static_cast<double>(i);
  if (!store->Close().ok()) std::abort();
}
BENCHMARK(BM_StoreGetThenPut)
    ->ArgNames({"cached", "keys"})
    ->Args({0, 1'000'000})
    ->Args({1, 1'000})
    ->Args({1, 100'000})
    ->Args({1, 1'000'000});

void BM_StorePut(benchmark::State& state) {
  BenchTask task;
  auto store = OpenKv(task, state.range(0) != 0);
  std::vector<std::string> keys = Keys(1 << 20, kKeyspace);
  size_t i = 0;
  for (auto _ : state) {
    if (!store->Put(keys[i & (keys.size() - 1)], kValue).ok()) std::abort();
    if (++i % 100000 == 0 && !store->Flush().ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
  if (!store->Close().ok()) std::abort();
}
BENCHMARK(BM_StorePut)->ArgName("cached")->Arg(0)->Arg(1);

// Range scans of 100 consecutive keys of 100,000, from RocksDB (arg 1: in memory).
void BM_StoreRange100(benchmark::State& state) {
  BenchTask task;
  auto store = OpenKv(task, false, state.range(0) == 0);
  std::vector<std::string> keys = Keys(100'000, 1ull << 62);
  std::vector<KeyValueEntry> entries;
  for (const std::string& k : keys) entries.push_back({k, kValue});
  if (!store->PutAll(entries).ok() || !store->Flush().ok()) std::abort();
  std::sort(keys.begin(), keys.end());
  size_t i = 0, n = 0;
  for (auto _ : state) {
    const size_t from = (i++ * 7919) % (keys.size() - 100);
    for (auto it = store->Range(keys[from], keys[from + 99]); it->Valid(); it->Next()) {
      benchmark::DoNotOptimize(it->value().data());
      ++n;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
  if (!store->Close().ok()) std::abort();
}
BENCHMARK(BM_StoreRange100)->ArgName("in_memory")->Arg(0)->Arg(1);

// What a windowed aggregation does per record: fetch the record's window of its key, put the new aggregate
// back. Cached persistent window store as the DSL builds it for 1-minute windows with 30 s grace (retention
// 90 s), 6 keys, event time advancing 1.2 ms a record (the sales benchmark's 20 minutes per million), a
// commit (Flush) every 100,000 updates. Arg 1: retention 1 day instead (one segment for the whole run: the
// cache path alone, without creating and dropping a segment every 50,000 updates).
void BM_WindowStoreUpdate(benchmark::State& state) {
  BenchTask task;
  const absl::Duration retention = state.range(0) == 0 ? absl::Seconds(90) : absl::Hours(24);
  auto store = *Stores::PersistentWindowStore("w", retention, absl::Minutes(1), false)
                    .WithCachingEnabled()
                    .Build();
  if (!store->Init(&task.context).ok()) std::abort();
  const std::string keys[] = {"books", "games", "garden", "music", "sports", "toys"};
  std::string value;
  size_t i = 0;
  for (auto _ : state) {
    const int64_t ts = static_cast<int64_t>(i) * 6 / 5;
    const int64_t start = ts - ts % 60000;
    const std::string& k = keys[i % 6];
    absl::StatusOr<bool> found = store->Fetch(k, start, &value);
    if (!found.ok()) std::abort();
    if (!*found) value = kValue;
    if (!store->Put(k, value, start).ok()) std::abort();
    if (++i % 100000 == 0 && !store->Flush().ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
  if (!store->Close().ok()) std::abort();
}
BENCHMARK(BM_WindowStoreUpdate)->ArgName("long_retention")->Arg(0)->Arg(1);

// Window fetches of 10 one-minute windows of a key, among 1,000 keys x 120 windows (arg 1: in memory).
void BM_WindowStoreFetch10(benchmark::State& state) {
  BenchTask task;
  auto b = state.range(0) == 0
               ? Stores::PersistentWindowStore("w", absl::Hours(3), absl::Minutes(1), false)
               : Stores::InMemoryWindowStore("w", absl::Hours(3), absl::Minutes(1), false);
  auto store = *b.Build();
  if (!store->Init(&task.context).ok()) std::abort();
  for (int64_t w = 0; w < 120; ++w) {
    for (int k = 0; k < 1000; ++k) {
      if (!store->Put(absl::StrCat("key-", k), kValue, w * 60000).ok()) std::abort();
    }
  }
  if (!store->Flush().ok()) std::abort();
  size_t i = 0, n = 0;
  for (auto _ : state) {
    const int64_t from = static_cast<int64_t>((i * 13) % 110) * 60000;
    for (auto it = store->Fetch(absl::StrCat("key-", i++ % 1000), from, from + 9 * 60000); it.Valid(); it.Next()) {
      benchmark::DoNotOptimize(it.value().data());
      ++n;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
  if (!store->Close().ok()) std::abort();
}
BENCHMARK(BM_WindowStoreFetch10)->ArgName("in_memory")->Arg(0)->Arg(1);

// Restoring 2,000,000 changelog records of 16-byte keys and 84-byte values (100 bytes a record, 191 MiB)
// into an empty persistent store, in batches of 1,000 as a consumer hands them over, through EndRestore
// (which flushes to disk). Arg: 0 WriteBatch, 1 SST ingestion.
void BM_Restore(benchmark::State& state) {
  constexpr size_t kRecords = 2'000'000;
  std::vector<std::string> keys = Keys(kRecords, 1ull << 62, 7);
  const std::string value(84, 'r');
  std::vector<ChangelogRecord> records;
  for (size_t i = 0; i < kRecords; ++i) records.push_back({keys[i], value, 0, static_cast<int64_t>(i)});
  RestoreOptions options;
  options.mode = state.range(0) == 0 ? RestoreMode::kWriteBatch : RestoreMode::kIngestSst;
  for (auto _ : state) {
    state.PauseTiming();
    BenchTask task;
    auto store = *Stores::PersistentKeyValueStore("kv").Build();
    if (!store->Init(&task.context).ok()) std::abort();
    state.ResumeTiming();
    if (!store->BeginRestore(options).ok()) std::abort();
    for (size_t i = 0; i < kRecords; i += 1000) {
      if (!store->RestoreBatch(absl::MakeConstSpan(records).subspan(i, 1000)).ok()) std::abort();
    }
    if (!store->EndRestore().ok()) std::abort();
    state.PauseTiming();
    if (!store->Close().ok()) std::abort();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kRecords));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kRecords * 100));
}
BENCHMARK(BM_Restore)->ArgName("sst")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace
}  // namespace eddy
