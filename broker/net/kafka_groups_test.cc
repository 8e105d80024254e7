// Tests of the consumer-group APIs over real sockets, on the broker's GroupCoordinator: the whole life of a
// group (join with MEMBER_ID_REQUIRED, sync, heartbeat, commit, fetch, describe, list, leave), a rebalance
// whose JoinGroup answers complete on another connection's thread, members removed by their rebalance
// timeout (max.poll.interval.ms) and their session timeout, old request versions, and commits from outside
// group management.
#include <string>
#include <vector>

#include "broker/error_code.h"
#include "broker/net/kafka_test_util.h"
#include "gtest/gtest.h"

namespace eddy::net {
namespace {

using broker::ErrorCode;
using testing::KafkaClient;
using testing::KafkaServerTest;

int16_t E(ErrorCode e) { return static_cast<int16_t>(e); }

class KafkaGroupsTest : public KafkaServerTest {
 protected:
  static kafka::JoinGroupRequest Join(const std::string& member_id) {
    kafka::JoinGroupRequest r;
    r.group_id = "g";
    r.session_timeout_ms = 10000;
    r.rebalance_timeout_ms = 10000;
    r.member_id = member_id;
    r.protocol_type = "consumer";
    r.protocols.push_back({"range", "subscription-bytes"});
    return r;
  }
  static kafka::HeartbeatRequest Heartbeat(const std::string& member_id, int32_t generation) {
    kafka::HeartbeatRequest r;
    r.group_id = "g";
    r.member_id = member_id;
    r.generation_id = generation;
    return r;
  }
  // Joins as a new member with JoinGroup v5 (two round trips: MEMBER_ID_REQUIRED first).
  static kafka::JoinGroupResponse JoinNew(KafkaClient& c) {
    kafka::JoinGroupResponse first = c.Call<kafka::JoinGroupResponse>(5, Join(""));
    EXPECT_EQ(first.error_code, E(ErrorCode::kMemberIdRequired));
    EXPECT_FALSE(first.member_id.empty());
    return c.Call<kafka::JoinGroupResponse>(5, Join(first.member_id));
  }
};

TEST_F(KafkaGroupsTest, GroupLifecycleOverTheWire) {
  auto c = Connect();
  kafka::FindCoordinatorRequest find;
  find.key = "g";
  EXPECT_EQ(c->Call<kafka::FindCoordinatorResponse>(2, find).node_id, 0);

  kafka::JoinGroupResponse joined = JoinNew(*c);
  ASSERT_EQ(joined.error_code, 0);
  const std::string me = joined.member_id;
  EXPECT_EQ(joined.leader, me);
  EXPECT_EQ(joined.generation_id, 1);
  EXPECT_EQ(joined.protocol_name, "range");
  ASSERT_EQ(joined.members.size(), 1u);
  EXPECT_EQ(joined.members[0].metadata, "subscription-bytes");

  kafka::SyncGroupRequest sync;
  sync.group_id = "g";
  sync.generation_id = 1;
  sync.member_id = me;
  sync.assignments.push_back({me, "assignment-bytes"});
  kafka::SyncGroupResponse synced = c->Call<kafka::SyncGroupResponse>(3, sync);
  EXPECT_EQ(synced.error_code, 0);
  EXPECT_EQ(synced.assignment, "assignment-bytes");
  EXPECT_EQ(c->Call<kafka::HeartbeatResponse>(3, Heartbeat(me, 1)).error_code, 0);
  EXPECT_EQ(c->Call<kafka::HeartbeatResponse>(3, Heartbeat(me, 7)).error_code, E(ErrorCode::kIllegalGeneration));

  kafka::OffsetCommitRequest commit;
  commit.group_id = "g";
  commit.generation_id_or_member_epoch = 1;
  commit.member_id = me;
  commit.topics.emplace_back();
  commit.topics.back().name = "t";
  commit.topics.back().partitions.push_back({0, 42, -1, -1, std::string("meta")});
  commit.topics.back().partitions.push_back({1, 7, -1, -1, std::string("")});
  kafka::OffsetCommitResponse committed = c->Call<kafka::OffsetCommitResponse>(7, commit);
  ASSERT_EQ(committed.topics.size(), 1u);
  ASSERT_EQ(committed.topics[0].partitions.size(), 2u);
  EXPECT_EQ(committed.topics[0].partitions[0].error_code, 0);

  kafka::OffsetFetchRequest fetch;
  fetch.group_id = "g";
  fetch.topics = std::nullopt;  // every partition
  kafka::OffsetFetchResponse fetched = c->Call<kafka::OffsetFetchResponse>(5, fetch);
  EXPECT_EQ(fetched.error_code, 0);
  ASSERT_EQ(fetched.topics.size(), 1u);
  ASSERT_EQ(fetched.topics[0].partitions.size(), 2u);
  EXPECT_EQ(fetched.topics[0].partitions[0].committed_offset, 42);
  EXPECT_EQ(fetched.topics[0].partitions[0].metadata, "meta");
  EXPECT_EQ(fetched.topics[0].partitions[1].committed_offset, 7);

  kafka::DescribeGroupsRequest describe;
  describe.groups = {"g", "unknown-group"};
  kafka::DescribeGroupsResponse described = c->Call<kafka::DescribeGroupsResponse>(4, describe);
  ASSERT_EQ(described.groups.size(), 2u);
  EXPECT_EQ(described.groups[0].group_state, "Stable");
  EXPECT_EQ(described.groups[0].protocol_type, "consumer");
  EXPECT_EQ(described.groups[0].protocol_data, "range");
  ASSERT_EQ(described.groups[0].members.size(), 1u);
  EXPECT_EQ(described.groups[0].members[0].client_id, "eddy-test");
  EXPECT_EQ(described.groups[0].members[0].client_host, "/127.0.0.1");
  EXPECT_EQ(described.groups[0].members[0].member_assignment, "assignment-bytes");
  EXPECT_EQ(described.groups[1].group_state, "Dead");

  kafka::ListGroupsResponse listed = c->Call<kafka::ListGroupsResponse>(2, kafka::ListGroupsRequest());
  ASSERT_EQ(listed.groups.size(), 1u);
  EXPECT_EQ(listed.groups[0].group_id, "g");
  EXPECT_EQ(listed.groups[0].protocol_type, "consumer");

  kafka::LeaveGroupRequest leave;
  leave.group_id = "g";
  leave.members.push_back({me, std::nullopt, std::nullopt});
  kafka::LeaveGroupResponse left = c->Call<kafka::LeaveGroupResponse>(3, leave);
  EXPECT_EQ(left.error_code, 0);
  ASSERT_EQ(left.members.size(), 1u);
  EXPECT_EQ(left.members[0].error_code, 0);
  EXPECT_EQ(c->Call<kafka::HeartbeatResponse>(3, Heartbeat(me, 1)).error_code, E(ErrorCode::kUnknownMemberId));
}

TEST_F(KafkaGroupsTest, RebalanceCompletesTheWaitingJoinOfAMemberOnAnotherConnection) {
  auto a = Connect();
  auto b = Connect();
  kafka::JoinGroupResponse a1 = JoinNew(*a);
  ASSERT_EQ(a1.error_code, 0);
  kafka::SyncGroupRequest sync;
  sync.group_id = "g";
  sync.generation_id = a1.generation_id;
  sync.member_id = a1.member_id;
  ASSERT_EQ(a->Call<kafka::SyncGroupResponse>(3, sync).error_code, 0);

  // B's second join waits for the rebalance, which completes when A rejoins on its own connection.
  kafka::JoinGroupResponse b_first = b->Call<kafka::JoinGroupResponse>(5, Join(""));
  ASSERT_EQ(b_first.error_code, E(ErrorCode::kMemberIdRequired));
  const int32_t b_join = b->Send(5, Join(b_first.member_id));
  ASSERT_TRUE(testing::Eventually([&] {
    return a->Call<kafka::HeartbeatResponse>(3, Heartbeat(a1.member_id, a1.generation_id)).error_code ==
           E(ErrorCode::kRebalanceInProgress);
  }));
  kafka::JoinGroupResponse a2 = a->Call<kafka::JoinGroupResponse>(5, Join(a1.member_id));
  kafka::JoinGroupResponse b2 = b->Receive<kafka::JoinGroupResponse>(5, b_join);
  EXPECT_EQ(a2.error_code, 0);
  EXPECT_EQ(b2.error_code, 0);
  EXPECT_EQ(a2.generation_id, a1.generation_id + 1);
  EXPECT_EQ(b2.generation_id, a2.generation_id);
  EXPECT_EQ(a2.leader, b2.leader);
  // Only the leader gets the member list.
  EXPECT_EQ((a2.leader == a2.member_id ? a2 : b2).members.size(), 2u);
  EXPECT_TRUE((a2.leader == a2.member_id ? b2 : a2).members.empty());
}

// max.poll.interval.ms is the JoinGroup's rebalance timeout: a member that keeps its session alive with
// heartbeats but does not rejoin within it (its application stopped polling) is removed, and the rebalance
// completes without it.
TEST_F(KafkaGroupsTest, MemberThatDoesNotRejoinWithinItsRebalanceTimeoutIsRemovedOverTheWire) {
  auto a = Connect();
  auto b = Connect();
  auto join = [](const std::string& id) {
    kafka::JoinGroupRequest r = Join(id);
    r.session_timeout_ms = 30000;  // far longer than the test: only the rebalance timeout can remove B
    r.rebalance_timeout_ms = 1000;  // max.poll.interval.ms
    return r;
  };
  kafka::JoinGroupResponse first = a->Call<kafka::JoinGroupResponse>(5, join(""));
  kafka::JoinGroupResponse a1 = a->Call<kafka::JoinGroupResponse>(5, join(first.member_id));
  ASSERT_EQ(a1.error_code, 0);
  kafka::SyncGroupRequest sync;
  sync.group_id = "g";
  sync.generation_id = a1.generation_id;
  sync.member_id = a1.member_id;
  sync.assignments = {{a1.member_id, "a"}};
  ASSERT_EQ(a->Call<kafka::SyncGroupResponse>(3, sync).error_code, 0);

  // B joins: a rebalance starts. A only heartbeats, as a consumer whose application stopped calling
  // poll() does, and never rejoins.
  first = b->Call<kafka::JoinGroupResponse>(5, join(""));
  const int32_t b_join = b->Send(5, join(first.member_id));
  std::vector<int16_t> a_errors;
  ASSERT_TRUE(testing::Eventually([&] {
    const int16_t e = a->Call<kafka::HeartbeatResponse>(3, Heartbeat(a1.member_id, a1.generation_id)).error_code;
    if (a_errors.empty() || a_errors.back() != e) a_errors.push_back(e);
    return e == E(ErrorCode::kUnknownMemberId);
  }));
  // Heartbeats that arrived before B's join succeeded; then A was told of the rebalance until it was removed.
  if (a_errors.front() == 0) a_errors.erase(a_errors.begin());
  EXPECT_EQ(a_errors, (std::vector<int16_t>{E(ErrorCode::kRebalanceInProgress), E(ErrorCode::kUnknownMemberId)}));
  kafka::JoinGroupResponse b1 = b->Receive<kafka::JoinGroupResponse>(5, b_join);
  EXPECT_EQ(b1.error_code, 0);
  EXPECT_EQ(b1.generation_id, a1.generation_id + 1);
  EXPECT_EQ(b1.leader, b1.member_id);
  ASSERT_EQ(b1.members.size(), 1u);
  EXPECT_EQ(b1.members[0].member_id, b1.member_id);
}

// A member that stops heartbeating is removed after its session timeout.
TEST_F(KafkaGroupsTest, MemberWhoseSessionExpiresIsRemovedOverTheWire) {
  Stop();
  Start({{"group.min.session.timeout.ms", "100"}});
  auto a = Connect();
  kafka::JoinGroupRequest join = Join("");
  join.session_timeout_ms = 300;
  kafka::JoinGroupResponse first = a->Call<kafka::JoinGroupResponse>(5, join);
  join.member_id = first.member_id;
  kafka::JoinGroupResponse joined = a->Call<kafka::JoinGroupResponse>(5, join);
  ASSERT_EQ(joined.error_code, 0);
  kafka::SyncGroupRequest sync;
  sync.group_id = "g";
  sync.generation_id = joined.generation_id;
  sync.member_id = joined.member_id;
  ASSERT_EQ(a->Call<kafka::SyncGroupResponse>(3, sync).error_code, 0);
  // No heartbeats: the coordinator's timer removes the member and the group becomes empty.
  kafka::DescribeGroupsRequest describe;
  describe.groups = {"g"};
  ASSERT_TRUE(testing::Eventually([&] {
    kafka::DescribeGroupsResponse d = a->Call<kafka::DescribeGroupsResponse>(4, describe);
    return d.groups.size() == 1 && d.groups[0].members.empty() && d.groups[0].group_state == "Empty";
  }));
  EXPECT_EQ(a->Call<kafka::HeartbeatResponse>(3, Heartbeat(joined.member_id, joined.generation_id)).error_code,
            E(ErrorCode::kUnknownMemberId));
}

TEST_F(KafkaGroupsTest, OldVersionsJoinWithoutMemberIdRequiredAndFoldLeaveErrors) {
  auto c = Connect();
  kafka::JoinGroupRequest join = Join("");
  kafka::JoinGroupResponse joined = c->Call<kafka::JoinGroupResponse>(2, join);  // kafka-python's version
  ASSERT_EQ(joined.error_code, 0);
  EXPECT_FALSE(joined.member_id.empty());
  kafka::LeaveGroupRequest leave;
  leave.group_id = "g";
  leave.member_id = "not-a-member";
  EXPECT_EQ(c->Call<kafka::LeaveGroupResponse>(1, leave).error_code, E(ErrorCode::kUnknownMemberId));
  leave.member_id = joined.member_id;
  EXPECT_EQ(c->Call<kafka::LeaveGroupResponse>(1, leave).error_code, 0);
}

TEST_F(KafkaGroupsTest, SimpleConsumerCommitsWithGenerationMinusOneToAnEmptyGroup) {
  auto c = Connect();
  kafka::OffsetCommitRequest commit;
  commit.group_id = "kcat";
  commit.generation_id_or_member_epoch = -1;
  commit.retention_time_ms = -1;
  commit.topics.emplace_back();
  commit.topics.back().name = "t";
  commit.topics.back().partitions.push_back({2, 99, -1, -1, std::string("")});
  kafka::OffsetCommitResponse committed = c->Call<kafka::OffsetCommitResponse>(2, commit);
  ASSERT_EQ(committed.topics.size(), 1u);
  EXPECT_EQ(committed.topics[0].partitions[0].error_code, 0);

  kafka::OffsetFetchRequest fetch;
  fetch.group_id = "kcat";
  fetch.topics.emplace();
  fetch.topics->emplace_back();
  fetch.topics->back().name = "t";
  fetch.topics->back().partition_indexes = {2, 3};
  kafka::OffsetFetchResponse fetched = c->Call<kafka::OffsetFetchResponse>(1, fetch);
  ASSERT_EQ(fetched.topics.size(), 1u);
  ASSERT_EQ(fetched.topics[0].partitions.size(), 2u);
  EXPECT_EQ(fetched.topics[0].partitions[0].committed_offset, 99);
  EXPECT_EQ(fetched.topics[0].partitions[1].committed_offset, -1);  // nothing committed
}

}  // namespace
}  // namespace eddy::net
