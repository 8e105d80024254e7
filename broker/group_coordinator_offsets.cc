// GroupCoordinator: committed offsets (OffsetCommit, OffsetFetch, Load) and the admin APIs (ListGroups,
// DescribeGroup, DeleteGroups).
#include <algorithm>

#include "absl/container/btree_set.h"
#include "absl/strings/match.h"
#include "broker/group_coordinator.h"
#include "broker/offsets_codec.h"

namespace eddy::broker {
namespace {

// Kafka's mapping of append errors to OffsetCommit errors (GroupMetadataManager.storeOffsets): a record the
// log refuses as too large is INVALID_COMMIT_OFFSET_SIZE; anything else makes the client retry.
ErrorCode CommitErrorFromStatus(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kInvalidArgument) return ErrorCode::kInvalidCommitOffsetSize;
  return ErrorCode::kCoordinatorNotAvailable;
}

}  // namespace

// One OffsetCommit waiting for its records to become durable. Guarded by mu_.
struct GroupCoordinator::CommitOp {
  std::string group_id;
  uint64_t incarnation = 0;
  std::vector<TopicPartition> partitions;  // per record
  std::vector<CommittedOffset> values;     // per record
  std::vector<size_t> response_index;      // per record: the entry of `response` it answers
  size_t remaining = 0;
  OffsetCommitResponse response;
  OffsetCommitCallback done;
};

// One DeleteGroups waiting for its tombstones to become durable. Guarded by mu_.
struct GroupCoordinator::DeleteOp {
  std::vector<size_t> result_index;  // per record: the entry of `results` it belongs to
  size_t remaining = 0;
  std::vector<DeleteGroupResult> results;
  DeleteGroupsCallback done;
};

ErrorCode GroupCoordinator::ValidateOffsetCommit(const Group& group, const OffsetCommitRequest& req) {
  if (group.Is(GroupState::kDead)) return ErrorCode::kCoordinatorNotAvailable;
  // Generation -1 comes from an admin client or a consumer that manages its partitions itself: allowed
  // while the group has no members.
  if (req.generation_id < 0 && group.Is(GroupState::kEmpty)) return ErrorCode::kNone;
  if (req.generation_id >= 0 || !req.member_id.empty() || req.group_instance_id) {
    ErrorCode err = ValidateCurrentMember(group, req.member_id, req.group_instance_id);
    if (err != ErrorCode::kNone) return err;
    return req.generation_id == group.generation_id() ? ErrorCode::kNone : ErrorCode::kIllegalGeneration;
  }
  // A non-empty group accepts commits from its members only.
  return ErrorCode::kUnknownMemberId;
}

void GroupCoordinator::OffsetCommit(OffsetCommitRequest request, OffsetCommitCallback done) {
  auto op = std::make_shared<CommitOp>();
  op->group_id = request.group_id;
  op->done = std::move(done);
  op->response.partitions.reserve(request.partitions.size());
  for (const OffsetCommitPartition& p : request.partitions) {
    op->response.partitions.push_back(OffsetCommitPartitionResponse{p.topic, p.partition, ErrorCode::kNone});
  }
  const auto fail_all = [&](ErrorCode err) {
    for (OffsetCommitPartitionResponse& p : op->response.partitions) p.error = err;
  };
  std::vector<std::pair<std::string, std::string>> records;  // key, value
  {
    absl::MutexLock lock(&mu_);
    ErrorCode err = ValidateGroupStatus(request.group_id, true);
    Group* group = err == ErrorCode::kNone ? FindGroup(request.group_id) : nullptr;
    if (err == ErrorCode::kNone && group == nullptr) {
      // A commit outside group management creates the group; a generation for an unknown group is stale.
      if (request.generation_id < 0) {
        group = GetOrCreateGroup(request.group_id);
      } else {
        err = ErrorCode::kIllegalGeneration;
      }
    }
    if (err == ErrorCode::kNone) err = ValidateOffsetCommit(*group, request);
    if (err == ErrorCode::kNone) {
      switch (group->state()) {
        case GroupState::kStable:
        case GroupState::kPreparingRebalance:
          // Allowed during PreparingRebalance: the member learns of the rebalance from its heartbeat.
          if (MemberMetadata* m = group->Get(request.member_id)) ScheduleHeartbeat(m, m->session_timeout_ms);
          break;
        case GroupState::kCompletingRebalance:
          // The member has the new generation but not its assignment yet.
          err = ErrorCode::kRebalanceInProgress;
          break;
        case GroupState::kEmpty:
        case GroupState::kDead:
          break;
      }
    }
    if (err != ErrorCode::kNone) {
      fail_all(err);
    } else {
      op->incarnation = group->incarnation;
      const int64_t now = Now();
      for (size_t i = 0; i < request.partitions.size(); ++i) {
        OffsetCommitPartition& p = request.partitions[i];
        std::string metadata = p.metadata.value_or("");
        if (metadata.size() > static_cast<size_t>(options_.offset_metadata_max_bytes)) {
          op->response.partitions[i].error = ErrorCode::kOffsetMetadataTooLarge;
          continue;
        }
        CommittedOffset value{p.offset, p.leader_epoch, std::move(metadata), now};
        absl::StatusOr<std::string> key = EncodeOffsetCommitKey(request.group_id, p.topic, p.partition);
        absl::StatusOr<std::string> encoded = EncodeOffsetCommitValue(
            OffsetCommitValue{value.offset, value.leader_epoch, value.metadata, value.commit_timestamp_ms, -1});
        if (!key.ok() || !encoded.ok()) {
          op->response.partitions[i].error = ErrorCode::kInvalidCommitOffsetSize;
          continue;
        }
        TopicPartition tp{p.topic, p.partition};
        ++group->pending_commits[tp];
        op->partitions.push_back(std::move(tp));
        op->values.push_back(std::move(value));
        op->response_index.push_back(i);
        records.emplace_back(*std::move(key), *std::move(encoded));
      }
    }
    op->remaining = records.size();
    outstanding_appends_ += static_cast<int64_t>(records.size());
  }
  if (records.empty()) {
    op->done(op->response);
    return;
  }
  for (size_t i = 0; i < records.size(); ++i) {
    store_->Append(std::move(records[i].first), std::move(records[i].second),
                   [this, op, i](absl::Status status) { OnCommitDurable(op, i, std::move(status)); });
  }
}

void GroupCoordinator::OnCommitDurable(const std::shared_ptr<CommitOp>& op, size_t index, absl::Status status) {
  bool complete = false;
  {
    absl::MutexLock lock(&mu_);
    Group* group = FindGroup(op->group_id);
    if (group != nullptr && group->incarnation != op->incarnation) group = nullptr;  // deleted meanwhile
    const TopicPartition& tp = op->partitions[index];
    if (group != nullptr) {
      auto it = group->pending_commits.find(tp);
      if (it != group->pending_commits.end() && --it->second == 0) group->pending_commits.erase(it);
    }
    if (!status.ok()) {
      op->response.partitions[op->response_index[index]].error = CommitErrorFromStatus(status);
    } else if (group != nullptr) {
      // The log now holds this commit: the cache follows it (callbacks arrive in log order).
      group->offsets[tp] = op->values[index];
    }
    complete = --op->remaining == 0;
  }
  if (complete) op->done(op->response);
  AppendDone();
}

void GroupCoordinator::OnTombstoneDurable(const std::shared_ptr<DeleteOp>& op, size_t index, absl::Status status) {
  bool complete = false;
  {
    absl::MutexLock lock(&mu_);
    if (!status.ok()) op->results[op->result_index[index]].error = CommitErrorFromStatus(status);
    complete = --op->remaining == 0;
  }
  if (complete) op->done(op->results);
  AppendDone();
}

void GroupCoordinator::AppendDone() {
  // Counted down only after the request's callback ran, so that Shutdown returns after every callback.
  absl::MutexLock lock(&mu_);
  --outstanding_appends_;
}

void GroupCoordinator::OffsetFetch(const OffsetFetchRequest& request, OffsetFetchCallback done) {
  OffsetFetchResponse r;
  {
    absl::MutexLock lock(&mu_);
    r.error = ValidateGroupStatus(request.group_id, true);
    // Offsets are returned whatever the group's state: the group may use Kafka only to store offsets.
    const Group* group = r.error == ErrorCode::kNone ? FindGroup(request.group_id) : nullptr;
    const auto fill = [](const TopicPartition& tp, const CommittedOffset& o) {
      return OffsetFetchPartitionResponse{tp.topic,       tp.partition, o.offset,
                                          o.leader_epoch, o.metadata,   ErrorCode::kNone};
    };
    if (r.error != ErrorCode::kNone) {
      // No partitions: the group-level error says it all.
    } else if (!request.partitions) {
      if (group != nullptr) {
        for (const auto& [tp, o] : group->offsets) r.partitions.push_back(fill(tp, o));
      }
    } else {
      for (const TopicPartition& tp : *request.partitions) {
        OffsetFetchPartitionResponse& p = r.partitions.emplace_back();
        p.topic = tp.topic;
        p.partition = tp.partition;
        if (group == nullptr) continue;
        if (request.require_stable && group->pending_commits.contains(tp)) {
          p.error = ErrorCode::kUnstableOffsetCommit;
          continue;
        }
        auto it = group->offsets.find(tp);
        if (it != group->offsets.end()) p = fill(tp, it->second);
      }
    }
  }
  done(r);
}

absl::Status GroupCoordinator::Load() {
  {
    absl::MutexLock lock(&mu_);
    if (!active_) return absl::FailedPreconditionError("group coordinator is shut down");
    loading_ = true;
  }
  absl::flat_hash_map<std::string, absl::btree_map<TopicPartition, CommittedOffset>> loaded;
  absl::Status decode_status;
  absl::Status status = store_->Replay([&](absl::string_view key, std::optional<absl::string_view> value) {
    if (!decode_status.ok()) return;
    absl::StatusOr<OffsetsKey> k = DecodeOffsetsKey(key);
    if (!k.ok()) {
      decode_status = k.status();
      return;
    }
    // Group metadata (Eddy does not persist membership) and KIP-848 records are skipped.
    if (k->type != OffsetsKeyType::kOffsetCommit) return;
    TopicPartition tp{std::move(k->topic), k->partition};
    if (!value) {
      auto it = loaded.find(k->group);
      if (it != loaded.end()) it->second.erase(tp);
      return;
    }
    absl::StatusOr<OffsetCommitValue> v = DecodeOffsetCommitValue(*value);
    if (!v.ok()) {
      decode_status = v.status();
      return;
    }
    loaded[k->group][tp] = CommittedOffset{v->offset, v->leader_epoch, std::move(v->metadata), v->commit_timestamp};
  });
  if (status.ok()) status = decode_status;
  absl::MutexLock lock(&mu_);
  loading_ = false;
  if (!status.ok()) return status;
  for (auto& [group_id, offsets] : loaded) {
    if (offsets.empty()) continue;
    Group* group = GetOrCreateGroup(group_id);
    for (auto& [tp, o] : offsets) group->offsets[tp] = std::move(o);
  }
  return absl::OkStatus();
}

void GroupCoordinator::ListGroups(const std::vector<std::string>& states_filter,
                                  absl::AnyInvocable<void(const ListGroupsResponse&)> done) {
  ListGroupsResponse r;
  {
    absl::MutexLock lock(&mu_);
    if (!active_) {
      r.error = ErrorCode::kCoordinatorNotAvailable;
    } else {
      if (loading_) r.error = ErrorCode::kCoordinatorLoadInProgress;
      for (const auto& [id, group] : groups_) {
        const char* state = GroupStateName(group->state());
        const bool wanted = states_filter.empty() ||
                            std::any_of(states_filter.begin(), states_filter.end(),
                                        [&](const std::string& s) { return absl::EqualsIgnoreCase(s, state); });
        if (wanted) r.groups.push_back(ListedGroup{id, group->protocol_type().value_or(""), state});
      }
    }
  }
  std::sort(r.groups.begin(), r.groups.end(),
            [](const ListedGroup& a, const ListedGroup& b) { return a.group_id < b.group_id; });
  done(r);
}

void GroupCoordinator::DescribeGroup(absl::string_view group_id, absl::AnyInvocable<void(const DescribedGroup&)> done) {
  DescribedGroup r;
  r.group_id = std::string(group_id);
  {
    absl::MutexLock lock(&mu_);
    r.error = ValidateGroupStatus(group_id, true);
    const Group* group = r.error == ErrorCode::kNone ? FindGroup(group_id) : nullptr;
    if (r.error != ErrorCode::kNone) {
      // Kafka's EmptyGroup summary: no state.
    } else if (group == nullptr) {
      r.state = GroupStateName(GroupState::kDead);
    } else {
      r.state = GroupStateName(group->state());
      r.protocol_type = group->protocol_type().value_or("");
      const bool stable = group->Is(GroupState::kStable);
      if (stable) r.protocol_data = group->protocol_name().value_or("");
      for (const MemberMetadata* m : group->members()) {
        DescribedGroupMember& d = r.members.emplace_back();
        d.member_id = m->member_id;
        d.group_instance_id = m->group_instance_id;
        d.client_id = m->client_id;
        d.client_host = m->client_host;
        // Metadata and assignment only describe a Stable group (they are in flux otherwise).
        if (stable) {
          d.metadata = m->MetadataFor(r.protocol_data);
          d.assignment = m->assignment;
        }
      }
    }
  }
  done(r);
}

void GroupCoordinator::DeleteGroups(std::vector<std::string> group_ids, DeleteGroupsCallback done) {
  auto op = std::make_shared<DeleteOp>();
  op->done = std::move(done);
  std::vector<std::string> keys;
  {
    absl::MutexLock lock(&mu_);
    for (std::string& id : group_ids) {
      const size_t index = op->results.size();
      DeleteGroupResult& result = op->results.emplace_back();
      result.group_id = std::move(id);
      result.error = ValidateGroupStatus(result.group_id, true);
      if (result.error != ErrorCode::kNone) continue;
      Group* group = FindGroup(result.group_id);
      if (group == nullptr || group->Is(GroupState::kDead)) {
        result.error = ErrorCode::kGroupIdNotFound;
        continue;
      }
      if (!group->Is(GroupState::kEmpty)) {
        result.error = ErrorCode::kNonEmptyGroup;
        continue;
      }
      // Tombstones for every offset, including commits still in flight (those precede the tombstones in the
      // log, so a replay ends with the partition deleted; the group's new incarnation ignores them).
      absl::btree_set<TopicPartition> partitions;
      for (const auto& [tp, o] : group->offsets) partitions.insert(tp);
      for (const auto& [tp, n] : group->pending_commits) partitions.insert(tp);
      for (const TopicPartition& tp : partitions) {
        absl::StatusOr<std::string> key = EncodeOffsetCommitKey(result.group_id, tp.topic, tp.partition);
        if (!key.ok()) continue;  // cannot happen: the same key was encoded by the commit
        keys.push_back(*std::move(key));
        op->result_index.push_back(index);
      }
      group->TransitionTo(GroupState::kDead);
      groups_.erase(result.group_id);
    }
    op->remaining = keys.size();
    outstanding_appends_ += static_cast<int64_t>(keys.size());
  }
  if (keys.empty()) {
    op->done(op->results);
    return;
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    store_->Append(std::move(keys[i]), std::nullopt,
                   [this, op, i](absl::Status status) { OnTombstoneDurable(op, i, std::move(status)); });
  }
}

}  // namespace eddy::broker
