#include "cli/describe.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/common.h"

namespace eddy::cli {
namespace {

std::string OrDash(int64_t v) { return v < 0 ? "-" : absl::StrCat(v); }
std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

}  // namespace

std::string FormatTopicDescription(const TopicDescription& topic) {
  std::string out = absl::StrCat("Topic: ", topic.name, "\tPartitionCount: ", topic.partitions.size(),
                                 "\tConfigs: ", absl::StrJoin(topic.configs, ",", absl::PairFormatter("=")),
                                 "\n");
  std::vector<PartitionDescription> partitions = topic.partitions;
  std::sort(partitions.begin(), partitions.end(),
            [](const auto& a, const auto& b) { return a.partition < b.partition; });
  for (const PartitionDescription& p : partitions) {
    absl::StrAppend(&out, "\tTopic: ", topic.name, "\tPartition: ", p.partition,
                    "\tStartOffset: ", p.log_start_offset, "\tEndOffset: ", p.log_end_offset, "\n");
  }
  return out;
}

std::string FormatGroupDescription(const GroupDescription& group) {
  std::string out;
  if (group.members.empty()) {
    absl::StrAppend(&out, "Consumer group '", group.group_id, "' has no active members.\n\n");
  }
  Table table({"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID",
               "HOST", "CLIENT-ID"});
  std::vector<GroupPartitionOffset> offsets = group.offsets;
  std::sort(offsets.begin(), offsets.end(), [](const auto& a, const auto& b) { return a.tp < b.tp; });
  for (const GroupPartitionOffset& o : offsets) {
    const GroupMemberDescription* member = nullptr;
    for (const GroupMemberDescription& m : group.members) {
      if (!o.member_id.empty() && m.member_id == o.member_id) member = &m;
    }
    table.AddRow({group.group_id, o.tp.topic, absl::StrCat(o.tp.partition), OrDash(o.committed_offset),
                  OrDash(o.log_end_offset), OrDash(o.lag), OrDash(o.member_id),
                  member ? OrDash(member->client_host) : "-", member ? OrDash(member->client_id) : "-"});
  }
  absl::StrAppend(&out, table.Render());
  return out;
}

}  // namespace eddy::cli
