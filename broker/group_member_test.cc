// GroupMember against a real GroupCoordinator: several embedded consumers driven in turn by one thread (and
// one test with a thread each).
#include "broker/group_member.h"

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "broker/group_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy::broker {
namespace {

using ::eddy::broker::testing::FakeGroupStore;
using ::eddy::broker::testing::TestOptions;
using ::testing::SizeIs;

std::vector<TopicPartitionOffset> Offsets(const char* topic, int32_t partition, int64_t offset, const char* metadata) {
  TopicPartitionOffset o;
  o.tp = TopicPartition{topic, partition};
  o.offset = offset;
  o.metadata = metadata;
  return {o};
}

// One simulated consumer: a GroupMember and the partitions it owns after applying every update.
struct TestConsumer {
  std::unique_ptr<GroupMember> member;
  std::set<TopicPartition> owned;
  int revocations = 0;
};

class GroupMemberTest : public ::testing::Test {
 protected:
  GroupMemberConfig Config(const std::string& client_id) {
    GroupMemberConfig c;
    c.group_id = "g";
    c.client_id = client_id;
    c.session_timeout_ms = 10000;
    c.rebalance_timeout_ms = 20000;
    c.heartbeat_interval_ms = 3000;
    c.partition_count = [this](absl::string_view topic) -> std::optional<int32_t> {
      auto it = partitions_.find(std::string(topic));
      if (it == partitions_.end()) return std::nullopt;
      return it->second;
    };
    return c;
  }

  std::unique_ptr<TestConsumer> NewConsumer(const std::string& client_id, std::vector<std::string> topics = {"t"}) {
    auto c = std::make_unique<TestConsumer>();
    c->member = std::make_unique<GroupMember>(&coordinator_, Config(client_id));
    EXPECT_TRUE(c->member->Subscribe(std::move(topics)).ok());
    return c;
  }

  // Polls once and applies the update: revoked partitions must be owned, assigned ones must not be.
  void Poll(TestConsumer* c) {
    absl::StatusOr<MembershipUpdate> u = c->member->Poll(now_, absl::ZeroDuration());
    ASSERT_TRUE(u.ok()) << u.status();
    for (const TopicPartition& tp : u->revoked) EXPECT_EQ(c->owned.erase(tp), 1u) << ToString(tp);
    if (!u->revoked.empty()) ++c->revocations;
    for (const TopicPartition& tp : u->assigned) EXPECT_TRUE(c->owned.insert(tp).second) << ToString(tp);
    EXPECT_EQ(u->stable, c->member->is_stable());
  }

  // No partition is owned by two consumers.
  static void ExpectDisjoint(const std::vector<TestConsumer*>& cs) {
    std::set<TopicPartition> seen;
    for (const TestConsumer* c : cs) {
      for (const TopicPartition& tp : c->owned) EXPECT_TRUE(seen.insert(tp).second) << "owned twice: " << ToString(tp);
    }
  }

  // Every partition of the subscribed topics is owned by exactly one consumer.
  void ExpectCoverage(const std::vector<TestConsumer*>& cs, const std::vector<std::string>& topics) {
    ExpectDisjoint(cs);
    size_t owned = 0, expected = 0;
    for (const TestConsumer* c : cs) owned += c->owned.size();
    for (const std::string& t : topics) expected += partitions_.at(t);
    EXPECT_EQ(owned, expected);
  }

  // Polls every consumer in turn, a second of fake time per round, until the coordinator's group is Stable
  // with exactly these members and all of them are stable in the same generation. False if that takes more
  // than `rounds` rounds.
  bool Settle(const std::vector<TestConsumer*>& cs, int rounds = 60) {
    for (int i = 0; i < rounds; ++i) {
      for (TestConsumer* c : cs) {
        Poll(c);
        ExpectDisjoint(cs);
      }
      if (Settled(cs)) return true;
      now_ += 1000;
      coordinator_.Tick();
    }
    return false;
  }

  bool Settled(const std::vector<TestConsumer*>& cs) {
    DescribedGroup d;
    coordinator_.DescribeGroup("g", [&](const DescribedGroup& r) { d = r; });
    if (d.state != "Stable" || d.members.size() != cs.size()) return false;
    std::set<std::string> ids;
    for (const DescribedGroupMember& m : d.members) ids.insert(m.member_id);
    for (TestConsumer* c : cs) {
      if (!c->member->is_stable() || c->member->generation_id() != cs[0]->member->generation_id() ||
          !ids.contains(c->member->member_id())) {
        return false;
      }
    }
    return true;
  }

  int64_t now_ = 1'000'000;
  std::map<std::string, int32_t> partitions_ = {{"t", 6}, {"u", 2}};
  FakeGroupStore store_;
  GroupCoordinator coordinator_{&store_, TestOptions(&now_)};
};

TEST_F(GroupMemberTest, SingleMemberGetsEveryPartition) {
  auto a = NewConsumer("a");
  Poll(a.get());
  ASSERT_TRUE(a->member->is_stable()) << "alone and without an initial delay, one Poll joins and syncs";
  EXPECT_TRUE(a->member->is_leader());
  EXPECT_EQ(a->member->generation_id(), 1);
  EXPECT_THAT(a->owned, SizeIs(6));
  EXPECT_EQ(a->member->member_id().rfind("a-", 0), 0u);
}

TEST_F(GroupMemberTest, ThreeMembersSplitSixPartitionsAndTheRestTakeOverWhenOneLeaves) {
  auto a = NewConsumer("a");
  auto b = NewConsumer("b");
  auto c = NewConsumer("c");
  std::vector<TestConsumer*> all = {a.get(), b.get(), c.get()};
  ASSERT_TRUE(Settle(all));
  for (TestConsumer* x : all) EXPECT_THAT(x->owned, SizeIs(2));
  ExpectCoverage(all, {"t"});
  // Range: member ids sorted, contiguous ranges.
  std::vector<TestConsumer*> by_id = all;
  std::sort(by_id.begin(), by_id.end(),
            [](TestConsumer* x, TestConsumer* y) { return x->member->member_id() < y->member->member_id(); });
  EXPECT_EQ(*by_id[0]->owned.begin(), (TopicPartition{"t", 0}));
  EXPECT_EQ(*by_id[2]->owned.rbegin(), (TopicPartition{"t", 5}));

  // c revokes (as its consumer would on close) and leaves.
  c->owned.clear();
  ASSERT_TRUE(c->member->Leave().ok());
  std::vector<TestConsumer*> rest = {a.get(), b.get()};
  ASSERT_TRUE(Settle(rest));
  EXPECT_THAT(a->owned, SizeIs(3));
  EXPECT_THAT(b->owned, SizeIs(3));
  ExpectCoverage(rest, {"t"});
  EXPECT_GE(a->revocations, 1) << "eager protocol: everything is revoked before the new assignment";
}

TEST_F(GroupMemberTest, MemberThatStopsPollingIsExpiredAndTheOthersRebalance) {
  auto a = NewConsumer("a");
  auto b = NewConsumer("b");
  ASSERT_TRUE(Settle({a.get(), b.get()}));
  ASSERT_THAT(a->owned, SizeIs(3));
  // b stops polling; after its 10 s session the coordinator drops it and a takes everything.
  for (int i = 0; i < 15; ++i) {
    now_ += 1000;
    coordinator_.Tick();
    Poll(a.get());
  }
  ASSERT_TRUE(Settle({a.get()}));
  EXPECT_THAT(a->owned, SizeIs(6));
  // b comes back: it learns it was expired, revokes its stale partitions and rejoins as a new member.
  const std::string old_id = b->member->member_id();
  ASSERT_TRUE(Settle({b.get(), a.get()}));
  EXPECT_NE(b->member->member_id(), old_id);
  EXPECT_THAT(a->owned, SizeIs(3));
  EXPECT_THAT(b->owned, SizeIs(3));
  ExpectCoverage({a.get(), b.get()}, {"t"});
}

TEST_F(GroupMemberTest, SubscriptionChangeRejoinsAndOnlySubscribersGetATopic) {
  auto a = NewConsumer("a");
  auto b = NewConsumer("b");
  ASSERT_TRUE(Settle({a.get(), b.get()}));
  ASSERT_TRUE(a->member->Subscribe({"t", "u"}).ok());
  Poll(a.get());
  EXPECT_FALSE(a->member->is_stable() && a->member->generation_id() == b->member->generation_id() &&
               a->owned.size() == 3 && !a->owned.contains(TopicPartition{"u", 0}))
      << "a changed its subscription: it must rejoin";
  ASSERT_TRUE(Settle({a.get(), b.get()}));
  EXPECT_TRUE(a->owned.contains(TopicPartition{"u", 0}));
  EXPECT_TRUE(a->owned.contains(TopicPartition{"u", 1}));
  ExpectCoverage({a.get(), b.get()}, {"t", "u"});
}

TEST_F(GroupMemberTest, LeaderRebalancesWhenAPartitionCountChanges) {
  auto a = NewConsumer("a");
  auto b = NewConsumer("b");
  ASSERT_TRUE(Settle({a.get(), b.get()}));
  const int32_t generation = a->member->generation_id();
  partitions_["t"] = 8;
  for (int i = 0; i < 5; ++i) {  // past the next heartbeat
    now_ += 1000;
    Poll(a.get());
    Poll(b.get());
  }
  ASSERT_TRUE(Settle({a.get(), b.get()}));
  EXPECT_GT(a->member->generation_id(), generation);
  ExpectCoverage({a.get(), b.get()}, {"t"});
  EXPECT_THAT(a->owned, SizeIs(4));
}

TEST_F(GroupMemberTest, CommitsCarryTheGenerationAndFailDuringARebalance) {
  auto a = NewConsumer("a");
  ASSERT_TRUE(Settle({a.get()}));
  ASSERT_TRUE(a->member->CommitSync(Offsets("t", 0, 17, "m"), absl::Seconds(10)).ok());
  OffsetFetchResponse fetched;
  coordinator_.OffsetFetch(OffsetFetchRequest{"g", std::vector<TopicPartition>{{"t", 0}}, false},
                           [&](const OffsetFetchResponse& r) { fetched = r; });
  EXPECT_EQ(fetched.partitions[0].committed_offset, 17);
  EXPECT_EQ(fetched.partitions[0].metadata, "m");

  // A second member joins. Until it has an assignment, its commits fail as retriable...
  auto b = NewConsumer("b");
  Poll(b.get());
  ASSERT_FALSE(b->member->is_stable());
  EXPECT_EQ(b->member->CommitSync(Offsets("t", 3, 1, ""), absl::Seconds(10)).code(), absl::StatusCode::kUnavailable);
  // ...while a may still commit for its generation until its heartbeat tells it about the rebalance.
  EXPECT_TRUE(a->member->CommitSync(Offsets("t", 0, 18, ""), absl::Seconds(10)).ok());
  now_ += 3000;
  Poll(a.get());  // heartbeat: REBALANCE_IN_PROGRESS; a revokes everything and returns before rejoining...
  EXPECT_EQ(a->revocations, 1);
  EXPECT_THAT(a->owned, SizeIs(0));
  // ...so that its consumer can still commit the revoked partitions' positions with the old generation.
  EXPECT_TRUE(a->member->CommitSync(Offsets("t", 0, 19, ""), absl::Seconds(10)).ok());
  Poll(a.get());  // rejoins; as the last member and the leader, completes the rebalance at once
  EXPECT_THAT(a->owned, SizeIs(3));
  ASSERT_TRUE(Settle({a.get(), b.get()}));
  EXPECT_TRUE(a->member->CommitSync(Offsets("t", 0, 20, ""), absl::Seconds(10)).ok());

  // CommitAsync: the callback runs in a later Poll.
  absl::Status async_status = absl::UnknownError("not called");
  a->member->CommitAsync(Offsets("t", 1, 5, ""), [&](const absl::Status& s) { async_status = s; });
  EXPECT_EQ(async_status.code(), absl::StatusCode::kUnknown);
  Poll(a.get());
  EXPECT_TRUE(async_status.ok()) << async_status;

  // A consumer outside group management commits with generation -1, which a group with members refuses.
  GroupMember simple(&coordinator_, Config("simple"));
  EXPECT_EQ(simple.CommitSync(Offsets("t", 0, 1, ""), absl::Seconds(10)).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(GroupMemberTest, ExpiredMemberCommitFailsAsFencedAndTheMemberRejoins) {
  auto a = NewConsumer("a");
  ASSERT_TRUE(Settle({a.get()}));
  now_ += 11000;  // past the session timeout without polling
  coordinator_.Tick();
  absl::Status s = a->member->CommitSync(Offsets("t", 0, 1, ""), absl::Seconds(10));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;  // UNKNOWN_MEMBER_ID
  const std::string old_id = a->member->member_id();
  ASSERT_TRUE(Settle({a.get()}));
  EXPECT_EQ(a->revocations, 1);
  EXPECT_NE(a->member->member_id(), old_id);
  EXPECT_THAT(a->owned, SizeIs(6));
}

TEST_F(GroupMemberTest, UnsubscribingRevokesAndLeaves) {
  auto a = NewConsumer("a");
  auto b = NewConsumer("b");
  ASSERT_TRUE(Settle({a.get(), b.get()}));
  ASSERT_TRUE(b->member->Subscribe({}).ok());
  Poll(b.get());  // revokes (the consumer commits now) ...
  EXPECT_THAT(b->owned, SizeIs(0));
  EXPECT_FALSE(b->member->member_id().empty());
  Poll(b.get());  // ... and leaves
  EXPECT_TRUE(b->member->member_id().empty());
  ASSERT_TRUE(Settle({a.get()}));
  EXPECT_THAT(a->owned, SizeIs(6));
}

TEST_F(GroupMemberTest, UnknownAssignorIsRejectedAtSubscribe) {
  GroupMemberConfig c = Config("x");
  c.assignors = {"cooperative-sticky"};
  GroupMember m(&coordinator_, std::move(c));
  EXPECT_EQ(m.Subscribe({"t"}).code(), absl::StatusCode::kInvalidArgument);
}

// Two consumers on their own threads, real clock, the coordinator's timer thread: each Poll waits a bounded
// time for a JoinGroup that another thread's action (or the timer) completes.
TEST(GroupMemberThreadsTest, ConsumersOnSeparateThreadsConvergeToAnEvenSplit) {
  FakeGroupStore store;
  GroupCoordinatorOptions options;
  options.initial_rebalance_delay_ms = 0;
  options.tick_interval = absl::Milliseconds(10);
  GroupCoordinator coordinator(&store, std::move(options));
  absl::Mutex mu;
  std::map<int, std::set<TopicPartition>> owned;  // guarded by mu
  std::map<int, int32_t> generation;              // guarded by mu
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int id = 0; id < 2; ++id) {
    threads.emplace_back([&, id] {
      GroupMemberConfig c;
      c.group_id = "threads";
      c.client_id = absl::StrCat("c", id);
      c.session_timeout_ms = 6000;
      c.heartbeat_interval_ms = 20;
      c.partition_count = [](absl::string_view) -> std::optional<int32_t> { return 4; };
      GroupMember member(&coordinator, std::move(c));
      ASSERT_TRUE(member.Subscribe({"t"}).ok());
      while (!stop.load()) {
        absl::StatusOr<MembershipUpdate> u = member.Poll(absl::ToUnixMillis(absl::Now()), absl::Milliseconds(20));
        ASSERT_TRUE(u.ok()) << u.status();
        absl::MutexLock lock(&mu);
        for (const TopicPartition& tp : u->revoked) owned[id].erase(tp);
        for (const TopicPartition& tp : u->assigned) owned[id].insert(tp);
        generation[id] = u->stable ? u->generation_id : -1;
      }
      // Leaving: revoke first, as a consumer does on close.
      absl::MutexLock lock(&mu);
      owned[id].clear();
    });
  }
  const auto converged = [&]() {
    mu.AssertHeld();
    return owned[0].size() == 2 && owned[1].size() == 2 && generation[0] > 0 && generation[0] == generation[1];
  };
  {
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&converged), absl::Seconds(60)));
    std::set<TopicPartition> all = owned[0];
    all.insert(owned[1].begin(), owned[1].end());
    EXPECT_THAT(all, SizeIs(4));
  }
  stop = true;
  for (std::thread& t : threads) t.join();
}

}  // namespace
}  // namespace eddy::broker
