// sales-windowed: revenue per category per minute (sales_topology.h) on the embedded broker in --data-dir.
//
//   build/bin/sales-windowed [--data-dir DIR] [--state-dir DIR] [--threads N] [--window-ms MS] [--grace-ms MS]
//                            [--exit-after-idle-ms MS] [--idle-advance-ms MS] [--commit-interval-ms MS]
//   build/bin/sales-windowed --generate N [--seed S] [--late-fraction F] [--start-ms MS] [--span-ms MS]
//                            [--partition P] [--data-dir DIR] [--window-ms MS] [--grace-ms MS]
//
// Creates the missing topics (sales with 4 partitions, sales-per-minute with as many). State lives in
// --state-dir (default <data-dir>/state). Runs until SIGINT/SIGTERM, or with --exit-after-idle-ms until
// no input arrived for MS milliseconds and every window's final result went out: the flag also turns on
// eddy.stream.time.idle.advance.ms (--idle-advance-ms, by default the same MS; 0 turns it off), so that
// stream time moves on without new sales and the last windows close. Then commits, leaves the group,
// prints each stream thread's counts and exits 0. Exits 1 if the application fails, 2 on bad flags.
//
// --generate writes N sample sales (sales_generator.h) to topic sales and exits: keyed by sale id
// ("sale-<n>", every tenth without a key), spread over --span-ms (5 minutes) from --start-ms
// (2024-01-15T10:00:00Z), out of order by at most half the grace period (and 2 s), a fraction of them late
// beyond the grace period; --partition sends them all to one partition, in order.
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "eddy/broker/broker.h"
#include "eddy/broker/embedded_client_supplier.h"
#include "eddy/core/json_serde.h"
#include "eddy/core/producer.h"
#include "eddy/core/status.h"
#include "eddy/runtime/streams.h"
#include "examples/common/example_app.h"
#include "examples/sales_windowed/sales_generator.h"
#include "examples/sales_windowed/sales_topology.h"

namespace {

constexpr char kApplicationId[] = "sales-windowed";
// The suppression buffer of the topology: the windows still waiting for their final result.
constexpr char kPendingWindowsStore[] = "sales-final-store";

struct Flags {
  std::string data_dir = "./eddy-data";
  std::string state_dir;  // empty: <data-dir>/state
  int32_t threads = 1;
  int64_t window_ms = 60000;
  int64_t grace_ms = 30000;
  int64_t exit_after_idle_ms = -1;  // -1: run until a signal
  int64_t idle_advance_ms = -1;     // -1: exit_after_idle_ms if set, else off
  int64_t commit_interval_ms = 30000;
  int64_t generate = -1;  // >= 0: generate this many sales and exit
  int64_t seed = 1;
  double late_fraction = 0.01;
  int64_t span_ms = 300000;
  int32_t partition = -1;
  int64_t start_ms = eddy::sales::GeneratorOptions().start_ms;
};

absl::StatusOr<std::unique_ptr<eddy::Broker>> OpenBroker(const Flags& flags) {
  eddy::BrokerOptions options{.data_dir = flags.data_dir};
  // Several stream threads join the group in one rebalance instead of one after the other, so no task
  // moves between threads right after the start (Kafka's default is 3000 ms; the embedded broker's 0).
  if (flags.threads > 1) options.configs["group.initial.rebalance.delay.ms"] = "300";
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<eddy::Broker> broker, eddy::Broker::Open(options));
  EDDY_RETURN_IF_ERROR(eddy::examples::CreateMissingTopics(broker->admin(), {{"sales", /*input=*/true},
                                                                             {"sales-per-minute"}})
                           .status());
  return broker;
}

absl::Status Generate(const Flags& flags) {
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<eddy::Broker> broker, OpenBroker(flags));
  eddy::sales::SalesGenerator generator({.count = flags.generate,
                                         .seed = static_cast<uint64_t>(flags.seed),
                                         .late_fraction = flags.late_fraction,
                                         .start_ms = flags.start_ms,
                                         .span_ms = flags.span_ms,
                                         // Out of order, but never by more than half the grace period.
                                         .jitter_ms = std::min<int64_t>(2000, flags.grace_ms / 2),
                                         .window_ms = flags.window_ms,
                                         .grace_ms = flags.grace_ms});
  {
    std::unique_ptr<eddy::Producer> producer = broker->NewProducer({});
    eddy::sales::GeneratedSale g;
    eddy::JsonSerde<eddy::sales::Sale> serde;
    std::string value;
    int64_t late = 0;
    while (!generator.Done()) {
      generator.Next(&g);
      late += g.late ? 1 : 0;
      serde.Serialize(g.sale, &value);
      std::optional<absl::string_view> key;
      if (g.key.has_value()) key = *g.key;
      EDDY_RETURN_IF_ERROR(producer->Send({.topic = "sales", .partition = flags.partition, .key = key, .value = value}));
    }
    EDDY_RETURN_IF_ERROR(producer->Flush());
    EDDY_RETURN_IF_ERROR(producer->Close());
    std::printf("generated %lld sales (%lld late by more than window + grace) into topic sales\n",
                static_cast<long long>(flags.generate), static_cast<long long>(late));
  }
  return broker->Close();
}

// True when no window waits for its final result any more.
absl::StatusOr<bool> AllWindowsEmitted(const eddy::Streams& app) {
  EDDY_ASSIGN_OR_RETURN(eddy::ReadOnlyKeyValueStore pending, app.QueryableKeyValueStore(kPendingWindowsStore));
  EDDY_ASSIGN_OR_RETURN(auto windows, pending.All());
  return windows.empty();
}

absl::Status Run(const Flags& flags, const sigset_t& signals) {
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<eddy::Broker> broker, OpenBroker(flags));
  EDDY_ASSIGN_OR_RETURN(eddy::Topology topology,
                        eddy::sales::SalesTopology({.window_ms = flags.window_ms, .grace_ms = flags.grace_ms}));
  eddy::EmbeddedClientSupplier clients(broker.get());
  eddy::StreamsConfig config;
  config.application_id = kApplicationId;
  config.num_stream_threads = flags.threads;
  config.commit_interval_ms = flags.commit_interval_ms;
  config.state_dir = flags.state_dir.empty() ? flags.data_dir + "/state" : flags.state_dir;
  config.stream_time_idle_advance_ms =
      flags.idle_advance_ms >= 0 ? flags.idle_advance_ms : std::max<int64_t>(flags.exit_after_idle_ms, 0);
  eddy::Streams app(std::move(topology), config, &clients);
  EDDY_RETURN_IF_ERROR(app.Start());
  std::fprintf(stderr, "sales-windowed: running with %d stream thread(s) on %s, state in %s\n", flags.threads,
               flags.data_dir.c_str(), config.state_dir.c_str());
  eddy::examples::RunOptions run{.name = "sales-windowed", .exit_after_idle_ms = flags.exit_after_idle_ms};
  // Without the idle advance the last windows stay open until more sales come: idle is enough to stop.
  if (config.stream_time_idle_advance_ms > 0) run.drained = [&app] { return AllWindowsEmitted(app); };
  EDDY_RETURN_IF_ERROR(eddy::examples::RunUntilStopped(app, run, signals));
  for (const eddy::ThreadMetricsSnapshot& t : app.metrics()) {
    int64_t restored = 0;
    for (const auto& [store, n] : t.restored_records) restored += n;
    std::printf("%s: processed %lld records, polled %lld, dropped %lld, restored %lld, tasks %lld\n",
                t.thread_name.c_str(), static_cast<long long>(t.processed_records),
                static_cast<long long>(t.polled_records), static_cast<long long>(t.dropped_records),
                static_cast<long long>(restored), static_cast<long long>(t.tasks_created));
  }
  return broker->Close();
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  eddy::examples::FlagParser parser("sales-windowed");
  parser.AddString("--data-dir", "DIR", &flags.data_dir);
  parser.AddString("--state-dir", "DIR", &flags.state_dir);
  parser.AddInt("--threads", "N", 1, &flags.threads);
  parser.AddInt("--window-ms", "MS", 1, &flags.window_ms);
  parser.AddInt("--grace-ms", "MS", 0, &flags.grace_ms);
  parser.AddInt("--exit-after-idle-ms", "MS", 0, &flags.exit_after_idle_ms);
  parser.AddInt("--idle-advance-ms", "MS", 0, &flags.idle_advance_ms);
  parser.AddInt("--commit-interval-ms", "MS", 0, &flags.commit_interval_ms);
  parser.AddInt("--generate", "N", 0, &flags.generate);
  parser.AddInt("--seed", "S", 0, &flags.seed);
  parser.AddDouble("--late-fraction", "F", 0, 1, &flags.late_fraction);
  parser.AddInt("--span-ms", "MS", 1, &flags.span_ms);
  parser.AddInt("--partition", "P", 0, &flags.partition);
  parser.AddInt("--start-ms", "MS", 0, &flags.start_ms);
  if (!parser.Parse(argc, argv)) return 2;
  const sigset_t signals = eddy::examples::BlockTerminationSignals();
  const absl::Status st = flags.generate >= 0 ? Generate(flags) : Run(flags, signals);
  if (!st.ok()) {
    std::fprintf(stderr, "sales-windowed: %s\n", std::string(st.ToString()).c_str());
    return 1;
  }
  return 0;
}
