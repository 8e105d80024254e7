#include "broker/group_member.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "broker/consumer_protocol.h"

namespace eddy::broker {

// A coordinator response, queued by the thread that completed it for the poll thread.
struct GroupMember::Event {
  enum class Kind : uint8_t { kJoin, kSync, kHeartbeat, kCommit };
  Kind kind = Kind::kJoin;
  uint64_t epoch = 0;      // kJoin, kSync: request_epoch_ when sent
  int32_t generation = 0;  // kHeartbeat: generation when sent
  uint64_t commit_id = 0;  // kCommit
  JoinGroupResponse join;
  SyncGroupResponse sync;
  ErrorCode heartbeat_error = ErrorCode::kNone;
  OffsetCommitResponse commit;
};

// Thread-safe queue of events; shared with the callbacks, so a late response never touches a destroyed member.
struct GroupMember::Inbox {
  absl::Mutex mu;
  std::deque<Event> events ABSL_GUARDED_BY(mu);

  void Push(Event e) {
    absl::MutexLock lock(&mu);
    events.push_back(std::move(e));
  }
  std::deque<Event> TakeAll() {
    absl::MutexLock lock(&mu);
    return std::exchange(events, {});
  }
  // Takes only commit results, leaving the membership events for Poll.
  std::vector<Event> TakeCommits() {
    absl::MutexLock lock(&mu);
    std::vector<Event> commits;
    std::deque<Event> rest;
    for (Event& e : events)
      (e.kind == Event::Kind::kCommit ? commits.push_back(std::move(e)) : rest.push_back(std::move(e)));
    events = std::move(rest);
    return commits;
  }
  // Waits until an event is queued or `deadline`; returns whether one is.
  bool WaitUntil(absl::Time deadline) {
    absl::MutexLock lock(&mu);
    return mu.AwaitWithDeadline(absl::Condition(
                                    +[](std::deque<Event>* q) { return !q->empty(); }, &events),
                                deadline);
  }
  bool WaitForCommit(absl::Time deadline) {
    absl::MutexLock lock(&mu);
    return mu.AwaitWithDeadline(absl::Condition(
                                    +[](std::deque<Event>* q) {
                                      return std::any_of(q->begin(), q->end(),
                                                         [](const Event& e) { return e.kind == Event::Kind::kCommit; });
                                    },
                                    &events),
                                deadline);
  }
};

namespace {

bool IsCoordinatorError(ErrorCode e) {
  return e == ErrorCode::kCoordinatorLoadInProgress || e == ErrorCode::kCoordinatorNotAvailable ||
         e == ErrorCode::kNotCoordinator;
}

}  // namespace

GroupMember::GroupMember(GroupCoordinator* coordinator, GroupMemberConfig config)
    : coordinator_(coordinator), config_(std::move(config)), inbox_(std::make_shared<Inbox>()) {}

GroupMember::~GroupMember() { Leave().IgnoreError(); }

absl::Status GroupMember::Subscribe(std::vector<std::string> topics) {
  if (config_.group_id.empty()) return absl::InvalidArgumentError("subscribing requires a group.id");
  if (config_.assignors.empty()) return absl::InvalidArgumentError("partition.assignment.strategy is empty");
  for (const std::string& name : config_.assignors) {
    if (MakeAssignor(name) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown partition assignment strategy '", name, "' (Eddy implements range and roundrobin)"));
    }
  }
  for (const std::string& t : topics) {
    if (t.empty() || t.size() > 249) return absl::InvalidArgumentError(absl::StrCat("invalid topic name '", t, "'"));
  }
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  topics_ = std::move(topics);
  return absl::OkStatus();
}

absl::StatusOr<MembershipUpdate> GroupMember::Poll(int64_t now_ms, absl::Duration max_wait) {
  now_ms_ = now_ms;
  MembershipUpdate update = std::exchange(carry_, MembershipUpdate{});
  const absl::Time deadline = absl::Now() + max_wait;
  absl::Status status;
  for (;;) {
    for (Event& e : inbox_->TakeAll()) {
      absl::Status s = HandleEvent(e, &update);
      if (status.ok()) status = std::move(s);
    }
    if (!status.ok()) break;
    if (topics_.empty()) {
      // Unsubscribed: give everything back (the consumer commits), then leave at the next Poll.
      if (!assignment_.empty()) {
        RevokeAndRejoin(&update);
      } else if (!member_id_.empty() || state_ != State::kUnjoined) {
        status = Leave();
      }
      break;
    }
    bool wait = false;
    bool done = false;
    switch (state_) {
      case State::kRevoked:
        // Return the revocation first: the consumer commits for the generation it still belongs to (which
        // the coordinator accepts while the group is rebalancing) before this member rejoins, so nobody
        // else can own these partitions yet. Kafka's consumer does the same in onJoinPrepare.
        if (!update.revoked.empty()) {
          done = true;
          break;
        }
        SendJoin();
        continue;
      case State::kUnjoined:
        if (now_ms_ < retry_at_ms_) {
          done = true;
          break;
        }
        SendJoin();
        continue;  // the response may already be queued
      case State::kJoining:
      case State::kSyncing:
        wait = true;
        break;
      case State::kStable:
        if (rejoin_needed_ || topics_ != joined_topics_) {
          RevokeAndRejoin(&update);
          continue;
        }
        if (now_ms_ >= next_heartbeat_ms_ && !heartbeat_in_flight_) {
          if (is_leader() && MetadataChanged()) {
            // Partition counts changed: the leader rejoins, which makes the coordinator rebalance.
            rejoin_needed_ = true;
            continue;
          }
          SendHeartbeat();
          continue;
        }
        done = true;
        break;
    }
    if (done) break;
    if (!wait || !inbox_->WaitUntil(deadline)) break;
  }
  update.generation_id = generation_id_;
  update.stable = state_ == State::kStable;
  if (!status.ok()) {
    carry_ = std::move(update);
    return status;
  }
  return update;
}

void GroupMember::SendJoin() {
  JoinGroupRequest req;
  req.group_id = config_.group_id;
  req.member_id = member_id_;
  req.group_instance_id = config_.group_instance_id;
  req.client_id = config_.client_id;
  req.client_host = config_.client_host;
  req.session_timeout_ms = config_.session_timeout_ms;
  req.rebalance_timeout_ms = config_.rebalance_timeout_ms;
  req.protocol_type = std::string(kConsumerProtocolType);
  req.require_known_member_id = true;  // as JoinGroup v4+ clients
  ConsumerSubscription subscription;
  subscription.topics = topics_;  // eager protocol: nothing is owned while joining
  // Subscribe validated the topic names, so encoding cannot fail.
  const std::string metadata = EncodeSubscription(subscription).value_or("");
  for (const std::string& name : config_.assignors) req.protocols.push_back(GroupProtocol{name, metadata});
  joined_topics_ = topics_;
  rejoin_needed_ = false;
  state_ = State::kJoining;
  const uint64_t epoch = ++request_epoch_;
  coordinator_->JoinGroup(std::move(req), [inbox = inbox_, epoch](const JoinGroupResponse& r) {
    Event e;
    e.kind = Event::Kind::kJoin;
    e.epoch = epoch;
    e.join = r;
    inbox->Push(std::move(e));
  });
}

void GroupMember::SendSync(std::vector<SyncGroupAssignment> assignments) {
  SyncGroupRequest req;
  req.group_id = config_.group_id;
  req.generation_id = generation_id_;
  req.member_id = member_id_;
  req.group_instance_id = config_.group_instance_id;
  req.protocol_type = std::string(kConsumerProtocolType);
  req.protocol_name = protocol_name_;
  req.assignments = std::move(assignments);
  state_ = State::kSyncing;
  const uint64_t epoch = ++request_epoch_;
  coordinator_->SyncGroup(std::move(req), [inbox = inbox_, epoch](const SyncGroupResponse& r) {
    Event e;
    e.kind = Event::Kind::kSync;
    e.epoch = epoch;
    e.sync = r;
    inbox->Push(std::move(e));
  });
}

void GroupMember::SendHeartbeat() {
  HeartbeatRequest req;
  req.group_id = config_.group_id;
  req.generation_id = generation_id_;
  req.member_id = member_id_;
  req.group_instance_id = config_.group_instance_id;
  heartbeat_in_flight_ = true;
  next_heartbeat_ms_ = now_ms_ + config_.heartbeat_interval_ms;
  coordinator_->Heartbeat(req, [inbox = inbox_, generation = generation_id_](const HeartbeatResponse& r) {
    Event e;
    e.kind = Event::Kind::kHeartbeat;
    e.generation = generation;
    e.heartbeat_error = r.error;
    inbox->Push(std::move(e));
  });
}

absl::Status GroupMember::HandleEvent(Event& e, MembershipUpdate* update) {
  switch (e.kind) {
    case Event::Kind::kJoin:
      if (state_ != State::kJoining || e.epoch != request_epoch_) return absl::OkStatus();  // stale
      return HandleJoin(e.join);
    case Event::Kind::kSync:
      if (state_ != State::kSyncing || e.epoch != request_epoch_) return absl::OkStatus();
      return HandleSync(e.sync, update);
    case Event::Kind::kHeartbeat:
      heartbeat_in_flight_ = false;
      if (state_ != State::kStable || e.generation != generation_id_) return absl::OkStatus();
      return HandleHeartbeat(e.heartbeat_error, update);
    case Event::Kind::kCommit: {
      auto it = pending_commits_.find(e.commit_id);
      if (it == pending_commits_.end()) return absl::OkStatus();  // already answered (Leave timed out)
      CommitCallback callback = std::move(it->second.first);
      const int32_t generation = it->second.second;
      pending_commits_.erase(it);
      absl::Status status = CommitStatus(e.commit, generation);
      if (callback) callback(status);
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

void GroupMember::ResetToUnjoined(int64_t retry_delay_ms) {
  state_ = State::kUnjoined;
  retry_at_ms_ = now_ms_ + retry_delay_ms;
  ++request_epoch_;  // a response still in flight is stale now
}

void GroupMember::RevokeAll(MembershipUpdate* update) {
  update->revoked.insert(update->revoked.end(), assignment_.begin(), assignment_.end());
  assignment_.clear();
}

void GroupMember::RevokeAndRejoin(MembershipUpdate* update) {
  RevokeAll(update);
  state_ = State::kRevoked;
  retry_at_ms_ = now_ms_;
  ++request_epoch_;
}

absl::Status GroupMember::HandleJoin(const JoinGroupResponse& r) {
  switch (r.error) {
    case ErrorCode::kNone: {
      member_id_ = r.member_id;
      generation_id_ = r.generation_id;
      protocol_name_ = r.protocol_name.value_or("");
      leader_id_ = r.leader;
      std::vector<SyncGroupAssignment> assignments;
      if (is_leader()) {
        absl::StatusOr<std::vector<SyncGroupAssignment>> computed = Assign(r);
        if (!computed.ok()) {
          ResetToUnjoined(config_.retry_backoff_ms);
          return computed.status();
        }
        assignments = *std::move(computed);
      }
      SendSync(std::move(assignments));
      return absl::OkStatus();
    }
    case ErrorCode::kMemberIdRequired:
      member_id_ = r.member_id;  // join again with it, right away
      ResetToUnjoined(0);
      return absl::OkStatus();
    default:
      return RejoinAfter(r.error, "JoinGroup");
  }
}

absl::Status GroupMember::RejoinAfter(ErrorCode error, absl::string_view request) {
  switch (error) {
    case ErrorCode::kUnknownMemberId:
      member_id_.clear();
      generation_id_ = kNoGeneration;
      ResetToUnjoined(0);
      return absl::OkStatus();
    case ErrorCode::kIllegalGeneration:
      generation_id_ = kNoGeneration;
      ResetToUnjoined(0);
      return absl::OkStatus();
    case ErrorCode::kRebalanceInProgress:
      ResetToUnjoined(0);
      return absl::OkStatus();
    default:
      ResetToUnjoined(config_.retry_backoff_ms);
      if (IsCoordinatorError(error)) return absl::OkStatus();
      return ToStatus(error, absl::StrCat(request, " of group ", config_.group_id));
  }
}

absl::Status GroupMember::HandleSync(const SyncGroupResponse& r, MembershipUpdate* update) {
  switch (r.error) {
    case ErrorCode::kNone: {
      absl::StatusOr<ConsumerAssignment> a = DecodeAssignment(r.assignment);
      if (!a.ok()) {
        ResetToUnjoined(config_.retry_backoff_ms);
        return a.status();
      }
      assignment_ = std::move(a->partitions);
      update->assigned.insert(update->assigned.end(), assignment_.begin(), assignment_.end());
      state_ = State::kStable;
      next_heartbeat_ms_ = now_ms_ + config_.heartbeat_interval_ms;
      return absl::OkStatus();
    }
    default:
      return RejoinAfter(r.error, "SyncGroup");
  }
}

absl::Status GroupMember::HandleHeartbeat(ErrorCode error, MembershipUpdate* update) {
  switch (error) {
    case ErrorCode::kNone:
      return absl::OkStatus();
    case ErrorCode::kRebalanceInProgress:
      RevokeAndRejoin(update);
      return absl::OkStatus();
    // The member is out of its generation: its partitions may already be someone else's, so it rejoins at
    // once (Kafka calls these partitions lost rather than revoked; commits for them would fail).
    case ErrorCode::kIllegalGeneration:
      RevokeAll(update);
      generation_id_ = kNoGeneration;
      ResetToUnjoined(0);
      return absl::OkStatus();
    case ErrorCode::kUnknownMemberId:
      RevokeAll(update);
      member_id_.clear();
      generation_id_ = kNoGeneration;
      ResetToUnjoined(0);
      return absl::OkStatus();
    default:
      if (IsCoordinatorError(error)) return absl::OkStatus();  // try again at the next interval
      RevokeAll(update);
      ResetToUnjoined(config_.retry_backoff_ms);
      return ToStatus(error, absl::StrCat("Heartbeat of group ", config_.group_id));
  }
}

absl::StatusOr<std::vector<SyncGroupAssignment>> GroupMember::Assign(const JoinGroupResponse& r) {
  std::unique_ptr<Assignor> assignor = MakeAssignor(protocol_name_);
  if (assignor == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("group ", config_.group_id, " chose assignor '", protocol_name_,
                                                   "', which Eddy does not implement"));
  }
  std::vector<AssignorMember> members;
  members.reserve(r.members.size());
  for (const JoinGroupResponseMember& m : r.members) {
    absl::StatusOr<ConsumerSubscription> s = DecodeSubscription(m.metadata);
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("subscription of member ", m.member_id, " of group ",
                                                     config_.group_id, ": ", s.status().message()));
    }
    members.push_back(AssignorMember{m.member_id, m.group_instance_id, *std::move(s)});
  }
  PartitionsPerTopic counts;
  assigned_with_.clear();
  for (const AssignorMember& m : members) {
    for (const std::string& topic : m.subscription.topics) {
      if (assigned_with_.contains(topic)) continue;
      const int32_t n = config_.partition_count ? config_.partition_count(topic).value_or(0) : 0;
      assigned_with_[topic] = n;
      if (n > 0) counts[topic] = n;
    }
  }
  std::vector<SyncGroupAssignment> out;
  for (auto& [member_id, partitions] : assignor->Assign(members, counts)) {
    ConsumerAssignment a;
    a.partitions = std::move(partitions);
    absl::StatusOr<std::string> bytes = EncodeAssignment(a);
    if (!bytes.ok()) return bytes.status();
    out.push_back(SyncGroupAssignment{member_id, *std::move(bytes)});
  }
  return out;
}

bool GroupMember::MetadataChanged() {
  if (!config_.partition_count) return false;
  for (const auto& [topic, n] : assigned_with_) {
    if (config_.partition_count(topic).value_or(0) != n) return true;
  }
  return false;
}

OffsetCommitRequest GroupMember::MakeCommitRequest(const std::vector<TopicPartitionOffset>& offsets) const {
  OffsetCommitRequest req;
  req.group_id = config_.group_id;
  if (!topics_.empty()) {
    req.generation_id = generation_id_;
    req.member_id = member_id_;
    req.group_instance_id = config_.group_instance_id;
  }
  req.partitions.reserve(offsets.size());
  for (const TopicPartitionOffset& o : offsets) {
    req.partitions.push_back(OffsetCommitPartition{o.tp.topic, o.tp.partition, o.offset, -1, o.metadata});
  }
  return req;
}

absl::Status GroupMember::CommitStatus(const OffsetCommitResponse& r, int32_t generation) {
  for (const OffsetCommitPartitionResponse& p : r.partitions) {
    if (p.error == ErrorCode::kNone) continue;
    HandleCommitError(p.error, generation);
    return ToStatus(p.error,
                    absl::StrCat("OffsetCommit of group ", config_.group_id, " for ", p.topic, "-", p.partition));
  }
  return absl::OkStatus();
}

void GroupMember::HandleCommitError(ErrorCode error, int32_t generation) {
  if (topics_.empty() || generation != generation_id_) return;
  // As Kafka's consumer: a commit that finds the member stale makes it rejoin.
  if (error == ErrorCode::kUnknownMemberId) {
    member_id_.clear();
    rejoin_needed_ = true;
  } else if (error == ErrorCode::kIllegalGeneration || error == ErrorCode::kRebalanceInProgress) {
    rejoin_needed_ = true;
  }
}

absl::Status GroupMember::CommitSync(const std::vector<TopicPartitionOffset>& offsets, absl::Duration timeout) {
  RunCommitCallbacks(false);
  if (offsets.empty()) return absl::OkStatus();
  if (config_.group_id.empty()) return absl::InvalidArgumentError("committing offsets requires a group.id");
  if (!topics_.empty() && !HasGeneration()) {
    return absl::UnavailableError(
        absl::StrCat("group ", config_.group_id, " is rebalancing: commit after the next Poll assigns partitions"));
  }
  struct Result {
    absl::Notification done;
    OffsetCommitResponse response;
  };
  auto result = std::make_shared<Result>();
  OffsetCommitRequest req = MakeCommitRequest(offsets);
  const int32_t generation = req.generation_id;
  coordinator_->OffsetCommit(std::move(req), [result](const OffsetCommitResponse& r) {
    result->response = r;
    result->done.Notify();
  });
  if (!result->done.WaitForNotificationWithTimeout(timeout)) {
    return absl::DeadlineExceededError(absl::StrCat("OffsetCommit of group ", config_.group_id, " timed out"));
  }
  return CommitStatus(result->response, generation);
}

void GroupMember::CommitAsync(const std::vector<TopicPartitionOffset>& offsets, CommitCallback callback) {
  const uint64_t id = next_commit_id_++;
  Event immediate;
  immediate.kind = Event::Kind::kCommit;
  immediate.commit_id = id;
  if (offsets.empty() || config_.group_id.empty() || (!topics_.empty() && !HasGeneration())) {
    // Answered at the next Poll, like any other commit. (An empty commit succeeds.)
    absl::Status status = absl::OkStatus();
    if (!offsets.empty()) {
      status = config_.group_id.empty()
                   ? absl::InvalidArgumentError("committing offsets requires a group.id")
                   : absl::UnavailableError(absl::StrCat("group ", config_.group_id, " is rebalancing"));
    }
    pending_commits_[id] = {[callback = std::move(callback), status](const absl::Status&) mutable {
                              if (callback) callback(status);
                            },
                            generation_id_};
    inbox_->Push(std::move(immediate));
    return;
  }
  OffsetCommitRequest req = MakeCommitRequest(offsets);
  pending_commits_[id] = {std::move(callback), req.generation_id};
  coordinator_->OffsetCommit(std::move(req), [inbox = inbox_, id](const OffsetCommitResponse& r) {
    Event e;
    e.kind = Event::Kind::kCommit;
    e.commit_id = id;
    e.commit = r;
    inbox->Push(std::move(e));
  });
}

void GroupMember::RunCommitCallbacks(bool wait) {
  const absl::Time deadline = absl::Now() + absl::Milliseconds(config_.request_timeout_ms);
  for (;;) {
    MembershipUpdate ignored;  // commit events never change the membership
    for (Event& e : inbox_->TakeCommits()) HandleEvent(e, &ignored).IgnoreError();
    if (!wait || pending_commits_.empty() || !inbox_->WaitForCommit(deadline)) break;
  }
  if (!wait) return;
  // Commits still unanswered after request.timeout.ms: their callbacks run now; late responses are dropped.
  auto pending = std::move(pending_commits_);
  pending_commits_.clear();
  for (auto& [id, entry] : pending) {
    if (entry.first) entry.first(absl::DeadlineExceededError("OffsetCommit timed out"));
  }
}

absl::Status GroupMember::Leave() {
  RunCommitCallbacks(true);
  absl::Status status;
  if (!member_id_.empty() && !config_.group_instance_id) {
    struct Result {
      absl::Notification done;
      LeaveGroupResponse response;
    };
    auto result = std::make_shared<Result>();
    LeaveGroupRequest req;
    req.group_id = config_.group_id;
    req.members.push_back(LeaveGroupMember{member_id_, std::nullopt, std::nullopt});
    coordinator_->LeaveGroup(req, [result](const LeaveGroupResponse& r) {
      result->response = r;
      result->done.Notify();
    });
    if (!result->done.WaitForNotificationWithTimeout(absl::Milliseconds(config_.request_timeout_ms))) {
      status = absl::DeadlineExceededError(absl::StrCat("LeaveGroup of group ", config_.group_id, " timed out"));
    } else {
      ErrorCode err = result->response.error;
      if (err == ErrorCode::kNone && !result->response.members.empty()) err = result->response.members[0].error;
      // Already gone (expired, or the coordinator restarted): leaving is done.
      if (err != ErrorCode::kNone && err != ErrorCode::kUnknownMemberId) {
        status = ToStatus(err, absl::StrCat("LeaveGroup of group ", config_.group_id));
      }
    }
  }
  member_id_.clear();
  generation_id_ = kNoGeneration;
  leader_id_.clear();
  assignment_.clear();
  assigned_with_.clear();
  heartbeat_in_flight_ = false;
  rejoin_needed_ = false;
  ResetToUnjoined(0);
  return status;
}

}  // namespace eddy::broker
