// Micro-benchmarks of the record batch path: encoding records into a batch (per codec), iterating a batch's
// records (per codec), CRC-32C, and murmur2. Items are records; bytes are uncompressed record bytes.
//
//   build/bin/eddy_bench --benchmark_filter='Batch|Crc|Murmur'
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "eddy/core/compression.h"
#include "eddy/core/crc32c.h"
#include "eddy/core/partitioner.h"
#include "eddy/core/record_batch.h"

namespace eddy {
namespace {

constexpr size_t kBatchBytes = 16 * 1024;  // Kafka's default batch.size
constexpr size_t kKeySize = 10;
constexpr size_t kValueSize = 100;

// Deterministic JSON-like values: compressible about as much as typical event payloads.
std::vector<std::string> MakeValues(size_t n) {
  std::vector<std::string> values;
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < n; ++i) {
    std::string v;
    while (v.size() < kValueSize) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      absl::StrAppend(&v, "{\"user\":", x % 100000, ",\"page\":\"/item/", (x >> 8) % 5000, "\",\"ok\":true}");
    }
    v.resize(kValueSize);
    values.push_back(std::move(v));
  }
  return values;
}

std::vector<std::string> MakeKeys(size_t n) {
  std::vector<std::string> keys;
  for (size_t i = 0; i < n; ++i) {
    std::string k = absl::StrCat("user-", 10000 + i * 7919 % 90000);
    k.resize(kKeySize, '0');
    keys.push_back(std::move(k));
  }
  return keys;
}

const Compression kCodecs[] = {Compression::kNone, Compression::kGzip, Compression::kSnappy, Compression::kLz4,
                               Compression::kZstd};

void SetCodecLabel(benchmark::State& state, Compression c) { state.SetLabel(std::string(CompressionName(c))); }

// Append only: the per-record encoding cost, the builder reused across batches.
void BM_BatchAppend(benchmark::State& state) {
  const auto keys = MakeKeys(1024);
  const auto values = MakeValues(1024);
  RecordBatchBuilder b;
  int64_t records = 0, bytes = 0;
  size_t i = 0;
  for (auto _ : state) {
    b.Append(1700000000000 + static_cast<int64_t>(i), keys[i & 1023], values[i & 1023]);
    ++i;
    if (b.size_estimate() >= kBatchBytes) {
      bytes += static_cast<int64_t>(b.size_estimate());
      b.Reset();
    }
    ++records;
  }
  benchmark::DoNotOptimize(b.size_estimate());
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(bytes + static_cast<int64_t>(b.size_estimate()));
}
BENCHMARK(BM_BatchAppend);

// A whole 16 KiB batch: Reset, Append until batch.size, Finish (compress + header + CRC).
void BM_BatchEncode(benchmark::State& state) {
  const Compression codec = kCodecs[state.range(0)];
  const auto keys = MakeKeys(1024);
  const auto values = MakeValues(1024);
  RecordBatchBuilder b(codec);
  int64_t records = 0, bytes = 0, out_bytes = 0;
  size_t i = 0;
  for (auto _ : state) {
    b.Reset();
    while (b.size_estimate() < kBatchBytes) {
      b.Append(1700000000000 + static_cast<int64_t>(i), keys[i & 1023], values[i & 1023]);
      ++i;
    }
    auto batch = b.Finish();
    if (!batch.ok()) state.SkipWithError("Finish failed");
    records += b.record_count();
    bytes += static_cast<int64_t>(b.size_estimate());
    out_bytes += static_cast<int64_t>(batch->size());
  }
  SetCodecLabel(state, codec);
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(bytes);
  state.counters["ratio"] = static_cast<double>(bytes) / static_cast<double>(out_bytes ? out_bytes : 1);
}
BENCHMARK(BM_BatchEncode)->DenseRange(0, 4);

// Open + iterate every record of one 16 KiB batch (decompressing it first when compressed).
void BM_BatchDecode(benchmark::State& state) {
  const Compression codec = kCodecs[state.range(0)];
  const auto keys = MakeKeys(1024);
  const auto values = MakeValues(1024);
  RecordBatchBuilder b(codec);
  for (size_t i = 0; b.size_estimate() < kBatchBytes; ++i) {
    b.Append(1700000000000 + static_cast<int64_t>(i), keys[i & 1023], values[i & 1023]);
  }
  auto finished = b.Finish();
  const std::string batch(finished->data(), finished->size());
  const int64_t uncompressed = static_cast<int64_t>(b.size_estimate());
  std::string scratch;
  int64_t records = 0;
  for (auto _ : state) {
    auto it = RecordIterator::Open(batch, &scratch);
    if (!it.ok()) state.SkipWithError("Open failed");
    RecordView r;
    size_t sum = 0;
    while (it->Next(&r)) sum += r.value().size() + r.key().size();
    benchmark::DoNotOptimize(sum);
    records += it->records_read();
  }
  SetCodecLabel(state, codec);
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * uncompressed);
}
BENCHMARK(BM_BatchDecode)->DenseRange(0, 4);

// ValidateBatch with CRC on a 16 KiB batch: what the broker does per produced batch.
void BM_BatchValidate(benchmark::State& state) {
  const auto values = MakeValues(1024);
  RecordBatchBuilder b;
  for (size_t i = 0; b.size_estimate() < kBatchBytes; ++i) b.Append(0, std::nullopt, values[i & 1023]);
  auto finished = b.Finish();
  const std::string batch(finished->data(), finished->size());
  for (auto _ : state) benchmark::DoNotOptimize(ValidateBatch(batch).ok());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
}
BENCHMARK(BM_BatchValidate);

void BM_Crc32c(benchmark::State& state) {
  std::string data(1 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + (i >> 9));
  for (auto _ : state) benchmark::DoNotOptimize(crc32c::Value(data.data(), data.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Crc32c);

void BM_Murmur2(benchmark::State& state) {
  const auto keys = MakeKeys(1024);
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(KeyPartition(keys[i++ & 1023], 12));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Murmur2);

}  // namespace
}  // namespace eddy
