// eddy groups list|describe: consumer groups, printed as kafka-consumer-groups --list / --describe.
#include <stdio.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/cluster.h"
#include "cli/common.h"
#include "cli/describe.h"
#include "eddy/core/status.h"

namespace eddy::cli {
namespace {

constexpr char kGroupsUsage[] =
    "Usage: eddy groups SUBCOMMAND [ARGS] [--data-dir DIR | --bootstrap HOST:PORT]\n"
    "\n"
    "Subcommands:\n"
    "  list              list consumer group ids, one per line\n"
    "  describe GROUP    per partition: committed offset, log end offset, lag and owner\n"
    "\n"
    "Run 'eddy groups SUBCOMMAND --help' for details.\n";

absl::Status List(Args args) {
  ClusterFlags where;
  FlagSet flags("eddy groups list", "Lists consumer group ids, one per line.");
  AddClusterFlags(&flags, &where);
  std::vector<std::string> pos;
  bool help = false;
  EDDY_RETURN_IF_ERROR(ParseOrHelp(&flags, args, 0, 0, &pos, &help));
  if (help) return absl::OkStatus();

  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<Cluster> broker, OpenCluster(where));
  absl::StatusOr<std::vector<std::string>> groups = broker->admin().ListGroups();
  EDDY_RETURN_IF_ERROR(Annotate(groups.status(), "cannot list groups"));
  std::string out;
  for (const std::string& g : *groups) absl::StrAppend(&out, g, "\n");
  EDDY_RETURN_IF_ERROR(WriteStdout(out));
  return broker->Close();
}

absl::Status Describe(Args args) {
  ClusterFlags where;
  FlagSet flags("eddy groups describe GROUP",
                "Describes a consumer group like kafka-consumer-groups --describe: per partition the\n"
                "committed offset (CURRENT-OFFSET), the log end offset, the lag between them, and the member\n"
                "that owns the partition. '-' marks a value that is not known (nothing committed, no owner).");
  AddClusterFlags(&flags, &where);
  std::vector<std::string> pos;
  bool help = false;
  EDDY_RETURN_IF_ERROR(ParseOrHelp(&flags, args, 1, 1, &pos, &help));
  if (help) return absl::OkStatus();

  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<Cluster> broker, OpenCluster(where));
  absl::StatusOr<GroupDescription> group = broker->admin().DescribeGroup(pos[0]);
  if (absl::IsNotFound(group.status())) {
    return absl::NotFoundError(absl::StrCat("consumer group '", pos[0], "' does not exist"));
  }
  EDDY_RETURN_IF_ERROR(Annotate(group.status(), absl::StrCat("cannot describe group '", pos[0], "'")));
  EDDY_RETURN_IF_ERROR(WriteStdout(FormatGroupDescription(*group)));
  return broker->Close();
}

}  // namespace

absl::Status RunGroups(Args args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    if (args.empty()) return absl::InvalidArgumentError("missing subcommand (see 'eddy groups --help')");
    fputs(kGroupsUsage, stdout);
    return absl::OkStatus();
  }
  const std::string& sub = args[0];
  if (sub == "list") return List(args.subspan(1));
  if (sub == "describe") return Describe(args.subspan(1));
  return absl::InvalidArgumentError(absl::StrCat("unknown subcommand 'groups ", sub, "' (see 'eddy groups --help')"));
}

}  // namespace eddy::cli
