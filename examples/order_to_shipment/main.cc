// order-to-shipment: reads orders, writes shipments, dead-letters invalid orders (order_to_shipment.h), on
// the embedded broker in --data-dir.
//
//   build/bin/order-to-shipment [--data-dir DIR] [--threads N] [--exit-after-idle-ms MS]
//
// Creates the missing topics (orders with 4 partitions; shipments and orders-dlq with as many as orders).
// Runs until SIGINT/SIGTERM, or with --exit-after-idle-ms until no input arrived for MS milliseconds; then
// commits, leaves the group and exits 0. Exits 1 if the application fails, 2 on bad flags.
#include <cstdio>
#include <memory>
#include <string>

#include "eddy/broker/broker.h"
#include "eddy/broker/embedded_client_supplier.h"
#include "eddy/core/status.h"
#include "eddy/runtime/streams.h"
#include "examples/common/example_app.h"
#include "examples/order_to_shipment/order_to_shipment.h"

namespace {

struct Flags {
  std::string data_dir = "./eddy-data";
  int32_t threads = 1;
  int64_t exit_after_idle_ms = -1;  // -1: run until a signal
};

absl::Status Run(const Flags& flags, const sigset_t& signals) {
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<eddy::Broker> broker, eddy::Broker::Open({.data_dir = flags.data_dir}));
  EDDY_RETURN_IF_ERROR(eddy::examples::CreateMissingTopics(broker->admin(),
                                                           {{order_to_shipment::kOrdersTopic, /*input=*/true},
                                                            {order_to_shipment::kShipmentsTopic},
                                                            {order_to_shipment::kDeadLetterTopic}})
                           .status());
  eddy::EmbeddedClientSupplier clients(broker.get());
  eddy::StreamsConfig config;
  config.application_id = order_to_shipment::kApplicationId;
  config.num_stream_threads = flags.threads;
  eddy::Streams app(order_to_shipment::BuildTopology(), config, &clients);
  EDDY_RETURN_IF_ERROR(app.Start());
  std::fprintf(stderr, "order-to-shipment: running with %d stream thread(s) on %s\n", flags.threads,
               flags.data_dir.c_str());
  EDDY_RETURN_IF_ERROR(eddy::examples::RunUntilStopped(
      app, {.name = "order-to-shipment", .exit_after_idle_ms = flags.exit_after_idle_ms}, signals));
  for (const eddy::ThreadMetricsSnapshot& t : app.metrics()) {
    std::printf("%s: processed %lld orders, polled %lld, tasks %lld\n", t.thread_name.c_str(),
                static_cast<long long>(t.processed_records), static_cast<long long>(t.polled_records),
                static_cast<long long>(t.tasks_created));
  }
  return broker->Close();
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  eddy::examples::FlagParser parser("order-to-shipment");
  parser.AddString("--data-dir", "DIR", &flags.data_dir);
  parser.AddInt("--threads", "N", 1, &flags.threads);
  parser.AddInt("--exit-after-idle-ms", "MS", 0, &flags.exit_after_idle_ms);
  if (!parser.Parse(argc, argv)) return 2;
  const sigset_t signals = eddy::examples::BlockTerminationSignals();
  const absl::Status st = Run(flags, signals);
  if (!st.ok()) {
    std::fprintf(stderr, "order-to-shipment: %s\n", std::string(st.ToString()).c_str());
    return 1;
  }
  return 0;
}
