// The JSON writer (eddy::json::Writer) alone: serializing the order-to-shipment example's Shipment through
// JsonSerde (the per-record work of that pipeline's sink), and escaping one string with nothing to escape
// or with an escape every few bytes. Counters: bytes_per_second of JSON written; the shipment case also
// items_per_second (shipments/s).
//
//   build/bin/eddy_bench --benchmark_filter=Json
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "eddy/core/json_serde.h"
#include "examples/order_to_shipment/order_to_shipment.h"

namespace eddy {
namespace {

namespace ots = order_to_shipment;

// 1,024 shipments shaped like bench/streams_bench.cc's, built beforehand and serialized in turn into one
// reused string. The reported time is per 1,024 shipments; items_per_second counts shipments.
void BM_JsonSerializeShipment(benchmark::State& state) {
  constexpr int kShipments = 1024;
  std::vector<ots::Shipment> shipments(kShipments);
  for (int i = 0; i < kShipments; ++i) {
    ots::FillShipment({.order_id = "order-" + std::to_string(1000000 + i),
                       .customer_id = "cust-" + std::to_string(i % 1000),
                       .amount = 99.99,
                       .timestamp = "2024-01-15T10:30:00Z"},
                      &shipments[i]);
  }
  JsonSerde<ots::Shipment> serde;
  std::string out;
  int64_t bytes = 0;
  for (auto _ : state) {
    for (const ots::Shipment& s : shipments) {
      serde.Serialize(s, &out);
      benchmark::DoNotOptimize(out.data());
      bytes += static_cast<int64_t>(out.size());
    }
  }
  state.SetBytesProcessed(bytes);
  state.SetItemsProcessed(state.iterations() * kShipments);
}

// One string value of state.range(0) bytes: printable ASCII only (escape_every 0), or a character to escape
// every escape_every bytes (a quote, a newline and a control character in turn).
void EscapeString(benchmark::State& state, int escape_every) {
  std::string s;
  for (int64_t i = 0; i < state.range(0); ++i) {
    char c = static_cast<char>('a' + i % 26);
    if (escape_every > 0 && i % escape_every == escape_every - 1) c = "\"\n\x01"[(i / escape_every) % 3];
    s.push_back(c);
  }
  std::string out;
  for (auto _ : state) {
    out.clear();
    json::Writer w(&out);
    w.String(s);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void BM_JsonEscapeClean(benchmark::State& state) { EscapeString(state, 0); }
void BM_JsonEscapeEvery8(benchmark::State& state) { EscapeString(state, 8); }
void BM_JsonEscapeEvery64(benchmark::State& state) { EscapeString(state, 64); }

BENCHMARK(BM_JsonSerializeShipment);
BENCHMARK(BM_JsonEscapeClean)->Arg(8)->Arg(20)->Arg(100)->Arg(1000);
BENCHMARK(BM_JsonEscapeEvery8)->Arg(100)->Arg(1000);
BENCHMARK(BM_JsonEscapeEvery64)->Arg(1000);

}  // namespace
}  // namespace eddy
