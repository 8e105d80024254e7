// Proves the DSL's operator fusion: a chain of five stateless operators (filter, mapValues, peek,
// mapValues, filterNot) between a deserializing source and a serializing sink, run by a Task over in-memory
// records (no broker), against a hand-written loop doing identical work with the same serdes and the same
// RecordCollector (a virtual call per output record in both). Reports records/s of each and their ratio.
//
//   build/bin/eddy_bench --benchmark_filter=DslFusion
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "eddy/core/record_batch.h"
#include "eddy/core/serde.h"
#include "eddy/dsl/dsl.h"
#include "eddy/runtime/task.h"

namespace eddy {
namespace {

constexpr int kRecords = 100000;

// Counts what it is sent; a virtual call per record, as a real collector.
class CountingCollector final : public RecordCollector {
 public:
  absl::Status Send(const ProducerRecord& r) override {
    ++records;
    bytes += r.key->size() + r.value->size();
    return absl::OkStatus();
  }
  int64_t records = 0;
  int64_t bytes = 0;
};

struct Input {
  std::string batch;
  std::vector<RecordView> views;
};

const Input& MakeInput() {
  static Input* input = [] {
    auto* in = new Input;
    RecordBatchBuilder builder;
    std::string value;
    for (int i = 0; i < kRecords; ++i) {
      Int64Serde().Serialize(i, &value);
      builder.Append(1000 + i, "order-" + std::to_string(i), value);
    }
    auto batch = builder.Finish();
    in->batch.assign(batch->data(), batch->size());
    auto it = RecordIterator::Open(in->batch, nullptr);
    RecordView r;
    while (it->Next(&r)) in->views.push_back(r);
    return in;
  }();
  return *input;
}

// The operators, shared by both versions. (The DSL gets them as lambdas: a function pointer given to an
// operator is called through the pointer, a lambda is inlined.)
inline bool NotMultipleOf3(const std::string&, const int64_t& v) { return v % 3 != 0; }
inline int64_t Twice(const int64_t& v) { return v * 2; }
inline int64_t PlusOne(const int64_t& v) { return v + 1; }
inline bool MultipleOf5(const std::string&, const int64_t& v) { return v % 5 == 0; }

struct Fused {
  CountingCollector collector;
  int64_t peeked = 0;
  std::unique_ptr<Task> task;

  Fused() {
    StreamsBuilder builder;
    int64_t* peeked_ptr = &peeked;
    builder.Stream<std::string, int64_t>("orders")
        .Filter([](const std::string& k, const int64_t& v) { return NotMultipleOf3(k, v); })
        .MapValues([](const int64_t& v) { return Twice(v); })
        .Peek([peeked_ptr](const std::string&, const int64_t&) { ++*peeked_ptr; })
        .MapValues([](const int64_t& v) { return PlusOne(v); })
        .FilterNot([](const std::string& k, const int64_t& v) { return MultipleOf5(k, v); })
        .To("out");
    TaskConfig config;
    config.application_id = "bench";
    task = std::make_unique<Task>(TaskId{0, 0}, *builder.Build(), std::vector<TopicPartition>{{"orders", 0}},
                                  config, &collector);
    (void)task->Initialize(0);
  }
  void Run(const Input& in) { (void)task->Process(TopicPartition{"orders", 0}, in.views); }
};

// The same pipeline with fusion defeated: every operator's stream converted to the type-erased
// KStream<K, V>, so each operator is its own physical node behind a virtual call (what an engine that does
// not fuse pays per operator per record).
struct Unfused {
  CountingCollector collector;
  int64_t peeked = 0;
  std::unique_ptr<Task> task;

  Unfused() {
    StreamsBuilder builder;
    int64_t* peeked_ptr = &peeked;
    using S = KStream<std::string, int64_t>;
    S source = builder.Stream<std::string, int64_t>("orders");
    S a = source.Filter([](const std::string& k, const int64_t& v) { return NotMultipleOf3(k, v); });
    S b = a.MapValues([](const int64_t& v) { return Twice(v); });
    S c = b.Peek([peeked_ptr](const std::string&, const int64_t&) { ++*peeked_ptr; });
    S d = c.MapValues([](const int64_t& v) { return PlusOne(v); });
    S e = d.FilterNot([](const std::string& k, const int64_t& v) { return MultipleOf5(k, v); });
    e.To("out");
    TaskConfig config;
    config.application_id = "bench";
    task = std::make_unique<Task>(TaskId{0, 0}, *builder.Build(), std::vector<TopicPartition>{{"orders", 0}},
                                  config, &collector);
    (void)task->Initialize(0);
  }
  void Run(const Input& in) { (void)task->Process(TopicPartition{"orders", 0}, in.views); }
};

// What a programmer would write by hand for the same pipeline.
struct HandWritten {
  CountingCollector collector;
  int64_t peeked = 0;
  RecordCollector* out = &collector;
  StringSerde key_serde;
  Int64Serde value_serde;
  std::string key, key_buf, value_buf;
  int64_t value = 0;

  void Run(const Input& in) {
    // Opaque to the optimizer, as the runtime's collector is to a task: a real virtual call per output.
    RecordCollector* sink = out;
    benchmark::DoNotOptimize(sink);
    for (const RecordView& r : in.views) {
      if (!key_serde.Deserialize(r.key(), &key).ok()) continue;
      if (!value_serde.Deserialize(r.value(), &value).ok()) continue;
      if (!NotMultipleOf3(key, value)) continue;
      int64_t v = Twice(value);
      ++peeked;
      v = PlusOne(v);
      if (MultipleOf5(key, v)) continue;
      key_serde.Serialize(key, &key_buf);
      value_serde.Serialize(v, &value_buf);
      ProducerRecord p;
      p.topic = "out";
      p.key = key_buf;
      p.value = value_buf;
      p.timestamp = r.timestamp();
      (void)sink->Send(p);
    }
  }
};

void BM_DslFusionFused(benchmark::State& state) {
  const Input& in = MakeInput();
  Fused f;
  for (auto _ : state) f.Run(in);
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * kRecords,
                                                   benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DslFusionFused);

void BM_DslFusionUnfused(benchmark::State& state) {
  const Input& in = MakeInput();
  Unfused u;
  for (auto _ : state) u.Run(in);
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * kRecords,
                                                   benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DslFusionUnfused);

void BM_DslFusionHandWritten(benchmark::State& state) {
  const Input& in = MakeInput();
  HandWritten h;
  for (auto _ : state) h.Run(in);
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * kRecords,
                                                   benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DslFusionHandWritten);

// Both in one run, alternating, so that the ratio compares like with like.
void BM_DslFusionRatio(benchmark::State& state) {
  const Input& in = MakeInput();
  Fused f;
  HandWritten h;
  double fused_s = 0, hand_s = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    f.Run(in);
    auto t1 = std::chrono::steady_clock::now();
    h.Run(in);
    auto t2 = std::chrono::steady_clock::now();
    fused_s += std::chrono::duration<double>(t1 - t0).count();
    hand_s += std::chrono::duration<double>(t2 - t1).count();
  }
  if (f.collector.records != h.collector.records || f.collector.bytes != h.collector.bytes || f.peeked != h.peeked) {
    state.SkipWithError("the fused and hand-written pipelines disagree");
    return;
  }
  const double n = static_cast<double>(state.iterations()) * kRecords;
  state.counters["fused_records/s"] = n / fused_s;
  state.counters["hand_records/s"] = n / hand_s;
  state.counters["fused/hand_time"] = fused_s / hand_s;
}
BENCHMARK(BM_DslFusionRatio);

}  // namespace
}  // namespace eddy
