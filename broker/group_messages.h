// Requests and responses of the group coordinator's API (GroupCoordinator in group_coordinator.h). They carry
// the fields of Kafka's JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch,
// DescribeGroups, ListGroups and DeleteGroups messages (the newest versions the wire layer serves), without
// the framing: the wire layer decodes a request of any version into these, the embedded consumer fills them
// directly. Protocol metadata and assignments are opaque bytes (std::string).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "broker/error_code.h"
#include "eddy/core/record.h"

namespace eddy::broker {

// Kafka's "no generation" / "no offset" sentinels.
inline constexpr int32_t kNoGeneration = -1;
inline constexpr int64_t kNoOffset = -1;

struct GroupProtocol {
  std::string name;      // e.g. "range"
  std::string metadata;  // e.g. an encoded ConsumerSubscription
};

struct JoinGroupRequest {
  std::string group_id;
  std::string member_id;                         // "" for a member joining for the first time
  std::optional<std::string> group_instance_id;  // static membership (JoinGroup v5+)
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 45000;
  int32_t rebalance_timeout_ms = -1;     // -1 (JoinGroup v0): use session_timeout_ms
  std::string protocol_type;             // "consumer" for consumers
  std::vector<GroupProtocol> protocols;  // in the member's order of preference
  // JoinGroup v4+: a new member first gets MEMBER_ID_REQUIRED with its member id and must join again with it.
  bool require_known_member_id = false;
  std::optional<std::string> reason;  // JoinGroup v8+; informational
};

struct JoinGroupResponseMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string metadata;
};

struct JoinGroupResponse {
  ErrorCode error = ErrorCode::kNone;
  int32_t generation_id = kNoGeneration;
  std::optional<std::string> protocol_type;  // JoinGroup v7+
  std::optional<std::string> protocol_name;
  std::string leader;
  bool skip_assignment = false;  // JoinGroup v9+; Eddy never sets it
  std::string member_id;
  std::vector<JoinGroupResponseMember> members;  // only in the leader's response
};

struct SyncGroupAssignment {
  std::string member_id;
  std::string assignment;
};

struct SyncGroupRequest {
  std::string group_id;
  int32_t generation_id = kNoGeneration;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::optional<std::string> protocol_type;  // SyncGroup v5+: checked against the group's when present
  std::optional<std::string> protocol_name;
  std::vector<SyncGroupAssignment> assignments;  // the leader's only
};

struct SyncGroupResponse {
  ErrorCode error = ErrorCode::kNone;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::string assignment;
};

struct HeartbeatRequest {
  std::string group_id;
  int32_t generation_id = kNoGeneration;
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

struct HeartbeatResponse {
  ErrorCode error = ErrorCode::kNone;
};

struct LeaveGroupMember {
  std::string member_id;  // "" with group_instance_id set: remove that static member (admin)
  std::optional<std::string> group_instance_id;
  std::optional<std::string> reason;
};

struct LeaveGroupRequest {
  std::string group_id;
  std::vector<LeaveGroupMember> members;  // LeaveGroup v0-2 carry exactly one
};

struct LeaveGroupMemberResponse {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  ErrorCode error = ErrorCode::kNone;
};

struct LeaveGroupResponse {
  ErrorCode error = ErrorCode::kNone;  // top level (v0-2 clients see only this; the wire layer folds the
                                       // single member's error into it)
  std::vector<LeaveGroupMemberResponse> members;
};

struct OffsetCommitPartition {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;  // null is stored as ""
};

struct OffsetCommitRequest {
  std::string group_id;
  int32_t generation_id = kNoGeneration;  // -1: a commit from outside group management
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<OffsetCommitPartition> partitions;
};

struct OffsetCommitPartitionResponse {
  std::string topic;
  int32_t partition = 0;
  ErrorCode error = ErrorCode::kNone;
};

struct OffsetCommitResponse {
  std::vector<OffsetCommitPartitionResponse> partitions;  // in request order
};

struct OffsetFetchRequest {
  std::string group_id;
  std::optional<std::vector<TopicPartition>> partitions;  // nullopt: every committed offset of the group
  bool require_stable = false;                            // OffsetFetch v7+
};

struct OffsetFetchPartitionResponse {
  std::string topic;
  int32_t partition = 0;
  int64_t committed_offset = kNoOffset;  // -1: nothing committed
  int32_t committed_leader_epoch = -1;
  std::string metadata;
  ErrorCode error = ErrorCode::kNone;
};

struct OffsetFetchResponse {
  ErrorCode error = ErrorCode::kNone;                    // group-level (OffsetFetch v2+)
  std::vector<OffsetFetchPartitionResponse> partitions;  // request order, or (topic, partition) order for all
};

struct DescribedGroupMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  std::string metadata;    // only when the group is Stable
  std::string assignment;  // only when the group is Stable
};

struct DescribedGroup {
  ErrorCode error = ErrorCode::kNone;
  std::string group_id;
  std::string state;  // "Empty", "PreparingRebalance", "CompletingRebalance", "Stable" or "Dead"
  std::string protocol_type;
  std::string protocol_data;  // the selected protocol name, only when Stable
  std::vector<DescribedGroupMember> members;
};

struct ListedGroup {
  std::string group_id;
  std::string protocol_type;
  std::string state;
};

struct ListGroupsResponse {
  ErrorCode error = ErrorCode::kNone;
  std::vector<ListedGroup> groups;  // sorted by group id
};

struct DeleteGroupResult {
  std::string group_id;
  ErrorCode error = ErrorCode::kNone;
};

using JoinGroupCallback = absl::AnyInvocable<void(const JoinGroupResponse&)>;
using SyncGroupCallback = absl::AnyInvocable<void(const SyncGroupResponse&)>;
using HeartbeatCallback = absl::AnyInvocable<void(const HeartbeatResponse&)>;
using LeaveGroupCallback = absl::AnyInvocable<void(const LeaveGroupResponse&)>;
using OffsetCommitCallback = absl::AnyInvocable<void(const OffsetCommitResponse&)>;
using OffsetFetchCallback = absl::AnyInvocable<void(const OffsetFetchResponse&)>;
using DeleteGroupsCallback = absl::AnyInvocable<void(const std::vector<DeleteGroupResult>&)>;

}  // namespace eddy::broker
