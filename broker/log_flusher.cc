// LogFlusher. See log_flusher.h.
#include "broker/log_flusher.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace eddy::broker {

LogFlusher::LogFlusher(int threads) {
  for (int i = 0; i < std::max(threads, 1); ++i) threads_.emplace_back([this] { Run(); });
}

LogFlusher::~LogFlusher() { Stop(); }

void LogFlusher::RequestFlush(std::shared_ptr<PartitionLog> log, int64_t last_offset,
                              absl::AnyInvocable<void(absl::Status)> done) {
  if (log->flushed_offset() > last_offset) {
    done(absl::OkStatus());
    return;
  }
  if (last_offset >= log->log_end_offset()) {
    done(absl::OutOfRangeError(absl::StrCat("cannot wait for offset ", last_offset, " of ",
                                            ToString(log->topic_partition()), ": the log ends before it, at ",
                                            log->log_end_offset())));
    return;
  }
  {
    absl::MutexLock l(&mu_);
    if (!stopping_) {
      PartitionLog* key = log.get();
      Pending& p = pending_[key];
      if (p.log == nullptr) p.log = std::move(log);
      p.waiters.push_back(Waiter{last_offset, std::move(done)});
      if (!p.queued && !p.in_flight) {
        p.queued = true;
        ready_.push_back(key);
      }
      return;
    }
  }
  done(absl::UnavailableError("the log flusher is stopped"));
}

void LogFlusher::Run() {
  for (;;) {
    std::shared_ptr<PartitionLog> log;
    std::vector<Waiter> waiters;
    {
      absl::MutexLock l(&mu_);
      mu_.Await(absl::Condition(
          +[](LogFlusher* f) ABSL_EXCLUSIVE_LOCKS_REQUIRED(f->mu_) { return !f->ready_.empty() || f->stopping_; },
          this));
      if (ready_.empty()) return;  // stopping, and nothing left to do
      PartitionLog* key = ready_.front();
      ready_.pop_front();
      Pending& p = pending_[key];
      p.queued = false;
      p.in_flight = true;
      log = p.log;
      waiters.swap(p.waiters);
    }
    // One sync for every waiter taken; it covers everything appended before it started, so usually
    // more than they asked for.
    absl::StatusOr<int64_t> flushed = log->Flush();
    for (Waiter& w : waiters) {
      if (!flushed.ok()) {
        w.done(flushed.status());
      } else if (*flushed > w.last_offset) {
        w.done(absl::OkStatus());
      } else {
        w.done(absl::InternalError(absl::StrCat("flush reached offset ", *flushed, ", not past ", w.last_offset)));
      }
    }
    absl::MutexLock l(&mu_);
    Pending& p = pending_[log.get()];
    p.in_flight = false;
    if (p.waiters.empty()) {
      pending_.erase(log.get());
    } else {
      p.queued = true;
      ready_.push_back(log.get());
    }
  }
}

void LogFlusher::Stop() {
  {
    absl::MutexLock l(&mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace eddy::broker
