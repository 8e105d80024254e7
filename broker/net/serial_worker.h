// SerialWorker: one thread that runs closures one at a time, in the order they were posted. The Kafka
// handler gives it the requests that change topics (CreateTopics, DeleteTopics, a Metadata request that
// auto-creates): creating a topic syncs its directories and the metadata file (20-40 ms on the quiet
// reference disk, about 200 ms seen while it was busy), which must not hold up the other connections of
// an I/O thread.
//
// Thread-safe: Post from any thread. Closures run on the worker's thread; the destructor runs what is
// still queued, then joins the thread.
#pragma once

#include <deque>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace eddy::net {

class SerialWorker {
 public:
  // `name` names the thread (at most 15 characters are kept, as pthread_setname_np allows).
  explicit SerialWorker(std::string name);
  // Runs every closure still queued, then joins the thread.
  ~SerialWorker();
  SerialWorker(const SerialWorker&) = delete;
  SerialWorker& operator=(const SerialWorker&) = delete;

  // Post queues `job` behind every earlier one.
  void Post(absl::AnyInvocable<void() &&> job);

 private:
  void Run();

  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> jobs_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace eddy::net
