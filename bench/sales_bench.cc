// The windowed sales aggregation (examples/sales_windowed) on the embedded broker, in one run:
//   streams  eddy::Streams, 1 stream thread, RocksDB window store and in-memory suppression buffer, both
//            with changelogs and the default 10 MiB cache, through the repartition topic (binary values:
//            SaleBinarySerde);
//   hand     a hand-written loop: consume, parse with the same JSON serde, absl::flat_hash_map keyed by
//            (category, window), per-category stream time, late sales dropped, closed windows serialized
//            with the same serde and produced; no repartition, no store, no changelog;
//   hand, repartitioned   the same loop with the sale sent through a repartition topic of its own
//            (SaleBinarySerde values) and aggregated as it comes back: the broker round trip without the
//            framework, for reading the framework's own share off the difference;
//   rocksdb  raw RocksDB batched puts of 16-byte keys (WAL off, as Eddy's stores), the store's ceiling.
// Counters: streams_per_s, hand_per_s (sales/s), ratio (hand / streams; the goal is 1.5 or less),
// rocksdb_puts_per_s, and the CPU time per sale of the stream thread and of the hand loop's thread (less
// sensitive to a shared machine's load than the wall-clock rates), hand_repartitioned_cpu_ns_per_sale and
// cpu_ratio_repartitioned (the stream thread's against it). Per-stage costs: docs/PERFORMANCE.md.
//
// Broker and state files under $TMPDIR (default /tmp).
//
//   build/bin/eddy_bench --benchmark_filter=SalesPerMinute
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/hand_loop.h"
#include "broker/log_test_util.h"
#include "eddy/broker/broker.h"
#include "eddy/broker/embedded_client_supplier.h"
#include "eddy/core/json_serde.h"
#include "eddy/runtime/streams.h"
#include "examples/sales_windowed/sales_generator.h"
#include "examples/sales_windowed/sales_topology.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace eddy {
namespace {

constexpr int64_t kSales = 1000000;
constexpr int32_t kPartitions = 4;
constexpr int64_t kWindowMs = 60000;
constexpr int64_t kGraceMs = 30000;

using bench::BenchProducerConfig;

// A broker with kSales generated sales (20 minutes of event time, 1% late) in topic sales.
struct SalesBroker {
  broker::testing_util::TempDir temp;  // declared first: removed after the broker closed
  const std::string& dir = temp.path();
  std::unique_ptr<Broker> broker;
  SalesBroker() {
    broker = *Broker::Open({.data_dir = dir});
    for (const char* t : {"sales", "sales-per-minute"}) {
      (void)broker->admin().CreateTopic({.name = t, .partitions = kPartitions, .configs = {{"retention.ms", "-1"}}});
    }
    ProducerConfig pc;
    pc.acks = Acks::kLeader;
    std::unique_ptr<Producer> producer = broker->NewProducer(pc);
    sales::SalesGenerator generator({.count = kSales, .seed = 5, .late_fraction = 0.01, .span_ms = 1200000});
    sales::GeneratedSale g;
    JsonSerde<sales::Sale> serde;
    std::string value;
    while (!generator.Done()) {
      generator.Next(&g);
      serde.Serialize(g.sale, &value);
      std::optional<absl::string_view> key;
      if (g.key.has_value()) key = *g.key;
      (void)producer->Send({.topic = "sales", .key = key, .value = value});
    }
    (void)producer->Flush();
  }
};

int64_t ProcessedRecords(const Streams& app) {
  int64_t n = 0;
  for (const ThreadMetricsSnapshot& t : app.metrics()) n += t.processed_records;
  return n;
}

// Seconds from Start until every sale went through both sub-topologies (each sale is processed twice: from
// sales and from the repartition topic) and Close flushed the stores and committed.
double RunStreams(SalesBroker& b, int iteration, double* cpu_ns) {
  EmbeddedClientSupplier clients(b.broker.get());
  StreamsConfig config;
  config.application_id = absl::StrCat("bench-sales-", iteration);
  config.state_dir = b.dir + "/state";
  config.producer = BenchProducerConfig();
  config.log = [](absl::string_view) {};
  Streams app(*sales::SalesTopology({.window_ms = kWindowMs, .grace_ms = kGraceMs}), config, &clients);
  const absl::Time start = absl::Now();
  if (!app.Start().ok()) return -1;
  while (ProcessedRecords(app) < 2 * kSales) absl::SleepFor(absl::Milliseconds(2));
  (void)app.Close();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  for (const ThreadMetricsSnapshot& t : app.metrics()) *cpu_ns += static_cast<double>(t.cpu_time_ns);
  return seconds;
}

struct WindowKey {
  std::string category;
  int64_t start = 0;
  bool operator==(const WindowKey& o) const { return start == o.start && category == o.category; }
  template <typename H>
  friend H AbslHashValue(H h, const WindowKey& k) {
    return H::combine(std::move(h), k.category, k.start);
  }
};
struct Totals {
  int64_t count = 0;
  int64_t micros = 0;
};

// The hand loops' aggregation. Stream time per category (the finest a repartitioned aggregation could
// have); a window's result goes out when stream time passes its end plus grace.
struct HandAggregation {
  absl::flat_hash_map<WindowKey, Totals> windows;
  absl::flat_hash_map<std::string, int64_t> stream_time;
  std::vector<WindowKey> closed;
  JsonSerde<sales::SalesPerWindow> result_serde;
  sales::SalesPerWindow result;
  std::string value;

  void Add(const sales::Sale& sale) {
    int64_t& st = stream_time.try_emplace(sale.category, -1).first->second;
    st = std::max(st, sale.timestamp_ms);
    const int64_t window = sale.timestamp_ms - sale.timestamp_ms % kWindowMs;
    if (window + kWindowMs + kGraceMs <= st) return;  // late
    Totals& t = windows[WindowKey{sale.category, window}];
    ++t.count;
    t.micros += sales::ToMicros(sale.amount);
  }
  // Produces the windows that closed since the last call.
  void EmitClosed(Producer& producer) {
    for (const auto& [key, totals] : windows) {
      if (key.start + kWindowMs + kGraceMs <= stream_time[key.category]) closed.push_back(key);
    }
    for (const WindowKey& key : closed) {
      const Totals& t = windows[key];
      result = {key.category, key.start, key.start + kWindowMs, t.count, sales::MicrosToRoundedUnits(t.micros)};
      result_serde.Serialize(result, &value);
      (void)producer.Send({.topic = "sales-per-minute", .key = key.category, .value = value,
                           .timestamp = key.start + kWindowMs - 1});
      windows.erase(key);
    }
    closed.clear();
  }
};

// The same aggregation by hand on one thread.
double RunHandLoop(SalesBroker& b, int iteration, double* cpu_ns) {
  bench::HandLoopClients clients(*b.broker, absl::StrCat(iteration), {"sales"});
  Consumer* consumer = clients.consumer.get();
  Producer* producer = clients.producer.get();
  JsonSerde<sales::Sale> sale_serde;
  HandAggregation agg;
  sales::Sale sale;
  ConsumerRecords records;
  int64_t consumed = 0;
  while (consumed < kSales) {
    (void)consumer->Poll(absl::Milliseconds(100), &records);
    consumed += records.count();
    (void)records.ForEach([&](const RecordView& r) {
      if (sale_serde.Deserialize(r.value(), &sale).ok() && sale.timestamp_ms >= 0) agg.Add(sale);
    });
    agg.EmitClosed(*producer);
  }
  return clients.Finish(cpu_ns);
}

// The hand loop with the one step of the topology it leaves out: the parsed sale goes through a
// repartition topic keyed by category (4 partitions, SaleBinarySerde values, the same producer settings)
// and is aggregated as it comes back, all on one thread. It shows what the broker round trip costs
// without the framework, so the framework's own share can be read off the difference.
double RunHandLoopRepartitioned(SalesBroker& b, int iteration, double* cpu_ns) {
  const std::string through = absl::StrCat("bench-hand-", iteration, "-by-category");
  (void)b.broker->admin().CreateTopic(
      {.name = through, .partitions = kPartitions, .configs = {{"retention.ms", "-1"}}});
  // One consumer for both topics, as a stream thread has.
  bench::HandLoopClients clients(*b.broker, absl::StrCat("repartitioned-", iteration), {"sales", through});
  Consumer* consumer = clients.consumer.get();
  Producer* producer = clients.producer.get();
  JsonSerde<sales::Sale> sale_serde;
  sales::SaleBinarySerde binary_serde;
  HandAggregation agg;
  sales::Sale sale;
  std::string value;
  ConsumerRecords records;
  std::vector<RecordView> scratch;
  int64_t done = 0;  // sales aggregated, or dropped before the repartition topic
  while (done < kSales) {
    (void)consumer->Poll(absl::Milliseconds(100), &records);
    (void)records.ForEachPartition(&scratch, [&](const TopicPartition& tp, absl::Span<const RecordView> rs) {
      if (tp.topic == through) {
        done += static_cast<int64_t>(rs.size());
        for (const RecordView& r : rs) {
          if (binary_serde.Deserialize(r.value(), &sale).ok()) agg.Add(sale);
        }
        return;
      }
      for (const RecordView& r : rs) {
        if (!sale_serde.Deserialize(r.value(), &sale).ok() || sale.timestamp_ms < 0) {
          ++done;
          continue;
        }
        binary_serde.Serialize(sale, &value);
        (void)producer->Send({.topic = through, .key = sale.category, .value = value, .timestamp = sale.timestamp_ms});
      }
    });
    agg.EmitClosed(*producer);
  }
  return clients.Finish(cpu_ns);
}

// Raw RocksDB: `n` batched puts (1,000 a batch) of 16-byte keys and 16-byte values, WAL off. Puts/s.
double RawRocksDbPutsPerSecond(const std::string& dir, int64_t n) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.compression = rocksdb::kNoCompression;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir, &raw).ok()) return -1;
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  rocksdb::WriteBatch batch;
  char key[16] = {}, value[16] = {};
  const absl::Time start = absl::Now();
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t id = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ULL;  // scattered, distinct keys
    std::memcpy(key, &id, 8);
    std::memcpy(value, &i, 8);
    batch.Put(rocksdb::Slice(key, 16), rocksdb::Slice(value, 16));
    if (batch.Count() == 1000) {
      (void)db->Write(wo, &batch);
      batch.Clear();
    }
  }
  (void)db->Write(wo, &batch);
  return static_cast<double>(n) / absl::ToDoubleSeconds(absl::Now() - start);
}

void BM_SalesPerMinute(benchmark::State& state) {
  SalesBroker b;
  double streams_s = 0, hand_s = 0, streams_cpu_ns = 0, hand_cpu_ns = 0, regrouped_cpu_ns = 0;
  int iteration = 0;
  for (auto _ : state) {
    // Alternate which goes first, so neither always meets the log (and the page cache) in the same state.
    double s, h;
    if (iteration % 2 == 0) {
      s = RunStreams(b, iteration, &streams_cpu_ns);
      h = RunHandLoop(b, iteration, &hand_cpu_ns);
    } else {
      h = RunHandLoop(b, iteration, &hand_cpu_ns);
      s = RunStreams(b, iteration, &streams_cpu_ns);
    }
    if (s < 0) {
      state.SkipWithError("Streams::Start failed");
      return;
    }
    RunHandLoopRepartitioned(b, iteration, &regrouped_cpu_ns);
    streams_s += s;
    hand_s += h;
    state.SetIterationTime(s + h);
    ++iteration;
  }
  const double n = static_cast<double>(kSales) * iteration;
  state.counters["streams_per_s"] = n / streams_s;
  state.counters["hand_per_s"] = n / hand_s;
  state.counters["ratio"] = streams_s / hand_s;
  state.counters["cpu_ratio"] = streams_cpu_ns / hand_cpu_ns;
  state.counters["streams_cpu_ns_per_sale"] = streams_cpu_ns / n;
  state.counters["hand_cpu_ns_per_sale"] = hand_cpu_ns / n;
  state.counters["hand_repartitioned_cpu_ns_per_sale"] = regrouped_cpu_ns / n;
  state.counters["cpu_ratio_repartitioned"] = streams_cpu_ns / regrouped_cpu_ns;
  state.counters["rocksdb_puts_per_s"] = RawRocksDbPutsPerSecond(b.dir + "/raw-rocksdb", 1000000);
}
BENCHMARK(BM_SalesPerMinute)->Iterations(2)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace eddy
