// Partition assignors for the consumer protocol: run by the group leader (client side) to split the
// partitions of the subscribed topics among the members. Implements Kafka's RangeAssignor ("range", Kafka's
// default) and RoundRobinAssignor ("roundrobin") exactly as the Java client does without rack information, so
// a group whose leader is an Eddy consumer assigns the same way as one led by a Java consumer.
//
// Member order (Kafka's MemberInfo): members with a group.instance.id first, sorted by it, then the others
// sorted by member id (byte-wise, which matches Java's String order for ASCII ids).
//
// Assignors are stateless and thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "broker/consumer_protocol.h"
#include "eddy/core/record.h"

namespace eddy::broker {

struct AssignorMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  ConsumerSubscription subscription;
};

// Partition count per topic. Topics a member subscribes to that are absent here (unknown, or zero
// partitions) are skipped, as Kafka's AbstractPartitionAssignor does.
using PartitionsPerTopic = std::map<std::string, int32_t, std::less<>>;
// Per member id, its partitions. Every member appears, possibly with an empty list.
using GroupAssignment = std::map<std::string, std::vector<TopicPartition>, std::less<>>;

class Assignor {
 public:
  virtual ~Assignor() = default;
  // The protocol name members advertise in JoinGroup ("range", "roundrobin").
  virtual absl::string_view name() const = 0;
  virtual GroupAssignment Assign(const std::vector<AssignorMember>& members,
                                 const PartitionsPerTopic& partitions_per_topic) const = 0;
};

// RangeAssignor: per topic, the members subscribed to it in member order get contiguous ranges of
// partitions; the first (partitions % members) members get one extra. 2 members, topics t0 and t1 of 3
// partitions: C0 [t0p0, t0p1, t1p0, t1p1], C1 [t0p2, t1p2].
class RangeAssignor final : public Assignor {
 public:
  absl::string_view name() const override { return "range"; }
  GroupAssignment Assign(const std::vector<AssignorMember>& members,
                         const PartitionsPerTopic& partitions_per_topic) const override;
};

// RoundRobinAssignor: all partitions of all subscribed topics sorted by (topic, partition) are dealt to the
// members in member order, skipping members not subscribed to the partition's topic. Same example:
// C0 [t0p0, t0p2, t1p1], C1 [t0p1, t1p0, t1p2].
class RoundRobinAssignor final : public Assignor {
 public:
  absl::string_view name() const override { return "roundrobin"; }
  GroupAssignment Assign(const std::vector<AssignorMember>& members,
                         const PartitionsPerTopic& partitions_per_topic) const override;
};

// MakeAssignor returns the assignor called `name` ("range", "roundrobin"), or null for an unknown name.
std::unique_ptr<Assignor> MakeAssignor(absl::string_view name);

}  // namespace eddy::broker
