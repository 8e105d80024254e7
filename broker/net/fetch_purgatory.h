// FetchPurgatory: where long-poll fetches wait (Kafka's DelayedFetch purgatory). A Fetch that found fewer
// than min_bytes is parked here instead of blocking an I/O thread; one thread re-evaluates parked fetches
// when the broker's AppendNotifier reports new data, and answers each at its deadline (max_wait_ms) with
// whatever it has.
//
// Evaluating a parked fetch is the fetch's own closure: it checks its partitions' log end offsets (a few
// atomic loads) and reads only when there is new data; it returns true once it has answered.
//
// Thread-safe. Closures run on the purgatory thread (or on the caller of Park/Shutdown after Shutdown).
#pragma once

#include <cstdint>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/append_notifier.h"

namespace eddy::net {

class FetchPurgatory {
 public:
  // Evaluate(deadline_passed): try to answer; must answer (and return true) when deadline_passed.
  using Evaluator = absl::AnyInvocable<bool(bool deadline_passed)>;

  // `notifier` is not owned and must outlive the purgatory.
  explicit FetchPurgatory(broker::AppendNotifier* notifier);
  // Calls Shutdown.
  ~FetchPurgatory();
  FetchPurgatory(const FetchPurgatory&) = delete;
  FetchPurgatory& operator=(const FetchPurgatory&) = delete;

  // Park keeps `evaluate` until it answers or `deadline` passes. `seen_version` is the notifier's version
  // read before the caller's own (unsuccessful) read: if data arrived since, it is evaluated again at once.
  void Park(uint64_t seen_version, absl::Time deadline, Evaluator evaluate);

  // Shutdown answers every parked fetch now (deadline_passed = true) and stops the thread; later Parks are
  // answered at once. Idempotent.
  void Shutdown();

  // Parked fetches (tests).
  size_t parked() const;

 private:
  struct Entry {
    uint64_t seen_version;
    absl::Time deadline;
    Evaluator evaluate;
  };

  void Run();

  broker::AppendNotifier* const notifier_;
  mutable absl::Mutex mu_;
  std::vector<Entry> parked_ ABSL_GUARDED_BY(mu_);
  // The deadline the thread sleeps until (InfiniteFuture while idle): a Park with an earlier one wakes it.
  absl::Time sleeping_until_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace eddy::net
