// Partition log benchmarks: append and read throughput, the recovery scan rate, and the cost of durability
// (raw write+fdatasync per MiB vs Append+Flush per MiB on the same file system, and acks=all group commit
// with concurrent producers). Files go under $TMPDIR (default /tmp).
//
//   build/bin/eddy_bench --benchmark_filter='Log'
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "benchmark/benchmark.h"
#include "broker/log_manager.h"
#include "broker/log_test_util.h"
#include "broker/partition_log.h"

namespace eddy::broker {
namespace {

using testing_util::TempDir;

constexpr int64_t kNow = 1'700'000'000'000;

// A 16 KiB batch of 100-byte records (uncompressed), as a producer with batch.size=16384 builds it.
std::string Batch16K() {
  RecordBatchBuilder b;
  const std::string value(100, 'v');
  while (b.size_estimate() + RecordBatchBuilder::RecordSizeUpperBound(8, value.size()) <= 16 * 1024) {
    b.Append(kNow, "key-0001", value);
  }
  absl::StatusOr<absl::Span<char>> span = b.Finish();
  return std::string(span->data(), span->size());
}

std::unique_ptr<PartitionLog> OpenLog(const std::string& dir, LogConfig config, bool clean = true) {
  RecoveryInfo info;
  info.clean_shutdown = clean;
  return *PartitionLog::Open(dir, {"bench", 0}, config, info);
}

// Fills `log` with `bytes` of 16 KiB batches.
void Fill(PartitionLog& log, int64_t bytes) {
  std::string batch = Batch16K();
  for (int64_t n = 0; n < bytes; n += static_cast<int64_t>(batch.size())) {
    if (!log.Append(absl::MakeSpan(batch), kNow).ok()) std::abort();
  }
}

void BM_LogAppend16KiBBatches(benchmark::State& state) {
  TempDir dir;
  LogConfig config;
  config.segment_bytes = 256 << 20;
  config.retention_ms = -1;
  config.retention_bytes = int64_t{1} << 30;  // bounded disk use
  auto log = OpenLog(dir.Sub("p-0"), config);
  std::string batch = Batch16K();
  int64_t n = 0;
  for (auto _ : state) {
    absl::StatusOr<AppendResult> r = log->Append(absl::MakeSpan(batch), kNow);
    if (!r.ok()) state.SkipWithError(std::string(r.status().message()).c_str());
    if (++n % 4096 == 0) {
      state.PauseTiming();
      (void)log->DeleteOldSegments(kNow);
      state.ResumeTiming();
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(batch.size()));
  state.counters["records/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * BatchHeaderView(batch.data()).records_count(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LogAppend16KiBBatches)->UseRealTime();

// Baseline for the above: plain 16 KiB pwrite(2)s appending to one file on the same file system (rolled
// every 256 MiB like the log, at most 1 GiB kept).
void BM_RawWrite16KiB(benchmark::State& state) {
  TempDir dir;
  std::string buf(16 * 1024, 'x');
  int file = 0, fd = -1;
  int64_t pos = 0;
  for (auto _ : state) {
    if (fd < 0 || pos >= (256 << 20)) {
      state.PauseTiming();
      if (fd >= 0) ::close(fd);
      if (file >= 4) ::unlink(dir.Sub(std::to_string(file - 4)).c_str());
      fd = ::open(dir.Sub(std::to_string(file++)).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      pos = 0;
      state.ResumeTiming();
    }
    if (::pwrite(fd, buf.data(), buf.size(), pos) != static_cast<ssize_t>(buf.size())) state.SkipWithError("pwrite");
    pos += static_cast<int64_t>(buf.size());
  }
  ::close(fd);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(buf.size()));
}
BENCHMARK(BM_RawWrite16KiB)->UseRealTime();

void BM_LogReadFromPageCache(benchmark::State& state) {
  TempDir dir;
  LogConfig config;
  config.segment_bytes = 64 << 20;
  auto log = OpenLog(dir.Sub("p-0"), config);
  Fill(*log, 256 << 20);
  const int32_t max_bytes = static_cast<int32_t>(state.range(0));
  std::string out;
  out.reserve(static_cast<size_t>(max_bytes) + (32 << 10));
  int64_t offset = 0, bytes = 0;
  for (auto _ : state) {
    out.clear();
    absl::StatusOr<ReadResult> r = log->Read(offset, max_bytes, &out);
    if (!r.ok()) state.SkipWithError(std::string(r.status().message()).c_str());
    bytes += r->bytes;
    const auto batches = testing_util::BatchOffsets(out);
    offset = batches.back().second + 1;
    if (offset >= log->log_end_offset()) offset = 0;
  }
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_LogReadFromPageCache)->Arg(64 << 10)->Arg(1 << 20)->UseRealTime();

// Unclean open of a log with no recovery point: every byte is read (8 MiB preads) and CRC-checked. The
// data is in the page cache (as after kill -9; after a power failure it would come from the disk).
void BM_LogRecoveryScan(benchmark::State& state) {
  TempDir dir;
  LogConfig config;
  const int64_t bytes = 512 << 20;
  {
    auto log = OpenLog(dir.Sub("p-0"), config);
    Fill(*log, bytes);
    (void)log->Flush();  // so that the timed opens measure the scan, not writeback
  }
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    auto log = OpenLog(dir.Sub("p-0"), config, /*clean=*/false);
    auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state.SetIterationTime(elapsed);
    if (log->log_end_offset() == 0) state.SkipWithError("nothing recovered");
  }
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_LogRecoveryScan)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(5);

// Baseline: what the file system charges to make 1 MiB durable with write(2) + fdatasync(2).
void BM_RawWriteFdatasyncPerMiB(benchmark::State& state) {
  TempDir dir;
  const std::string path = dir.Sub("raw");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::string mib(1 << 20, 'x');
  int64_t pos = 0;
  for (auto _ : state) {
    if (::pwrite(fd, mib.data(), mib.size(), pos) != static_cast<ssize_t>(mib.size()) || ::fdatasync(fd) != 0) {
      state.SkipWithError("write/fdatasync failed");
    }
    pos += static_cast<int64_t>(mib.size());
  }
  ::close(fd);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(mib.size()));
}
BENCHMARK(BM_RawWriteFdatasyncPerMiB)->UseRealTime()->Unit(benchmark::kMillisecond);

// The same through the log: 64 appends of 16 KiB batches, then Flush.
void BM_LogAppendFlushPerMiB(benchmark::State& state) {
  TempDir dir;
  LogConfig config;
  auto log = OpenLog(dir.Sub("p-0"), config);
  std::string batch = Batch16K();
  const int per_mib = static_cast<int>((1 << 20) / batch.size());
  for (auto _ : state) {
    for (int i = 0; i < per_mib; ++i) (void)log->Append(absl::MakeSpan(batch), kNow);
    if (!log->Flush().ok()) state.SkipWithError("flush failed");
  }
  state.SetBytesProcessed(state.iterations() * per_mib * static_cast<int64_t>(batch.size()));
}
BENCHMARK(BM_LogAppendFlushPerMiB)->UseRealTime()->Unit(benchmark::kMillisecond);

// acks=all with N concurrent producers on one partition: each appends a 1 KiB batch and waits for
// RequestFlush. Group commit lets one fdatasync acknowledge many producers.
struct GroupCommitFixture {
  TempDir dir;
  std::unique_ptr<LogManager> manager;
  std::shared_ptr<PartitionLog> log;
};
GroupCommitFixture* g_group = nullptr;

void BM_LogAcksAllGroupCommit(benchmark::State& state) {
  if (state.thread_index() == 0) {
    g_group = new GroupCommitFixture;
    LogManagerOptions o;
    o.data_dir = g_group->dir.Sub("data");
    g_group->manager = *LogManager::Open(o);
    (void)g_group->manager->CreateTopic("bench", 1);
    g_group->log = *g_group->manager->GetLog("bench", 0);
  }
  // Each thread builds its own batch: Append rewrites baseOffset in place.
  std::string batch = testing_util::MakeBatch(10, 90, kNow);
  for (auto _ : state) {
    absl::StatusOr<AppendResult> r = g_group->log->Append(absl::MakeSpan(batch), kNow);
    absl::Notification done;
    g_group->manager->RequestFlush(g_group->log, r->last_offset, [&](absl::Status) { done.Notify(); });
    done.WaitForNotification();
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    // The other threads are done with the fixture: Google Benchmark joins all threads' loops first.
    delete g_group;
    g_group = nullptr;
  }
}
BENCHMARK(BM_LogAcksAllGroupCommit)->ThreadRange(1, 32)->UseRealTime();

}  // namespace
}  // namespace eddy::broker
