// A deterministic generator of sample sales for the sales-windowed example (`sales-windowed --generate`),
// the demo and the benchmarks: a few categories, amounts in cents, event timestamps spread evenly over a
// span of time, slightly out of order (never by more than the jitter), and a chosen fraction of late sales
// that lie more than a window and its grace period behind the others.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "examples/sales_windowed/sales_topology.h"

namespace eddy::sales {

struct GeneratorOptions {
  int64_t count = 1000;
  uint64_t seed = 1;
  double late_fraction = 0.01;  // in [0, 1]
  int64_t start_ms = 1705312800000;  // 2024-01-15T10:00:00.000Z, a window boundary
  // The first sale is at start_ms, the last just before start_ms + span_ms (5 minutes).
  int64_t span_ms = 300000;
  // Out-of-order sales are at most this far behind their place in the sequence (0: in order).
  int64_t jitter_ms = 2000;
  // Late sales are window_ms + grace_ms + [0, window_ms) behind their place (the topology's defaults).
  int64_t window_ms = 60000;
  int64_t grace_ms = 30000;
};

// One generated sale and its record key ("sale-<n>", or none for every tenth).
struct GeneratedSale {
  std::optional<std::string> key;
  Sale sale;
  bool late = false;  // placed behind by more than window + grace
};

// SalesGenerator yields options.count sales, the same ones for the same options. Thread-compatible.
class SalesGenerator {
 public:
  explicit SalesGenerator(const GeneratorOptions& options) : options_(options), rng_(options.seed) {}
  bool Done() const { return next_ >= options_.count; }
  // Next fills *out with the next sale. Call only while !Done().
  void Next(GeneratedSale* out);

 private:
  GeneratorOptions options_;
  std::mt19937_64 rng_;
  int64_t next_ = 0;
};

}  // namespace eddy::sales
