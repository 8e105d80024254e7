// Test helpers for the group coordinator tests (not part of the library): an in-memory GroupStore that can
// defer or fail appends, and small synchronous wrappers that capture coordinator responses.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "broker/group_coordinator.h"
#include "broker/group_store.h"

namespace eddy::broker::testing {

// An in-memory log. By default an Append is durable at once (on_durable runs inside Append); with
// set_deferred(true) appends wait in a queue until CompleteNext/CompleteAll. fail_next(n) makes the next n
// appends fail (kUnavailable) without being stored.
class FakeGroupStore : public GroupStore {
 public:
  void Append(std::string key, std::optional<std::string> value,
              absl::AnyInvocable<void(absl::Status)> on_durable) override {
    absl::Status status;
    {
      absl::MutexLock lock(&mu_);
      if (fail_next_ > 0) {
        --fail_next_;
        status = absl::UnavailableError("injected append failure");
      } else if (deferred_) {
        pending_.push_back(Pending{std::move(key), std::move(value), std::move(on_durable)});
        return;
      } else {
        records_.emplace_back(std::move(key), std::move(value));
      }
    }
    on_durable(status);
  }

  absl::Status Replay(absl::FunctionRef<void(absl::string_view, std::optional<absl::string_view>)> fn) override {
    std::vector<std::pair<std::string, std::optional<std::string>>> records;
    {
      absl::MutexLock lock(&mu_);
      records = records_;
    }
    for (const auto& [key, value] : records) {
      fn(key, value ? std::optional<absl::string_view>(*value) : std::nullopt);
    }
    return absl::OkStatus();
  }

  void set_deferred(bool deferred) {
    absl::MutexLock lock(&mu_);
    deferred_ = deferred;
  }
  void fail_next(int n) {
    absl::MutexLock lock(&mu_);
    fail_next_ = n;
  }
  size_t pending() {
    absl::MutexLock lock(&mu_);
    return pending_.size();
  }
  // Makes the oldest deferred append durable (or fails it with `status`).
  void CompleteNext(absl::Status status = absl::OkStatus()) {
    Pending p;
    {
      absl::MutexLock lock(&mu_);
      p = std::move(pending_.front());
      pending_.pop_front();
      if (status.ok()) records_.emplace_back(std::move(p.key), std::move(p.value));
    }
    p.on_durable(status);
  }
  void CompleteAll() {
    while (pending() > 0) CompleteNext();
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> records() {
    absl::MutexLock lock(&mu_);
    return records_;
  }
  void AddRecord(std::string key, std::optional<std::string> value) {
    absl::MutexLock lock(&mu_);
    records_.emplace_back(std::move(key), std::move(value));
  }

 private:
  struct Pending {
    std::string key;
    std::optional<std::string> value;
    absl::AnyInvocable<void(absl::Status)> on_durable;
  };
  absl::Mutex mu_;
  std::vector<std::pair<std::string, std::optional<std::string>>> records_ ABSL_GUARDED_BY(mu_);
  std::deque<Pending> pending_ ABSL_GUARDED_BY(mu_);
  bool deferred_ ABSL_GUARDED_BY(mu_) = false;
  int fail_next_ ABSL_GUARDED_BY(mu_) = 0;
};

// Captures one asynchronous response.
template <typename Response>
struct Captured {
  bool done = false;
  int calls = 0;
  Response response;

  auto Callback() {
    return [this](const Response& r) {
      ++calls;
      done = true;
      response = r;
    };
  }
};

// Options for a deterministic coordinator: injected clock, no timer thread, fixed member-id seed, no
// initial rebalance delay (tests of the delay set it).
inline GroupCoordinatorOptions TestOptions(int64_t* now_ms) {
  GroupCoordinatorOptions o;
  o.now_ms = [now_ms] { return *now_ms; };
  o.start_timer_thread = false;
  o.member_id_seed = 42;
  o.initial_rebalance_delay_ms = 0;
  return o;
}

}  // namespace eddy::broker::testing
