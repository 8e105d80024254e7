// FastMutex: std::mutex with Abseil's thread-safety annotations, for a lock taken once per record (the
// embedded producer's Send). An uncontended Lock+Unlock costs a third to a half of absl::Mutex's
// (`build/bin/eddy_bench --benchmark_filter=Mutex`: 3.6-7.0 ns against 13.7-15.5 ns with deadlock detection
// off), since glibc's mutex does one atomic operation each way and no waiter bookkeeping. A spin lock whose
// unlock is a plain store measured slower (6 ns). It has no condition variable and no deadlock detection:
// only for a lock held briefly, with nothing waited for under it. Thread-safe.
#pragma once

#include <mutex>

#include "absl/base/thread_annotations.h"

namespace eddy {

class ABSL_LOCKABLE FastMutex {
 public:
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) { return mu_.try_lock(); }
  // Tells the thread-safety analysis the caller holds the lock (it checks nothing at run time).
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}

 private:
  std::mutex mu_;
};

// Holds a FastMutex for its scope, as absl::MutexLock.
class ABSL_SCOPED_LOCKABLE FastMutexLock {
 public:
  explicit FastMutexLock(FastMutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  ~FastMutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  FastMutexLock(const FastMutexLock&) = delete;
  FastMutexLock& operator=(const FastMutexLock&) = delete;

 private:
  FastMutex* mu_;
};

}  // namespace eddy
