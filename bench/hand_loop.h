// What the benchmarks' hand-written baselines share: the thread CPU clock, the producer settings both a
// Streams application and its hand loop use, and the clients of a hand loop with their start and finish.
// Single-threaded; for bench/*_bench.cc only.
#pragma once

#include <time.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eddy/broker/broker.h"
#include "eddy/runtime/streams.h"

namespace eddy::bench {

inline int64_t ThreadCpuNs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

// Streams' producer defaults except linger.ms, whose 100 ms would only delay the last batch of a finite run.
inline ProducerConfig BenchProducerConfig() {
  ProducerConfig pc = StreamsConfig().producer;
  pc.linger_ms = 5;
  return pc;
}

// A hand loop's consumer (Streams' consumer defaults, group "bench-hand-<group>", subscribed to `topics`)
// and producer (BenchProducerConfig). The CPU and wall clocks start when it is made (client creation counts,
// as a Streams run counts its own).
class HandLoopClients {
 public:
  HandLoopClients(Broker& broker, const std::string& group, const std::vector<std::string>& topics)
      : cpu_start_(ThreadCpuNs()) {
    ConsumerConfig cc = StreamsConfig().consumer;
    cc.group_id = absl::StrCat("bench-hand-", group);
    consumer = *broker.NewConsumer(cc);
    producer = broker.NewProducer(BenchProducerConfig());
    start_ = absl::Now();
    (void)consumer->Subscribe(topics);
  }
  // Flushes the producer and commits. Wall-clock seconds since the start; the thread's CPU time since then
  // is added to *cpu_ns.
  double Finish(double* cpu_ns) {
    (void)producer->Flush();
    (void)consumer->CommitSync();
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
    *cpu_ns += static_cast<double>(ThreadCpuNs() - cpu_start_);
    (void)consumer->Close();
    return seconds;
  }

  std::unique_ptr<Consumer> consumer;
  std::unique_ptr<Producer> producer;

 private:
  int64_t cpu_start_;
  absl::Time start_;
};

}  // namespace eddy::bench
