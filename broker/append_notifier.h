// AppendNotifier: wakes consumers waiting in Poll (long poll) when any partition gets new data.
// Appenders call Notify() once per appended batch; it costs one atomic increment unless someone waits.
#pragma once

#include <atomic>
#include <cstdint>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace eddy::broker {

// Thread-safe.
class AppendNotifier {
 public:
  // version() changes after every Notify(); read it before checking for data, then WaitChange(v, ...).
  uint64_t version() const { return version_.load(std::memory_order_acquire); }

  void Notify() {
    // seq_cst on both sides (Dekker): a waiter that registered is always seen here, or sees the new version.
    version_.fetch_add(1);
    if (waiters_.load() > 0) {
      absl::MutexLock lock(&mu_);
      cv_.SignalAll();
    }
  }

  // WaitChange blocks until version() != seen or `deadline`; returns true if it changed.
  bool WaitChange(uint64_t seen, absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    waiters_.fetch_add(1);
    while (version_.load() == seen) {
      if (cv_.WaitWithDeadline(&mu_, deadline)) break;
    }
    waiters_.fetch_sub(1);
    return version() != seen;
  }

 private:
  std::atomic<uint64_t> version_{0};
  std::atomic<int32_t> waiters_{0};
  absl::Mutex mu_;
  absl::CondVar cv_;
};

}  // namespace eddy::broker
