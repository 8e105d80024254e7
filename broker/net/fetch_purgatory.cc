#include "broker/net/fetch_purgatory.h"

#include <utility>

#include "absl/time/clock.h"

namespace eddy::net {

FetchPurgatory::FetchPurgatory(broker::AppendNotifier* notifier) : notifier_(notifier) {
  thread_ = std::thread([this] { Run(); });
}

FetchPurgatory::~FetchPurgatory() { Shutdown(); }

void FetchPurgatory::Park(uint64_t seen_version, absl::Time deadline, Evaluator evaluate) {
  {
    absl::MutexLock lock(&mu_);
    if (!stop_) {
      // Wake the thread if it sleeps past this deadline, or if this fetch may already have missed data.
      const bool wake = sleeping_until_ != absl::InfiniteFuture() &&
                        (deadline < sleeping_until_ || seen_version != notifier_->version());
      parked_.push_back(Entry{seen_version, deadline, std::move(evaluate)});
      if (!wake) return;
      evaluate = nullptr;
    }
  }
  if (evaluate) {
    evaluate(true);  // after Shutdown
    return;
  }
  // The thread sleeps in WaitChange: bumping the version wakes it (and, harmlessly, embedded consumers).
  notifier_->Notify();
}

size_t FetchPurgatory::parked() const {
  absl::MutexLock lock(&mu_);
  return parked_.size();
}

void FetchPurgatory::Shutdown() {
  std::vector<Entry> left;
  {
    absl::MutexLock lock(&mu_);
    if (stop_) return;
    stop_ = true;
  }
  notifier_->Notify();
  if (thread_.joinable()) thread_.join();
  {
    absl::MutexLock lock(&mu_);
    left.swap(parked_);
  }
  for (Entry& e : left) e.evaluate(true);
}

void FetchPurgatory::Run() {
  std::vector<Entry> batch;
  std::vector<Entry> keep;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      sleeping_until_ = absl::InfiniteFuture();
      mu_.Await(absl::Condition(
          +[](FetchPurgatory* p) ABSL_NO_THREAD_SAFETY_ANALYSIS { return p->stop_ || !p->parked_.empty(); }, this));
      if (stop_) return;
      batch.swap(parked_);
    }
    // Read the version before evaluating: an append after this point makes the wait below return at once.
    const uint64_t version = notifier_->version();
    const absl::Time now = absl::Now();
    absl::Time earliest = absl::InfiniteFuture();
    for (Entry& e : batch) {
      const bool expired = now >= e.deadline;
      // Only fetches that may see new data, or whose time is up, are evaluated.
      if (expired || e.seen_version != version) {
        e.seen_version = version;
        if (e.evaluate(expired)) continue;
      }
      earliest = std::min(earliest, e.deadline);
      keep.push_back(std::move(e));
    }
    batch.clear();
    {
      absl::MutexLock lock(&mu_);
      bool again = false;  // fetches parked meanwhile that may have missed data
      for (const Entry& e : parked_) {
        earliest = std::min(earliest, e.deadline);
        again = again || e.seen_version != version;
      }
      for (Entry& e : keep) parked_.push_back(std::move(e));
      keep.clear();
      if (stop_ || again || parked_.empty()) continue;
      sleeping_until_ = earliest;
    }
    notifier_->WaitChange(version, earliest);
  }
}

}  // namespace eddy::net
