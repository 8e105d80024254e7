// Helpers shared by the eddy tool's commands: the --data-dir flag and opening the broker, error context,
// stop signals (SIGINT/SIGTERM), writing to stdout, aligned tables, and the command entry points.
//
// Error convention: every command returns absl::Status; main() prints a failed one as a single line
// "eddy: <message>" on stderr and exits 1. Messages are written for the user (they name the topic, group
// or flag), so helpers here add context rather than codes.
//
// Everything here is used from the main thread only, except StopRequested(), which is async-signal-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "cli/flags.h"
#include "eddy/broker/broker.h"

namespace eddy::cli {

// The data directory when --data-dir is not given (relative to the working directory).
inline constexpr char kDefaultDataDir[] = "./eddy-data";

// The words after the command name.
using Args = absl::Span<const std::string>;

// Command entry points (one file each: topics_cmd.cc, produce_cmd.cc, ...). Each prints its own usage for
// --help and returns OK.
absl::Status RunTopics(Args args);
absl::Status RunProduce(Args args);
absl::Status RunConsume(Args args);
absl::Status RunGroups(Args args);
absl::Status RunBench(Args args);
absl::Status RunBenchKafka(Args args);  // cli/bench_kafka_cmd.cc: `eddy bench kafka`, over the protocol
absl::Status RunDemo(Args args);
absl::Status RunBroker(Args args);  // cli/broker_cmd.cc: serves the Kafka protocol

// AddDataDirFlag declares --data-dir (default ./eddy-data) on `flags`.
void AddDataDirFlag(FlagSet* flags, std::string* data_dir);

// ParseOrHelp parses `args`; if --help was given it prints the usage to stdout and sets *help_shown.
// Then checks that there are between `min_positional` and `max_positional` positional arguments.
absl::Status ParseOrHelp(FlagSet* flags, Args args, size_t min_positional, size_t max_positional,
                         std::vector<std::string>* positional, bool* help_shown);

// OpenBroker opens the data directory; the message says which directory and why it failed (e.g. another
// eddy process holds its lock).
absl::StatusOr<std::unique_ptr<Broker>> OpenBroker(const std::string& data_dir);

// Annotate returns `s` with "context: " before its message (same code); OK stays OK.
absl::Status Annotate(const absl::Status& s, absl::string_view context);

// TopicError turns the broker's error for topic `topic` into the user's words: kNotFound becomes
// "topic 'x' does not exist", others are annotated with the operation.
absl::Status TopicError(const absl::Status& s, absl::string_view operation, absl::string_view topic);

// InstallStopSignalHandlers makes SIGINT and SIGTERM set a flag instead of killing the process (so a
// command can commit offsets and flush before it exits) and ignores SIGPIPE (a closed stdout is seen as a
// write error). Without SA_RESTART: a blocking read() on stdin returns EINTR.
void InstallStopSignalHandlers();
// StopRequested: whether SIGINT or SIGTERM arrived since InstallStopSignalHandlers.
bool StopRequested();

// WriteStdout writes all of `data` to stdout with one fwrite and flushes it. kUnavailable if stdout was
// closed (EPIPE: e.g. piped into `head`), kInternal for other write errors.
absl::Status WriteStdout(absl::string_view data);

// DeliveryTracker counts a producer's delivery callbacks: acknowledged records, failed ones and the first
// error. Callback() returns a callback that captures only `this`, small enough for AnyInvocable's inline
// storage: no allocation per record. Thread-safe (callbacks run on the producer's I/O thread); must
// outlive the producer's Flush/Close.
class DeliveryTracker {
 public:
  DeliveryCallback Callback() {
    return [this](const absl::Status& s, const RecordMetadata&) {
      if (s.ok()) {
        acknowledged_.fetch_add(1, std::memory_order_relaxed);
      } else {
        OnFailure(s);
      }
    };
  }
  int64_t acknowledged() const { return acknowledged_.load(std::memory_order_relaxed); }
  int64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  absl::Status first_error() const {
    absl::MutexLock lock(&mu_);
    return first_error_;
  }

 private:
  void OnFailure(const absl::Status& s) {
    failed_.fetch_add(1, std::memory_order_relaxed);
    absl::MutexLock lock(&mu_);
    if (first_error_.ok()) first_error_ = s;
  }

  std::atomic<int64_t> acknowledged_{0};
  std::atomic<int64_t> failed_{0};
  mutable absl::Mutex mu_;
  absl::Status first_error_ ABSL_GUARDED_BY(mu_);
};

// Table collects rows and renders them with columns aligned, like Kafka's tools print them.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// Stopwatch measures wall time on the monotonic clock.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  int64_t Micros() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start_)
        .count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace eddy::cli
