// GroupCoordinator: Kafka's classic consumer-group coordinator (the "generic" group protocol of JoinGroup,
// SyncGroup, Heartbeat, LeaveGroup) and offset manager (OffsetCommit, OffsetFetch), for Eddy's single-node
// broker. One instance serves every group; members may be the embedded consumer (broker/group_member.h) and,
// through the wire layer, librdkafka, kafka-python or kafkajs clients, all in the same group.
//
// The coordinator knows nothing about partitions or assignors: members send (protocol name, opaque metadata)
// pairs, the coordinator picks the protocol all members support by vote, hands the leader everyone's
// metadata, and relays the leader's opaque assignments (see docs/consumer-groups.md for the whole flow, and
// for where Eddy differs from Kafka).
//
// Completion is asynchronous, as in Kafka: each request method takes a callback that is called exactly once,
// possibly before the method returns, possibly later on another thread: the coordinator's timer thread (a
// rebalance timeout, a session expiry), the thread whose request completed a rebalance (the last member to
// rejoin completes everyone's JoinGroup), or the GroupStore's thread (an offset commit becoming durable).
// Callbacks never run under the coordinator's lock, so they may call the coordinator again. They must not
// block for long: they delay the thread that completed them.
//
// Committed offsets are written through a GroupStore in Kafka's __consumer_offsets format and acknowledged
// only once durable; Load() rebuilds them at startup. Group membership is not persisted: after a restart
// members get UNKNOWN_MEMBER_ID and rejoin, as they do when a Kafka coordinator moves.
//
// Thread-safe. `store` is not owned and must outlive the coordinator; the destructor waits until every
// Append the coordinator issued has called back and the commit callbacks it completed have returned.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/group.h"
#include "broker/group_messages.h"
#include "broker/group_store.h"

namespace eddy::broker {

struct GroupCoordinatorOptions {
  // group.min.session.timeout.ms / group.max.session.timeout.ms: JoinGroup outside the range fails with
  // INVALID_SESSION_TIMEOUT.
  int32_t min_session_timeout_ms = 6000;
  int32_t max_session_timeout_ms = 1800000;
  // group.initial.rebalance.delay.ms: how long the first rebalance of an empty group waits for more members
  // (extended by the same delay while new members keep arriving, up to the rebalance timeout). Kafka's broker
  // default is 3000; Eddy's is 0, the value Kafka recommends for development and tests: the broker is embedded
  // in the application, whose consumers start within milliseconds of each other, and with 3000 every
  // application start (and every test) would wait 3 s before its first record. The cost of 0 is one extra,
  // in-process rebalance per consumer that joins after the first. Set 3000 for Kafka's behaviour.
  int32_t initial_rebalance_delay_ms = 0;
  // group.max.size: JoinGroup beyond it fails with GROUP_MAX_SIZE_REACHED. Kafka's default: unlimited.
  int32_t max_group_size = std::numeric_limits<int32_t>::max();
  // offset.metadata.max.bytes: a longer commit metadata fails that partition with OFFSET_METADATA_TOO_LARGE.
  int32_t offset_metadata_max_bytes = 4096;
  // How long a new member's first JoinGroup may wait for a rebalance before it is dropped (Kafka's fixed
  // NewMemberJoinTimeoutMs, 5 minutes): protects against clients that gave up waiting.
  int64_t new_member_join_timeout_ms = 300000;
  // offsets.retention.check.interval.ms: how often empty groups without members or offsets are forgotten.
  int64_t group_cleanup_interval_ms = 600000;
  // The clock, in milliseconds since the epoch. Null: the system clock. Called with the coordinator's lock
  // held. Tests inject a fake one and call Tick().
  absl::AnyInvocable<int64_t()> now_ms;
  // Start a thread that calls Tick() every tick_interval. Tests with an injected clock turn it off.
  bool start_timer_thread = true;
  absl::Duration tick_interval = absl::Milliseconds(100);
  // Seed for the random part of member ids; 0 seeds from std::random_device. Tests fix it.
  uint64_t member_id_seed = 0;
};

class GroupCoordinator {
 public:
  explicit GroupCoordinator(GroupStore* store, GroupCoordinatorOptions options = {});
  ~GroupCoordinator();
  GroupCoordinator(const GroupCoordinator&) = delete;
  GroupCoordinator& operator=(const GroupCoordinator&) = delete;

  // Load replays the store and rebuilds the committed offsets (a tombstone deletes one); groups that have
  // offsets come back Empty. Call it once at startup before serving clients; while it runs, requests get
  // COORDINATOR_LOAD_IN_PROGRESS. Errors: the store's (kDataLoss for a corrupt record).
  absl::Status Load();

  // JoinGroup: a new member (member_id "") or a known one (re)joins. Completes when the rebalance completes
  // (every known member rejoined, or the rebalance timeout passed), or at once with an error:
  // INVALID_GROUP_ID, INVALID_SESSION_TIMEOUT, UNKNOWN_MEMBER_ID, INCONSISTENT_GROUP_PROTOCOL,
  // MEMBER_ID_REQUIRED (with the member id to use), FENCED_INSTANCE_ID, GROUP_MAX_SIZE_REACHED,
  // COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE (after Shutdown).
  void JoinGroup(JoinGroupRequest request, JoinGroupCallback done);
  // SyncGroup: followers wait for the leader's assignments; everyone gets its own. Errors: UNKNOWN_MEMBER_ID,
  // ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS, INCONSISTENT_GROUP_PROTOCOL, FENCED_INSTANCE_ID.
  void SyncGroup(SyncGroupRequest request, SyncGroupCallback done);
  // Heartbeat keeps the member's session alive. Errors: REBALANCE_IN_PROGRESS (rejoin), ILLEGAL_GENERATION,
  // UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID. Completes before returning.
  void Heartbeat(const HeartbeatRequest& request, HeartbeatCallback done);
  // LeaveGroup removes members (a rebalance follows). Completes before returning.
  void LeaveGroup(const LeaveGroupRequest& request, LeaveGroupCallback done);

  // OffsetCommit validates membership and generation as Kafka does (generation -1 from a client outside group
  // management is accepted only while the group is Empty), then writes every partition through the store.
  // Completes when all are durable (or failed: COORDINATOR_NOT_AVAILABLE, INVALID_COMMIT_OFFSET_SIZE); the
  // cache, and so OffsetFetch, sees a partition's offset only once it is durable.
  void OffsetCommit(OffsetCommitRequest request, OffsetCommitCallback done);
  // OffsetFetch returns committed offsets (-1 where none). Completes before returning.
  void OffsetFetch(const OffsetFetchRequest& request, OffsetFetchCallback done);
  // ListGroups: every group, or those in one of `states_filter` (Kafka state names, case-insensitive).
  void ListGroups(const std::vector<std::string>& states_filter,
                  absl::AnyInvocable<void(const ListGroupsResponse&)> done);
  // DescribeGroup: an unknown group is reported in state "Dead" with error NONE (DescribeGroups v0-5).
  void DescribeGroup(absl::string_view group_id, absl::AnyInvocable<void(const DescribedGroup&)> done);
  // DeleteGroups deletes Empty groups and their offsets (tombstones through the store). Per group:
  // NONE, GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, INVALID_GROUP_ID, COORDINATOR_NOT_AVAILABLE.
  void DeleteGroups(std::vector<std::string> group_ids, DeleteGroupsCallback done);

  // Tick expires sessions, pending member ids and rebalance/sync timeouts whose time has passed, by the
  // injected clock. Called by the timer thread; tests call it directly.
  void Tick();

  // Shutdown stops the timer thread, answers waiting JoinGroup/SyncGroup requests with NOT_COORDINATOR (as a
  // Kafka coordinator does when it loses a group), and makes later requests fail with
  // COORDINATOR_NOT_AVAILABLE. Waits for in-flight Appends and their callbacks. Idempotent; the destructor
  // calls it. Must not be called from a coordinator callback.
  void Shutdown();

 private:
  struct CommitOp;
  struct DeleteOp;

  int64_t Now() { return options_.now_ms ? options_.now_ms() : absl::ToUnixMillis(absl::Now()); }
  void TimerLoop();

  // Request handlers, under mu_. Responses are added to *c and sent once mu_ is released.
  void JoinGroupLocked(JoinGroupRequest& req, JoinGroupCallback done, Completions* c)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DoNewMemberJoin(Group* group, JoinGroupRequest& req, JoinGroupCallback done, Completions* c)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DoCurrentMemberJoin(Group* group, JoinGroupRequest& req, JoinGroupCallback done, Completions* c)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateStaticMemberAndRebalance(Group* group, const std::string& old_member_id, const std::string& new_member_id,
                                      JoinGroupRequest& req, JoinGroupCallback done, Completions* c)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SyncGroupLocked(SyncGroupRequest& req, SyncGroupCallback done, Completions* c)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  ErrorCode HeartbeatLocked(const HeartbeatRequest& req) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  LeaveGroupResponse LeaveGroupLocked(const LeaveGroupRequest& req, Completions* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Rebalance machinery (Kafka's GroupCoordinator private methods of the same names).
  void AddMemberAndRebalance(Group* group, JoinGroupRequest& req, std::string member_id, JoinGroupCallback done,
                             Completions* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateMemberAndRebalance(Group* group, MemberMetadata* member, JoinGroupRequest& req, JoinGroupCallback done,
                                Completions* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateMember(MemberMetadata* member, JoinGroupRequest& req, JoinGroupCallback done, Completions* c)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybePrepareRebalance(Group* group, Completions* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PrepareRebalance(Group* group, Completions* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveMemberAndUpdateGroup(Group* group, const std::string& member_id, Completions* c)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemovePendingMemberAndUpdateGroup(Group* group, const std::string& member_id, Completions* c)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TryCompleteJoin(Group* group, Completions* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnJoinDeadline(Group* group, Completions* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnCompleteJoin(Group* group, Completions* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnSyncDeadline(Group* group, Completions* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetAndPropagateAssignment(Group* group, const std::vector<SyncGroupAssignment>& assignments, Completions* c)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ResetAndPropagateAssignmentError(Group* group, ErrorCode error, Completions* c)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PropagateAssignment(Group* group, ErrorCode error, Completions* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ScheduleHeartbeat(MemberMetadata* member, int64_t timeout_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TickGroup(Group* group, int64_t now, Completions* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool AcceptJoiningMember(const Group& group, absl::string_view member_id) const;
  void CleanupGroups() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // The request-level checks of Kafka's validateGroupStatus: INVALID_GROUP_ID, COORDINATOR_NOT_AVAILABLE,
  // COORDINATOR_LOAD_IN_PROGRESS. `allow_empty_id` for the offset and describe APIs.
  ErrorCode ValidateGroupStatus(absl::string_view group_id, bool allow_empty_id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Kafka's validateCurrentMember: FENCED_INSTANCE_ID, UNKNOWN_MEMBER_ID or NONE.
  static ErrorCode ValidateCurrentMember(const Group& group, absl::string_view member_id,
                                         const std::optional<std::string>& group_instance_id);
  static ErrorCode ValidateOffsetCommit(const Group& group, const OffsetCommitRequest& req);

  Group* FindGroup(absl::string_view group_id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  Group* GetOrCreateGroup(absl::string_view group_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string GenerateMemberId(absl::string_view prefix) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Offset-commit completion, called back by the store.
  void OnCommitDurable(const std::shared_ptr<CommitOp>& op, size_t index, absl::Status status);
  void OnTombstoneDurable(const std::shared_ptr<DeleteOp>& op, size_t index, absl::Status status);
  void AppendDone();

  GroupStore* const store_;
  GroupCoordinatorOptions options_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Group>> groups_ ABSL_GUARDED_BY(mu_);
  bool active_ ABSL_GUARDED_BY(mu_) = true;
  bool loading_ ABSL_GUARDED_BY(mu_) = false;
  int64_t outstanding_appends_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t next_cleanup_ms_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_incarnation_ ABSL_GUARDED_BY(mu_) = 1;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);

  // Timer thread.
  absl::Mutex timer_mu_;
  bool stop_timer_ ABSL_GUARDED_BY(timer_mu_) = false;
  std::thread timer_thread_;
  std::once_flag join_timer_once_;  // Shutdown may run on several threads at once
};

}  // namespace eddy::broker
