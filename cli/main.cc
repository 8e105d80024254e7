// eddy: the command-line tool for Eddy's embedded broker. Manages topics, produces from stdin, consumes to
// stdout (kcat's format strings), inspects consumer groups, benchmarks, and runs the demo. Every command
// opens the data directory itself (--data-dir, default ./eddy-data; one process at a time may hold it), or
// with --bootstrap HOST:PORT talks to a running `eddy broker` or Kafka cluster (topics, produce, consume,
// groups, bench).
//
// Exit codes: 0 success, 1 failure (one line "eddy: <what went wrong>" on stderr).
#include <stdio.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/common.h"

namespace eddy::cli {


namespace {

constexpr char kOverview[] =
    "Usage: eddy COMMAND [ARGS] [--data-dir DIR | --bootstrap HOST:PORT]\n"
    "\n"
    "Eddy's command-line tool: topics, producing, consuming and consumer groups on the embedded broker\n"
    "whose data lives in --data-dir (default ./eddy-data), or with --bootstrap HOST:PORT on a running\n"
    "eddy broker or any Kafka cluster.\n"
    "\n"
    "Commands:\n"
    "  topics create NAME [--partitions N] [--config k=v]   create a topic\n"
    "  topics list                                          list topics\n"
    "  topics describe [NAME]                               partitions, offsets and configs\n"
    "  topics alter NAME --partitions N                     add partitions\n"
    "  topics delete NAME                                   delete a topic and its data\n"
    "  produce TOPIC [flags]                                one record per stdin line\n"
    "  consume TOPIC [flags]                                print records (kcat's --format)\n"
    "  groups list                                          list consumer groups\n"
    "  groups describe GROUP                                offsets and lag per partition\n"
    "  bench produce|consume --topic T [flags]              throughput benchmarks\n"
    "  demo                                                 a short tour on a fresh data directory\n"
    "  broker [--listen HOST:PORT]                          serve the data directory over the Kafka protocol\n"
    "  help [COMMAND]                                       this text, or a command's usage\n"
    "\n"
    "Run 'eddy COMMAND --help' for a command's flags.\n";

absl::Status Dispatch(const std::vector<std::string>& argv) {
  if (argv.empty()) {
    fputs(kOverview, stderr);
    return absl::InvalidArgumentError("no command given");
  }
  const std::string& cmd = argv[0];
  Args rest = Args(argv).subspan(1);
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    if (rest.empty()) {
      fputs(kOverview, stdout);
      return absl::OkStatus();
    }
    // "eddy help topics create" is "eddy topics create --help".
    std::vector<std::string> again(rest.begin(), rest.end());
    again.push_back("--help");
    return Dispatch(again);
  }
  if (cmd == "topics") return RunTopics(rest);
  if (cmd == "produce") return RunProduce(rest);
  if (cmd == "consume") return RunConsume(rest);
  if (cmd == "groups") return RunGroups(rest);
  if (cmd == "bench") return RunBench(rest);
  if (cmd == "demo") return RunDemo(rest);
  if (cmd == "broker") return RunBroker(rest);
  return absl::InvalidArgumentError(absl::StrCat("unknown command '", cmd, "' (see 'eddy help')"));
}

}  // namespace
}  // namespace eddy::cli

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::Status s = eddy::cli::Dispatch(args);
  if (!s.ok()) {
    fflush(stdout);
    fprintf(stderr, "eddy: %.*s\n", static_cast<int>(s.message().size()), s.message().data());
    return 1;
  }
  if (fflush(stdout) != 0) {
    fprintf(stderr, "eddy: cannot write to stdout\n");
    return 1;
  }
  return 0;
}
