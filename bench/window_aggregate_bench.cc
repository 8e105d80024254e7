// A windowed count (1-minute tumbling windows, 30 s grace) run by a Task over in-memory records in batches
// of 500 (a stream thread's poll), with the window store behind the thread's write cache and a commit after
// every 100,000 records; no broker. `keys`: distinct keys, cycled through in order. With 10 keys a batch
// updates each window about 50 times (the sales aggregation's shape); with 100,000 no key repeats within a
// batch, so holding the batch's windows (window_nodes.h) saves nothing and shows what it costs.
// `persistent`: RocksDB instead of the in-memory store. Reports ns per record.
//
//   build/bin/eddy_bench --benchmark_filter=WindowedCountTask
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "broker/log_test_util.h"
#include "eddy/core/record_batch.h"
#include "eddy/core/record_batch_format.h"
#include "eddy/dsl/dsl.h"
#include "eddy/runtime/task.h"
#include "eddy/state/thread_cache.h"

namespace eddy {
namespace {

constexpr int kRecordsPerRound = 100000;
constexpr int kBatch = 500;

class CountingCollector final : public RecordCollector {
 public:
  absl::Status Send(const ProducerRecord&) override {
    ++records;
    return absl::OkStatus();
  }
  int64_t records = 0;
};

void BM_WindowedCountTask(benchmark::State& state) {
  const int keys = static_cast<int>(state.range(0));
  const bool persistent = state.range(1) != 0;
  broker::testing_util::TempDir dir;
  CountingCollector collector;
  ThreadCache cache;
  StreamsBuilder builder;
  const TimeWindows w = TimeWindows::OfSizeAndGrace(absl::Minutes(1), absl::Seconds(30));
  Materialized m = Materialized::As("counts").WithLoggingDisabled();
  if (!persistent) m = std::move(m).InMemory();
  builder.Stream<std::string, int64_t>("in")
      .GroupByKey()
      .WindowedBy(w)
      .Count(std::move(m))
      .ToStream()
      .To("out", Produced(TimeWindowedSerde<StringSerde>(StringSerde(), w.size_ms), Int64Serde()));
  TaskConfig config;
  config.application_id = "bench";
  config.cache = &cache;
  config.task_dir = dir.path();
  Task task(TaskId{0, 0}, *builder.Build(), {{"in", 0}}, config, &collector);
  if (absl::Status st = task.Initialize(0); !st.ok()) {
    state.SkipWithError(std::string(st.message()).c_str());
    return;
  }
  std::vector<std::string> key_names;
  for (int k = 0; k < keys; ++k) key_names.push_back(absl::StrCat("key-", k));
  RecordBatchBuilder batch_builder;
  std::vector<std::string> batches(kRecordsPerRound / kBatch);
  std::vector<std::vector<RecordView>> views(batches.size());
  std::string value;
  Int64Serde().Serialize(1, &value);
  int64_t next = 0;  // record number: its timestamp (1 ms apart) and its key
  for (auto _ : state) {
    state.PauseTiming();
    for (size_t b = 0; b < batches.size(); ++b) {
      batch_builder.Reset();
      for (int i = 0; i < kBatch; ++i, ++next) batch_builder.Append(next, key_names[next % keys], value);
      absl::Span<char> built = *batch_builder.Finish();
      batches[b].assign(built.data(), built.size());
      SetBaseOffset(batches[b].data(), next - kBatch);
      RecordIterator it = *RecordIterator::Open(batches[b], nullptr);
      views[b].assign(kBatch, RecordView());
      for (RecordView& v : views[b]) it.Next(&v);
    }
    state.ResumeTiming();
    for (const auto& batch : views) {
      if (absl::Status st = task.Process(TopicPartition{"in", 0}, batch); !st.ok()) {
        state.SkipWithError(std::string(st.message()).c_str());
        return;
      }
    }
    if (absl::Status st = task.FlushStores(); !st.ok()) {
      state.SkipWithError(std::string(st.message()).c_str());
      return;
    }
  }
  state.counters["ns_per_record"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kRecordsPerRound,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  (void)task.Close();
}
BENCHMARK(BM_WindowedCountTask)
    ->ArgNames({"keys", "persistent"})
    ->Args({10, 0})
    ->Args({100000, 0})
    ->Args({10, 1})
    ->Args({100000, 1})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace eddy
