// What the example binaries (build/bin/order-to-shipment, build/bin/sales-windowed) share: a small flag
// parser, the creation of their topics, and the loop that runs an eddy::Streams application until a signal
// or until its input has been idle for a while.
//
//   examples::FlagParser flags("order-to-shipment");
//   flags.AddString("--data-dir", "DIR", &options.data_dir);
//   flags.AddInt("--threads", "N", 1, &options.threads);
//   if (!flags.Parse(argc, argv)) return 2;        // the usage line is printed
//   const sigset_t signals = examples::BlockTerminationSignals();   // before any thread starts
//   ...
//   EDDY_RETURN_IF_ERROR(examples::RunUntilStopped(app, {.name = "...", .exit_after_idle_ms = 500}, signals));
//
// Everything here is called by the binary's main thread only.
#pragma once

#include <signal.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eddy/core/admin.h"
#include "eddy/runtime/streams.h"

namespace eddy::examples {

// FlagParser parses "--name value" pairs into variables it does not own (they must outlive Parse). Every
// flag takes a value; --help/-h, a missing value, an unknown flag or a bad number make Parse print the
// problem and the usage line to stderr and return false (the binaries then exit 2).
class FlagParser {
 public:
  explicit FlagParser(std::string program) : program_(std::move(program)) {}
  void AddString(std::string name, std::string value_name, std::string* out);
  // An integer >= `min`.
  void AddInt(std::string name, std::string value_name, int64_t min, int64_t* out);
  void AddInt(std::string name, std::string value_name, int64_t min, int32_t* out);
  // A number in [min, max].
  void AddDouble(std::string name, std::string value_name, double min, double max, double* out);
  // Whether the flag appeared in the last Parse.
  bool Seen(const std::string& name) const;
  bool Parse(int argc, char** argv);
  std::string Usage() const;

 private:
  struct Flag {
    std::string name;
    std::string value_name;
    std::function<bool(const char*)> set;  // false: bad value
    bool seen = false;
  };
  std::string program_;
  std::vector<Flag> flags_;
};

// One topic an example reads or writes.
struct ExampleTopic {
  std::string name;
  bool input = false;  // created with `input_partitions`; the others get as many as the input has
};
// CreateMissingTopics creates the topics that do not exist: the input with `input_partitions` (4 in both
// examples), the others with as many partitions as the (possibly pre-existing) input has. Returns the
// input's partition count. Exactly one topic must be the input (kInvalidArgument otherwise).
absl::StatusOr<int32_t> CreateMissingTopics(Admin& admin, const std::vector<ExampleTopic>& topics,
                                            int32_t input_partitions = 4);

// BlockTerminationSignals blocks SIGINT and SIGTERM in the calling thread and returns them as a set, for
// RunUntilStopped to take synchronously. Call it before any thread starts, so that every thread inherits
// the mask and only the main thread sees the signals.
sigset_t BlockTerminationSignals();

struct RunOptions {
  std::string name;                 // the binary's name, for log lines
  int64_t exit_after_idle_ms = -1;  // -1: run until a signal
  // With exit_after_idle_ms: the run ends only once this also returns true (it is asked every 50 ms while
  // the input is idle), e.g. "every window's final result went out". Null: idle is enough. An error ends
  // the run with that error.
  std::function<absl::StatusOr<bool>()> drained;
};

// RunUntilStopped waits until SIGINT/SIGTERM (taken from `signals`), until the application fails, or (with
// exit_after_idle_ms) until no stream thread polled a record for that long while the application was
// RUNNING and `drained` holds; then closes the application (which commits and leaves the group). Returns
// the error of a failed application or of Close.
absl::Status RunUntilStopped(Streams& app, const RunOptions& options, const sigset_t& signals);

// Records polled by all stream threads so far.
int64_t PolledRecords(const Streams& app);

}  // namespace eddy::examples
