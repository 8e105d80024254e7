// Fetch over the Kafka protocol on loopback: a real Server + KafkaHandler in this process, a blocking
// client that sends Fetch v11 requests (1 MiB per partition) for a log of 16 KiB batches of 100-byte
// records and reads each response without decoding it, so the broker's cost dominates. Compares the
// sendfile path (zero_copy:1, the default) with reading the batches into memory first (zero_copy:0).
// Counters: records/s, and the broker's CPU per record (this process's CPU time minus the client
// thread's).
//
//   build/bin/eddy_bench --benchmark_filter='KafkaFetch'
#include <sys/resource.h>
#include <time.h>

#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "broker/broker_impl.h"
#include "broker/kafka/frame.h"
#include "broker/log_test_util.h"
#include "broker/net/kafka_handler.h"
#include "broker/net/server.h"
#include "broker/net/test_client.h"
#include "eddy/core/record_batch.h"

namespace eddy::net {
namespace {

constexpr int kBatches = 2048;           // 32 MiB of log
constexpr int kBatchesPerFetch = 63;     // what fits in 1 MiB with the response headers

double CpuSeconds(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void BM_KafkaFetch(benchmark::State& state) {
  const bool zero_copy = state.range(0) != 0;
  broker::testing_util::TempDir dir;
  auto broker = *broker::BrokerImpl::Open(BrokerOptions{dir.path(), {}});
  if (!broker->CreateTopic({"f", 1, {}}).ok()) state.SkipWithError("cannot create the topic");
  std::shared_ptr<broker::PartitionLog> log = *broker->GetLog("f", 0);
  RecordBatchBuilder builder;
  const std::string value(100, 'v');
  while (builder.size_estimate() + RecordBatchBuilder::RecordSizeUpperBound(8, value.size()) <= 16 * 1024) {
    builder.Append(1'700'000'000'000, "key-0001", value);
  }
  absl::Span<char> span = *builder.Finish();
  const std::string batch(span.data(), span.size());
  const int64_t records_per_batch = BatchHeaderView(batch.data()).records_count();
  for (int i = 0; i < kBatches; ++i) {
    std::string b = batch;
    if (!log->Append(absl::MakeSpan(b), 1'700'000'000'000, false).ok()) state.SkipWithError("append failed");
  }
  KafkaHandlerOptions options;
  options.zero_copy_fetch = zero_copy;
  options.log = [](absl::string_view) {};
  KafkaHandler handler(broker.get(), options);
  ServerOptions server_options;
  server_options.port = 0;
  auto server = *Server::Start(server_options, &handler);
  testing::TestClient client;
  if (!client.Connect(server->port())) state.SkipWithError("cannot connect");

  kafka::FetchRequest request;
  request.max_wait_ms = 0;
  request.min_bytes = 1;
  request.max_bytes = 50 << 20;
  request.topics.emplace_back();
  request.topics.back().topic = "f";
  request.topics.back().partitions.emplace_back();
  request.topics.back().partitions.back().partition_max_bytes = 1 << 20;
  kafka::RequestHeader header;
  header.request_api_key = kafka::FetchRequest::kApiKey;
  header.request_api_version = 11;
  header.client_id = "bench";
  std::string out, response;
  int64_t offset = 0, records = 0, bytes = 0;
  const double process_cpu0 = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
  const double client_cpu0 = CpuSeconds(CLOCK_THREAD_CPUTIME_ID);
  for (auto _ : state) {
    request.topics.back().partitions.back().fetch_offset = offset;
    out.clear();
    kafka::Writer writer(&out);
    ++header.correlation_id;
    kafka::EncodeRequestFrame(header, request, writer);
    if (!client.WriteRaw(out) || !client.ReadExactly(4, &response)) {
      state.SkipWithError("fetch failed");
      break;
    }
    const int32_t size = testing::ParseBigEndian32(response);
    if (!client.ReadExactly(static_cast<size_t>(size), &response) ||
        response.size() < static_cast<size_t>(kBatchesPerFetch) * batch.size()) {
      state.SkipWithError("short fetch response");
      break;
    }
    records += kBatchesPerFetch * records_per_batch;
    bytes += size;
    offset += kBatchesPerFetch * records_per_batch;
    if (offset + kBatchesPerFetch * records_per_batch > log->log_end_offset()) offset = 0;
  }
  const double client_cpu = CpuSeconds(CLOCK_THREAD_CPUTIME_ID) - client_cpu0;
  const double broker_cpu = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - process_cpu0 - client_cpu;
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
  state.counters["MB/s"] =
      benchmark::Counter(static_cast<double>(bytes) / (1 << 20), benchmark::Counter::kIsRate);
  state.counters["broker_us/record"] = records > 0 ? broker_cpu * 1e6 / static_cast<double>(records) : 0;
  client.Close();
  server->Shutdown();
}
BENCHMARK(BM_KafkaFetch)->ArgName("zero_copy")->Arg(0)->Arg(1)->UseRealTime()->MinTime(3);

}  // namespace
}  // namespace eddy::net
