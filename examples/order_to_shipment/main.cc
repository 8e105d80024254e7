// order-to-shipment: reads orders, writes shipments, dead-letters invalid orders (order_to_shipment.h), on
// the embedded broker in --data-dir.
//
//   build/bin/order-to-shipment [--data-dir DIR] [--threads N] [--exit-after-idle-ms MS]
//
// Creates the missing topics (orders with 4 partitions; shipments and orders-dlq with as many as orders).
// Runs until SIGINT/SIGTERM, or with --exit-after-idle-ms until no input arrived for MS milliseconds; then
// commits, leaves the group and exits 0. Exits 1 if the application fails, 2 on bad flags.
#include <signal.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eddy/broker/broker.h"
#include "eddy/broker/embedded_client_supplier.h"
#include "eddy/core/status.h"
#include "eddy/runtime/streams.h"
#include "examples/order_to_shipment/order_to_shipment.h"

namespace {

struct Flags {
  std::string data_dir = "./eddy-data";
  int32_t threads = 1;
  int64_t exit_after_idle_ms = -1;  // -1: run until a signal
};

constexpr char kUsage[] = "usage: order-to-shipment [--data-dir DIR] [--threads N] [--exit-after-idle-ms MS]\n";

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") return false;
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", arg.c_str());
      return false;
    }
    const char* value = argv[++i];
    if (arg == "--data-dir") {
      flags->data_dir = value;
    } else if (arg == "--threads") {
      if (!absl::SimpleAtoi(value, &flags->threads) || flags->threads < 1) {
        std::fprintf(stderr, "--threads: expected a positive integer, got '%s'\n", value);
        return false;
      }
    } else if (arg == "--exit-after-idle-ms") {
      if (!absl::SimpleAtoi(value, &flags->exit_after_idle_ms) || flags->exit_after_idle_ms < 0) {
        std::fprintf(stderr, "--exit-after-idle-ms: expected a non-negative integer, got '%s'\n", value);
        return false;
      }
    } else {
      std::fprintf(stderr, "unknown flag %s\n", arg.c_str());
      return false;
    }
  }
  return true;
}

// Creates orders (4 partitions) if missing, then shipments and orders-dlq with as many partitions.
absl::Status CreateTopics(eddy::Admin& admin) {
  int32_t partitions = 4;
  absl::StatusOr<eddy::TopicDescription> orders = admin.DescribeTopic(order_to_shipment::kOrdersTopic);
  if (orders.ok()) {
    partitions = static_cast<int32_t>(orders->partitions.size());
  } else if (absl::IsNotFound(orders.status())) {
    EDDY_RETURN_IF_ERROR(admin.CreateTopic({.name = order_to_shipment::kOrdersTopic, .partitions = partitions}));
  } else {
    return orders.status();
  }
  for (const char* topic : {order_to_shipment::kShipmentsTopic, order_to_shipment::kDeadLetterTopic}) {
    absl::StatusOr<eddy::TopicDescription> d = admin.DescribeTopic(topic);
    if (absl::IsNotFound(d.status())) {
      EDDY_RETURN_IF_ERROR(admin.CreateTopic({.name = topic, .partitions = partitions}));
    } else if (!d.ok()) {
      return d.status();
    }
  }
  return absl::OkStatus();
}

int64_t PolledRecords(const eddy::Streams& app) {
  int64_t n = 0;
  for (const eddy::ThreadMetricsSnapshot& t : app.metrics()) n += t.polled_records;
  return n;
}

absl::Status Run(const Flags& flags, const sigset_t& signals) {
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<eddy::Broker> broker, eddy::Broker::Open({.data_dir = flags.data_dir}));
  EDDY_RETURN_IF_ERROR(CreateTopics(broker->admin()));
  eddy::EmbeddedClientSupplier clients(broker.get());
  eddy::StreamsConfig config;
  config.application_id = order_to_shipment::kApplicationId;
  config.num_stream_threads = flags.threads;
  eddy::Streams app(order_to_shipment::BuildTopology(), config, &clients);
  EDDY_RETURN_IF_ERROR(app.Start());
  std::fprintf(stderr, "order-to-shipment: running with %d stream thread(s) on %s\n", flags.threads,
               flags.data_dir.c_str());

  int64_t last_polled = 0;
  absl::Time last_input = absl::Now();
  while (true) {
    const timespec wait{0, 50 * 1000 * 1000};
    const int sig = sigtimedwait(&signals, nullptr, &wait);
    if (sig == SIGINT || sig == SIGTERM) {
      std::fprintf(stderr, "order-to-shipment: signal %d, closing\n", sig);
      break;
    }
    const eddy::StreamsState state = app.state();
    if (state == eddy::StreamsState::kError || state == eddy::StreamsState::kPendingError) break;
    const int64_t polled = PolledRecords(app);
    if (polled != last_polled || state != eddy::StreamsState::kRunning) {
      last_polled = polled;
      last_input = absl::Now();
    } else if (flags.exit_after_idle_ms >= 0 && absl::Now() - last_input >= absl::Milliseconds(flags.exit_after_idle_ms)) {
      break;
    }
  }
  EDDY_RETURN_IF_ERROR(app.Close());
  if (app.state() == eddy::StreamsState::kError) return app.error();
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
  if (!ParseFlags(argc, argv, &flags)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  // Signals are taken synchronously by the main thread: block them before any thread starts, so every
  // thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  absl::Status st = Run(flags, signals);
  if (!st.ok()) {
    std::fprintf(stderr, "order-to-shipment: %s\n", std::string(st.ToString()).c_str());
    return 1;
  }
  return 0;
}
