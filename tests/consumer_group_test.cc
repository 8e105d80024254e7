// End-to-end tests of consumer groups on the embedded broker, through the public API only: partitions are
// split among subscribed consumers and rebalanced when members join, leave or expire; committed offsets let
// a group resume; Admin describes groups.
//
// Every consumer is driven from the test thread: the tests poll all members in turn (Poll(50ms) each) until
// the group reaches the expected state, or fail after a generous deadline.
#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

#include "tests/e2e_util.h"

namespace eddy::e2e {
namespace {

using Partitions = std::vector<TopicPartition>;

Partitions Sorted(Partitions tps) {
  std::sort(tps.begin(), tps.end());
  return tps;
}

// Records what the group told one consumer, in order. Empty revocations (before a first assignment) are
// not recorded: whether Kafka reports them depends on the client version.
class RecordingListener : public RebalanceListener {
 public:
  struct Event {
    bool assigned;  // false: revoked
    Partitions partitions;
  };
  void OnPartitionsRevoked(const Partitions& partitions) override {
    if (!partitions.empty()) events.push_back({false, Sorted(partitions)});
  }
  void OnPartitionsAssigned(const Partitions& partitions) override {
    events.push_back({true, Sorted(partitions)});
  }
  std::vector<Event> events;
};

// A group member with what it has consumed.
struct Member {
  std::unique_ptr<Consumer> consumer;
  RecordingListener listener;
  std::vector<OwnedRecord> records;
  bool paused = false;  // not polled by PollUntil (simulates a hung application)

  Partitions assignment() const { return Sorted(consumer->Assignment()); }
};

class ConsumerGroupTest : public E2eTest {
 protected:
  static constexpr int32_t kPartitions = 4;

  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    CreateTopic("orders", kPartitions);
  }

  // A consumer of `group` that heartbeats often, so that it notices a rebalance quickly. The session timeout
  // is long enough that only an explicit leave (or the expiry test) removes a member within the deadline.
  std::unique_ptr<Member> Join(const std::string& group, const std::string& client_id,
                               int64_t session_timeout_ms = 30000) {
    ConsumerConfig config = EarliestConfig(group);
    config.client_id = client_id;
    config.heartbeat_interval_ms = 100;
    config.session_timeout_ms = session_timeout_ms;
    auto member = std::make_unique<Member>();
    member->consumer = NewConsumer(config);
    if (member->consumer == nullptr) return nullptr;
    E2E_EXPECT_OK(member->consumer->Subscribe({"orders"}, &member->listener));
    return member;
  }

  // Polls every unpaused member in turn until done() holds; false if the deadline passed first.
  // `allowed_error` is a Poll error code a member may return (and then keep polling).
  bool PollUntil(const std::vector<Member*>& members, const std::function<bool()>& done,
                 absl::Duration deadline = kDeadline,
                 absl::StatusCode allowed_error = absl::StatusCode::kOk) {
    ConsumerRecords records;
    const absl::Time end = absl::Now() + deadline;
    while (absl::Now() < end) {
      if (done()) return true;
      for (Member* m : members) {
        if (m->paused) continue;
        absl::Status s = m->consumer->Poll(absl::Milliseconds(50), &records);
        if (!s.ok()) {
          if (s.code() != allowed_error) ADD_FAILURE() << "Poll: " << s;
          continue;
        }
        E2E_EXPECT_OK(AppendRecords(records, &m->records));
      }
    }
    return done();
  }

  // True when every member has `sizes[i]` partitions and together they own each partition exactly once.
  static bool Covers(const std::vector<Member*>& members, const std::vector<size_t>& sizes) {
    std::multiset<TopicPartition> all;
    for (size_t i = 0; i < members.size(); ++i) {
      Partitions a = members[i]->assignment();
      if (a.size() != sizes[i]) return false;
      all.insert(a.begin(), a.end());
    }
    if (all.size() != kPartitions) return false;
    for (int32_t p = 0; p < kPartitions; ++p) {
      if (all.count({"orders", p}) != 1) return false;
    }
    return true;
  }

  // Produces `per_partition` records to each partition, values "<prefix><partition>-<i>".
  void ProduceToEveryPartition(const std::string& prefix, int per_partition) {
    std::unique_ptr<Producer> producer = NewProducer();
    for (int32_t p = 0; p < kPartitions; ++p) {
      ProduceValues(producer.get(), "orders", p, Numbered(absl::StrCat(prefix, p, "-"), 0, per_partition));
    }
  }
};

TEST_F(ConsumerGroupTest, TwoConsumersSplitFourPartitionsTwoAndTwo) {
  std::unique_ptr<Member> a = Join("split", "a");
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(PollUntil({a.get()}, [&] { return Covers({a.get()}, {4}); })) << "a never got all partitions";
  std::unique_ptr<Member> b = Join("split", "b");
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(PollUntil({a.get(), b.get()}, [&] { return Covers({a.get(), b.get()}, {2, 2}); }))
      << "a has " << a->assignment().size() << ", b has " << b->assignment().size();

  // Eager protocol: a first got everything, then gave everything back before its new share.
  const Partitions everything = {{"orders", 0}, {"orders", 1}, {"orders", 2}, {"orders", 3}};
  ASSERT_EQ(a->listener.events.size(), 3u);
  EXPECT_TRUE(a->listener.events[0].assigned);
  EXPECT_EQ(a->listener.events[0].partitions, everything);
  EXPECT_FALSE(a->listener.events[1].assigned);
  EXPECT_EQ(a->listener.events[1].partitions, everything);
  EXPECT_TRUE(a->listener.events[2].assigned);
  EXPECT_EQ(a->listener.events[2].partitions, a->assignment());
  ASSERT_EQ(b->listener.events.size(), 1u);
  EXPECT_TRUE(b->listener.events[0].assigned);
  EXPECT_EQ(b->listener.events[0].partitions, b->assignment());

  // Records produced now go to the owner of their partition, once.
  ProduceToEveryPartition("new", 5);
  ASSERT_TRUE(PollUntil({a.get(), b.get()}, [&] { return a->records.size() + b->records.size() >= 20; }));
  for (Member* m : {a.get(), b.get()}) {
    const Partitions owned = m->assignment();
    std::set<std::pair<int32_t, int64_t>> seen;
    for (const OwnedRecord& r : m->records) {
      EXPECT_TRUE(std::binary_search(owned.begin(), owned.end(), TopicPartition{"orders", r.partition}))
          << "record of partition " << r.partition << " went to a non-owner";
      EXPECT_TRUE(seen.insert({r.partition, r.offset}).second);
    }
    EXPECT_EQ(m->records.size(), 10u);
  }
}

TEST_F(ConsumerGroupTest, AThirdConsumerJoiningKeepsEveryPartitionCoveredOnce) {
  std::unique_ptr<Member> a = Join("three", "a");
  std::unique_ptr<Member> b = Join("three", "b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(PollUntil({a.get(), b.get()}, [&] { return Covers({a.get(), b.get()}, {2, 2}); }));
  std::unique_ptr<Member> c = Join("three", "c");
  ASSERT_NE(c, nullptr);
  const std::vector<Member*> all = {a.get(), b.get(), c.get()};
  ASSERT_TRUE(PollUntil(all, [&] {
    return Covers(all, {2, 1, 1}) || Covers(all, {1, 2, 1}) || Covers(all, {1, 1, 2});
  })) << "a " << a->assignment().size() << ", b " << b->assignment().size() << ", c " << c->assignment().size();
}

// Each consumer on its own thread, as applications run them: the group settles on one partition each and
// every record produced afterwards is consumed once, by its partition's owner.
TEST_F(ConsumerGroupTest, FourConsumersOnFourThreadsShareTheTopicOnePartitionEach) {
  constexpr int kConsumers = 4;
  constexpr int kRecordsPerPartition = 100;
  absl::Mutex mu;
  std::vector<std::vector<TopicPartition>> assignments(kConsumers);  // guarded by mu
  std::vector<std::vector<OwnedRecord>> consumed(kConsumers);       // guarded by mu
  int total = 0;                                                     // guarded by mu
  bool stop = false;                                                 // guarded by mu
  std::vector<std::unique_ptr<Consumer>> consumers;
  for (int i = 0; i < kConsumers; ++i) {
    ConsumerConfig config = EarliestConfig("threaded");
    config.client_id = absl::StrCat("thread-", i);
    config.heartbeat_interval_ms = 100;
    consumers.push_back(NewConsumer(config));
    ASSERT_NE(consumers.back(), nullptr);
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < kConsumers; ++i) {
    threads.emplace_back([&, i] {
      Consumer* c = consumers[i].get();
      E2E_EXPECT_OK(c->Subscribe({"orders"}));
      ConsumerRecords records;
      std::vector<OwnedRecord> batch;
      while (true) {
        {
          absl::MutexLock lock(&mu);
          if (stop) break;
        }
        absl::Status s = c->Poll(absl::Milliseconds(50), &records);
        if (!s.ok()) {
          ADD_FAILURE() << "consumer " << i << ": " << s;
          break;
        }
        batch.clear();
        E2E_EXPECT_OK(AppendRecords(records, &batch));
        absl::MutexLock lock(&mu);
        assignments[i] = Sorted(c->Assignment());
        consumed[i].insert(consumed[i].end(), batch.begin(), batch.end());
        total += static_cast<int>(batch.size());
      }
    });
  }
  auto settled = [&] {
    std::set<TopicPartition> all;
    for (const auto& a : assignments) {
      if (a.size() != 1) return false;
      all.insert(a[0]);
    }
    return all.size() == kConsumers;
  };
  {
    absl::MutexLock lock(&mu);
    const bool ok = mu.AwaitWithTimeout(absl::Condition(&settled), kDeadline);
    EXPECT_TRUE(ok) << "the group never settled on one partition per consumer";
    if (!ok) stop = true;
  }
  if (!HasFailure()) {
    ProduceToEveryPartition("t", kRecordsPerPartition);
    absl::MutexLock lock(&mu);
    auto all_consumed = [&] { return total >= kConsumers * kRecordsPerPartition; };
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&all_consumed), kDeadline)) << "consumed " << total;
    stop = true;
  }
  for (std::thread& t : threads) t.join();
  // Closed only now: a member leaving earlier would start a rebalance under the others' feet.
  for (std::unique_ptr<Consumer>& c : consumers) E2E_EXPECT_OK(c->Close());
  for (int i = 0; i < kConsumers && !HasFailure(); ++i) {
    ASSERT_EQ(assignments[i].size(), 1u);
    EXPECT_EQ(consumed[i].size(), static_cast<size_t>(kRecordsPerPartition)) << "consumer " << i;
    std::set<int64_t> offsets;
    for (const OwnedRecord& r : consumed[i]) {
      EXPECT_EQ(r.partition, assignments[i][0].partition);
      EXPECT_TRUE(offsets.insert(r.offset).second) << "offset " << r.offset << " consumed twice";
    }
  }
}

TEST_F(ConsumerGroupTest, AConsumerThatClosesLeavesAndTheOthersTakeItsPartitions) {
  std::unique_ptr<Member> a = Join("leaving", "a");
  std::unique_ptr<Member> b = Join("leaving", "b");
  std::unique_ptr<Member> c = Join("leaving", "c");
  ASSERT_TRUE(a && b && c);
  const std::vector<Member*> all = {a.get(), b.get(), c.get()};
  ASSERT_TRUE(PollUntil(all, [&] {
    return Covers(all, {2, 1, 1}) || Covers(all, {1, 2, 1}) || Covers(all, {1, 1, 2});
  }));
  E2E_ASSERT_OK(c->consumer->Close());
  // The session timeout (30 s) is longer than the deadline: only the leave can explain a rebalance.
  ASSERT_TRUE(PollUntil({a.get(), b.get()}, [&] { return Covers({a.get(), b.get()}, {2, 2}); }))
      << "a " << a->assignment().size() << ", b " << b->assignment().size();
}

TEST_F(ConsumerGroupTest, UnsubscribeRevokesAndTheOthersTakeThePartitions) {
  std::unique_ptr<Member> a = Join("unsubscribing", "a");
  std::unique_ptr<Member> b = Join("unsubscribing", "b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(PollUntil({a.get(), b.get()}, [&] { return Covers({a.get(), b.get()}, {2, 2}); }));
  const Partitions had = b->assignment();
  E2E_ASSERT_OK(b->consumer->Unsubscribe());
  EXPECT_TRUE(b->consumer->Assignment().empty());
  ASSERT_FALSE(b->listener.events.empty());
  EXPECT_FALSE(b->listener.events.back().assigned);
  EXPECT_EQ(b->listener.events.back().partitions, had);
  b->paused = true;
  ASSERT_TRUE(PollUntil({a.get()}, [&] { return Covers({a.get()}, {4}); }))
      << "a has " << a->assignment().size();
}

TEST_F(ConsumerGroupTest, ANewConsumerResumesExactlyAfterTheGroupsCommittedOffsets) {
  // Many small batches, so that one poll returns only a prefix.
  {
    std::unique_ptr<Producer> producer = NewProducer();
    for (int i = 0; i < 80; ++i) {
      const std::string value = absl::StrCat("r", i);
      E2E_ASSERT_OK(producer->Send({.topic = "orders", .partition = i % kPartitions, .value = value}));
      if (i % 8 == 7) E2E_ASSERT_OK(producer->Flush(kDeadline));
    }
  }
  std::set<std::string> first;
  {
    ConsumerConfig config = EarliestConfig("resume");
    config.max_poll_records = 5;
    std::unique_ptr<Consumer> consumer = NewConsumer(config);
    E2E_ASSERT_OK(consumer->Subscribe({"orders"}));
    ConsumerRecords records;
    const absl::Time end = absl::Now() + kDeadline;
    while (records.empty() && absl::Now() < end) {
      E2E_ASSERT_OK(consumer->Poll(absl::Milliseconds(100), &records));
    }
    E2E_ASSERT_OK(records.ForEach([&](const RecordView& r) { first.insert(std::string(r.value())); }));
    ASSERT_FALSE(first.empty());
    ASSERT_LT(first.size(), 80u);
    E2E_ASSERT_OK(consumer->CommitSync(kDeadline));
    E2E_ASSERT_OK(consumer->Close());
  }
  std::unique_ptr<Member> second = Join("resume", "second");
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(PollUntil({second.get()}, [&] { return first.size() + second->records.size() >= 80; }));
  // A little more, to catch anything read twice.
  PollUntil({second.get()}, [] { return false; }, absl::Milliseconds(200));
  std::set<std::string> all = first;
  for (const OwnedRecord& r : second->records) {
    EXPECT_TRUE(all.insert(r.value.value()).second) << r.value.value() << " was consumed twice";
  }
  EXPECT_EQ(all.size(), 80u);
}

// With enable.auto.commit, Kafka's consumer commits its positions before giving partitions up in a
// rebalance, and when it closes: the next owner continues where it stopped.
TEST_F(ConsumerGroupTest, AutoCommitHandsPositionsOverOnRebalanceAndClose) {
  ProduceToEveryPartition("r", 10);
  auto join_auto_committing = [&](const std::string& client_id) {
    ConsumerConfig config = EarliestConfig("auto");
    config.client_id = client_id;
    config.enable_auto_commit = true;  // auto.commit.interval.ms stays 5 s: longer than this test
    config.heartbeat_interval_ms = 100;
    config.session_timeout_ms = 30000;
    auto member = std::make_unique<Member>();
    member->consumer = NewConsumer(config);
    E2E_EXPECT_OK(member->consumer->Subscribe({"orders"}, &member->listener));
    return member;
  };
  std::unique_ptr<Member> a = join_auto_committing("a");
  ASSERT_TRUE(PollUntil({a.get()}, [&] { return a->records.size() >= 40; }));
  std::unique_ptr<Member> b = join_auto_committing("b");
  ASSERT_TRUE(PollUntil({a.get(), b.get()}, [&] { return Covers({a.get(), b.get()}, {2, 2}); }));
  PollUntil({a.get(), b.get()}, [] { return false; }, absl::Milliseconds(300));
  EXPECT_EQ(a->records.size(), 40u) << "a re-read records after the rebalance";
  EXPECT_TRUE(b->records.empty()) << "b re-read " << b->records.size() << " records a had consumed";

  ProduceToEveryPartition("s", 1);  // one more per partition: 2 for each member
  ASSERT_TRUE(PollUntil({a.get(), b.get()}, [&] { return a->records.size() + b->records.size() >= 44; }));
  E2E_ASSERT_OK(a->consumer->Close());
  E2E_ASSERT_OK(b->consumer->Close());
  absl::StatusOr<GroupDescription> group = admin().DescribeGroup("auto");
  ASSERT_TRUE(group.ok()) << group.status();
  ASSERT_EQ(group->offsets.size(), 4u);
  for (const GroupPartitionOffset& o : group->offsets) {
    EXPECT_EQ(o.committed_offset, 11) << ToString(o.tp);
    EXPECT_EQ(o.lag, 0) << ToString(o.tp);
  }
}

TEST_F(ConsumerGroupTest, TwoGroupsReadTheSameTopicIndependently) {
  ProduceToEveryPartition("r", 5);
  std::unique_ptr<Member> g1 = Join("group-one", "g1");
  std::unique_ptr<Member> g2 = Join("group-two", "g2");
  ASSERT_TRUE(g1 && g2);
  ASSERT_TRUE(PollUntil({g1.get(), g2.get()}, [&] { return g1->records.size() >= 20 && g2->records.size() >= 20; }));
  EXPECT_EQ(g1->assignment().size(), 4u);
  EXPECT_EQ(g2->assignment().size(), 4u);
  EXPECT_EQ(g1->records.size(), 20u);
  EXPECT_EQ(g2->records.size(), 20u);
  E2E_ASSERT_OK(g1->consumer->CommitSync(kDeadline));
  EXPECT_EQ(g1->consumer->Committed({"orders", 0}).value_or(std::nullopt), 5);
  EXPECT_EQ(g2->consumer->Committed({"orders", 0}).value_or(std::optional<int64_t>(-2)), std::nullopt);
}

TEST_F(ConsumerGroupTest, AConsumerThatStopsPollingIsExpiredAndLosesItsPartitions) {
  // A short session, allowed by lowering the coordinator's group.min.session.timeout.ms (Kafka's: 6 s).
  constexpr int64_t kSessionMs = 1500;
  ReopenBroker({{"group.min.session.timeout.ms", "1000"}});
  if (HasFatalFailure()) return;
  std::unique_ptr<Member> a = Join("expiry", "a", kSessionMs);
  std::unique_ptr<Member> b = Join("expiry", "b", kSessionMs);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(PollUntil({a.get(), b.get()}, [&] { return Covers({a.get(), b.get()}, {2, 2}); }));
  b->paused = true;  // b's application hangs: no Poll, so no heartbeat
  ASSERT_TRUE(PollUntil({a.get()}, [&] { return Covers({a.get()}, {4}); },
                        absl::Milliseconds(kSessionMs) + kDeadline))
      << "a still has " << a->assignment().size() << " partitions";
  // b's generation is over: its commit is refused, as Kafka's CommitFailedException.
  EXPECT_EQ(b->consumer->CommitSync(kDeadline).code(), absl::StatusCode::kFailedPrecondition);
  // b comes back: it finds it was expired, rejoins, and the group splits again.
  b->paused = false;
  ASSERT_TRUE(PollUntil({a.get(), b.get()}, [&] { return Covers({a.get(), b.get()}, {2, 2}); }, kDeadline,
                        absl::StatusCode::kFailedPrecondition));
}

TEST_F(ConsumerGroupTest, ASessionTimeoutBelowTheBrokersMinimumFailsPoll) {
  std::unique_ptr<Member> a = Join("too-short", "a", /*session_timeout_ms=*/1000);  // minimum: 6000
  ASSERT_NE(a, nullptr);
  absl::Status polled;
  ConsumerRecords records;
  const absl::Time end = absl::Now() + kDeadline;
  while (polled.ok() && absl::Now() < end) polled = a->consumer->Poll(absl::Milliseconds(50), &records);
  EXPECT_EQ(polled.code(), absl::StatusCode::kInvalidArgument) << polled;
  EXPECT_TRUE(a->assignment().empty());
}

TEST_F(ConsumerGroupTest, DescribeGroupShowsMembersCommittedOffsetsAndLag) {
  ProduceToEveryPartition("r", 10);
  std::unique_ptr<Member> a = Join("watched", "client-a");
  std::unique_ptr<Member> b = Join("watched", "client-b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(PollUntil({a.get(), b.get()}, [&] { return Covers({a.get(), b.get()}, {2, 2}); }));
  // Each commits its own partitions at 10 - partition, so every partition has its own lag.
  for (Member* m : {a.get(), b.get()}) {
    std::vector<TopicPartitionOffset> offsets;
    for (const TopicPartition& tp : m->assignment()) offsets.push_back({.tp = tp, .offset = 10 - tp.partition});
    E2E_ASSERT_OK(m->consumer->CommitSync(offsets, kDeadline));
  }
  {
    std::unique_ptr<Producer> producer = NewProducer();
    ProduceValues(producer.get(), "orders", 0, Numbered("more", 0, 5));
  }

  absl::StatusOr<GroupDescription> group = admin().DescribeGroup("watched");
  ASSERT_TRUE(group.ok()) << group.status();
  EXPECT_EQ(group->group_id, "watched");
  EXPECT_EQ(group->state, "Stable");
  EXPECT_EQ(group->protocol_type, "consumer");
  EXPECT_EQ(group->protocol, "range");
  ASSERT_EQ(group->members.size(), 2u);
  std::map<std::string, std::string> owner;  // "orders-<p>" -> member id
  std::set<std::string> client_ids;
  for (const GroupMemberDescription& m : group->members) {
    client_ids.insert(m.client_id);
    EXPECT_FALSE(m.member_id.empty());
    for (const TopicPartition& tp : m.assignment) owner[ToString(tp)] = m.member_id;
    const Partitions assigned = Sorted(m.assignment);
    EXPECT_TRUE(assigned == a->assignment() || assigned == b->assignment());
  }
  EXPECT_EQ(client_ids, (std::set<std::string>{"client-a", "client-b"}));
  EXPECT_EQ(owner.size(), 4u);

  ASSERT_EQ(group->offsets.size(), 4u);
  for (const GroupPartitionOffset& o : group->offsets) {
    SCOPED_TRACE(ToString(o.tp));
    const int64_t end = o.tp.partition == 0 ? 15 : 10;
    EXPECT_EQ(o.committed_offset, 10 - o.tp.partition);
    EXPECT_EQ(o.log_end_offset, end);
    EXPECT_EQ(o.lag, end - (10 - o.tp.partition));
    EXPECT_EQ(o.member_id, owner[ToString(o.tp)]);
  }

  absl::StatusOr<std::vector<std::string>> groups = admin().ListGroups();
  ASSERT_TRUE(groups.ok()) << groups.status();
  EXPECT_NE(std::find(groups->begin(), groups->end(), "watched"), groups->end());
  EXPECT_EQ(admin().DescribeGroup("no-such-group").status().code(), absl::StatusCode::kNotFound);

  // Once everybody left, the offsets stay and nobody owns them.
  E2E_ASSERT_OK(a->consumer->Close());
  E2E_ASSERT_OK(b->consumer->Close());
  group = admin().DescribeGroup("watched");
  ASSERT_TRUE(group.ok()) << group.status();
  EXPECT_EQ(group->state, "Empty");
  EXPECT_TRUE(group->members.empty());
  ASSERT_EQ(group->offsets.size(), 4u);
  for (const GroupPartitionOffset& o : group->offsets) {
    EXPECT_EQ(o.committed_offset, 10 - o.tp.partition);
    EXPECT_TRUE(o.member_id.empty());
  }
}

}  // namespace
}  // namespace eddy::e2e
