// A whole Streams application restarted over a large state: words -> GroupByKey -> Count into the
// persistent, cached, logged store "counts", first run over `keys` distinct keys and closed cleanly
// (checkpoint written). Each iteration produces one new word, then starts a new Streams on the same
// state directory and times Start until that word has been processed. wiped=0: local state intact (the
// store opens, its checkpoint matches the changelog's end, nothing restored; the goal is under 2 s
// whatever the state's size); wiped=1: the state directory is deleted first, so the store is restored
// from its changelog before the task processes the word. Counters: first_record_ms (mean of the
// iterations), state_mib (the state directory after the first run), keys. Broker and state under $TMPDIR
// (default /tmp).
//
//   build/bin/eddy_bench --benchmark_filter=StreamsRestart
#include <benchmark/benchmark.h>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "broker/log_test_util.h"
#include "eddy/broker/broker.h"
#include "eddy/broker/embedded_client_supplier.h"
#include "eddy/dsl/streams_builder.h"
#include "eddy/runtime/streams.h"

namespace eddy {
namespace {

namespace fs = std::filesystem;

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "streams_restart_bench: %s: %s\n", what, s.ToString().c_str());
    std::abort();
  }
}

Topology Counting() {
  StreamsBuilder builder;
  builder.Stream<std::string, std::string>("words").GroupByKey().Count(Materialized::As("counts"));
  return *builder.Build();
}

int64_t ProcessedRecords(const Streams& app) {
  int64_t n = 0;
  for (const ThreadMetricsSnapshot& t : app.metrics()) n += t.processed_records;
  return n;
}

int64_t DirectoryBytes(const std::string& dir) {
  int64_t bytes = 0;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) bytes += static_cast<int64_t>(e.file_size());
  }
  return bytes;
}

void BM_StreamsRestartToFirstRecord(benchmark::State& state) {
  const int64_t keys = state.range(0);
  const bool wiped = state.range(1) != 0;
  const broker::testing_util::TempDir temp;
  const std::string& dir = temp.path();
  {
    std::unique_ptr<Broker> broker = *Broker::Open({.data_dir = dir + "/broker"});
    Check(broker->admin().CreateTopic({.name = "words", .partitions = 1, .configs = {{"retention.ms", "-1"}}}),
          "create words");
    std::unique_ptr<Producer> producer = broker->NewProducer(ProducerConfig{});
    std::string key;
    for (int64_t i = 0; i < keys; ++i) {
      key = absl::StrFormat("key-%012d", i);
      Check(producer->Send({.topic = "words", .key = key, .value = "x"}), "send");
    }
    Check(producer->Flush(), "flush");

    EmbeddedClientSupplier clients(broker.get());
    StreamsConfig config;
    config.application_id = "restart-bench";
    config.state_dir = dir + "/state";
    config.log = [](absl::string_view) {};
    int64_t expected = keys;
    {
      Streams app(Counting(), config, &clients);
      Check(app.Start(), "first start");
      while (ProcessedRecords(app) < expected) absl::SleepFor(absl::Milliseconds(5));
      Check(app.Close(), "first close");
    }
    state.counters["state_mib"] = static_cast<double>(DirectoryBytes(config.state_dir)) / (1 << 20);
    state.counters["keys"] = static_cast<double>(keys);

    double total_ms = 0;
    int64_t word = 0;
    for (auto _ : state) {
      Check(producer->Send({.topic = "words", .key = absl::StrFormat("new-%d", word++), .value = "x"}), "send");
      Check(producer->Flush(), "flush");
      if (wiped) fs::remove_all(config.state_dir);
      Streams app(Counting(), config, &clients);
      const absl::Time start = absl::Now();
      Check(app.Start(), "restart");
      while (ProcessedRecords(app) < 1) absl::SleepFor(absl::Microseconds(200));
      const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
      state.SetIterationTime(seconds);
      total_ms += seconds * 1000;
      Check(app.Close(), "close");
    }
    state.counters["first_record_ms"] = total_ms / static_cast<double>(state.iterations());
  }
}
BENCHMARK(BM_StreamsRestartToFirstRecord)
    ->ArgNames({"keys", "wiped"})
    ->Args({200000, 0})
    ->Args({1000000, 0})
    ->Args({1000000, 1})
    ->Args({4000000, 0})
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace eddy
