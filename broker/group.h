// Group: the membership state of one consumer group in the coordinator, and its state machine (Kafka's
// GroupMetadata). The rebalance logic that drives it lives in GroupCoordinator; Group keeps the invariants
// of its own data: members in join order, the leader, static-member and pending-member bookkeeping, protocol
// support and selection, generations.
//
// States and transitions (Kafka's, see docs/consumer-groups.md):
//   Empty               -> PreparingRebalance (a member joins)
//   PreparingRebalance  -> CompletingRebalance (every member rejoined, or the rebalance timeout passed)
//                       -> Empty (the rebalance completed without members)
//   CompletingRebalance -> Stable (the leader's SyncGroup) | PreparingRebalance (membership changed)
//   Stable              -> PreparingRebalance (a member joined, left, changed metadata or expired)
//   any                 -> Dead (deleted, or the coordinator shut down)
//
// Thread-compatible: every Group is owned by a GroupCoordinator and only touched under its mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "broker/group_messages.h"
#include "eddy/core/record.h"

namespace eddy::broker {

enum class GroupState : uint8_t { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable, kDead };

// Kafka's state names: "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead".
const char* GroupStateName(GroupState state);

// Callback invocations collected while the coordinator holds its mutex and run after it is released, so a
// callback may call back into the coordinator.
class Completions {
 public:
  Completions() = default;
  Completions(const Completions&) = delete;
  Completions& operator=(const Completions&) = delete;
  ~Completions() { Run(); }

  void Add(absl::AnyInvocable<void()> fn) { fns_.push_back(std::move(fn)); }
  template <typename Callback, typename Response>
  void Respond(Callback cb, Response response) {
    fns_.push_back([cb = std::move(cb), response = std::move(response)]() mutable { cb(response); });
  }
  void Run() {
    // A callback cannot add to this list (it runs without the coordinator's lock), so one pass suffices.
    std::vector<absl::AnyInvocable<void()>> fns = std::move(fns_);
    fns_.clear();
    for (auto& fn : fns) fn();
  }

 private:
  std::vector<absl::AnyInvocable<void()>> fns_;
};

// Moves a callback out of a member field, leaving the field empty.
template <typename F>
F TakeCallback(F& f) {
  F out = std::move(f);
  f = nullptr;
  return out;
}

// Kafka's error responses: no generation, no protocol, no leader.
inline JoinGroupResponse JoinGroupError(std::string member_id, ErrorCode error) {
  JoinGroupResponse r;
  r.error = error;
  r.member_id = std::move(member_id);
  return r;
}
inline SyncGroupResponse SyncGroupError(ErrorCode error) {
  SyncGroupResponse r;
  r.error = error;
  return r;
}

// One member of a group (Kafka's MemberMetadata).
struct MemberMetadata {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;
  int32_t session_timeout_ms = 0;
  std::string protocol_type;
  std::vector<GroupProtocol> protocols;  // the member's preference order
  std::string assignment;                // from the leader's last SyncGroup
  JoinGroupCallback awaiting_join;       // set while a JoinGroup waits for the rebalance to complete
  SyncGroupCallback awaiting_sync;       // set while a SyncGroup waits for the leader's
  bool is_new = false;                   // joined during the current rebalance
  int64_t heartbeat_deadline_ms = 0;     // the member expires at this time unless it is awaiting join/sync

  bool is_awaiting_join() const { return static_cast<bool>(awaiting_join); }
  bool is_awaiting_sync() const { return static_cast<bool>(awaiting_sync); }
  // The metadata sent with `protocol`, or "" if the member does not support it.
  const std::string& MetadataFor(absl::string_view protocol) const;
  // Whether `protocols` equals the member's (same names, metadata and order).
  bool Matches(const std::vector<GroupProtocol>& protocols) const;
  // The member's most preferred protocol among `candidates`.
  std::string Vote(const absl::flat_hash_set<std::string>& candidates) const;
};

// A committed offset as the coordinator caches it.
struct CommittedOffset {
  int64_t offset = kNoOffset;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp_ms = -1;
};

class Group {
 public:
  explicit Group(std::string group_id) : group_id_(std::move(group_id)) {}

  const std::string& group_id() const { return group_id_; }
  GroupState state() const { return state_; }
  bool Is(GroupState s) const { return state_ == s; }
  // Changes the state; the transition must be one of those listed above (asserted).
  void TransitionTo(GroupState target);
  // Whether PreparingRebalance may be entered from the current state.
  bool CanRebalance() const;

  int32_t generation_id() const { return generation_id_; }
  const std::optional<std::string>& protocol_type() const { return protocol_type_; }
  const std::optional<std::string>& protocol_name() const { return protocol_name_; }
  const std::optional<std::string>& leader_id() const { return leader_id_; }
  bool IsLeader(absl::string_view member_id) const { return leader_id_ && *leader_id_ == member_id; }

  // Members, in join order.
  size_t size() const { return members_.size(); }
  bool Has(absl::string_view member_id) const { return by_id_.contains(member_id); }
  MemberMetadata* Get(absl::string_view member_id) const;
  std::vector<MemberMetadata*> members() const;
  // Adds a member (the first one sets the group's protocol type; the first one without a leader becomes it).
  void Add(std::unique_ptr<MemberMetadata> member);
  // Removes a member (also from the static, pending and pending-sync sets) and returns it; the next member in
  // join order becomes leader if it was. The caller completes any callback the member still holds.
  std::unique_ptr<MemberMetadata> Remove(absl::string_view member_id);

  // Whether a member with these protocols may join: an Empty group takes any non-empty type and protocol
  // list; otherwise the type must match and one protocol must be supported by every current member.
  bool SupportsProtocols(absl::string_view protocol_type, const std::vector<GroupProtocol>& protocols) const;
  // The protocol supported by all members that gets most votes (each member votes for its most preferred
  // candidate); ties go to the candidate the leader prefers. The group must have members.
  std::string SelectProtocol() const;

  bool HasAllMembersJoined() const;  // every member awaits join and no member id is pending
  std::vector<std::string> NotYetRejoinedMembers() const;
  int32_t RebalanceTimeoutMs() const;  // the largest of the members'
  // If the leader did not rejoin, makes the first member that did the leader. False if none rejoined.
  bool MaybeElectNewJoinedLeader();
  // generation + 1 and CompletingRebalance with the selected protocol, or Empty without members.
  void InitNextGeneration();
  // The members' metadata for the selected protocol (the leader's JoinGroup response).
  std::vector<JoinGroupResponseMember> CurrentMemberMetadata() const;

  // Member ids handed out with MEMBER_ID_REQUIRED and not yet used, with their expiry times.
  void AddPendingMember(std::string member_id, int64_t deadline_ms) { pending_members_[member_id] = deadline_ms; }
  bool IsPendingMember(absl::string_view member_id) const { return pending_members_.contains(member_id); }
  void RemovePendingMember(absl::string_view member_id) { pending_members_.erase(member_id); }
  const absl::flat_hash_map<std::string, int64_t>& pending_members() const { return pending_members_; }

  // Static membership: group.instance.id -> current member id.
  std::optional<std::string> CurrentStaticMemberId(absl::string_view instance_id) const;
  // Gives member old_member_id the new id (fencing the old one: its waiting callbacks get
  // FENCED_INSTANCE_ID through `c`) and returns it.
  MemberMetadata* ReplaceStaticMember(absl::string_view instance_id, absl::string_view old_member_id,
                                      const std::string& new_member_id, Completions* c);

  // Members that got the JoinGroup response of this generation but have not sent SyncGroup yet.
  absl::flat_hash_set<std::string>& pending_sync() { return pending_sync_; }

  // Rebalance timers, driven by GroupCoordinator::Tick. join_deadline_ms is valid in PreparingRebalance;
  // while initial_delay is set the group is in Kafka's InitialDelayedJoin (group.initial.rebalance.delay.ms)
  // and completes only when the deadline passes. sync_deadline_ms is valid while pending_sync is not empty.
  int64_t join_deadline_ms = 0;
  bool initial_delay = false;
  int64_t initial_delay_remaining_ms = 0;
  int64_t initial_delay_current_ms = 0;
  bool new_member_added = false;
  int64_t sync_deadline_ms = 0;

  // Distinguishes this Group object from an earlier one of the same id that was deleted, so a commit that
  // was in flight across a DeleteGroups does not resurrect its offset.
  uint64_t incarnation = 0;

  // Committed offsets (durable ones only) and the number of commits in flight per partition.
  absl::btree_map<TopicPartition, CommittedOffset> offsets;
  absl::flat_hash_map<TopicPartition, int> pending_commits;

 private:
  std::string group_id_;
  GroupState state_ = GroupState::kEmpty;
  int32_t generation_id_ = 0;
  std::optional<std::string> protocol_type_;
  std::optional<std::string> protocol_name_;
  std::optional<std::string> leader_id_;
  std::vector<std::unique_ptr<MemberMetadata>> members_;  // join order
  absl::flat_hash_map<std::string, MemberMetadata*> by_id_;
  absl::flat_hash_map<std::string, std::string> static_members_;  // instance id -> member id
  absl::flat_hash_map<std::string, int64_t> pending_members_;
  absl::flat_hash_set<std::string> pending_sync_;
};

}  // namespace eddy::broker
