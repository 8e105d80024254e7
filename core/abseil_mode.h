// Process-wide Abseil settings that Eddy's hot paths depend on. Internal: called by the library's entry
// points (Broker::Open, the Streams constructor), not by applications.
#pragma once

namespace eddy::internal {

// Debian builds Abseil without NDEBUG, so absl::Mutex runs its debug-mode deadlock detector: every
// Lock and Unlock updates a lock graph under one process-wide spinlock (an uncontended Lock+Unlock pair
// costs 46 ns instead of 14 here, bench/mutex_bench.cc; threads that lock different mutexes contend on
// that spinlock).
// In a release build of Eddy (NDEBUG) this turns the detector off, once per process, before Eddy's
// threads start; an application that wants it back calls absl::SetMutexDeadlockDetectionMode after
// creating its Broker or Streams. The environment variable EDDY_ABSL_DEADLOCK_DETECTION=1 keeps it on
// (the test script sets it, so that the tests still catch lock-order inversions). Thread-safe.
void UseReleaseMutexMode();

}  // namespace eddy::internal
