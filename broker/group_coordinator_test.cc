// Membership protocol of GroupCoordinator: join, sync, heartbeat, leave, expiry, protocol selection.
#include "broker/group_coordinator.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "broker/assignor.h"
#include "broker/consumer_protocol.h"
#include "broker/group_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy::broker {
namespace {

using ::eddy::broker::testing::Captured;
using ::eddy::broker::testing::FakeGroupStore;
using ::eddy::broker::testing::TestOptions;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

std::string Subscription(std::vector<std::string> topics) {
  ConsumerSubscription s;
  s.topics = std::move(topics);
  return EncodeSubscription(s).value();
}

class GroupCoordinatorTest : public ::testing::Test {
 protected:
  using JoinCapture = Captured<JoinGroupResponse>;
  using SyncCapture = Captured<SyncGroupResponse>;

  void Recreate(GroupCoordinatorOptions options) {
    coordinator_.reset();
    coordinator_ = std::make_unique<GroupCoordinator>(&store_, std::move(options));
  }

  JoinGroupRequest JoinRequest(const std::string& member_id, std::vector<GroupProtocol> protocols = {},
                               const std::string& group = "g") {
    JoinGroupRequest r;
    r.group_id = group;
    r.member_id = member_id;
    r.client_id = "client";
    r.client_host = "/10.0.0.1";
    r.session_timeout_ms = 10000;
    r.rebalance_timeout_ms = 30000;
    r.protocol_type = "consumer";
    r.protocols = protocols.empty() ? std::vector<GroupProtocol>{{"range", Subscription({"t"})}} : protocols;
    return r;
  }

  // The captures live as long as the fixture: a response may arrive after the test stops looking.
  JoinCapture* SendJoin(JoinGroupRequest r) {
    JoinCapture* c = join_captures_.emplace_back(std::make_unique<JoinCapture>()).get();
    coordinator_->JoinGroup(std::move(r), c->Callback());
    return c;
  }
  // Joins and expects the response at once.
  JoinGroupResponse JoinNow(JoinGroupRequest r) {
    auto c = SendJoin(std::move(r));
    EXPECT_TRUE(c->done) << "JoinGroup did not complete";
    return c->response;
  }

  SyncCapture* SendSync(const std::string& member_id, int32_t generation,
                        std::vector<SyncGroupAssignment> assignments = {}, const std::string& group = "g") {
    SyncGroupRequest r;
    r.group_id = group;
    r.generation_id = generation;
    r.member_id = member_id;
    r.assignments = std::move(assignments);
    SyncCapture* c = sync_captures_.emplace_back(std::make_unique<SyncCapture>()).get();
    coordinator_->SyncGroup(std::move(r), c->Callback());
    return c;
  }

  ErrorCode Heartbeat(const std::string& member_id, int32_t generation, const std::string& group = "g") {
    ErrorCode error = ErrorCode::kUnknownServerError;
    coordinator_->Heartbeat(HeartbeatRequest{group, generation, member_id, std::nullopt},
                            [&](const HeartbeatResponse& r) { error = r.error; });
    return error;
  }

  LeaveGroupResponse Leave(const std::string& member_id, const std::string& group = "g") {
    LeaveGroupResponse out;
    LeaveGroupRequest r;
    r.group_id = group;
    r.members.push_back(LeaveGroupMember{member_id, std::nullopt, std::nullopt});
    coordinator_->LeaveGroup(r, [&](const LeaveGroupResponse& resp) { out = resp; });
    return out;
  }

  DescribedGroup Describe(const std::string& group = "g") {
    DescribedGroup out;
    coordinator_->DescribeGroup(group, [&](const DescribedGroup& d) { out = d; });
    return out;
  }

  // The leader's range assignment over `partitions` per topic, encoded for SyncGroup.
  static std::vector<SyncGroupAssignment> RangeAssignments(const JoinGroupResponse& leader,
                                                           const PartitionsPerTopic& partitions) {
    std::vector<AssignorMember> members;
    for (const JoinGroupResponseMember& m : leader.members) {
      members.push_back(AssignorMember{m.member_id, m.group_instance_id, DecodeSubscription(m.metadata).value()});
    }
    std::vector<SyncGroupAssignment> out;
    for (auto& [id, tps] : RangeAssignor().Assign(members, partitions)) {
      out.push_back(SyncGroupAssignment{id, EncodeAssignment(ConsumerAssignment{tps, std::nullopt}).value()});
    }
    return out;
  }

  static std::vector<TopicPartition> Partitions(const SyncGroupResponse& r) {
    return DecodeAssignment(r.assignment).value().partitions;
  }

  std::vector<std::unique_ptr<JoinCapture>> join_captures_;
  std::vector<std::unique_ptr<SyncCapture>> sync_captures_;
  int64_t now_ = 1'000'000;
  FakeGroupStore store_;
  std::unique_ptr<GroupCoordinator> coordinator_ = std::make_unique<GroupCoordinator>(&store_, TestOptions(&now_));
};

TEST_F(GroupCoordinatorTest, SingleMemberJoinsSyncsAndBecomesStable) {
  JoinGroupResponse join = JoinNow(JoinRequest(""));
  ASSERT_EQ(join.error, ErrorCode::kNone);
  EXPECT_EQ(join.generation_id, 1);
  EXPECT_TRUE(absl::StartsWith(join.member_id, "client-")) << join.member_id;
  EXPECT_EQ(join.member_id.size(), std::string("client-").size() + 36);  // a UUID
  EXPECT_EQ(join.leader, join.member_id);
  EXPECT_EQ(join.protocol_type, "consumer");
  EXPECT_EQ(join.protocol_name, "range");
  ASSERT_THAT(join.members, SizeIs(1));
  EXPECT_EQ(join.members[0].metadata, Subscription({"t"}));
  EXPECT_EQ(Describe().state, "CompletingRebalance");

  auto sync = SendSync(join.member_id, 1, RangeAssignments(join, {{"t", 2}}));
  ASSERT_TRUE(sync->done);
  EXPECT_EQ(sync->response.error, ErrorCode::kNone);
  EXPECT_THAT(Partitions(sync->response), ElementsAre(TopicPartition{"t", 0}, TopicPartition{"t", 1}));
  EXPECT_EQ(Heartbeat(join.member_id, 1), ErrorCode::kNone);

  DescribedGroup d = Describe();
  EXPECT_EQ(d.state, "Stable");
  EXPECT_EQ(d.protocol_type, "consumer");
  EXPECT_EQ(d.protocol_data, "range");
  ASSERT_THAT(d.members, SizeIs(1));
  EXPECT_EQ(d.members[0].client_id, "client");
  EXPECT_EQ(d.members[0].client_host, "/10.0.0.1");
  EXPECT_EQ(d.members[0].assignment, sync->response.assignment);
}

TEST_F(GroupCoordinatorTest, SecondMemberRebalancesAndLeaderSplitsPartitionsByRange) {
  JoinGroupResponse a = JoinNow(JoinRequest(""));
  ASSERT_TRUE(SendSync(a.member_id, 1, RangeAssignments(a, {{"t", 4}}))->done);

  auto b = SendJoin(JoinRequest(""));
  EXPECT_FALSE(b->done) << "the new member waits for the others to rejoin";
  EXPECT_EQ(Describe().state, "PreparingRebalance");
  EXPECT_EQ(Heartbeat(a.member_id, 1), ErrorCode::kRebalanceInProgress);
  // Until A rejoins, its old-generation sync gets REBALANCE_IN_PROGRESS too.
  EXPECT_EQ(SendSync(a.member_id, 1)->response.error, ErrorCode::kRebalanceInProgress);

  JoinGroupResponse a2 = JoinNow(JoinRequest(a.member_id));
  ASSERT_TRUE(b->done) << "the last member to rejoin completes everyone's JoinGroup";
  ASSERT_EQ(a2.error, ErrorCode::kNone);
  ASSERT_EQ(b->response.error, ErrorCode::kNone);
  EXPECT_EQ(a2.generation_id, 2);
  EXPECT_EQ(b->response.generation_id, 2);
  EXPECT_EQ(a2.leader, a.member_id) << "the old leader rejoined, so it stays leader";
  EXPECT_EQ(b->response.leader, a.member_id);
  EXPECT_THAT(a2.members, SizeIs(2));
  EXPECT_THAT(b->response.members, IsEmpty()) << "only the leader gets the members";

  // The follower syncs first and waits for the leader.
  auto b_sync = SendSync(b->response.member_id, 2);
  EXPECT_FALSE(b_sync->done);
  auto a_sync = SendSync(a.member_id, 2, RangeAssignments(a2, {{"t", 4}}));
  ASSERT_TRUE(a_sync->done);
  ASSERT_TRUE(b_sync->done);
  const auto a_parts = Partitions(a_sync->response);
  const auto b_parts = Partitions(b_sync->response);
  EXPECT_THAT(a_parts, SizeIs(2));
  EXPECT_THAT(b_parts, SizeIs(2));
  std::vector<TopicPartition> all = a_parts;
  all.insert(all.end(), b_parts.begin(), b_parts.end());
  EXPECT_THAT(all, UnorderedElementsAre(TopicPartition{"t", 0}, TopicPartition{"t", 1}, TopicPartition{"t", 2},
                                        TopicPartition{"t", 3}));
  // Range: the member with the smaller id gets partitions 0 and 1.
  const bool a_first = a.member_id < b->response.member_id;
  EXPECT_EQ((a_first ? a_parts : b_parts)[0], (TopicPartition{"t", 0}));
  EXPECT_EQ(Heartbeat(a.member_id, 2), ErrorCode::kNone);
  EXPECT_EQ(Heartbeat(b->response.member_id, 2), ErrorCode::kNone);
  EXPECT_EQ(Describe().state, "Stable");
}

TEST_F(GroupCoordinatorTest, LeaveRebalancesAndTheRemainingMemberGetsEverything) {
  JoinGroupResponse a = JoinNow(JoinRequest(""));
  ASSERT_TRUE(SendSync(a.member_id, 1, RangeAssignments(a, {{"t", 3}}))->done);
  auto b = SendJoin(JoinRequest(""));
  JoinGroupResponse a2 = JoinNow(JoinRequest(a.member_id));
  ASSERT_TRUE(b->done);
  SendSync(b->response.member_id, 2);
  ASSERT_TRUE(SendSync(a.member_id, 2, RangeAssignments(a2, {{"t", 3}}))->done);

  // The leader leaves: B becomes leader of generation 3 once it rejoins.
  LeaveGroupResponse left = Leave(a.member_id);
  EXPECT_EQ(left.error, ErrorCode::kNone);
  ASSERT_THAT(left.members, SizeIs(1));
  EXPECT_EQ(left.members[0].error, ErrorCode::kNone);
  EXPECT_EQ(Heartbeat(b->response.member_id, 2), ErrorCode::kRebalanceInProgress);
  EXPECT_EQ(Heartbeat(a.member_id, 2), ErrorCode::kUnknownMemberId);
  JoinGroupResponse b3 = JoinNow(JoinRequest(b->response.member_id));
  EXPECT_EQ(b3.generation_id, 3);
  EXPECT_EQ(b3.leader, b->response.member_id);
  auto sync = SendSync(b3.member_id, 3, RangeAssignments(b3, {{"t", 3}}));
  EXPECT_THAT(Partitions(sync->response),
              ElementsAre(TopicPartition{"t", 0}, TopicPartition{"t", 1}, TopicPartition{"t", 2}));
  // Leaving again empties the group.
  Leave(b3.member_id);
  EXPECT_EQ(Describe().state, "Empty");
  EXPECT_EQ(Leave("nobody").members[0].error, ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, ExpiredSessionRemovesTheMemberAndRebalances) {
  JoinGroupResponse a = JoinNow(JoinRequest(""));
  ASSERT_TRUE(SendSync(a.member_id, 1)->done);
  auto b = SendJoin(JoinRequest(""));
  JoinGroupResponse a2 = JoinNow(JoinRequest(a.member_id));
  SendSync(b->response.member_id, 2);
  SendSync(a.member_id, 2, {});
  ASSERT_EQ(Describe().state, "Stable");

  // B keeps heartbeating; A goes silent past its 10 s session.
  now_ += 6000;
  EXPECT_EQ(Heartbeat(b->response.member_id, 2), ErrorCode::kNone);
  coordinator_->Tick();
  EXPECT_EQ(Describe().state, "Stable");
  now_ += 6000;
  EXPECT_EQ(Heartbeat(b->response.member_id, 2), ErrorCode::kNone);
  coordinator_->Tick();
  EXPECT_EQ(Describe().state, "PreparingRebalance");
  EXPECT_EQ(Heartbeat(a.member_id, 2), ErrorCode::kUnknownMemberId);
  EXPECT_EQ(Heartbeat(b->response.member_id, 2), ErrorCode::kRebalanceInProgress);
  JoinGroupResponse b3 = JoinNow(JoinRequest(b->response.member_id));
  EXPECT_EQ(b3.generation_id, 3);
  EXPECT_EQ(b3.leader, b3.member_id);
  EXPECT_THAT(b3.members, SizeIs(1));
}

TEST_F(GroupCoordinatorTest, RebalanceTimeoutRemovesMembersThatDidNotRejoin) {
  JoinGroupResponse a = JoinNow(JoinRequest(""));
  SendSync(a.member_id, 1);
  JoinGroupRequest slow = JoinRequest("");
  slow.session_timeout_ms = 60000;  // longer than the rebalance timeout: only the rebalance timeout can fire
  auto b = SendJoin(std::move(slow));
  ASSERT_FALSE(b->done);
  // A keeps heartbeating (so its session stays alive) but never rejoins.
  for (int i = 0; i < 5; ++i) {
    now_ += 5000;
    EXPECT_EQ(Heartbeat(a.member_id, 1), ErrorCode::kRebalanceInProgress);
    coordinator_->Tick();
  }
  EXPECT_FALSE(b->done);
  now_ += 5001;  // 30 s rebalance timeout (the largest of the members') has passed
  EXPECT_EQ(Heartbeat(a.member_id, 1), ErrorCode::kRebalanceInProgress);
  coordinator_->Tick();
  ASSERT_TRUE(b->done);
  EXPECT_EQ(b->response.error, ErrorCode::kNone);
  EXPECT_EQ(b->response.generation_id, 2);
  EXPECT_EQ(b->response.leader, b->response.member_id);
  EXPECT_THAT(b->response.members, SizeIs(1));
  EXPECT_EQ(Heartbeat(a.member_id, 1), ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, MemberThatDoesNotSyncWithinTheRebalanceTimeoutIsRemoved) {
  JoinGroupResponse a = JoinNow(JoinRequest(""));
  SendSync(a.member_id, 1);
  auto b = SendJoin(JoinRequest(""));
  JoinGroupResponse a2 = JoinNow(JoinRequest(a.member_id));
  ASSERT_TRUE(SendSync(a.member_id, 2)->done);  // the leader syncs, B never does
  EXPECT_EQ(Describe().state, "Stable");
  for (int i = 0; i < 4; ++i) {
    now_ += 8000;
    EXPECT_EQ(Heartbeat(a.member_id, 2), ErrorCode::kNone);
    EXPECT_EQ(Heartbeat(b->response.member_id, 2), ErrorCode::kNone);  // heartbeats do not replace SyncGroup
    coordinator_->Tick();
  }
  EXPECT_EQ(Describe().state, "PreparingRebalance");
  EXPECT_EQ(Heartbeat(b->response.member_id, 2), ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, ProtocolIsChosenByVoteAmongThoseAllMembersSupport) {
  const std::string sub = Subscription({"t"});
  auto a = SendJoin(JoinRequest("", {{"range", sub}, {"roundrobin", sub}}));
  ASSERT_TRUE(a->done);
  SendSync(a->response.member_id, 1);
  auto b = SendJoin(JoinRequest("", {{"roundrobin", sub}, {"range", sub}}));
  auto c = SendJoin(JoinRequest("", {{"roundrobin", sub}, {"sticky", sub}}));
  JoinGroupResponse a2 = JoinNow(JoinRequest(a->response.member_id, {{"range", sub}, {"roundrobin", sub}}));
  ASSERT_TRUE(b->done && c->done);
  // Only roundrobin is common to all three.
  EXPECT_EQ(a2.protocol_name, "roundrobin");
  EXPECT_EQ(b->response.protocol_name, "roundrobin");
  EXPECT_EQ(a2.members[0].metadata, sub);

  // A member sharing no protocol with the group is refused at once.
  JoinGroupResponse d = JoinNow(JoinRequest("", {{"sticky", sub}}));
  EXPECT_EQ(d.error, ErrorCode::kInconsistentGroupProtocol);
  // So is one of another protocol type.
  JoinGroupRequest connect = JoinRequest("", {{"roundrobin", sub}});
  connect.protocol_type = "connect";
  EXPECT_EQ(JoinNow(std::move(connect)).error, ErrorCode::kInconsistentGroupProtocol);
  // And a first member without protocols.
  JoinGroupRequest none = JoinRequest("", {}, "other");
  none.protocols.clear();
  EXPECT_EQ(JoinNow(std::move(none)).error, ErrorCode::kInconsistentGroupProtocol);
}

TEST_F(GroupCoordinatorTest, MajorityVoteWinsOverTheLeadersPreference) {
  const std::string sub = Subscription({"t"});
  auto a = SendJoin(JoinRequest("", {{"range", sub}, {"roundrobin", sub}}));
  SendSync(a->response.member_id, 1);
  auto b = SendJoin(JoinRequest("", {{"roundrobin", sub}, {"range", sub}}));
  auto c = SendJoin(JoinRequest("", {{"roundrobin", sub}, {"range", sub}}));
  JoinGroupResponse a2 = JoinNow(JoinRequest(a->response.member_id, {{"range", sub}, {"roundrobin", sub}}));
  ASSERT_TRUE(b->done && c->done);
  EXPECT_EQ(a2.protocol_name, "roundrobin");
  EXPECT_EQ(c->response.protocol_name, "roundrobin");
}

TEST_F(GroupCoordinatorTest, NewMemberGetsMemberIdRequiredThenJoinsWithIt) {
  JoinGroupRequest r = JoinRequest("");
  r.require_known_member_id = true;
  JoinGroupResponse first = JoinNow(r);
  EXPECT_EQ(first.error, ErrorCode::kMemberIdRequired);
  EXPECT_TRUE(absl::StartsWith(first.member_id, "client-"));
  EXPECT_EQ(first.generation_id, kNoGeneration);
  EXPECT_EQ(Describe().state, "Empty") << "a pending member is not a member yet";

  r.member_id = first.member_id;
  JoinGroupResponse second = JoinNow(r);
  EXPECT_EQ(second.error, ErrorCode::kNone);
  EXPECT_EQ(second.member_id, first.member_id);
  EXPECT_EQ(second.generation_id, 1);
}

TEST_F(GroupCoordinatorTest, PendingMemberIdHoldsTheRebalanceUntilItJoinsOrExpires) {
  JoinGroupResponse a = JoinNow(JoinRequest(""));
  SendSync(a.member_id, 1);
  JoinGroupRequest r = JoinRequest("");
  r.require_known_member_id = true;
  JoinGroupResponse pending = JoinNow(r);
  ASSERT_EQ(pending.error, ErrorCode::kMemberIdRequired);
  EXPECT_EQ(Describe().state, "Stable") << "handing out a member id does not rebalance";

  auto b = SendJoin(JoinRequest(""));  // an old-style member triggers the rebalance
  auto a2 = SendJoin(JoinRequest(a.member_id));
  EXPECT_FALSE(a2->done) << "the pending member may still join this generation";
  EXPECT_FALSE(b->done);
  now_ += 10001;  // its session timeout
  coordinator_->Tick();
  ASSERT_TRUE(a2->done);
  EXPECT_THAT(a2->response.members, SizeIs(2));
  // Once expired, its id is unknown.
  r.member_id = pending.member_id;
  EXPECT_EQ(JoinNow(r).error, ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, StaleGenerationAndUnknownMemberAreRejected) {
  JoinGroupResponse a = JoinNow(JoinRequest(""));
  EXPECT_EQ(SendSync(a.member_id, 7)->response.error, ErrorCode::kIllegalGeneration);
  EXPECT_EQ(SendSync("ghost", 1)->response.error, ErrorCode::kUnknownMemberId);
  ASSERT_EQ(SendSync(a.member_id, 1)->response.error, ErrorCode::kNone);
  EXPECT_EQ(Heartbeat(a.member_id, 0), ErrorCode::kIllegalGeneration);
  EXPECT_EQ(Heartbeat("ghost", 1), ErrorCode::kUnknownMemberId);
  EXPECT_EQ(Heartbeat(a.member_id, 1, "no-such-group"), ErrorCode::kUnknownMemberId);
  EXPECT_EQ(JoinNow(JoinRequest("ghost")).error, ErrorCode::kUnknownMemberId);
  EXPECT_EQ(JoinNow(JoinRequest("ghost", {}, "no-such-group")).error, ErrorCode::kUnknownMemberId);
  EXPECT_EQ(SendSync(a.member_id, 1, {}, "no-such-group")->response.error, ErrorCode::kUnknownMemberId);
  EXPECT_EQ(Heartbeat(a.member_id, 1, ""), ErrorCode::kInvalidGroupId);
  EXPECT_EQ(JoinNow(JoinRequest("", {}, "")).error, ErrorCode::kInvalidGroupId);
  // A Stable group answers a repeated SyncGroup with the current assignment.
  EXPECT_EQ(SendSync(a.member_id, 1)->response.error, ErrorCode::kNone);
}

TEST_F(GroupCoordinatorTest, SessionTimeoutOutsideTheBrokerRangeIsRejected) {
  JoinGroupRequest r = JoinRequest("");
  r.session_timeout_ms = 5999;
  EXPECT_EQ(JoinNow(r).error, ErrorCode::kInvalidSessionTimeout);
  r.session_timeout_ms = 1800001;
  EXPECT_EQ(JoinNow(r).error, ErrorCode::kInvalidSessionTimeout);
}

TEST_F(GroupCoordinatorTest, FollowerRejoiningAStableGroupWithSameMetadataGetsTheCurrentGeneration) {
  JoinGroupResponse a = JoinNow(JoinRequest(""));
  SendSync(a.member_id, 1);
  auto b = SendJoin(JoinRequest(""));
  JoinNow(JoinRequest(a.member_id));
  SendSync(b->response.member_id, 2);
  SendSync(a.member_id, 2);
  JoinGroupResponse again = JoinNow(JoinRequest(b->response.member_id));
  EXPECT_EQ(again.error, ErrorCode::kNone);
  EXPECT_EQ(again.generation_id, 2);
  EXPECT_EQ(Describe().state, "Stable");
  // With new metadata it rebalances.
  auto changed = SendJoin(JoinRequest(b->response.member_id, {{"range", Subscription({"t", "u"})}}));
  EXPECT_FALSE(changed->done);
  EXPECT_EQ(Describe().state, "PreparingRebalance");
}

TEST_F(GroupCoordinatorTest, RepeatedJoinAnswersTheSupersededRequest) {
  JoinGroupResponse a = JoinNow(JoinRequest(""));
  SendSync(a.member_id, 1);
  auto b = SendJoin(JoinRequest(""));
  JoinNow(JoinRequest(a.member_id));
  ASSERT_TRUE(b->done);
  const std::string b_id = b->response.member_id;
  SendSync(b_id, 2);
  SendSync(a.member_id, 2);
  // B changes its subscription (a rebalance starts), then retries the same JoinGroup: every request gets
  // exactly one response, the superseded one at once.
  const std::vector<GroupProtocol> tu = {{"range", Subscription({"t", "u"})}};
  auto first = SendJoin(JoinRequest(b_id, tu));
  auto second = SendJoin(JoinRequest(b_id, tu));
  ASSERT_TRUE(first->done);
  EXPECT_EQ(first->response.error, ErrorCode::kRebalanceInProgress);
  EXPECT_FALSE(second->done);
  JoinNow(JoinRequest(a.member_id));
  ASSERT_TRUE(second->done);
  EXPECT_EQ(second->response.error, ErrorCode::kNone);
  EXPECT_EQ(second->response.generation_id, 3);
  EXPECT_EQ(first->calls, 1);
  EXPECT_EQ(second->calls, 1);
}

TEST_F(GroupCoordinatorTest, InitialRebalanceDelayWaitsForMoreMembers) {
  GroupCoordinatorOptions o = TestOptions(&now_);
  o.initial_rebalance_delay_ms = 3000;
  Recreate(std::move(o));
  auto a = SendJoin(JoinRequest(""));
  EXPECT_FALSE(a->done);
  now_ += 2000;
  coordinator_->Tick();
  auto b = SendJoin(JoinRequest(""));  // extends the delay by another 3 s
  now_ += 1000;
  coordinator_->Tick();
  EXPECT_FALSE(a->done);
  now_ += 3000;
  coordinator_->Tick();
  ASSERT_TRUE(a->done && b->done);
  EXPECT_EQ(a->response.generation_id, 1);
  EXPECT_EQ(b->response.generation_id, 1);
  EXPECT_THAT(a->response.members, SizeIs(2));
}

TEST_F(GroupCoordinatorTest, StaticMemberRejoiningWithNewIdFencesTheOldOneWithoutRebalance) {
  JoinGroupRequest r = JoinRequest("");
  r.group_instance_id = "instance-1";
  JoinGroupResponse a = JoinNow(r);
  ASSERT_EQ(a.error, ErrorCode::kNone);
  EXPECT_TRUE(absl::StartsWith(a.member_id, "instance-1-"));
  ASSERT_EQ(SendSync(a.member_id, 1, RangeAssignments(a, {{"t", 1}}))->response.error, ErrorCode::kNone);

  // The same instance restarts: new member id, same generation, no rebalance.
  JoinGroupResponse again = JoinNow(r);
  ASSERT_EQ(again.error, ErrorCode::kNone);
  EXPECT_NE(again.member_id, a.member_id);
  EXPECT_EQ(again.generation_id, 1);
  EXPECT_EQ(again.leader, a.member_id) << "the old leader id, so the new incarnation does not reassign";
  EXPECT_EQ(Describe().state, "Stable");
  auto sync = SendSync(again.member_id, 1);
  EXPECT_THAT(Partitions(sync->response), ElementsAre(TopicPartition{"t", 0}));

  // The old incarnation is fenced.
  coordinator_->Heartbeat(HeartbeatRequest{"g", 1, a.member_id, std::string("instance-1")},
                          [](const HeartbeatResponse& h) { EXPECT_EQ(h.error, ErrorCode::kFencedInstanceId); });
}

TEST_F(GroupCoordinatorTest, GroupsAreIndependent) {
  JoinGroupResponse g1 = JoinNow(JoinRequest("", {}, "g1"));
  JoinGroupResponse g2 = JoinNow(JoinRequest("", {}, "g2"));
  SendSync(g1.member_id, 1, {}, "g1");
  SendSync(g2.member_id, 1, {}, "g2");
  auto g1b = SendJoin(JoinRequest("", {}, "g1"));
  EXPECT_EQ(Heartbeat(g1.member_id, 1, "g1"), ErrorCode::kRebalanceInProgress);
  EXPECT_EQ(Heartbeat(g2.member_id, 1, "g2"), ErrorCode::kNone);
  EXPECT_EQ(Heartbeat(g1.member_id, 1, "g2"), ErrorCode::kUnknownMemberId);
  EXPECT_FALSE(g1b->done);

  ListGroupsResponse list;
  coordinator_->ListGroups({}, [&](const ListGroupsResponse& r) { list = r; });
  ASSERT_THAT(list.groups, SizeIs(2));
  EXPECT_EQ(list.groups[0].group_id, "g1");
  EXPECT_EQ(list.groups[0].state, "PreparingRebalance");
  EXPECT_EQ(list.groups[1].state, "Stable");
  EXPECT_EQ(list.groups[1].protocol_type, "consumer");
  coordinator_->ListGroups({"stable"}, [&](const ListGroupsResponse& r) { list = r; });
  ASSERT_THAT(list.groups, SizeIs(1));
  EXPECT_EQ(list.groups[0].group_id, "g2");
  EXPECT_EQ(Describe("nope").state, "Dead");
}

TEST_F(GroupCoordinatorTest, ShutdownAnswersWaitingRequestsWithNotCoordinator) {
  JoinGroupResponse a = JoinNow(JoinRequest(""));
  SendSync(a.member_id, 1);
  auto b = SendJoin(JoinRequest(""));
  ASSERT_FALSE(b->done);
  coordinator_->Shutdown();
  ASSERT_TRUE(b->done);
  EXPECT_EQ(b->response.error, ErrorCode::kNotCoordinator);
  EXPECT_EQ(JoinNow(JoinRequest("")).error, ErrorCode::kCoordinatorNotAvailable);
  EXPECT_EQ(Heartbeat(a.member_id, 1), ErrorCode::kCoordinatorNotAvailable);
}

TEST_F(GroupCoordinatorTest, TimerThreadCompletesRebalanceTimeouts) {
  // Real clock and the coordinator's own timer thread: a rebalance whose old member never rejoins completes
  // after the (short) rebalance timeout without anyone calling Tick.
  GroupCoordinatorOptions o;
  o.initial_rebalance_delay_ms = 0;
  o.tick_interval = absl::Milliseconds(5);
  Recreate(std::move(o));
  JoinGroupRequest r = JoinRequest("");
  r.rebalance_timeout_ms = 50;
  JoinGroupResponse a = JoinNow(r);
  SendSync(a.member_id, 1);
  absl::Notification joined;
  JoinGroupResponse b;
  coordinator_->JoinGroup(r, [&](const JoinGroupResponse& resp) {
    b = resp;
    joined.Notify();
  });
  ASSERT_TRUE(joined.WaitForNotificationWithTimeout(absl::Seconds(60)));
  EXPECT_EQ(b.error, ErrorCode::kNone);
  EXPECT_EQ(b.generation_id, 2);
  EXPECT_EQ(b.leader, b.member_id);
}

}  // namespace
}  // namespace eddy::broker
