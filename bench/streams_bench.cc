// Order-to-shipment on the embedded broker: eddy::Streams with one stream thread against a hand-written
// consume -> parse -> validate -> build -> serialize -> produce loop doing identical work with the same
// serdes (examples/order_to_shipment), the same broker and the same producer settings, in the same run.
// Counters: streams_per_s, hand_per_s (orders/s), ratio (hand / streams: 1.25 or less is the goal) and
// process_ns_per_order (the stream thread's time in Task::Process per order).
//
//   build/bin/eddy_bench --benchmark_filter=OrderToShipment
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eddy/broker/broker.h"
#include "eddy/broker/embedded_client_supplier.h"
#include "eddy/core/json_serde.h"
#include "eddy/runtime/streams.h"
#include "examples/order_to_shipment/order_to_shipment.h"

namespace eddy {
namespace {

namespace ots = order_to_shipment;

constexpr int32_t kPartitions = 4;
constexpr int64_t kOrders = 2000000;

struct OrdersBroker {
  std::string dir;
  std::unique_ptr<Broker> broker;
  OrdersBroker() {
    char tmpl[] = "/tmp/eddy-bench-XXXXXX";
    dir = mkdtemp(tmpl);
    broker = *Broker::Open({.data_dir = dir});
    for (const char* t : {ots::kOrdersTopic, ots::kShipmentsTopic, ots::kDeadLetterTopic}) {
      (void)broker->admin().CreateTopic({.name = t, .partitions = kPartitions});
    }
    ProducerConfig pc;
    pc.acks = Acks::kLeader;
    std::unique_ptr<Producer> producer = broker->NewProducer(pc);
    for (int64_t i = 0; i < kOrders; ++i) {
      const std::string key = absl::StrCat("order-", i);
      const std::string value = absl::StrCat(R"({"order_id":")", key, R"(","customer_id":"cust-)", i % 1000,
                                             R"(","amount":)", (i % 500) + 0.99, R"(,"timestamp":"2024-01-15T10:30:00Z"})");
      (void)producer->Send({.topic = ots::kOrdersTopic, .key = key, .value = value, .timestamp = 1700000000000 + i});
    }
    (void)producer->Flush();
  }
  ~OrdersBroker() {
    broker.reset();
    std::filesystem::remove_all(dir);
  }
  int64_t Shipped() {
    int64_t n = 0;
    const absl::StatusOr<TopicDescription> d = broker->admin().DescribeTopic(ots::kShipmentsTopic);
    if (!d.ok()) return -1;
    for (const auto& p : d->partitions) n += p.log_end_offset;
    return n;
  }
};

// The producer settings of both loops: Streams' defaults except linger.ms, whose 100 ms would only delay
// the last batch of a finite run.
ProducerConfig BenchProducerConfig() {
  StreamsConfig defaults;
  ProducerConfig pc = defaults.producer;
  pc.linger_ms = 5;
  return pc;
}

// Seconds to process every order through eddy::Streams: from Start until the last shipment is in the log and
// Close has flushed and committed.
double RunStreams(OrdersBroker& b, int iteration, double* process_ns) {
  EmbeddedClientSupplier clients(b.broker.get());
  StreamsConfig config;
  config.application_id = absl::StrCat("bench-streams-", iteration);
  config.producer = BenchProducerConfig();
  const int64_t target = b.Shipped() + kOrders;
  Streams app(ots::BuildTopology(), config, &clients);
  const absl::Time start = absl::Now();
  if (!app.Start().ok()) return -1;
  while (b.Shipped() < target) absl::SleepFor(absl::Milliseconds(1));
  (void)app.Close();  // the final flush and commit, as the hand loop's
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  for (const ThreadMetricsSnapshot& t : app.metrics()) {
    *process_ns += t.process_latency_avg_ns * static_cast<double>(t.process_calls);
  }
  return seconds;
}

// The same work, written by hand: one consumer and one producer, the same serdes and the same routing.
double RunHandLoop(OrdersBroker& b, int iteration) {
  ConsumerConfig cc = StreamsConfig().consumer;
  cc.group_id = absl::StrCat("bench-hand-", iteration);
  std::unique_ptr<Consumer> consumer = *b.broker->NewConsumer(cc);
  std::unique_ptr<Producer> producer = b.broker->NewProducer(BenchProducerConfig());
  const absl::Time start = absl::Now();
  (void)consumer->Subscribe({ots::kOrdersTopic});
  ots::OrderSerde order_serde;
  JsonSerde<ots::Shipment> shipment_serde;
  ots::CheckedOrder order;
  ots::Shipment shipment;
  std::string key, value;
  ConsumerRecords records;
  int64_t consumed = 0;
  while (consumed < kOrders) {
    (void)consumer->Poll(absl::Milliseconds(100), &records);
    consumed += records.count();
    (void)records.ForEach([&](const RecordView& r) {
      key.assign(r.key().data(), r.key().size());
      (void)order_serde.Deserialize(r.value(), &order);
      if (order.valid()) {
        ots::FillShipment(order.order, &shipment);
        shipment_serde.Serialize(shipment, &value);
        (void)producer->Send({.topic = ots::kShipmentsTopic, .key = key, .value = value, .timestamp = r.timestamp()});
      } else {
        const HeaderRef error{ots::kErrorHeader, absl::string_view(order.error)};
        (void)producer->Send({.topic = ots::kDeadLetterTopic, .key = key, .value = order.raw,
                              .timestamp = r.timestamp(), .headers = absl::MakeConstSpan(&error, 1)});
      }
    });
  }
  (void)producer->Flush();
  (void)consumer->CommitSync();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  (void)consumer->Close();
  return seconds;
}

void BM_OrderToShipment(benchmark::State& state) {
  OrdersBroker b;
  double streams_s = 0, hand_s = 0;
  double process_ns = 0;  // wall time inside Task::Process calls
  int iteration = 0;
  for (auto _ : state) {
    // Alternate which goes first, so neither always meets the log (and the page cache) in the same state.
    double s, h;
    if (iteration % 2 == 0) {
      s = RunStreams(b, iteration, &process_ns);
      h = RunHandLoop(b, iteration);
    } else {
      h = RunHandLoop(b, iteration);
      s = RunStreams(b, iteration, &process_ns);
    }
    if (s < 0) {
      state.SkipWithError("Streams::Start failed");
      return;
    }
    streams_s += s;
    hand_s += h;
    state.SetIterationTime(s + h);
    ++iteration;
  }
  const double streams_rps = kOrders * iteration / streams_s;
  const double hand_rps = kOrders * iteration / hand_s;
  state.counters["streams_per_s"] = streams_rps;
  state.counters["hand_per_s"] = hand_rps;
  state.counters["ratio"] = hand_rps / streams_rps;
  // The stream thread's time per order inside Task::Process (parse, validate, build, serialize, Send): the
  // per-thread ceiling of the framework once polling and the broker's threads have a core of their own.
  state.counters["process_ns_per_order"] = process_ns / static_cast<double>(kOrders * iteration);
}
BENCHMARK(BM_OrderToShipment)->Iterations(4)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace eddy
