#include "examples/common/example_app.h"

#include <time.h>

#include <cstdio>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eddy/core/status.h"

namespace eddy::examples {

void FlagParser::AddString(std::string name, std::string value_name, std::string* out) {
  flags_.push_back({std::move(name), std::move(value_name), [out](const char* v) {
                      *out = v;
                      return true;
                    }});
}

void FlagParser::AddInt(std::string name, std::string value_name, int64_t min, int64_t* out) {
  flags_.push_back({std::move(name), std::move(value_name),
                    [out, min](const char* v) { return absl::SimpleAtoi(v, out) && *out >= min; }});
}

void FlagParser::AddInt(std::string name, std::string value_name, int64_t min, int32_t* out) {
  flags_.push_back({std::move(name), std::move(value_name),
                    [out, min](const char* v) { return absl::SimpleAtoi(v, out) && *out >= min; }});
}

void FlagParser::AddDouble(std::string name, std::string value_name, double min, double max, double* out) {
  flags_.push_back({std::move(name), std::move(value_name),
                    [out, min, max](const char* v) { return absl::SimpleAtod(v, out) && *out >= min && *out <= max; }});
}

bool FlagParser::Seen(const std::string& name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return f.seen;
  }
  return false;
}

std::string FlagParser::Usage() const {
  std::string usage = absl::StrCat("usage: ", program_);
  for (const Flag& f : flags_) absl::StrAppend(&usage, " [", f.name, " ", f.value_name, "]");
  return usage + "\n";
}

bool FlagParser::Parse(int argc, char** argv) {
  for (Flag& f : flags_) f.seen = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    Flag* flag = nullptr;
    for (Flag& f : flags_) {
      if (f.name == arg) flag = &f;
    }
    if (arg == "--help" || arg == "-h") {
      std::fputs(Usage().c_str(), stderr);
      return false;
    }
    if (flag == nullptr) {
      std::fprintf(stderr, "unknown flag %s\n%s", arg.c_str(), Usage().c_str());
      return false;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n%s", arg.c_str(), Usage().c_str());
      return false;
    }
    const char* value = argv[++i];
    if (!flag->set(value)) {
      std::fprintf(stderr, "%s: bad value '%s'\n%s", arg.c_str(), value, Usage().c_str());
      return false;
    }
    flag->seen = true;
  }
  return true;
}

absl::StatusOr<int32_t> CreateMissingTopics(Admin& admin, const std::vector<ExampleTopic>& topics,
                                            int32_t input_partitions) {
  const ExampleTopic* input = nullptr;
  for (const ExampleTopic& t : topics) {
    if (!t.input) continue;
    if (input != nullptr) return absl::InvalidArgumentError("CreateMissingTopics: more than one input topic");
    input = &t;
  }
  if (input == nullptr) return absl::InvalidArgumentError("CreateMissingTopics: no input topic");
  int32_t partitions = input_partitions;
  absl::StatusOr<TopicDescription> existing = admin.DescribeTopic(input->name);
  if (existing.ok()) {
    partitions = static_cast<int32_t>(existing->partitions.size());
  } else if (absl::IsNotFound(existing.status())) {
    EDDY_RETURN_IF_ERROR(admin.CreateTopic({.name = input->name, .partitions = partitions}));
  } else {
    return existing.status();
  }
  for (const ExampleTopic& t : topics) {
    if (t.input) continue;
    absl::StatusOr<TopicDescription> d = admin.DescribeTopic(t.name);
    if (absl::IsNotFound(d.status())) {
      EDDY_RETURN_IF_ERROR(admin.CreateTopic({.name = t.name, .partitions = partitions}));
    } else if (!d.ok()) {
      return d.status();
    }
  }
  return partitions;
}

sigset_t BlockTerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int64_t PolledRecords(const Streams& app) {
  int64_t n = 0;
  for (const ThreadMetricsSnapshot& t : app.metrics()) n += t.polled_records;
  return n;
}

absl::Status RunUntilStopped(Streams& app, const RunOptions& options, const sigset_t& signals) {
  int64_t last_polled = 0;
  absl::Time last_input = absl::Now();
  absl::Status drain_error;
  while (true) {
    const timespec wait{0, 50 * 1000 * 1000};
    const int sig = sigtimedwait(&signals, nullptr, &wait);
    if (sig == SIGINT || sig == SIGTERM) {
      std::fprintf(stderr, "%s: signal %d, closing\n", options.name.c_str(), sig);
      break;
    }
    const StreamsState state = app.state();
    if (state == StreamsState::kError || state == StreamsState::kPendingError) break;
    const int64_t polled = PolledRecords(app);
    if (polled != last_polled || state != StreamsState::kRunning) {
      last_polled = polled;
      last_input = absl::Now();
      continue;
    }
    if (options.exit_after_idle_ms < 0 || absl::Now() - last_input < absl::Milliseconds(options.exit_after_idle_ms)) {
      continue;
    }
    if (!options.drained) break;
    absl::StatusOr<bool> drained = options.drained();
    if (!drained.ok() && !absl::IsUnavailable(drained.status())) {  // kUnavailable: rebalancing, ask again
      drain_error = drained.status();
      break;
    }
    if (drained.ok() && *drained) break;
  }
  EDDY_RETURN_IF_ERROR(app.Close());
  if (app.state() == StreamsState::kError) return app.error();
  return drain_error;
}

}  // namespace eddy::examples
