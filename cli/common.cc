#include "cli/common.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <csignal>

#include "absl/strings/str_cat.h"

namespace eddy::cli {
namespace {

volatile std::sig_atomic_t g_stop_requested = 0;

void OnStopSignal(int) { g_stop_requested = 1; }

}  // namespace

void AddDataDirFlag(FlagSet* flags, std::string* data_dir) {
  flags->AddString("data-dir", data_dir, "DIR", "the broker's data directory");
}

absl::Status ParseOrHelp(FlagSet* flags, Args args, size_t min_positional, size_t max_positional,
                         std::vector<std::string>* positional, bool* help_shown) {
  *help_shown = false;
  absl::Status s = flags->Parse(args, positional);
  if (flags->help_requested()) {
    std::string usage = flags->Usage();
    fwrite(usage.data(), 1, usage.size(), stdout);
    *help_shown = true;
    return absl::OkStatus();
  }
  if (!s.ok()) return s;
  if (positional->size() < min_positional) {
    return absl::InvalidArgumentError(absl::StrCat("missing ", flags->PositionalName(positional->size()),
                                                   " (see '", flags->CommandName(), " --help')"));
  }
  if (positional->size() > max_positional) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", (*positional)[max_positional],
                                                   "' (see '", flags->CommandName(), " --help')"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Broker>> OpenBroker(const std::string& data_dir) {
  absl::StatusOr<std::unique_ptr<Broker>> broker = Broker::Open({.data_dir = data_dir});
  if (!broker.ok()) {
    return Annotate(broker.status(), absl::StrCat("cannot open data directory '", data_dir, "'"));
  }
  return broker;
}

absl::Status Annotate(const absl::Status& s, absl::string_view context) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
}

absl::Status TopicError(const absl::Status& s, absl::string_view operation, absl::string_view topic) {
  if (s.ok()) return s;
  if (absl::IsNotFound(s)) return absl::NotFoundError(absl::StrCat("topic '", topic, "' does not exist"));
  return Annotate(s, absl::StrCat(operation, " '", topic, "'"));
}

void InstallStopSignalHandlers() {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: let a blocking read() see EINTR
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool StopRequested() { return g_stop_requested != 0; }

absl::Status WriteStdout(absl::string_view data) {
  if (!data.empty() && fwrite(data.data(), 1, data.size(), stdout) != data.size()) {
    int err = errno;
    clearerr(stdout);
    if (err == EPIPE) return absl::UnavailableError("stdout was closed");
    return absl::InternalError(absl::StrCat("cannot write to stdout: ", strerror(err)));
  }
  if (fflush(stdout) != 0) {
    int err = errno;
    clearerr(stdout);
    if (err == EPIPE) return absl::UnavailableError("stdout was closed");
    return absl::InternalError(absl::StrCat("cannot write to stdout: ", strerror(err)));
  }
  return absl::OkStatus();
}

std::string Table::Render() const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&line, row[i]);
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

}  // namespace eddy::cli
