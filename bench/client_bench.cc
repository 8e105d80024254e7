// Embedded producer and consumer throughput: 100-byte records, one producer thread, acks=1 (the goal in
// docs/PERFORMANCE.md: 5 million records/s produced, 10 million consumed from the page cache).
//
//   build/bin/eddy_bench --benchmark_filter='Embedded' --benchmark_min_time=2
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "eddy/broker/broker.h"

namespace eddy {
namespace {

struct TempBroker {
  std::string dir;
  std::unique_ptr<Broker> broker;
  TempBroker() {
    char tmpl[] = "/tmp/eddy-bench-XXXXXX";
    dir = mkdtemp(tmpl);
    broker = *Broker::Open({.data_dir = dir});
  }
  ~TempBroker() {
    broker.reset();
    std::filesystem::remove_all(dir);
  }
};

// Records/s of Send + Flush; args: record size, acks (0, 1 or -1 for all), partitions.
void BM_EmbeddedProduce(benchmark::State& state) {
  TempBroker b;
  const int32_t partitions = static_cast<int32_t>(state.range(2));
  (void)b.broker->admin().CreateTopic({.name = "bench", .partitions = partitions});
  ProducerConfig config;
  config.acks = static_cast<Acks>(state.range(1));
  std::unique_ptr<Producer> producer = b.broker->NewProducer(config);
  const std::string value(static_cast<size_t>(state.range(0)), 'x');
  ProducerRecord r{.topic = "bench", .value = value};
  constexpr int kPerIteration = 100000;
  int64_t records = 0;
  for (auto _ : state) {
    for (int i = 0; i < kPerIteration; ++i) {
      if (partitions > 1) r.partition = i % partitions;
      (void)producer->Send(r);
    }
    records += kPerIteration;
  }
  (void)producer->Flush();
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(records * state.range(0));
}
BENCHMARK(BM_EmbeddedProduce)->Args({100, 1, 1})->Args({100, -1, 1})->Args({100, 1, 4})->UseRealTime();

// Records/s of Poll + iterating every record (key and value touched), from the page cache. Args: record
// size, max.poll.records: 100000 (large reads) or 125 (about one 16 KiB batch a read: a stream thread's
// share of Kafka Streams' default 1000 over its 8 partitions in the sales benchmark).
void BM_EmbeddedConsume(benchmark::State& state) {
  TempBroker b;
  (void)b.broker->admin().CreateTopic({.name = "bench", .partitions = 1});
  constexpr int64_t kRecords = 2000000;
  {
    ProducerConfig config;
    config.acks = Acks::kLeader;
    std::unique_ptr<Producer> producer = b.broker->NewProducer(config);
    const std::string value(static_cast<size_t>(state.range(0)), 'x');
    for (int64_t i = 0; i < kRecords; ++i) (void)producer->Send({.topic = "bench", .value = value});
    (void)producer->Flush();
  }
  ConsumerConfig cc;
  cc.max_poll_records = static_cast<int32_t>(state.range(1));
  std::unique_ptr<Consumer> consumer = *b.broker->NewConsumer(cc);
  (void)consumer->Assign({{"bench", 0}});
  ConsumerRecords records;
  int64_t total = 0;
  size_t checksum = 0;
  for (auto _ : state) {
    (void)consumer->SeekToBeginning({});
    int64_t n = 0;
    while (n < kRecords) {
      (void)consumer->Poll(absl::Seconds(1), &records);
      for (const RecordView& r : records) checksum += r.value().size();
      n += records.count();
    }
    total += n;
  }
  benchmark::DoNotOptimize(checksum);
  state.SetItemsProcessed(total);
  state.SetBytesProcessed(total * state.range(0));
}
BENCHMARK(BM_EmbeddedConsume)->Args({100, 100000})->Args({100, 125})->UseRealTime();

}  // namespace
}  // namespace eddy
