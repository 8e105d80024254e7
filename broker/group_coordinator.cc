// GroupCoordinator: construction, the timer (Tick), request validation, SyncGroup, Heartbeat and LeaveGroup.
// JoinGroup and the rebalance machinery are in group_rebalance.cc; offsets and the admin APIs in
// group_coordinator_offsets.cc. Method names follow Kafka's GroupCoordinator.scala so the two can be read
// side by side.
#include "broker/group_coordinator.h"

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"

namespace eddy::broker {
namespace {

// Kafka's hasSatisfiedHeartbeat for a member whose deadline passed: members waiting in a rebalance are kept
// alive, except new ones (they expire after the new-member join timeout).
bool KeptAliveByRebalance(const MemberMetadata& m) {
  return !m.is_new && (m.is_awaiting_join() || m.is_awaiting_sync());
}

}  // namespace

GroupCoordinator::GroupCoordinator(GroupStore* store, GroupCoordinatorOptions options)
    : store_(store), options_(std::move(options)) {
  uint64_t seed = options_.member_id_seed;
  if (seed == 0) {
    std::random_device rd;
    seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
  absl::MutexLock lock(&mu_);
  rng_.seed(seed);
  next_cleanup_ms_ = Now() + options_.group_cleanup_interval_ms;
  if (options_.start_timer_thread) timer_thread_ = std::thread([this] { TimerLoop(); });
}

GroupCoordinator::~GroupCoordinator() { Shutdown(); }

void GroupCoordinator::TimerLoop() {
  absl::MutexLock lock(&timer_mu_);
  while (!timer_mu_.AwaitWithTimeout(absl::Condition(&stop_timer_), options_.tick_interval)) {
    timer_mu_.Unlock();
    Tick();
    timer_mu_.Lock();
  }
}

void GroupCoordinator::Shutdown() {
  {
    absl::MutexLock lock(&timer_mu_);
    stop_timer_ = true;
  }
  std::call_once(join_timer_once_, [this] {
    if (timer_thread_.joinable()) timer_thread_.join();
  });
  Completions c;
  {
    absl::MutexLock lock(&mu_);
    if (active_) {
      active_ = false;
      for (auto& [id, group] : groups_) {
        for (MemberMetadata* m : group->members()) {
          if (m->awaiting_join) {
            c.Respond(TakeCallback(m->awaiting_join), JoinGroupError(m->member_id, ErrorCode::kNotCoordinator));
          }
          if (m->awaiting_sync) c.Respond(TakeCallback(m->awaiting_sync), SyncGroupError(ErrorCode::kNotCoordinator));
        }
        group->TransitionTo(GroupState::kDead);
      }
    }
  }
  c.Run();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int64_t* outstanding) { return *outstanding == 0; }, &outstanding_appends_));
}

void GroupCoordinator::Tick() {
  Completions c;
  {
    absl::MutexLock lock(&mu_);
    if (!active_ || loading_) return;
    const int64_t now = Now();
    std::vector<Group*> groups;
    groups.reserve(groups_.size());
    for (auto& [id, group] : groups_) groups.push_back(group.get());
    for (Group* g : groups) TickGroup(g, now, &c);
    if (now >= next_cleanup_ms_) {
      CleanupGroups();
      next_cleanup_ms_ = now + options_.group_cleanup_interval_ms;
    }
  }
  c.Run();
}

void GroupCoordinator::TickGroup(Group* group, int64_t now, Completions* c) {
  std::vector<std::string> expired;
  for (const auto& [id, deadline] : group->pending_members()) {
    if (now >= deadline) expired.push_back(id);
  }
  for (const std::string& id : expired) RemovePendingMemberAndUpdateGroup(group, id, c);
  expired.clear();
  for (const MemberMetadata* m : group->members()) {
    if (now >= m->heartbeat_deadline_ms && !KeptAliveByRebalance(*m)) expired.push_back(m->member_id);
  }
  for (const std::string& id : expired) RemoveMemberAndUpdateGroup(group, id, c);
  if (group->Is(GroupState::kPreparingRebalance) && now >= group->join_deadline_ms) OnJoinDeadline(group, c);
  if ((group->Is(GroupState::kCompletingRebalance) || group->Is(GroupState::kStable)) &&
      !group->pending_sync().empty() && now >= group->sync_deadline_ms) {
    OnSyncDeadline(group, c);
  }
}

void GroupCoordinator::CleanupGroups() {
  absl::erase_if(groups_, [](const auto& entry) {
    const Group& g = *entry.second;
    return g.Is(GroupState::kEmpty) && g.size() == 0 && g.pending_members().empty() && g.offsets.empty() &&
           g.pending_commits.empty();
  });
}

Group* GroupCoordinator::FindGroup(absl::string_view group_id) const {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : it->second.get();
}

Group* GroupCoordinator::GetOrCreateGroup(absl::string_view group_id) {
  std::unique_ptr<Group>& slot = groups_[group_id];
  if (slot == nullptr) {
    slot = std::make_unique<Group>(std::string(group_id));
    slot->incarnation = next_incarnation_++;
  }
  return slot.get();
}

std::string GroupCoordinator::GenerateMemberId(absl::string_view prefix) {
  // A random (version 4) UUID, as Kafka's UUID.randomUUID().
  const uint64_t hi = (rng_() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  const uint64_t lo = (rng_() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char uuid[37];
  std::snprintf(uuid, sizeof(uuid), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return absl::StrCat(prefix, "-", uuid);
}

ErrorCode GroupCoordinator::ValidateGroupStatus(absl::string_view group_id, bool allow_empty_id) const {
  if ((!allow_empty_id && group_id.empty()) || group_id.size() > 32767) return ErrorCode::kInvalidGroupId;
  if (!active_) return ErrorCode::kCoordinatorNotAvailable;
  if (loading_) return ErrorCode::kCoordinatorLoadInProgress;
  return ErrorCode::kNone;
}

ErrorCode GroupCoordinator::ValidateCurrentMember(const Group& group, absl::string_view member_id,
                                                  const std::optional<std::string>& group_instance_id) {
  if (group_instance_id) {
    std::optional<std::string> current = group.CurrentStaticMemberId(*group_instance_id);
    if (!current) return ErrorCode::kUnknownMemberId;
    if (*current != member_id) return ErrorCode::kFencedInstanceId;
  }
  return group.Has(member_id) ? ErrorCode::kNone : ErrorCode::kUnknownMemberId;
}

void GroupCoordinator::ScheduleHeartbeat(MemberMetadata* member, int64_t timeout_ms) {
  member->heartbeat_deadline_ms = Now() + timeout_ms;
}

// ---- SyncGroup -------------------------------------------------------------------------------------------

void GroupCoordinator::SyncGroup(SyncGroupRequest request, SyncGroupCallback done) {
  Completions c;
  {
    absl::MutexLock lock(&mu_);
    SyncGroupLocked(request, std::move(done), &c);
  }
  c.Run();
}

void GroupCoordinator::SyncGroupLocked(SyncGroupRequest& req, SyncGroupCallback done, Completions* c) {
  ErrorCode err = ValidateGroupStatus(req.group_id, false);
  // A loading coordinator has lost the rebalance: make the member rejoin (older clients do not expect
  // COORDINATOR_LOAD_IN_PROGRESS here).
  if (err == ErrorCode::kCoordinatorLoadInProgress) err = ErrorCode::kRebalanceInProgress;
  if (err != ErrorCode::kNone) return c->Respond(std::move(done), SyncGroupError(err));
  Group* group = FindGroup(req.group_id);
  if (group == nullptr) return c->Respond(std::move(done), SyncGroupError(ErrorCode::kUnknownMemberId));
  if (group->Is(GroupState::kDead))
    return c->Respond(std::move(done), SyncGroupError(ErrorCode::kCoordinatorNotAvailable));
  err = ValidateCurrentMember(*group, req.member_id, req.group_instance_id);
  if (err == ErrorCode::kNone && req.generation_id != group->generation_id()) err = ErrorCode::kIllegalGeneration;
  if (err == ErrorCode::kNone && ((req.protocol_type && group->protocol_type() != req.protocol_type) ||
                                  (req.protocol_name && group->protocol_name() != req.protocol_name))) {
    err = ErrorCode::kInconsistentGroupProtocol;
  }
  if (err != ErrorCode::kNone) return c->Respond(std::move(done), SyncGroupError(err));
  MemberMetadata* member = group->Get(req.member_id);
  switch (group->state()) {
    case GroupState::kEmpty:
      return c->Respond(std::move(done), SyncGroupError(ErrorCode::kUnknownMemberId));
    case GroupState::kPreparingRebalance:
      return c->Respond(std::move(done), SyncGroupError(ErrorCode::kRebalanceInProgress));
    case GroupState::kCompletingRebalance:
      if (member->awaiting_sync) {
        c->Respond(TakeCallback(member->awaiting_sync), SyncGroupError(ErrorCode::kRebalanceInProgress));
      }
      member->awaiting_sync = std::move(done);
      group->pending_sync().erase(req.member_id);
      if (group->IsLeader(req.member_id)) {
        // Kafka writes the group metadata here and propagates once it is durable; Eddy does not persist
        // membership, so the assignment goes out at once.
        SetAndPropagateAssignment(group, req.assignments, c);
        group->TransitionTo(GroupState::kStable);
      }
      return;
    case GroupState::kStable: {
      group->pending_sync().erase(req.member_id);
      SyncGroupResponse r;
      r.protocol_type = group->protocol_type();
      r.protocol_name = group->protocol_name();
      r.assignment = member->assignment;
      ScheduleHeartbeat(member, member->session_timeout_ms);
      return c->Respond(std::move(done), std::move(r));
    }
    case GroupState::kDead:
      return c->Respond(std::move(done), SyncGroupError(ErrorCode::kCoordinatorNotAvailable));
  }
}

void GroupCoordinator::SetAndPropagateAssignment(Group* group, const std::vector<SyncGroupAssignment>& assignments,
                                                 Completions* c) {
  // Members the leader left out get an empty assignment; entries for non-members are ignored.
  for (MemberMetadata* m : group->members()) m->assignment.clear();
  for (const SyncGroupAssignment& a : assignments) {
    if (MemberMetadata* m = group->Get(a.member_id)) m->assignment = a.assignment;
  }
  PropagateAssignment(group, ErrorCode::kNone, c);
}

void GroupCoordinator::ResetAndPropagateAssignmentError(Group* group, ErrorCode error, Completions* c) {
  for (MemberMetadata* m : group->members()) m->assignment.clear();
  PropagateAssignment(group, error, c);
}

void GroupCoordinator::PropagateAssignment(Group* group, ErrorCode error, Completions* c) {
  for (MemberMetadata* m : group->members()) {
    if (!m->awaiting_sync) continue;
    SyncGroupResponse r;
    r.error = error;
    if (error == ErrorCode::kNone) {
      r.protocol_type = group->protocol_type();
      r.protocol_name = group->protocol_name();
      r.assignment = m->assignment;
    }
    c->Respond(TakeCallback(m->awaiting_sync), std::move(r));
    // The session restarts now: a member waiting for the leader could not heartbeat meanwhile.
    ScheduleHeartbeat(m, m->session_timeout_ms);
  }
}

// ---- Heartbeat and LeaveGroup ----------------------------------------------------------------------------

void GroupCoordinator::Heartbeat(const HeartbeatRequest& request, HeartbeatCallback done) {
  HeartbeatResponse r;
  {
    absl::MutexLock lock(&mu_);
    r.error = HeartbeatLocked(request);
  }
  done(r);
}

ErrorCode GroupCoordinator::HeartbeatLocked(const HeartbeatRequest& req) {
  ErrorCode err = ValidateGroupStatus(req.group_id, false);
  if (err == ErrorCode::kCoordinatorLoadInProgress) return ErrorCode::kNone;  // Kafka answers blindly
  if (err != ErrorCode::kNone) return err;
  Group* group = FindGroup(req.group_id);
  if (group == nullptr) return ErrorCode::kUnknownMemberId;
  if (group->Is(GroupState::kDead)) return ErrorCode::kCoordinatorNotAvailable;
  err = ValidateCurrentMember(*group, req.member_id, req.group_instance_id);
  if (err != ErrorCode::kNone) return err;
  if (req.generation_id != group->generation_id()) return ErrorCode::kIllegalGeneration;
  MemberMetadata* member = group->Get(req.member_id);
  switch (group->state()) {
    case GroupState::kEmpty:
    case GroupState::kDead:
      return ErrorCode::kUnknownMemberId;
    case GroupState::kCompletingRebalance:
    case GroupState::kStable:
      ScheduleHeartbeat(member, member->session_timeout_ms);
      return ErrorCode::kNone;
    case GroupState::kPreparingRebalance:
      ScheduleHeartbeat(member, member->session_timeout_ms);
      return ErrorCode::kRebalanceInProgress;
  }
  return ErrorCode::kNone;
}

void GroupCoordinator::LeaveGroup(const LeaveGroupRequest& request, LeaveGroupCallback done) {
  Completions c;
  LeaveGroupResponse r;
  {
    absl::MutexLock lock(&mu_);
    r = LeaveGroupLocked(request, &c);
  }
  c.Run();
  done(r);
}

LeaveGroupResponse GroupCoordinator::LeaveGroupLocked(const LeaveGroupRequest& req, Completions* c) {
  LeaveGroupResponse r;
  if (ErrorCode err = ValidateGroupStatus(req.group_id, false); err != ErrorCode::kNone) {
    r.error = err;
    return r;
  }
  Group* group = FindGroup(req.group_id);
  if (group != nullptr && group->Is(GroupState::kDead)) {
    r.error = ErrorCode::kCoordinatorNotAvailable;
    return r;
  }
  for (const LeaveGroupMember& leaving : req.members) {
    LeaveGroupMemberResponse& out = r.members.emplace_back();
    out.member_id = leaving.member_id;
    out.group_instance_id = leaving.group_instance_id;
    if (group == nullptr) {
      out.error = ErrorCode::kUnknownMemberId;
    } else if (leaving.member_id.empty()) {
      // Administrative removal of a static member by its instance id.
      std::optional<std::string> current =
          leaving.group_instance_id ? group->CurrentStaticMemberId(*leaving.group_instance_id) : std::nullopt;
      if (current) {
        RemoveMemberAndUpdateGroup(group, *current, c);
      } else {
        out.error = ErrorCode::kUnknownMemberId;
      }
    } else if (group->IsPendingMember(leaving.member_id)) {
      RemovePendingMemberAndUpdateGroup(group, leaving.member_id, c);
    } else {
      out.error = ValidateCurrentMember(*group, leaving.member_id, leaving.group_instance_id);
      if (out.error == ErrorCode::kNone) RemoveMemberAndUpdateGroup(group, leaving.member_id, c);
    }
  }
  return r;
}

}  // namespace eddy::broker
