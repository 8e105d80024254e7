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
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/hand_loop.h"
#include "eddy/broker/broker.h"
#include "eddy/broker/embedded_client_supplier.h"
#include "eddy/core/status.h"
#include "eddy/core/json_serde.h"
#include "eddy/runtime/streams.h"
#include "examples/order_to_shipment/order_to_shipment.h"

namespace eddy {
namespace {

namespace ots = order_to_shipment;

constexpr int32_t kPartitions = 4;

using bench::BenchProducerConfig;
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

// Seconds to process every order through eddy::Streams: from Start until the last shipment is in the log and
// Close has flushed and committed.
double RunStreams(OrdersBroker& b, int iteration, double* process_ns, double* cpu_ns) {
  EmbeddedClientSupplier clients(b.broker.get());
  StreamsConfig config;
  config.application_id = absl::StrCat("bench-streams-", iteration);
  config.producer = BenchProducerConfig();
  const int64_t target = b.Shipped() + kOrders;
  Streams app(ots::BuildTopology(), config, &clients);
  const absl::Time start = absl::Now();
  if (!app.Start().ok()) return -1;
  while (b.Shipped() < target) absl::SleepFor(absl::Milliseconds(5));
  (void)app.Close();  // the final flush and commit, as the hand loop's
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  for (const ThreadMetricsSnapshot& t : app.metrics()) {
    *process_ns += t.process_latency_avg_ns * static_cast<double>(t.process_calls);
    *cpu_ns += static_cast<double>(t.cpu_time_ns);
  }
  return seconds;
}

// The same work, written by hand: one consumer and one producer, the same serdes and the same routing.
double RunHandLoop(OrdersBroker& b, int iteration, double* cpu_ns) {
  bench::HandLoopClients clients(*b.broker, absl::StrCat(iteration), {ots::kOrdersTopic});
  Consumer* consumer = clients.consumer.get();
  Producer* producer = clients.producer.get();
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
  return clients.Finish(cpu_ns);
}

void BM_OrderToShipment(benchmark::State& state) {
  OrdersBroker b;
  double streams_s = 0, hand_s = 0;
  double process_ns = 0;  // wall time inside Task::Process calls
  double streams_cpu_ns = 0, hand_cpu_ns = 0;  // CPU time of the stream thread / the hand loop's thread
  int iteration = 0;
  for (auto _ : state) {
    // Alternate which goes first, so neither always meets the log (and the page cache) in the same state.
    double s, h;
    if (iteration % 2 == 0) {
      s = RunStreams(b, iteration, &process_ns, &streams_cpu_ns);
      h = RunHandLoop(b, iteration, &hand_cpu_ns);
    } else {
      h = RunHandLoop(b, iteration, &hand_cpu_ns);
      s = RunStreams(b, iteration, &process_ns, &streams_cpu_ns);
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
  // CPU time per order of the thread that consumes, processes and sends (the broker's producer thread and
  // flusher are the same for both and not included): the load-independent comparison.
  state.counters["streams_cpu_ns_per_order"] = streams_cpu_ns / static_cast<double>(kOrders * iteration);
  state.counters["hand_cpu_ns_per_order"] = hand_cpu_ns / static_cast<double>(kOrders * iteration);
}
BENCHMARK(BM_OrderToShipment)->Iterations(4)->UseManualTime()->Unit(benchmark::kMillisecond);

// Hands every stream thread a view of one shared producer instead of a producer of its own.
class SharedProducerSupplier final : public ClientSupplier {
 public:
  explicit SharedProducerSupplier(Broker* broker) : embedded_(broker) {}
  absl::StatusOr<Admin*> GetAdmin() override { return embedded_.GetAdmin(); }
  absl::StatusOr<std::unique_ptr<Consumer>> GetConsumer(const ConsumerConfig& config) override {
    return embedded_.GetConsumer(config);
  }
  absl::StatusOr<std::unique_ptr<Producer>> GetProducer(const ProducerConfig& config) override {
    absl::MutexLock lock(&mu_);
    if (shared_ == nullptr) {
      EDDY_ASSIGN_OR_RETURN(shared_, embedded_.GetProducer(config));
    }
    return std::unique_ptr<Producer>(new View(shared_.get()));
  }

 private:
  class View final : public Producer {
   public:
    explicit View(Producer* p) : p_(p) {}
    absl::Status Send(const ProducerRecord& r, DeliveryCallback cb) override { return p_->Send(r, std::move(cb)); }
    absl::Status Flush(absl::Duration timeout) override { return p_->Flush(timeout); }
    absl::StatusOr<int32_t> PartitionsFor(absl::string_view topic) override { return p_->PartitionsFor(topic); }
    absl::Status Close(absl::Duration timeout) override { return p_->Flush(timeout); }

   private:
    Producer* p_;
  };
  EmbeddedClientSupplier embedded_;
  absl::Mutex mu_;
  std::unique_ptr<Producer> shared_;
};

// Two stream threads over the 4 partitions, each with its own producer (Streams' choice; arg 0) or sharing
// one (arg 1). Orders/s from Start to Close.
void BM_OrderToShipmentTwoThreads(benchmark::State& state) {
  OrdersBroker b;
  const bool shared = state.range(0) == 1;
  int iteration = 0;
  double seconds = 0;
  for (auto _ : state) {
    EmbeddedClientSupplier own(b.broker.get());
    SharedProducerSupplier one(b.broker.get());
    StreamsConfig config;
    config.application_id = absl::StrCat("bench-threads-", iteration++);
    config.num_stream_threads = 2;
    config.producer = BenchProducerConfig();
    const int64_t target = b.Shipped() + kOrders;
    Streams app(ots::BuildTopology(), config, shared ? static_cast<ClientSupplier*>(&one) : &own);
    const absl::Time start = absl::Now();
    if (!app.Start().ok()) {
      state.SkipWithError("Streams::Start failed");
      return;
    }
    while (b.Shipped() < target) absl::SleepFor(absl::Milliseconds(5));
    (void)app.Close();
    const double s = absl::ToDoubleSeconds(absl::Now() - start);
    seconds += s;
    state.SetIterationTime(s);
  }
  state.counters["orders_per_s"] = kOrders * iteration / seconds;
}
BENCHMARK(BM_OrderToShipmentTwoThreads)->Arg(0)->Arg(1)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace eddy
