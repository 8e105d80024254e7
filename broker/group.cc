#include "broker/group.h"

#include <algorithm>
#include <cassert>

#include "absl/container/flat_hash_map.h"

namespace eddy::broker {

const char* GroupStateName(GroupState state) {
  switch (state) {
    case GroupState::kEmpty:
      return "Empty";
    case GroupState::kPreparingRebalance:
      return "PreparingRebalance";
    case GroupState::kCompletingRebalance:
      return "CompletingRebalance";
    case GroupState::kStable:
      return "Stable";
    case GroupState::kDead:
      return "Dead";
  }
  return "Unknown";
}

const std::string& MemberMetadata::MetadataFor(absl::string_view protocol) const {
  static const std::string* const kEmpty = new std::string();
  for (const GroupProtocol& p : protocols) {
    if (p.name == protocol) return p.metadata;
  }
  return *kEmpty;
}

bool MemberMetadata::Matches(const std::vector<GroupProtocol>& other) const {
  if (other.size() != protocols.size()) return false;
  for (size_t i = 0; i < other.size(); ++i) {
    if (other[i].name != protocols[i].name || other[i].metadata != protocols[i].metadata) return false;
  }
  return true;
}

std::string MemberMetadata::Vote(const absl::flat_hash_set<std::string>& candidates) const {
  for (const GroupProtocol& p : protocols) {
    if (candidates.contains(p.name)) return p.name;
  }
  return "";  // not reached: candidates are supported by every member
}

void Group::TransitionTo(GroupState target) {
  [[maybe_unused]] const bool valid = [&] {
    switch (target) {
      case GroupState::kDead:
        return true;
      case GroupState::kCompletingRebalance:
        return state_ == GroupState::kPreparingRebalance;
      case GroupState::kStable:
        return state_ == GroupState::kCompletingRebalance;
      case GroupState::kPreparingRebalance:
        return CanRebalance();
      case GroupState::kEmpty:
        return state_ == GroupState::kPreparingRebalance;
    }
    return false;
  }();
  assert(valid && "invalid group state transition");
  state_ = target;
}

bool Group::CanRebalance() const {
  return state_ == GroupState::kStable || state_ == GroupState::kCompletingRebalance || state_ == GroupState::kEmpty;
}

MemberMetadata* Group::Get(absl::string_view member_id) const {
  auto it = by_id_.find(member_id);
  return it == by_id_.end() ? nullptr : it->second;
}

std::vector<MemberMetadata*> Group::members() const {
  std::vector<MemberMetadata*> out;
  out.reserve(members_.size());
  for (const auto& m : members_) out.push_back(m.get());
  return out;
}

void Group::Add(std::unique_ptr<MemberMetadata> member) {
  if (members_.empty()) protocol_type_ = member->protocol_type;
  if (!leader_id_) leader_id_ = member->member_id;
  if (member->group_instance_id) static_members_[*member->group_instance_id] = member->member_id;
  by_id_[member->member_id] = member.get();
  members_.push_back(std::move(member));
}

std::unique_ptr<MemberMetadata> Group::Remove(absl::string_view member_id) {
  std::unique_ptr<MemberMetadata> removed;
  auto it = std::find_if(members_.begin(), members_.end(), [&](const auto& m) { return m->member_id == member_id; });
  if (it != members_.end()) {
    removed = std::move(*it);
    members_.erase(it);
    by_id_.erase(member_id);
    if (removed->group_instance_id) {
      auto s = static_members_.find(*removed->group_instance_id);
      if (s != static_members_.end() && s->second == member_id) static_members_.erase(s);
    }
  }
  if (IsLeader(member_id)) {
    if (members_.empty()) {
      leader_id_.reset();
    } else {
      leader_id_ = members_.front()->member_id;
    }
  }
  pending_members_.erase(member_id);
  pending_sync_.erase(member_id);
  return removed;
}

bool Group::SupportsProtocols(absl::string_view protocol_type, const std::vector<GroupProtocol>& protocols) const {
  if (Is(GroupState::kEmpty)) return !protocol_type.empty() && !protocols.empty();
  if (!protocol_type_ || *protocol_type_ != protocol_type) return false;
  for (const GroupProtocol& p : protocols) {
    const bool all = std::all_of(members_.begin(), members_.end(), [&](const auto& m) {
      return std::any_of(m->protocols.begin(), m->protocols.end(),
                         [&](const GroupProtocol& q) { return q.name == p.name; });
    });
    if (all) return true;
  }
  return false;
}

std::string Group::SelectProtocol() const {
  assert(!members_.empty());
  // Candidates: the protocols every member supports.
  absl::flat_hash_set<std::string> candidates;
  for (const GroupProtocol& p : members_.front()->protocols) candidates.insert(p.name);
  for (const auto& m : members_) {
    absl::flat_hash_set<std::string> mine;
    for (const GroupProtocol& p : m->protocols) mine.insert(p.name);
    absl::erase_if(candidates, [&](const std::string& c) { return !mine.contains(c); });
  }
  absl::flat_hash_map<std::string, int> votes;
  for (const auto& m : members_) ++votes[m->Vote(candidates)];
  // Kafka breaks ties arbitrarily (hash order); Eddy deterministically, by the leader's preference order.
  const MemberMetadata* leader = leader_id_ ? Get(*leader_id_) : nullptr;
  if (leader == nullptr) leader = members_.front().get();
  std::string best;
  int best_votes = -1;
  for (const GroupProtocol& p : leader->protocols) {
    auto it = votes.find(p.name);
    if (it != votes.end() && it->second > best_votes) {
      best = p.name;
      best_votes = it->second;
    }
  }
  return best;
}

bool Group::HasAllMembersJoined() const {
  return pending_members_.empty() &&
         std::all_of(members_.begin(), members_.end(), [](const auto& m) { return m->is_awaiting_join(); });
}

std::vector<std::string> Group::NotYetRejoinedMembers() const {
  std::vector<std::string> out;
  for (const auto& m : members_) {
    if (!m->is_awaiting_join()) out.push_back(m->member_id);
  }
  return out;
}

int32_t Group::RebalanceTimeoutMs() const {
  int32_t timeout = 0;
  for (const auto& m : members_) timeout = std::max(timeout, m->rebalance_timeout_ms);
  return timeout;
}

bool Group::MaybeElectNewJoinedLeader() {
  if (!leader_id_) return false;
  const MemberMetadata* leader = Get(*leader_id_);
  if (leader != nullptr && leader->is_awaiting_join()) return true;
  for (const auto& m : members_) {
    if (m->is_awaiting_join()) {
      leader_id_ = m->member_id;
      return true;
    }
  }
  return false;
}

void Group::InitNextGeneration() {
  ++generation_id_;
  if (!members_.empty()) {
    protocol_name_ = SelectProtocol();
    TransitionTo(GroupState::kCompletingRebalance);
  } else {
    protocol_name_.reset();
    TransitionTo(GroupState::kEmpty);
  }
  pending_sync_.clear();
}

std::vector<JoinGroupResponseMember> Group::CurrentMemberMetadata() const {
  std::vector<JoinGroupResponseMember> out;
  out.reserve(members_.size());
  const std::string protocol = protocol_name_.value_or("");
  for (const auto& m : members_) {
    out.push_back(JoinGroupResponseMember{m->member_id, m->group_instance_id, m->MetadataFor(protocol)});
  }
  return out;
}

std::optional<std::string> Group::CurrentStaticMemberId(absl::string_view instance_id) const {
  auto it = static_members_.find(instance_id);
  if (it == static_members_.end()) return std::nullopt;
  return it->second;
}

MemberMetadata* Group::ReplaceStaticMember(absl::string_view instance_id, absl::string_view old_member_id,
                                           const std::string& new_member_id, Completions* c) {
  MemberMetadata* member = Get(old_member_id);
  assert(member != nullptr);
  // Fence the old incarnation if it still waits for a response.
  if (member->awaiting_join) {
    c->Respond(TakeCallback(member->awaiting_join),
               JoinGroupError(std::string(old_member_id), ErrorCode::kFencedInstanceId));
  }
  if (member->awaiting_sync) {
    c->Respond(TakeCallback(member->awaiting_sync), SyncGroupError(ErrorCode::kFencedInstanceId));
  }
  by_id_.erase(old_member_id);
  if (IsLeader(old_member_id)) leader_id_ = new_member_id;
  if (pending_sync_.erase(old_member_id) > 0) pending_sync_.insert(new_member_id);
  member->member_id = new_member_id;
  by_id_[new_member_id] = member;
  static_members_[std::string(instance_id)] = new_member_id;
  return member;
}

}  // namespace eddy::broker
