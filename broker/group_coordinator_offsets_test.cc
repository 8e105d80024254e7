// Offsets and admin APIs of GroupCoordinator: OffsetCommit, OffsetFetch, Load, DeleteGroups.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "broker/group_coordinator.h"
#include "broker/group_test_util.h"
#include "broker/offsets_codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy::broker {
namespace {

using ::eddy::broker::testing::Captured;
using ::eddy::broker::testing::FakeGroupStore;
using ::eddy::broker::testing::TestOptions;
using ::testing::SizeIs;

class GroupOffsetsTest : public ::testing::Test {
 protected:
  Captured<OffsetCommitResponse>* SendCommit(const std::string& group, int32_t generation, const std::string& member,
                                             std::vector<OffsetCommitPartition> partitions) {
    OffsetCommitRequest r;
    r.group_id = group;
    r.generation_id = generation;
    r.member_id = member;
    r.partitions = std::move(partitions);
    auto* c = commit_captures_.emplace_back(std::make_unique<Captured<OffsetCommitResponse>>()).get();
    coordinator_->OffsetCommit(std::move(r), c->Callback());
    return c;
  }
  // Commits and returns the first partition's error (all partitions in these tests share it).
  ErrorCode Commit(const std::string& group, int32_t generation, const std::string& member,
                   std::vector<OffsetCommitPartition> partitions) {
    auto c = SendCommit(group, generation, member, std::move(partitions));
    EXPECT_TRUE(c->done);
    EXPECT_THAT(c->response.partitions, SizeIs(::testing::Ge(1)));
    return c->response.partitions.empty() ? ErrorCode::kUnknownServerError : c->response.partitions[0].error;
  }
  OffsetFetchResponse Fetch(const std::string& group, std::optional<std::vector<TopicPartition>> partitions,
                            bool require_stable = false) {
    OffsetFetchResponse out;
    coordinator_->OffsetFetch(OffsetFetchRequest{group, std::move(partitions), require_stable},
                              [&](const OffsetFetchResponse& r) { out = r; });
    return out;
  }
  int64_t FetchOne(const std::string& group, const TopicPartition& tp) {
    OffsetFetchResponse r = Fetch(group, std::vector<TopicPartition>{tp});
    EXPECT_EQ(r.error, ErrorCode::kNone);
    return r.partitions.empty() ? -2 : r.partitions[0].committed_offset;
  }
  // A one-member group in Stable state; returns the member id (generation 1).
  std::string StableMember(const std::string& group) {
    JoinGroupRequest j;
    j.group_id = group;
    j.client_id = "c";
    j.session_timeout_ms = 10000;
    j.protocol_type = "consumer";
    j.protocols = {{"range", ""}};
    std::string member;
    coordinator_->JoinGroup(j, [&](const JoinGroupResponse& r) { member = r.member_id; });
    coordinator_->SyncGroup(SyncGroupRequest{group, 1, member, {}, {}, {}, {}}, [](const SyncGroupResponse&) {});
    return member;
  }
  void Restart() {
    coordinator_.reset();
    coordinator_ = std::make_unique<GroupCoordinator>(&store_, TestOptions(&now_));
  }

  std::vector<std::unique_ptr<Captured<OffsetCommitResponse>>> commit_captures_;  // outlive the coordinator
  int64_t now_ = 1'700'000'000'000;
  FakeGroupStore store_;
  std::unique_ptr<GroupCoordinator> coordinator_ = std::make_unique<GroupCoordinator>(&store_, TestOptions(&now_));
};

TEST_F(GroupOffsetsTest, CommittedOffsetsAreFetchedWithMetadataAndMissingOnesAreMinusOne) {
  const std::string m = StableMember("g");
  EXPECT_EQ(Commit("g", 1, m, {{"t", 0, 42, 3, std::string("meta")}, {"t", 1, 7, -1, std::nullopt}}), ErrorCode::kNone);
  OffsetFetchResponse r = Fetch("g", std::vector<TopicPartition>{{"t", 0}, {"t", 1}, {"t", 2}, {"u", 0}});
  ASSERT_EQ(r.error, ErrorCode::kNone);
  ASSERT_THAT(r.partitions, SizeIs(4));
  EXPECT_EQ(r.partitions[0].committed_offset, 42);
  EXPECT_EQ(r.partitions[0].committed_leader_epoch, 3);
  EXPECT_EQ(r.partitions[0].metadata, "meta");
  EXPECT_EQ(r.partitions[1].committed_offset, 7);
  EXPECT_EQ(r.partitions[1].metadata, "");
  EXPECT_EQ(r.partitions[2].committed_offset, kNoOffset);
  EXPECT_EQ(r.partitions[3].committed_offset, kNoOffset);
  EXPECT_EQ(r.partitions[3].topic, "u");
  // All offsets, in (topic, partition) order; an unknown group has none.
  r = Fetch("g", std::nullopt);
  ASSERT_THAT(r.partitions, SizeIs(2));
  EXPECT_EQ(r.partitions[1].partition, 1);
  EXPECT_THAT(Fetch("unknown", std::nullopt).partitions, SizeIs(0));
  EXPECT_EQ(FetchOne("unknown", {"t", 0}), kNoOffset);
}

TEST_F(GroupOffsetsTest, RecordsAreWrittenInKafkasConsumerOffsetsFormat) {
  const std::string m = StableMember("g");
  ASSERT_EQ(Commit("g", 1, m, {{"t", 5, 100, 2, std::string("x")}}), ErrorCode::kNone);
  auto records = store_.records();
  ASSERT_THAT(records, SizeIs(1));
  EXPECT_EQ(records[0].first, EncodeOffsetCommitKey("g", "t", 5).value());
  OffsetCommitValue v = DecodeOffsetCommitValue(*records[0].second).value();
  EXPECT_EQ(v.offset, 100);
  EXPECT_EQ(v.leader_epoch, 2);
  EXPECT_EQ(v.metadata, "x");
  EXPECT_EQ(v.commit_timestamp, now_);
  EXPECT_EQ(static_cast<uint8_t>((*records[0].second)[1]), 3) << "value version 3";
}

TEST_F(GroupOffsetsTest, LoadReplaysTheStoreAndTombstonesDelete) {
  ASSERT_EQ(Commit("g", kNoGeneration, "", {{"t", 0, 10, -1, {}}, {"t", 1, 11, -1, {}}}), ErrorCode::kNone);
  ASSERT_EQ(Commit("g", kNoGeneration, "", {{"t", 0, 20, -1, {}}}), ErrorCode::kNone);
  ASSERT_EQ(Commit("h", kNoGeneration, "", {{"t", 0, 5, -1, std::string("m")}}), ErrorCode::kNone);
  store_.AddRecord(EncodeOffsetCommitKey("g", "t", 1).value(), std::nullopt);  // tombstone
  // Records Eddy does not use are skipped: group metadata (key version 2), KIP-848 records (version >= 3).
  store_.AddRecord(std::string("\x00\x02\x00\x01g", 5), std::string("\x00\x03whatever", 10));
  store_.AddRecord(std::string("\x00\x05\x00\x01g", 5), std::string("x"));
  Restart();
  EXPECT_EQ(FetchOne("g", {"t", 0}), kNoOffset) << "nothing before Load";
  ASSERT_TRUE(coordinator_->Load().ok());
  EXPECT_EQ(FetchOne("g", {"t", 0}), 20);
  EXPECT_EQ(FetchOne("g", {"t", 1}), kNoOffset);
  EXPECT_EQ(FetchOne("h", {"t", 0}), 5);
  EXPECT_EQ(Fetch("h", std::nullopt).partitions[0].metadata, "m");
  ListGroupsResponse list;
  coordinator_->ListGroups({}, [&](const ListGroupsResponse& r) { list = r; });
  ASSERT_THAT(list.groups, SizeIs(2));
  EXPECT_EQ(list.groups[0].state, "Empty");
}

TEST_F(GroupOffsetsTest, LoadFailsOnACorruptRecord) {
  store_.AddRecord(EncodeOffsetCommitKey("g", "t", 0).value(), std::string("\x00\x03\x00", 3));
  Restart();
  absl::Status s = coordinator_->Load();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
}

TEST_F(GroupOffsetsTest, GenerationMinusOneCommitsOnlyWhileTheGroupIsEmpty) {
  // A group that does not exist yet: created Empty by the commit (kcat -C, admin tools).
  EXPECT_EQ(Commit("simple", kNoGeneration, "", {{"t", 0, 1, -1, {}}}), ErrorCode::kNone);
  EXPECT_EQ(FetchOne("simple", {"t", 0}), 1);
  EXPECT_EQ(Commit("simple", kNoGeneration, "", {{"t", 0, 2, -1, {}}}), ErrorCode::kNone);
  EXPECT_EQ(FetchOne("simple", {"t", 0}), 2);
  // A group with members refuses it.
  const std::string m = StableMember("busy");
  EXPECT_EQ(Commit("busy", kNoGeneration, "", {{"t", 0, 1, -1, {}}}), ErrorCode::kUnknownMemberId);
  // A generation for a group that does not exist is stale.
  EXPECT_EQ(Commit("nope", 3, "someone", {{"t", 0, 1, -1, {}}}), ErrorCode::kIllegalGeneration);
  // The empty group id is allowed for offsets, as in Kafka.
  EXPECT_EQ(Commit("", kNoGeneration, "", {{"t", 0, 1, -1, {}}}), ErrorCode::kNone);
}

TEST_F(GroupOffsetsTest, MemberCommitsAreCheckedAgainstMembershipAndGeneration) {
  const std::string m = StableMember("g");
  EXPECT_EQ(Commit("g", 1, m, {{"t", 0, 1, -1, {}}}), ErrorCode::kNone);
  EXPECT_EQ(Commit("g", 0, m, {{"t", 0, 1, -1, {}}}), ErrorCode::kIllegalGeneration);
  EXPECT_EQ(Commit("g", 1, "ghost", {{"t", 0, 1, -1, {}}}), ErrorCode::kUnknownMemberId);

  // A second member starts a rebalance: the first may still commit for its generation (PreparingRebalance).
  JoinGroupRequest j;
  j.group_id = "g";
  j.client_id = "c";
  j.session_timeout_ms = 10000;
  j.protocol_type = "consumer";
  j.protocols = {{"range", ""}};
  Captured<JoinGroupResponse> second;
  coordinator_->JoinGroup(j, second.Callback());
  EXPECT_EQ(Commit("g", 1, m, {{"t", 0, 2, -1, {}}}), ErrorCode::kNone);
  // Once the rebalance completes (CompletingRebalance), commits wait for the assignment.
  j.member_id = m;
  coordinator_->JoinGroup(j, [](const JoinGroupResponse&) {});
  ASSERT_TRUE(second.done);
  EXPECT_EQ(Commit("g", 2, m, {{"t", 0, 3, -1, {}}}), ErrorCode::kRebalanceInProgress);
  EXPECT_EQ(Commit("g", 1, m, {{"t", 0, 3, -1, {}}}), ErrorCode::kIllegalGeneration);
  EXPECT_EQ(FetchOne("g", {"t", 0}), 2);
}

TEST_F(GroupOffsetsTest, CommitCompletesOnlyWhenDurable) {
  store_.set_deferred(true);
  auto c = SendCommit("g", kNoGeneration, "", {{"t", 0, 9, -1, {}}, {"t", 1, 8, -1, {}}});
  EXPECT_FALSE(c->done);
  EXPECT_EQ(FetchOne("g", {"t", 0}), kNoOffset) << "not durable, not visible";
  OffsetFetchResponse unstable = Fetch("g", std::vector<TopicPartition>{{"t", 0}}, /*require_stable=*/true);
  EXPECT_EQ(unstable.partitions[0].error, ErrorCode::kUnstableOffsetCommit);
  store_.CompleteNext();
  EXPECT_FALSE(c->done);
  EXPECT_EQ(FetchOne("g", {"t", 0}), 9);
  store_.CompleteNext();
  ASSERT_TRUE(c->done);
  EXPECT_EQ(c->calls, 1);
  EXPECT_EQ(c->response.partitions[1].error, ErrorCode::kNone);
  EXPECT_EQ(FetchOne("g", {"t", 1}), 8);
  EXPECT_EQ(Fetch("g", std::vector<TopicPartition>{{"t", 0}}, true).partitions[0].error, ErrorCode::kNone);
}

TEST_F(GroupOffsetsTest, FailedAppendFailsTheCommitAndLeavesTheCacheUnchanged) {
  ASSERT_EQ(Commit("g", kNoGeneration, "", {{"t", 0, 5, -1, {}}}), ErrorCode::kNone);
  store_.fail_next(1);
  auto c = SendCommit("g", kNoGeneration, "", {{"t", 0, 6, -1, {}}, {"t", 1, 6, -1, {}}});
  ASSERT_TRUE(c->done);
  EXPECT_EQ(c->response.partitions[0].error, ErrorCode::kCoordinatorNotAvailable);
  EXPECT_EQ(c->response.partitions[1].error, ErrorCode::kNone);
  EXPECT_EQ(FetchOne("g", {"t", 0}), 5);
  EXPECT_EQ(FetchOne("g", {"t", 1}), 6);
  // The failed record was not stored either.
  Restart();
  ASSERT_TRUE(coordinator_->Load().ok());
  EXPECT_EQ(FetchOne("g", {"t", 0}), 5);
}

TEST_F(GroupOffsetsTest, OversizedMetadataFailsOnlyThatPartition) {
  auto c = SendCommit("g", kNoGeneration, "",
                      {{"t", 0, 1, -1, std::string(4097, 'x')}, {"t", 1, 1, -1, std::string(4096, 'x')}});
  ASSERT_TRUE(c->done);
  EXPECT_EQ(c->response.partitions[0].error, ErrorCode::kOffsetMetadataTooLarge);
  EXPECT_EQ(c->response.partitions[1].error, ErrorCode::kNone);
  EXPECT_EQ(FetchOne("g", {"t", 0}), kNoOffset);
}

TEST_F(GroupOffsetsTest, DeleteGroupsRemovesEmptyGroupsAndTheirOffsetsDurably) {
  ASSERT_EQ(Commit("old", kNoGeneration, "", {{"t", 0, 1, -1, {}}, {"u", 3, 2, -1, {}}}), ErrorCode::kNone);
  StableMember("busy");
  std::vector<DeleteGroupResult> results;
  coordinator_->DeleteGroups({"old", "busy", "missing"}, [&](const std::vector<DeleteGroupResult>& r) { results = r; });
  ASSERT_THAT(results, SizeIs(3));
  EXPECT_EQ(results[0].error, ErrorCode::kNone);
  EXPECT_EQ(results[1].error, ErrorCode::kNonEmptyGroup);
  EXPECT_EQ(results[2].error, ErrorCode::kGroupIdNotFound);
  EXPECT_EQ(FetchOne("old", {"t", 0}), kNoOffset);
  Restart();
  ASSERT_TRUE(coordinator_->Load().ok());
  EXPECT_EQ(FetchOne("old", {"t", 0}), kNoOffset);
  EXPECT_EQ(FetchOne("old", {"u", 3}), kNoOffset);
}

TEST_F(GroupOffsetsTest, CommitInFlightAcrossDeleteDoesNotResurrectTheOffset) {
  ASSERT_EQ(Commit("g", kNoGeneration, "", {{"t", 0, 1, -1, {}}}), ErrorCode::kNone);
  store_.set_deferred(true);
  auto c = SendCommit("g", kNoGeneration, "", {{"t", 0, 2, -1, {}}});
  std::vector<DeleteGroupResult> results;
  coordinator_->DeleteGroups({"g"}, [&](const std::vector<DeleteGroupResult>& r) { results = r; });
  store_.CompleteAll();
  ASSERT_TRUE(c->done);
  ASSERT_THAT(results, SizeIs(1));
  EXPECT_EQ(results[0].error, ErrorCode::kNone);
  EXPECT_EQ(FetchOne("g", {"t", 0}), kNoOffset);
  store_.set_deferred(false);
  Restart();
  ASSERT_TRUE(coordinator_->Load().ok());
  EXPECT_EQ(FetchOne("g", {"t", 0}), kNoOffset);
}

TEST_F(GroupOffsetsTest, DestructorWaitsForAppendsInFlight) {
  store_.set_deferred(true);
  auto c = SendCommit("g", kNoGeneration, "", {{"t", 0, 2, -1, {}}});
  std::thread completer([&] {
    while (store_.pending() == 0) absl::SleepFor(absl::Milliseconds(1));
    absl::SleepFor(absl::Milliseconds(20));
    store_.CompleteAll();
  });
  coordinator_.reset();  // must not return before the append calls back
  EXPECT_TRUE(c->done);
  completer.join();
}

}  // namespace
}  // namespace eddy::broker
