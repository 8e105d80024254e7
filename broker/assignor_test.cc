#include "broker/assignor.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy::broker {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

AssignorMember Member(std::string id, std::vector<std::string> topics,
                      std::optional<std::string> instance = std::nullopt) {
  AssignorMember m;
  m.member_id = std::move(id);
  m.group_instance_id = std::move(instance);
  m.subscription.topics = std::move(topics);
  return m;
}

TopicPartition TP(const char* t, int32_t p) { return TopicPartition{t, p}; }

// Kafka's RangeAssignorTest.testTwoConsumersTwoTopicsSixPartitions.
TEST(RangeAssignorTest, TwoMembersTwoTopicsOfThreePartitions) {
  GroupAssignment a =
      RangeAssignor().Assign({Member("C1", {"t0", "t1"}), Member("C0", {"t0", "t1"})}, {{"t0", 3}, {"t1", 3}});
  EXPECT_THAT(a["C0"], ElementsAre(TP("t0", 0), TP("t0", 1), TP("t1", 0), TP("t1", 1)));
  EXPECT_THAT(a["C1"], ElementsAre(TP("t0", 2), TP("t1", 2)));
}

// testOneConsumerNonexistentTopic / testOnlyAssignsPartitionsFromSubscribedTopics.
TEST(RangeAssignorTest, UnknownTopicsAndUnsubscribedMembersGetNothing) {
  GroupAssignment a = RangeAssignor().Assign({Member("C0", {"t0", "missing"}), Member("C1", {"t1"})},
                                             {{"t0", 2}, {"t1", 1}, {"other", 4}});
  EXPECT_THAT(a["C0"], ElementsAre(TP("t0", 0), TP("t0", 1)));
  EXPECT_THAT(a["C1"], ElementsAre(TP("t1", 0)));
  EXPECT_THAT(RangeAssignor().Assign({Member("C0", {"x"})}, {})["C0"], IsEmpty());
}

TEST(RangeAssignorTest, FirstMembersGetTheExtraPartitions) {
  GroupAssignment a = RangeAssignor().Assign({Member("a", {"t"}), Member("b", {"t"}), Member("c", {"t"})}, {{"t", 7}});
  EXPECT_THAT(a["a"], ElementsAre(TP("t", 0), TP("t", 1), TP("t", 2)));
  EXPECT_THAT(a["b"], ElementsAre(TP("t", 3), TP("t", 4)));
  EXPECT_THAT(a["c"], ElementsAre(TP("t", 5), TP("t", 6)));
  // More members than partitions: the last ones get none.
  a = RangeAssignor().Assign({Member("a", {"t"}), Member("b", {"t"}), Member("c", {"t"})}, {{"t", 2}});
  EXPECT_THAT(a["c"], IsEmpty());
}

TEST(RangeAssignorTest, StaticMembersSortByInstanceIdBeforeDynamicOnes) {
  GroupAssignment a = RangeAssignor().Assign(
      {Member("a-dynamic", {"t"}), Member("z-member", {"t"}, "instance-1"), Member("b-member", {"t"}, "instance-2")},
      {{"t", 3}});
  EXPECT_THAT(a["z-member"], ElementsAre(TP("t", 0)));
  EXPECT_THAT(a["b-member"], ElementsAre(TP("t", 1)));
  EXPECT_THAT(a["a-dynamic"], ElementsAre(TP("t", 2)));
}

// Kafka's RoundRobinAssignorTest.testTwoConsumersTwoTopicsSixPartitions.
TEST(RoundRobinAssignorTest, TwoMembersTwoTopicsOfThreePartitions) {
  GroupAssignment a =
      RoundRobinAssignor().Assign({Member("C0", {"t0", "t1"}), Member("C1", {"t0", "t1"})}, {{"t0", 3}, {"t1", 3}});
  EXPECT_THAT(a["C0"], ElementsAre(TP("t0", 0), TP("t0", 2), TP("t1", 1)));
  EXPECT_THAT(a["C1"], ElementsAre(TP("t0", 1), TP("t1", 0), TP("t1", 2)));
}

// Kafka's RoundRobinAssignorTest.testMultipleConsumersMixedTopics.
TEST(RoundRobinAssignorTest, MembersNotSubscribedToATopicAreSkipped) {
  GroupAssignment a = RoundRobinAssignor().Assign(
      {Member("consumer1", {"topic1"}), Member("consumer2", {"topic1", "topic2"}), Member("consumer3", {"topic1"})},
      {{"topic1", 3}, {"topic2", 2}});
  EXPECT_THAT(a["consumer1"], ElementsAre(TP("topic1", 0)));
  EXPECT_THAT(a["consumer2"], ElementsAre(TP("topic1", 1), TP("topic2", 0), TP("topic2", 1)));
  EXPECT_THAT(a["consumer3"], ElementsAre(TP("topic1", 2)));
}

TEST(AssignorTest, EveryPartitionIsAssignedExactlyOnce) {
  std::vector<AssignorMember> members;
  for (int i = 0; i < 5; ++i) members.push_back(Member(absl::StrCat("m", i), {"a", "b", "c"}));
  const PartitionsPerTopic counts = {{"a", 7}, {"b", 1}, {"c", 12}};
  for (const char* name : {"range", "roundrobin"}) {
    std::unique_ptr<Assignor> assignor = MakeAssignor(name);
    ASSERT_NE(assignor, nullptr);
    EXPECT_EQ(assignor->name(), name);
    std::vector<TopicPartition> all;
    for (const auto& [id, tps] : assignor->Assign(members, counts)) all.insert(all.end(), tps.begin(), tps.end());
    std::sort(all.begin(), all.end());
    std::vector<TopicPartition> expected;
    for (const auto& [t, n] : counts) {
      for (int32_t p = 0; p < n; ++p) expected.push_back(TopicPartition{t, p});
    }
    EXPECT_EQ(all, expected) << name;
  }
  EXPECT_EQ(MakeAssignor("cooperative-sticky"), nullptr);
}

}  // namespace
}  // namespace eddy::broker
