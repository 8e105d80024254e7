// eddy consume TOPIC: prints records to stdout with kcat's format strings, like kafka-console-consumer and
// `kcat -C`. Without --group the partitions are assigned directly (no offsets are committed); with --group
// the consumer joins the group and commits exactly what it printed when it stops, so the next run with
// the same group continues with the next record.
//
// Output is built in one buffer per poll and written with a single fwrite.
#include <stdio.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/cluster.h"
#include "cli/common.h"
#include "cli/consume_loop.h"
#include "cli/record_format.h"
#include "eddy/core/status.h"

namespace eddy::cli {
namespace {

struct ConsumeOptions {
  std::string topic;
  std::string group;
  bool from_beginning = false;
  int64_t partition = -1;
  int64_t offset = 0;
  bool offset_set = false;
};

// AssignAndSeek assigns the topic's partitions (or the one asked for) and positions them.
absl::Status AssignAndSeek(const ConsumeOptions& o, const TopicDescription& topic, Admin& admin,
                           Consumer* consumer) {
  std::vector<TopicPartition> tps;
  for (const PartitionDescription& p : topic.partitions) {
    if (o.partition < 0 || p.partition == o.partition) tps.push_back({o.topic, p.partition});
  }
  if (tps.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("topic '", o.topic, "' has ", topic.partitions.size(),
                                                   " partitions: there is no partition ", o.partition));
  }
  EDDY_RETURN_IF_ERROR(consumer->Assign(tps));
  if (o.from_beginning) return consumer->SeekToBeginning(tps);
  if (!o.offset_set) return consumer->SeekToEnd(tps);
  for (const TopicPartition& tp : tps) {
    int64_t target = o.offset;
    if (target < 0) {  // kcat's -o -N: N records before the end
      EDDY_ASSIGN_OR_RETURN(OffsetAndTimestamp start, admin.ListOffsets(tp, kEarliestTimestamp));
      EDDY_ASSIGN_OR_RETURN(OffsetAndTimestamp end, admin.ListOffsets(tp, kLatestTimestamp));
      target = std::max(start.offset, end.offset + o.offset);
    }
    EDDY_RETURN_IF_ERROR(Annotate(consumer->Seek(tp, target),
                                  absl::StrCat("cannot seek ", ToString(tp), " to offset ", target)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunConsume(Args args) {
  ClusterFlags where;
  ConsumeOptions o;
  ConsumeLoopOptions loop;
  std::string format = "%s\\n";
  std::vector<std::string> consumer_configs;
  FlagSet flags(
      "eddy consume TOPIC [--from-beginning] [--group G] [--partition P --offset O] [--max-messages N] "
      "[--timeout-ms T] [--format FMT]",
      "Prints the topic's records on stdout. Without --group: reads every partition (or only --partition P)\n"
      "from the end (new records only), from the beginning with --from-beginning, or from offset O with\n"
      "--offset (negative: O records before the end). With --group G: joins consumer group G, starts at\n"
      "the group's committed offsets (else at the end, or the beginning with --from-beginning), and\n"
      "commits what it printed when it stops.\n"
      "Stops after --max-messages, after --timeout-ms without a record, or on SIGINT/SIGTERM.\n"
      "FMT (kcat's): %t topic, %p partition, %o offset, %k key, %s value, %T timestamp (ms), %h headers\n"
      "(k=v,...), %K key length, %S value length (-1 if null), %% percent; escapes \\n \\t \\r \\\\ \\xHH.");
  flags.AddBool("from-beginning", &o.from_beginning, "start at the first record (auto.offset.reset=earliest)");
  flags.AddString("group", &o.group, "G", "consumer group id; offsets are committed at exit");
  flags.AddInt("partition", &o.partition, "P", "read only partition P (default: all)", 0, INT32_MAX);
  flags.AddInt("offset", &o.offset, "O", "start at offset O; negative: O records before the end (default: end)");
  flags.AddInt("max-messages", &loop.max_messages, "N", "stop after N records (default: no limit)", 0);
  flags.AddInt("timeout-ms", &loop.idle_timeout_ms, "T",
               "stop when no record arrived for T ms (default: wait for SIGINT)", 0);
  flags.AddString("format", &format, "FMT", "output format");
  flags.AddList("consumer-config", &consumer_configs, "k=v", "any consumer config by its Kafka name");
  AddClusterFlags(&flags, &where);
  std::vector<std::string> pos;
  bool help = false;
  EDDY_RETURN_IF_ERROR(ParseOrHelp(&flags, args, 1, 1, &pos, &help));
  if (help) return absl::OkStatus();
  o.topic = pos[0];
  o.offset_set = flags.IsSet("offset");
  if (!o.group.empty() && (o.offset_set || flags.IsSet("partition"))) {
    return absl::InvalidArgumentError("--partition and --offset cannot be used with --group");
  }
  if (o.from_beginning && o.offset_set) {
    return absl::InvalidArgumentError("use either --from-beginning or --offset, not both");
  }
  EDDY_ASSIGN_OR_RETURN(RecordFormatter formatter, RecordFormatter::Parse(format));

  ConsumerConfig config;
  config.client_id = "eddy-consume";
  config.group_id = o.group;
  config.auto_offset_reset = o.from_beginning ? OffsetReset::kEarliest : OffsetReset::kLatest;
  config.enable_auto_commit = false;
  for (const std::string& kv : consumer_configs) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("--consumer-config takes key=value, not '", kv, "'"));
    }
    EDDY_RETURN_IF_ERROR(config.Set(kv.substr(0, eq), kv.substr(eq + 1)));
  }

  InstallStopSignalHandlers();
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<Cluster> broker, OpenCluster(where));
  absl::StatusOr<TopicDescription> topic = broker->admin().DescribeTopic(o.topic);
  EDDY_RETURN_IF_ERROR(TopicError(topic.status(), "cannot consume from topic", o.topic));
  absl::StatusOr<std::unique_ptr<Consumer>> consumer = broker->NewConsumer(config);
  EDDY_RETURN_IF_ERROR(Annotate(consumer.status(), "cannot create a consumer"));
  if (o.group.empty()) {
    EDDY_RETURN_IF_ERROR(AssignAndSeek(o, *topic, broker->admin(), consumer->get()));
  } else {
    EDDY_RETURN_IF_ERROR(Annotate((*consumer)->Subscribe({o.topic}),
                                  absl::StrCat("cannot join group '", o.group, "'")));
  }

  ConsumeLoop consume_loop(consumer->get(), loop);
  std::string out;
  absl::Status run_status = consume_loop.Run(
      [&](const RecordView& r) { formatter.Append(o.topic, r, &out); },
      [&]() {
        absl::Status s = WriteStdout(out);
        out.clear();
        return s;
      });
  run_status = Annotate(run_status, absl::StrCat("topic '", o.topic, "'"));
  absl::Status commit_status;
  if (!o.group.empty()) commit_status = Annotate(consume_loop.Commit(), absl::StrCat("group '", o.group, "'"));
  absl::Status close_status = (*consumer)->Close();
  consumer->reset();
  absl::Status broker_status = broker->Close();
  fprintf(stderr, "Processed a total of %lld messages\n", static_cast<long long>(consume_loop.consumed()));
  EDDY_RETURN_IF_ERROR(run_status);
  EDDY_RETURN_IF_ERROR(commit_status);
  EDDY_RETURN_IF_ERROR(Annotate(close_status, "cannot close the consumer"));
  return Annotate(broker_status, "cannot close the data directory");
}

}  // namespace eddy::cli
