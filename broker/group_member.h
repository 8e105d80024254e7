// GroupMember: the client side of Kafka's classic group protocol for Eddy's embedded consumer, talking to the
// in-process GroupCoordinator (what Kafka's ConsumerCoordinator does for the Java consumer, with the eager
// rebalance protocol). It joins the group, computes the assignment when it is the leader (with the assignor
// the group chose, over the partition counts from `partition_count`), syncs, heartbeats, rejoins when the
// coordinator says so, and commits offsets with its generation.
//
// Driven from the consumer's poll thread: Poll() does all the work, a step at a time; a pending JoinGroup or
// SyncGroup is waited for at most max_wait, so one thread can drive several members in turn through a
// rebalance (each Poll returns "not stable yet" instead of blocking until the others rejoin). Heartbeats are
// sent from Poll only: a consumer that stops polling for session_timeout_ms is expired by the coordinator
// and the other members rebalance (Kafka's background heartbeat thread and max.poll.interval.ms fold into
// this one timeout here).
//
// Eager protocol: when a rebalance starts, the whole assignment is revoked and reported in
// MembershipUpdate::revoked by a Poll that returns before rejoining, so the consumer can commit its positions
// (CommitSync still uses the old generation, which the coordinator accepts during the rebalance) before
// anyone else can be assigned those partitions; the next Poll rejoins. The new assignment arrives in
// MembershipUpdate::assigned.
//
// Thread-compatible: one thread at a time (the poll thread). The coordinator, which must outlive the member,
// completes requests on its own threads; their responses are queued and handled in the next Poll.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "broker/assignor.h"
#include "broker/group_coordinator.h"
#include "eddy/core/consumer.h"
#include "eddy/core/record.h"

namespace eddy::broker {

struct GroupMemberConfig {
  std::string group_id;                          // group.id (required)
  std::string client_id = "eddy-consumer";       // client.id; member ids are "<client_id>-<uuid>"
  std::string client_host = "/127.0.0.1";        // what DescribeGroups shows as the member's host
  std::optional<std::string> group_instance_id;  // group.instance.id (static membership)
  int32_t session_timeout_ms = 45000;            // session.timeout.ms (Kafka 3.x default)
  int32_t rebalance_timeout_ms = 300000;         // max.poll.interval.ms
  int64_t heartbeat_interval_ms = 3000;          // heartbeat.interval.ms
  int64_t retry_backoff_ms = 100;                // retry.backoff.ms: after a retriable JoinGroup/SyncGroup error
  int64_t request_timeout_ms = 30000;            // request.timeout.ms: how long Leave waits for async commits
  // partition.assignment.strategy, in order of preference ("range", "roundrobin").
  std::vector<std::string> assignors = {"range", "roundrobin"};
  // The leader's view of the topics: partition count of a topic, nullopt (or 0) if it does not exist. Called
  // on the poll thread, when this member is the leader.
  absl::AnyInvocable<std::optional<int32_t>(absl::string_view topic)> partition_count;
};

// What a Poll changed. Apply `revoked` before `assigned`.
struct MembershipUpdate {
  std::vector<TopicPartition> revoked;
  std::vector<TopicPartition> assigned;
  int32_t generation_id = kNoGeneration;
  bool stable = false;  // a member of the current generation with its assignment
};

class GroupMember {
 public:
  // `coordinator` is not owned and must outlive the member.
  GroupMember(GroupCoordinator* coordinator, GroupMemberConfig config);
  // Leaves the group (Leave()).
  ~GroupMember();
  GroupMember(const GroupMember&) = delete;
  GroupMember& operator=(const GroupMember&) = delete;

  // Subscribe sets the topics; a change rejoins the group at the next Poll. An empty list unsubscribes: the
  // next Poll revokes the assignment, the one after leaves the group.
  // kInvalidArgument: no group id, or an assignor name Eddy does not implement.
  absl::Status Subscribe(std::vector<std::string> topics);

  // Poll drives the membership: (re)join, assign as leader, sync, heartbeat when due (now_ms is the caller's
  // clock, used for the heartbeat and retry schedule), rejoin when the coordinator starts a rebalance (a Poll
  // that revokes partitions returns before rejoining; the next one rejoins). Waits at most max_wait for a
  // pending JoinGroup/SyncGroup. Runs the callbacks of completed CommitAsync calls.
  // Errors (the member then rejoins at the next Poll, and revocations or assignments made by the failed call
  // are reported by the next successful one): kFailedPrecondition (FENCED_INSTANCE_ID), kInvalidArgument
  // (INCONSISTENT_GROUP_PROTOCOL, INVALID_SESSION_TIMEOUT, a member's undecodable subscription), others
  // from ToStatus.
  absl::StatusOr<MembershipUpdate> Poll(int64_t now_ms, absl::Duration max_wait);

  // CommitSync commits `offsets` (the next offset to read per partition) and waits until they are durable.
  // A subscribed member commits with its generation, so it must be stable or have just had its assignment
  // revoked: kUnavailable while it is (re)joining (as Kafka's RebalanceInProgressException); kFailedPrecondition when
  // the generation is stale (ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID, Kafka's CommitFailedException; the member rejoins
  // at the next Poll). A member that never subscribed commits as a simple consumer (generation -1), which the
  // coordinator accepts while the group has no members. kDeadlineExceeded after `timeout`.
  absl::Status CommitSync(const std::vector<TopicPartitionOffset>& offsets, absl::Duration timeout);
  // CommitAsync commits without waiting; `callback` (may be null) runs in a later Poll, CommitSync or Leave
  // on this thread, with the status CommitSync would have returned.
  void CommitAsync(const std::vector<TopicPartitionOffset>& offsets, CommitCallback callback);

  // Leave sends LeaveGroup (except for a static member, which keeps its place until its session expires,
  // as Kafka's consumer does), forgets the member id and drops the assignment without reporting it: the
  // caller revokes (commits) first. Waits up to request_timeout_ms for in-flight CommitAsync calls.
  absl::Status Leave();

  const std::string& member_id() const { return member_id_; }
  int32_t generation_id() const { return generation_id_; }
  bool is_stable() const { return state_ == State::kStable; }
  bool is_leader() const { return !member_id_.empty() && leader_id_ == member_id_; }
  const std::vector<TopicPartition>& assignment() const { return assignment_; }

 private:
  enum class State : uint8_t {
    kUnjoined,  // no JoinGroup in flight; (re)join when retry_at_ms_ has passed
    kRevoked,   // still in its generation, assignment revoked; rejoins at the next Poll
    kJoining,   // JoinGroup in flight
    kSyncing,   // SyncGroup in flight
    kStable,    // assigned; heartbeating
  };
  // Whether commits go out with the member's generation (stable, or revoked and not yet rejoined).
  bool HasGeneration() const { return state_ == State::kStable || state_ == State::kRevoked; }
  struct Inbox;
  struct Event;

  void SendJoin();
  void SendSync(std::vector<SyncGroupAssignment> assignments);
  void SendHeartbeat();
  absl::Status HandleEvent(Event& event, MembershipUpdate* update);
  absl::Status HandleJoin(const JoinGroupResponse& r);
  absl::Status HandleSync(const SyncGroupResponse& r, MembershipUpdate* update);
  // Shared by JoinGroup and SyncGroup errors: resets what the error invalidates and schedules a rejoin
  // (at once, or after retry.backoff.ms); returns an error only for non-retriable codes.
  absl::Status RejoinAfter(ErrorCode error, absl::string_view request);
  absl::Status HandleHeartbeat(ErrorCode error, MembershipUpdate* update);
  void HandleCommitError(ErrorCode error, int32_t generation);
  // Computes the leader's assignment from the members' subscriptions.
  absl::StatusOr<std::vector<SyncGroupAssignment>> Assign(const JoinGroupResponse& r);
  // Whether the partition counts the leader assigned with have changed.
  bool MetadataChanged();
  void RevokeAll(MembershipUpdate* update);
  // Revokes the assignment and rejoins at the next Poll, so that the consumer can commit first.
  void RevokeAndRejoin(MembershipUpdate* update);
  void ResetToUnjoined(int64_t retry_delay_ms);
  OffsetCommitRequest MakeCommitRequest(const std::vector<TopicPartitionOffset>& offsets) const;
  absl::Status CommitStatus(const OffsetCommitResponse& r, int32_t generation);
  void RunCommitCallbacks(bool wait);

  GroupCoordinator* const coordinator_;
  GroupMemberConfig config_;
  std::shared_ptr<Inbox> inbox_;

  std::vector<std::string> topics_;         // subscription, sorted
  std::vector<std::string> joined_topics_;  // the subscription of the last JoinGroup
  State state_ = State::kUnjoined;
  std::string member_id_;
  int32_t generation_id_ = kNoGeneration;
  std::string protocol_name_;
  std::string leader_id_;
  std::vector<TopicPartition> assignment_;
  uint64_t request_epoch_ = 0;  // identifies the JoinGroup/SyncGroup in flight; stale responses are dropped
  int64_t now_ms_ = 0;
  int64_t retry_at_ms_ = 0;
  int64_t next_heartbeat_ms_ = 0;
  bool heartbeat_in_flight_ = false;
  bool rejoin_needed_ = false;
  PartitionsPerTopic assigned_with_;  // leader: the partition counts of its last assignment
  MembershipUpdate carry_;            // changes made by a Poll that returned an error, reported by the next one
  uint64_t next_commit_id_ = 1;
  std::map<uint64_t, std::pair<CommitCallback, int32_t>> pending_commits_;  // async: callback, generation
};

}  // namespace eddy::broker
