// eddy topics create|list|describe|alter|delete: topic administration through Admin, printing what
// kafka-topics prints.
#include <stdio.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/cluster.h"
#include "cli/common.h"
#include "cli/describe.h"
#include "eddy/core/status.h"

namespace eddy::cli {
namespace {

constexpr char kTopicsUsage[] =
    "Usage: eddy topics SUBCOMMAND [ARGS] [--data-dir DIR | --bootstrap HOST:PORT]\n"
    "\n"
    "Subcommands:\n"
    "  create NAME [--partitions N] [--config k=v ...]   create a topic\n"
    "  list [--include-internal]                         list topic names, one per line\n"
    "  describe [NAME]                                   partitions with start/end offsets, and configs\n"
    "  alter NAME --partitions N                         raise the partition count (increase only)\n"
    "  delete NAME                                       delete a topic and its data\n"
    "\n"
    "Run 'eddy topics SUBCOMMAND --help' for details.\n";

absl::Status ParseConfigs(const std::vector<std::string>& pairs, std::map<std::string, std::string>* out) {
  for (const std::string& pair : pairs) {
    size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(absl::StrCat("--config takes key=value, not '", pair, "'"));
    }
    (*out)[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return absl::OkStatus();
}

absl::Status Create(Args args) {
  ClusterFlags where;
  int64_t partitions = -1;
  std::vector<std::string> configs;
  FlagSet flags("eddy topics create NAME [--partitions N] [--config k=v ...]",
                "Creates a topic. Names follow Kafka's rules: 1-249 characters of [a-zA-Z0-9._-], not '.' "
                "or '..'.\nConfigs are Kafka's topic configs, e.g. retention.ms, segment.bytes, "
                "cleanup.policy.");
  flags.AddInt("partitions", &partitions, "N", "number of partitions (default: the broker's num.partitions, 1)",
               1, INT32_MAX);
  flags.AddList("config", &configs, "k=v", "a topic config; repeat for several");
  AddClusterFlags(&flags, &where);
  std::vector<std::string> pos;
  bool help = false;
  EDDY_RETURN_IF_ERROR(ParseOrHelp(&flags, args, 1, 1, &pos, &help));
  if (help) return absl::OkStatus();

  NewTopic topic{.name = pos[0], .partitions = static_cast<int32_t>(partitions)};
  EDDY_RETURN_IF_ERROR(ParseConfigs(configs, &topic.configs));
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<Cluster> broker, OpenCluster(where));
  absl::Status s = broker->admin().CreateTopic(topic);
  if (absl::IsAlreadyExists(s)) return absl::AlreadyExistsError(absl::StrCat("topic '", pos[0], "' already exists"));
  EDDY_RETURN_IF_ERROR(Annotate(s, absl::StrCat("cannot create topic '", pos[0], "'")));
  EDDY_RETURN_IF_ERROR(broker->Close());
  printf("Created topic %s.\n", pos[0].c_str());
  return absl::OkStatus();
}

absl::Status List(Args args) {
  ClusterFlags where;
  bool include_internal = false;
  FlagSet flags("eddy topics list [--include-internal]", "Lists topic names, one per line, sorted.");
  flags.AddBool("include-internal", &include_internal, "also list internal topics (__consumer_offsets)");
  AddClusterFlags(&flags, &where);
  std::vector<std::string> pos;
  bool help = false;
  EDDY_RETURN_IF_ERROR(ParseOrHelp(&flags, args, 0, 0, &pos, &help));
  if (help) return absl::OkStatus();

  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<Cluster> broker, OpenCluster(where));
  absl::StatusOr<std::vector<std::string>> names = broker->admin().ListTopics(include_internal);
  EDDY_RETURN_IF_ERROR(Annotate(names.status(), "cannot list topics"));
  std::string out;
  for (const std::string& name : *names) absl::StrAppend(&out, name, "\n");
  EDDY_RETURN_IF_ERROR(WriteStdout(out));
  return broker->Close();
}

absl::Status Describe(Args args) {
  ClusterFlags where;
  FlagSet flags("eddy topics describe [NAME]",
                "Describes a topic (or every topic): partitions with their start and end offsets, and the\n"
                "configs set on the topic.");
  AddClusterFlags(&flags, &where);
  std::vector<std::string> pos;
  bool help = false;
  EDDY_RETURN_IF_ERROR(ParseOrHelp(&flags, args, 0, 1, &pos, &help));
  if (help) return absl::OkStatus();

  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<Cluster> broker, OpenCluster(where));
  std::vector<std::string> names = pos;
  if (names.empty()) {
    absl::StatusOr<std::vector<std::string>> all = broker->admin().ListTopics();
    EDDY_RETURN_IF_ERROR(Annotate(all.status(), "cannot list topics"));
    names = *std::move(all);
  }
  std::string out;
  for (const std::string& name : names) {
    absl::StatusOr<TopicDescription> d = broker->admin().DescribeTopic(name);
    EDDY_RETURN_IF_ERROR(TopicError(d.status(), "cannot describe topic", name));
    absl::StrAppend(&out, FormatTopicDescription(*d));
  }
  EDDY_RETURN_IF_ERROR(WriteStdout(out));
  return broker->Close();
}

absl::Status Alter(Args args) {
  ClusterFlags where;
  int64_t partitions = -1;
  FlagSet flags("eddy topics alter NAME --partitions N",
                "Raises a topic's partition count to N. Partitions cannot be removed (as in Kafka); keys\n"
                "may map to other partitions afterwards.");
  flags.AddInt("partitions", &partitions, "N", "the new total number of partitions (required)", 1, INT32_MAX);
  AddClusterFlags(&flags, &where);
  std::vector<std::string> pos;
  bool help = false;
  EDDY_RETURN_IF_ERROR(ParseOrHelp(&flags, args, 1, 1, &pos, &help));
  if (help) return absl::OkStatus();
  if (!flags.IsSet("partitions")) {
    return absl::InvalidArgumentError("--partitions is required (see 'eddy topics alter --help')");
  }

  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<Cluster> broker, OpenCluster(where));
  absl::Status s = broker->admin().CreatePartitions(pos[0], static_cast<int32_t>(partitions));
  EDDY_RETURN_IF_ERROR(TopicError(s, "cannot alter topic", pos[0]));
  EDDY_RETURN_IF_ERROR(broker->Close());
  printf("Topic %s now has %lld partitions.\n", pos[0].c_str(), static_cast<long long>(partitions));
  return absl::OkStatus();
}

absl::Status Delete(Args args) {
  ClusterFlags where;
  FlagSet flags("eddy topics delete NAME", "Deletes a topic and all its data.");
  AddClusterFlags(&flags, &where);
  std::vector<std::string> pos;
  bool help = false;
  EDDY_RETURN_IF_ERROR(ParseOrHelp(&flags, args, 1, 1, &pos, &help));
  if (help) return absl::OkStatus();

  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<Cluster> broker, OpenCluster(where));
  EDDY_RETURN_IF_ERROR(TopicError(broker->admin().DeleteTopic(pos[0]), "cannot delete topic", pos[0]));
  EDDY_RETURN_IF_ERROR(broker->Close());
  printf("Deleted topic %s.\n", pos[0].c_str());
  return absl::OkStatus();
}

}  // namespace

absl::Status RunTopics(Args args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    if (args.empty()) return absl::InvalidArgumentError("missing subcommand (see 'eddy topics --help')");
    fputs(kTopicsUsage, stdout);
    return absl::OkStatus();
  }
  const std::string& sub = args[0];
  Args rest = args.subspan(1);
  if (sub == "create") return Create(rest);
  if (sub == "list") return List(rest);
  if (sub == "describe") return Describe(rest);
  if (sub == "alter") return Alter(rest);
  if (sub == "delete") return Delete(rest);
  return absl::InvalidArgumentError(absl::StrCat("unknown subcommand 'topics ", sub, "' (see 'eddy topics --help')"));
}

}  // namespace eddy::cli
