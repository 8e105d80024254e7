// One uncontended lock and unlock, which Eddy's per-batch and per-record paths pay (the producer's Send,
// the record cache): absl::Mutex with Abseil's deadlock detection as Debian builds it (on), with it off
// (what Broker::Open and the Streams constructor choose in a release build, core/abseil_mode.h), and
// std::mutex for scale, and FastMutex (core/fast_mutex.h: std::mutex, annotated). Each iteration is one
// Lock+Unlock pair.
//
//   build/bin/eddy_bench --benchmark_filter=Mutex
#include <benchmark/benchmark.h>

#include <mutex>

#include "absl/synchronization/mutex.h"
#include "core/fast_mutex.h"

namespace eddy {
namespace {

// Arg 1: deadlock detection on (Abseil's default in a build without NDEBUG); 0: off. The mode is process-wide,
// so each run sets it and puts back "off", where the rest of the benchmarks run.
void BM_AbslMutexLockUnlock(benchmark::State& state) {
  absl::SetMutexDeadlockDetectionMode(state.range(0) != 0 ? absl::OnDeadlockCycle::kAbort
                                                          : absl::OnDeadlockCycle::kIgnore);
  absl::Mutex mu;
  int64_t n = 0;
  for (auto _ : state) {
    mu.Lock();
    benchmark::DoNotOptimize(++n);
    mu.Unlock();
  }
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AbslMutexLockUnlock)->ArgName("deadlock_detection")->Arg(1)->Arg(0);

void BM_StdMutexLockUnlock(benchmark::State& state) {
  std::mutex mu;
  int64_t n = 0;
  for (auto _ : state) {
    mu.lock();
    benchmark::DoNotOptimize(++n);
    mu.unlock();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StdMutexLockUnlock);

void BM_FastMutexLockUnlock(benchmark::State& state) {
  FastMutex mu;
  int64_t n = 0;
  for (auto _ : state) {
    mu.Lock();
    benchmark::DoNotOptimize(++n);
    mu.Unlock();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FastMutexLockUnlock);


}  // namespace
}  // namespace eddy
