// GroupCoordinator: JoinGroup and the rebalance machinery (Kafka's doJoinGroup, prepareRebalance,
// onCompleteJoin, the initial delayed join and the pending-sync expiry). Method names follow Kafka's
// GroupCoordinator.scala.
#include <algorithm>
#include <utility>

#include "broker/group_coordinator.h"

namespace eddy::broker {

void GroupCoordinator::JoinGroup(JoinGroupRequest request, JoinGroupCallback done) {
  Completions c;
  {
    absl::MutexLock lock(&mu_);
    JoinGroupLocked(request, std::move(done), &c);
  }
  c.Run();
}

bool GroupCoordinator::AcceptJoiningMember(const Group& group, absl::string_view member_id) const {
  switch (group.state()) {
    case GroupState::kEmpty:
    case GroupState::kDead:
      return true;
    case GroupState::kPreparingRebalance: {
      const MemberMetadata* m = group.Get(member_id);
      if (m != nullptr && m->is_awaiting_join()) return true;
      const std::vector<MemberMetadata*> members = group.members();
      const size_t awaiting = static_cast<size_t>(
          std::count_if(members.begin(), members.end(), [](const MemberMetadata* x) { return x->is_awaiting_join(); }));
      return awaiting < static_cast<size_t>(options_.max_group_size);
    }
    case GroupState::kCompletingRebalance:
    case GroupState::kStable:
      return group.Has(member_id) || group.size() < static_cast<size_t>(options_.max_group_size);
  }
  return false;
}

void GroupCoordinator::JoinGroupLocked(JoinGroupRequest& req, JoinGroupCallback done, Completions* c) {
  if (ErrorCode err = ValidateGroupStatus(req.group_id, false); err != ErrorCode::kNone) {
    return c->Respond(std::move(done), JoinGroupError(req.member_id, err));
  }
  if (req.session_timeout_ms < options_.min_session_timeout_ms ||
      req.session_timeout_ms > options_.max_session_timeout_ms) {
    return c->Respond(std::move(done), JoinGroupError(req.member_id, ErrorCode::kInvalidSessionTimeout));
  }
  if (req.rebalance_timeout_ms < 0) req.rebalance_timeout_ms = req.session_timeout_ms;  // JoinGroup v0
  const bool is_unknown_member = req.member_id.empty();
  Group* group = FindGroup(req.group_id);
  if (group == nullptr) {
    // Only a new member creates a group; a member id for a group that does not exist is stale.
    if (!is_unknown_member)
      return c->Respond(std::move(done), JoinGroupError(req.member_id, ErrorCode::kUnknownMemberId));
    group = GetOrCreateGroup(req.group_id);
  }
  if (!AcceptJoiningMember(*group, req.member_id)) {
    if (std::unique_ptr<MemberMetadata> m = group->Remove(req.member_id)) {
      if (m->awaiting_join)
        c->Respond(TakeCallback(m->awaiting_join), JoinGroupError("", ErrorCode::kGroupMaxSizeReached));
      if (m->awaiting_sync) c->Respond(TakeCallback(m->awaiting_sync), SyncGroupError(ErrorCode::kGroupMaxSizeReached));
    }
    c->Respond(std::move(done), JoinGroupError("", ErrorCode::kGroupMaxSizeReached));
  } else if (is_unknown_member) {
    DoNewMemberJoin(group, req, std::move(done), c);
  } else {
    DoCurrentMemberJoin(group, req, std::move(done), c);
  }
  if (group->Is(GroupState::kPreparingRebalance)) TryCompleteJoin(group, c);
}

void GroupCoordinator::DoNewMemberJoin(Group* group, JoinGroupRequest& req, JoinGroupCallback done, Completions* c) {
  if (group->Is(GroupState::kDead)) {
    return c->Respond(std::move(done), JoinGroupError("", ErrorCode::kCoordinatorNotAvailable));
  }
  if (!group->SupportsProtocols(req.protocol_type, req.protocols)) {
    return c->Respond(std::move(done), JoinGroupError("", ErrorCode::kInconsistentGroupProtocol));
  }
  std::string new_member_id = GenerateMemberId(req.group_instance_id ? *req.group_instance_id : req.client_id);
  if (req.group_instance_id) {
    if (std::optional<std::string> old = group->CurrentStaticMemberId(*req.group_instance_id)) {
      return UpdateStaticMemberAndRebalance(group, *old, new_member_id, req, std::move(done), c);
    }
    return AddMemberAndRebalance(group, req, std::move(new_member_id), std::move(done), c);
  }
  if (req.require_known_member_id) {
    // JoinGroup v4+: hand out the id and wait for the member to come back with it.
    group->AddPendingMember(new_member_id, Now() + req.session_timeout_ms);
    return c->Respond(std::move(done), JoinGroupError(std::move(new_member_id), ErrorCode::kMemberIdRequired));
  }
  AddMemberAndRebalance(group, req, std::move(new_member_id), std::move(done), c);
}

void GroupCoordinator::DoCurrentMemberJoin(Group* group, JoinGroupRequest& req, JoinGroupCallback done,
                                           Completions* c) {
  if (group->Is(GroupState::kDead)) {
    return c->Respond(std::move(done), JoinGroupError(req.member_id, ErrorCode::kCoordinatorNotAvailable));
  }
  if (!group->SupportsProtocols(req.protocol_type, req.protocols)) {
    return c->Respond(std::move(done), JoinGroupError(req.member_id, ErrorCode::kInconsistentGroupProtocol));
  }
  if (group->IsPendingMember(req.member_id)) {
    // Pending ids are only handed to dynamic members.
    if (req.group_instance_id)
      return c->Respond(std::move(done), JoinGroupError(req.member_id, ErrorCode::kInvalidRequest));
    return AddMemberAndRebalance(group, req, req.member_id, std::move(done), c);
  }
  if (ErrorCode err = ValidateCurrentMember(*group, req.member_id, req.group_instance_id); err != ErrorCode::kNone) {
    return c->Respond(std::move(done), JoinGroupError(req.member_id, err));
  }
  MemberMetadata* member = group->Get(req.member_id);
  const auto current_generation = [&](bool with_members) {
    JoinGroupResponse r;
    r.generation_id = group->generation_id();
    r.protocol_type = group->protocol_type();
    r.protocol_name = group->protocol_name();
    r.leader = group->leader_id().value_or("");
    r.member_id = req.member_id;
    if (with_members) r.members = group->CurrentMemberMetadata();
    return r;
  };
  switch (group->state()) {
    case GroupState::kPreparingRebalance:
      return UpdateMemberAndRebalance(group, member, req, std::move(done), c);
    case GroupState::kCompletingRebalance:
      // Same metadata: the member probably lost the JoinGroup response; send it again.
      if (member->Matches(req.protocols)) {
        return c->Respond(std::move(done), current_generation(group->IsLeader(req.member_id)));
      }
      return UpdateMemberAndRebalance(group, member, req, std::move(done), c);
    case GroupState::kStable:
      // The leader rejoining forces a rebalance (it may have seen a metadata change the others cannot);
      // so does a follower with new metadata. Otherwise the follower just gets the current generation.
      if (group->IsLeader(req.member_id) || !member->Matches(req.protocols)) {
        return UpdateMemberAndRebalance(group, member, req, std::move(done), c);
      }
      return c->Respond(std::move(done), current_generation(false));
    case GroupState::kEmpty:
    case GroupState::kDead:
      return c->Respond(std::move(done), JoinGroupError(req.member_id, ErrorCode::kUnknownMemberId));
  }
}

void GroupCoordinator::UpdateStaticMemberAndRebalance(Group* group, const std::string& old_member_id,
                                                      const std::string& new_member_id, JoinGroupRequest& req,
                                                      JoinGroupCallback done, Completions* c) {
  const std::string current_leader = group->leader_id().value_or("");
  MemberMetadata* member = group->ReplaceStaticMember(*req.group_instance_id, old_member_id, new_member_id, c);
  ScheduleHeartbeat(member, member->session_timeout_ms);
  UpdateMember(member, req, std::move(done), c);
  switch (group->state()) {
    case GroupState::kStable:
      if (group->protocol_name() == group->SelectProtocol()) {
        // A known static member came back with a new member id: no rebalance. As Kafka does for JoinGroup
        // v8 and older, report the old leader id so that this member does not compute an assignment that a
        // Stable group would ignore.
        JoinGroupResponse r;
        r.generation_id = group->generation_id();
        r.protocol_type = group->protocol_type();
        r.protocol_name = group->protocol_name();
        r.leader = current_leader;
        r.member_id = new_member_id;
        c->Respond(TakeCallback(member->awaiting_join), std::move(r));
      } else {
        MaybePrepareRebalance(group, c);
      }
      return;
    case GroupState::kCompletingRebalance:
      // The leader may already have computed an assignment for the old member id: start over.
      return PrepareRebalance(group, c);
    case GroupState::kPreparingRebalance:
    case GroupState::kEmpty:
    case GroupState::kDead:
      return;
  }
}

void GroupCoordinator::AddMemberAndRebalance(Group* group, JoinGroupRequest& req, std::string member_id,
                                             JoinGroupCallback done, Completions* c) {
  auto member = std::make_unique<MemberMetadata>();
  member->member_id = std::move(member_id);
  member->group_instance_id = req.group_instance_id;
  member->client_id = req.client_id;
  member->client_host = req.client_host;
  member->rebalance_timeout_ms = req.rebalance_timeout_ms;
  member->session_timeout_ms = req.session_timeout_ms;
  member->protocol_type = req.protocol_type;
  member->protocols = std::move(req.protocols);
  member->awaiting_join = std::move(done);
  member->is_new = true;
  // A new member during the first rebalance extends group.initial.rebalance.delay.ms.
  if (group->Is(GroupState::kPreparingRebalance) && group->generation_id() == 0) group->new_member_added = true;
  MemberMetadata* raw = member.get();
  group->RemovePendingMember(raw->member_id);
  group->Add(std::move(member));
  // A new member cannot heartbeat until its JoinGroup completes; it is dropped if that takes too long.
  ScheduleHeartbeat(raw, options_.new_member_join_timeout_ms);
  MaybePrepareRebalance(group, c);
}

void GroupCoordinator::UpdateMember(MemberMetadata* member, JoinGroupRequest& req, JoinGroupCallback done,
                                    Completions* c) {
  member->protocols = std::move(req.protocols);
  member->rebalance_timeout_ms = req.rebalance_timeout_ms;
  member->session_timeout_ms = req.session_timeout_ms;
  // A second JoinGroup while the first still waits (a client retry): the first is answered now, so that every
  // request gets exactly one response, with an error that makes a client that still waits for it rejoin.
  if (member->awaiting_join) {
    c->Respond(TakeCallback(member->awaiting_join), JoinGroupError(member->member_id, ErrorCode::kRebalanceInProgress));
  }
  member->awaiting_join = std::move(done);
}

void GroupCoordinator::UpdateMemberAndRebalance(Group* group, MemberMetadata* member, JoinGroupRequest& req,
                                                JoinGroupCallback done, Completions* c) {
  UpdateMember(member, req, std::move(done), c);
  MaybePrepareRebalance(group, c);
}

void GroupCoordinator::MaybePrepareRebalance(Group* group, Completions* c) {
  if (group->CanRebalance()) PrepareRebalance(group, c);
}

void GroupCoordinator::PrepareRebalance(Group* group, Completions* c) {
  // Members waiting for the leader's assignment must rejoin instead.
  if (group->Is(GroupState::kCompletingRebalance)) {
    ResetAndPropagateAssignmentError(group, ErrorCode::kRebalanceInProgress, c);
  }
  group->pending_sync().clear();
  const bool from_empty = group->Is(GroupState::kEmpty);
  const int64_t now = Now();
  group->TransitionTo(GroupState::kPreparingRebalance);
  if (from_empty) {
    // Kafka's InitialDelayedJoin: wait group.initial.rebalance.delay.ms for more members.
    group->initial_delay = true;
    group->new_member_added = false;
    group->initial_delay_current_ms = options_.initial_rebalance_delay_ms;
    group->initial_delay_remaining_ms =
        std::max<int64_t>(group->RebalanceTimeoutMs() - options_.initial_rebalance_delay_ms, 0);
    group->join_deadline_ms = now + options_.initial_rebalance_delay_ms;
    if (options_.initial_rebalance_delay_ms <= 0) OnJoinDeadline(group, c);
  } else {
    group->initial_delay = false;
    group->join_deadline_ms = now + group->RebalanceTimeoutMs();
    TryCompleteJoin(group, c);
  }
}

void GroupCoordinator::RemoveMemberAndUpdateGroup(Group* group, const std::string& member_id_ref, Completions* c) {
  const std::string member_id = member_id_ref;  // the reference may point into the member
  MemberMetadata* member = group->Get(member_id);
  if (member == nullptr) return;
  // A removed member that still waits gets UNKNOWN_MEMBER_ID, so that a live client rejoins. (Kafka drops a
  // waiting SyncGroup here; Eddy answers every request.)
  if (member->awaiting_join)
    c->Respond(TakeCallback(member->awaiting_join), JoinGroupError("", ErrorCode::kUnknownMemberId));
  if (member->awaiting_sync)
    c->Respond(TakeCallback(member->awaiting_sync), SyncGroupError(ErrorCode::kUnknownMemberId));
  group->Remove(member_id);
  switch (group->state()) {
    case GroupState::kDead:
    case GroupState::kEmpty:
      return;
    case GroupState::kStable:
    case GroupState::kCompletingRebalance:
      return MaybePrepareRebalance(group, c);
    case GroupState::kPreparingRebalance:
      return TryCompleteJoin(group, c);
  }
}

void GroupCoordinator::RemovePendingMemberAndUpdateGroup(Group* group, const std::string& member_id, Completions* c) {
  group->RemovePendingMember(member_id);
  if (group->Is(GroupState::kPreparingRebalance)) TryCompleteJoin(group, c);
}

void GroupCoordinator::TryCompleteJoin(Group* group, Completions* c) {
  if (group->Is(GroupState::kPreparingRebalance) && !group->initial_delay && group->HasAllMembersJoined()) {
    OnCompleteJoin(group, c);
  }
}

void GroupCoordinator::OnJoinDeadline(Group* group, Completions* c) {
  if (group->initial_delay) {
    if (group->new_member_added && group->initial_delay_remaining_ms > 0) {
      // New members arrived during the delay: wait once more, within the rebalance timeout.
      group->new_member_added = false;
      const int64_t delay = std::min<int64_t>(options_.initial_rebalance_delay_ms, group->initial_delay_remaining_ms);
      group->initial_delay_remaining_ms =
          std::max<int64_t>(group->initial_delay_remaining_ms - group->initial_delay_current_ms, 0);
      group->initial_delay_current_ms = delay;
      group->join_deadline_ms = Now() + delay;
      if (delay > 0) return;
    }
    group->initial_delay = false;
  }
  OnCompleteJoin(group, c);
}

void GroupCoordinator::OnCompleteJoin(Group* group, Completions* c) {
  // Dynamic members that did not rejoin in time are out; static ones stay until their session expires.
  for (const std::string& id : group->NotYetRejoinedMembers()) {
    MemberMetadata* m = group->Get(id);
    if (m->group_instance_id) continue;
    if (m->awaiting_sync) c->Respond(TakeCallback(m->awaiting_sync), SyncGroupError(ErrorCode::kUnknownMemberId));
    group->Remove(id);
  }
  if (group->Is(GroupState::kDead)) return;
  if (!group->MaybeElectNewJoinedLeader() && group->size() > 0) {
    // Only static members that did not rejoin are left: wait another rebalance timeout (their sessions
    // expire meanwhile).
    group->join_deadline_ms = Now() + group->RebalanceTimeoutMs();
    return;
  }
  group->InitNextGeneration();
  if (group->Is(GroupState::kEmpty)) return;
  for (MemberMetadata* m : group->members()) {
    if (m->awaiting_join) {
      JoinGroupResponse r;
      r.generation_id = group->generation_id();
      r.protocol_type = group->protocol_type();
      r.protocol_name = group->protocol_name();
      r.leader = group->leader_id().value_or("");
      r.member_id = m->member_id;
      if (group->IsLeader(m->member_id)) r.members = group->CurrentMemberMetadata();
      c->Respond(TakeCallback(m->awaiting_join), std::move(r));
    }
    ScheduleHeartbeat(m, m->session_timeout_ms);
    m->is_new = false;
    group->pending_sync().insert(m->member_id);
  }
  // Members that do not send SyncGroup within the rebalance timeout are removed (Kafka 3.0+).
  group->sync_deadline_ms = Now() + group->RebalanceTimeoutMs();
}

void GroupCoordinator::OnSyncDeadline(Group* group, Completions* c) {
  const std::vector<std::string> missing(group->pending_sync().begin(), group->pending_sync().end());
  for (const std::string& id : missing) {
    if (std::unique_ptr<MemberMetadata> m = group->Remove(id)) {
      if (m->awaiting_join) c->Respond(TakeCallback(m->awaiting_join), JoinGroupError("", ErrorCode::kUnknownMemberId));
      if (m->awaiting_sync) c->Respond(TakeCallback(m->awaiting_sync), SyncGroupError(ErrorCode::kUnknownMemberId));
    }
  }
  PrepareRebalance(group, c);
}

}  // namespace eddy::broker
