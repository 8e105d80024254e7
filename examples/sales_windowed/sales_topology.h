// The windowed sales aggregation (issue 4's example) as a library: the topology that reads sales, groups
// them by category through a repartition topic, counts them and sums their amounts per category in
// tumbling event-time windows with a grace period, and writes one final result per window.
//
//   in  (topic "sales", any key):  {"category":"books","amount":12.5,"timestamp":"2024-01-15T10:30:00.123Z"}
//   out (topic "sales-per-minute", key = category):
//       {"category":"books","window_start":"2024-01-15T10:30:00.000Z",
//        "window_end":"2024-01-15T10:31:00.000Z","count":42,"revenue":1234.56}
//
// Event time is the sale's "timestamp" field (a sale without a valid one is an invalid timestamp: the
// task's InvalidTimestampPolicy decides). Amounts are summed exactly, in millionths, and the revenue is
// rounded to cents (half away from zero) only when the result is written. docs/windows.md draws the
// topology. Used by the sales-windowed binary and by the tests; the topology is what Build returns.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eddy/core/json_serde.h"
#include "eddy/runtime/topology.h"

namespace eddy::sales {

struct Sale {
  std::string category;
  double amount = 0;
  int64_t timestamp_ms = -1;  // parsed from "timestamp"; -1 if absent or invalid
};
void ToJson(json::Writer& w, const Sale& s);
absl::Status FromJson(simdjson::ondemand::value v, Sale* s);

// SaleBinarySerde is the value serde of the repartition topic: the sale parsed once from the input's JSON
// crosses the topic as fixed-width binary, so the aggregating sub-topology reads it with two loads instead
// of a second JSON parse (docs/PERFORMANCE.md, issue 4). Lossless. Byte layout (big-endian):
//   timestamp_ms int64 | amount IEEE-754 double (its bits as uint64) | category bytes (the rest)
// kDataLoss for fewer than 16 bytes. Stateless, thread-safe.
struct SaleBinarySerde {
  using Type = Sale;
  static constexpr size_t kFixedSize = 16;
  void Serialize(const Sale& s, std::string* out) const;
  absl::Status Deserialize(absl::string_view in, Sale* s) const;
};

// One final result: a category's count and revenue in one window.
struct SalesPerWindow {
  std::string category;
  int64_t window_start_ms = 0;
  int64_t window_end_ms = 0;
  int64_t count = 0;
  double revenue = 0;  // rounded to cents
};
void ToJson(json::Writer& w, const SalesPerWindow& s);
absl::Status FromJson(simdjson::ondemand::value v, SalesPerWindow* s);

struct SalesOptions {
  std::string input_topic = "sales";
  std::string output_topic = "sales-per-minute";
  int64_t window_ms = 60000;  // --window-ms
  int64_t grace_ms = 30000;   // --grace-ms
};

// SalesTopology builds the topology. Node and store names: repartition topic
// "<application.id>-sales-by-category-repartition" (values in SaleBinarySerde's layout), window store "sales-per-category" (changelog
// "<application.id>-sales-per-category-changelog"), suppression buffer "sales-final-store".
// kInvalidArgument for a window or grace the windows refuse.
absl::StatusOr<Topology> SalesTopology(const SalesOptions& options = {});

// ISO-8601 UTC with milliseconds, as the topics carry them: "2024-01-15T10:30:00.123Z".
absl::StatusOr<int64_t> ParseTimestamp(absl::string_view text);
std::string FormatTimestamp(int64_t ms);
// Millionths of a currency unit, exactly summable; and cents from them, rounded half away from zero.
int64_t ToMicros(double amount);
double MicrosToRoundedUnits(int64_t micros);

}  // namespace eddy::sales
