#include "broker/assignor.h"

#include <algorithm>
#include <set>

namespace eddy::broker {
namespace {

// Kafka's MemberInfo.compareTo: static members (by group.instance.id) before dynamic ones (by member id).
bool MemberLess(const AssignorMember* a, const AssignorMember* b) {
  if (a->group_instance_id && b->group_instance_id) return *a->group_instance_id < *b->group_instance_id;
  if (a->group_instance_id) return true;
  if (b->group_instance_id) return false;
  return a->member_id < b->member_id;
}

std::vector<const AssignorMember*> SortedMembers(const std::vector<AssignorMember>& members) {
  std::vector<const AssignorMember*> sorted;
  sorted.reserve(members.size());
  for (const AssignorMember& m : members) sorted.push_back(&m);
  std::sort(sorted.begin(), sorted.end(), MemberLess);
  return sorted;
}

bool Subscribes(const AssignorMember& m, absl::string_view topic) {
  const auto& topics = m.subscription.topics;
  return std::find(topics.begin(), topics.end(), topic) != topics.end();
}

GroupAssignment EmptyAssignment(const std::vector<AssignorMember>& members) {
  GroupAssignment out;
  for (const AssignorMember& m : members) out[m.member_id];
  return out;
}

}  // namespace

GroupAssignment RangeAssignor::Assign(const std::vector<AssignorMember>& members,
                                      const PartitionsPerTopic& partitions_per_topic) const {
  GroupAssignment out = EmptyAssignment(members);
  const std::vector<const AssignorMember*> sorted = SortedMembers(members);
  std::set<absl::string_view> topics;
  for (const AssignorMember& m : members) topics.insert(m.subscription.topics.begin(), m.subscription.topics.end());
  for (absl::string_view topic : topics) {
    auto it = partitions_per_topic.find(topic);
    if (it == partitions_per_topic.end() || it->second <= 0) continue;
    std::vector<const AssignorMember*> consumers;
    for (const AssignorMember* m : sorted) {
      if (Subscribes(*m, topic)) consumers.push_back(m);
    }
    const int32_t n = it->second;
    const int32_t count = static_cast<int32_t>(consumers.size());
    const int32_t per_consumer = n / count;
    const int32_t with_extra = n % count;
    for (int32_t i = 0; i < count; ++i) {
      const int32_t start = per_consumer * i + std::min(i, with_extra);
      const int32_t length = per_consumer + (i + 1 > with_extra ? 0 : 1);
      std::vector<TopicPartition>& dest = out[consumers[i]->member_id];
      for (int32_t p = start; p < start + length; ++p) dest.push_back(TopicPartition{std::string(topic), p});
    }
  }
  return out;
}

GroupAssignment RoundRobinAssignor::Assign(const std::vector<AssignorMember>& members,
                                           const PartitionsPerTopic& partitions_per_topic) const {
  GroupAssignment out = EmptyAssignment(members);
  const std::vector<const AssignorMember*> sorted = SortedMembers(members);
  if (sorted.empty()) return out;
  std::set<absl::string_view> topics;
  for (const AssignorMember& m : members) topics.insert(m.subscription.topics.begin(), m.subscription.topics.end());
  size_t next = 0;  // Kafka's CircularIterator position
  for (absl::string_view topic : topics) {
    auto it = partitions_per_topic.find(topic);
    if (it == partitions_per_topic.end() || it->second <= 0) continue;
    for (int32_t p = 0; p < it->second; ++p) {
      // Some member subscribes to `topic` (it came from a subscription), so this terminates.
      while (!Subscribes(*sorted[next], topic)) next = (next + 1) % sorted.size();
      out[sorted[next]->member_id].push_back(TopicPartition{std::string(topic), p});
      next = (next + 1) % sorted.size();
    }
  }
  return out;
}

std::unique_ptr<Assignor> MakeAssignor(absl::string_view name) {
  if (name == "range") return std::make_unique<RangeAssignor>();
  if (name == "roundrobin") return std::make_unique<RoundRobinAssignor>();
  return nullptr;
}

}  // namespace eddy::broker
