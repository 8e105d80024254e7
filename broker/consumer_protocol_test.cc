#include "broker/consumer_protocol.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy::broker {
namespace {

using ::testing::ElementsAre;

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

TEST(ConsumerProtocolTest, SubscriptionVersion1HasKafkasExactLayout) {
  ConsumerSubscription s;
  s.topics = {"ab"};
  s.owned_partitions = {{"ab", 3}};
  // int16 version, [string] topics, nullable bytes user_data (-1 = null), [{string, [int32]}] owned.
  const std::string expected = Bytes({0,    1,                                 // version 1
                                      0,    0,    0,    1,    0, 2, 'a', 'b',  // topics
                                      0xff, 0xff, 0xff, 0xff,                  // user_data null
                                      0,    0,    0,    1,    0, 2, 'a', 'b', 0, 0, 0, 1, 0, 0, 0, 3});
  EXPECT_EQ(EncodeSubscription(s).value(), expected);
  EXPECT_EQ(DecodeSubscription(expected).value(), s);
}

TEST(ConsumerProtocolTest, AssignmentVersion0HasKafkasExactLayout) {
  ConsumerAssignment a;
  a.partitions = {{"t", 0}, {"t", 2}};
  a.user_data = "u";
  const std::string expected = Bytes({0, 0,                                                        // version 0
                                      0, 0, 0, 1, 0,  1, 't', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2,  // partitions
                                      0, 0, 0, 1, 'u'});                                           // user_data
  EXPECT_EQ(EncodeAssignment(a, 0).value(), expected);
  EXPECT_EQ(DecodeAssignment(expected).value(), a);
}

TEST(ConsumerProtocolTest, EveryVersionRoundTripsTheFieldsItHas) {
  ConsumerSubscription s;
  s.topics = {"a", "b"};
  s.user_data = std::string("\0\1", 2);
  s.owned_partitions = {{"a", 1}, {"b", 0}, {"b", 2}};
  s.generation_id = 7;
  s.rack_id = "rack-1";
  for (int16_t v = 0; v <= kConsumerProtocolMaxVersion; ++v) {
    ConsumerSubscription expected = s;
    if (v < 1) expected.owned_partitions.clear();
    if (v < 2) expected.generation_id = -1;
    if (v < 3) expected.rack_id.reset();
    EXPECT_EQ(DecodeSubscription(EncodeSubscription(s, v).value()).value(), expected) << "version " << v;
    ConsumerAssignment a{{{"a", 1}, {"c", 9}}, std::nullopt};
    EXPECT_EQ(DecodeAssignment(EncodeAssignment(a, v).value()).value(), a);
  }
  EXPECT_FALSE(EncodeSubscription(s, 4).ok());
  EXPECT_FALSE(EncodeAssignment({}, -1).ok());
}

TEST(ConsumerProtocolTest, NewerVersionsAreReadWithTheNewestKnownLayout) {
  ConsumerSubscription s;
  s.topics = {"t"};
  s.generation_id = 3;
  s.rack_id = "r";
  std::string bytes = EncodeSubscription(s, 3).value();
  bytes[1] = 9;                   // a future version...
  bytes += Bytes({0, 0, 0, 42});  // ...that appended a field
  ConsumerSubscription decoded = DecodeSubscription(bytes).value();
  EXPECT_EQ(decoded.topics, s.topics);
  EXPECT_EQ(decoded.generation_id, 3);
  EXPECT_EQ(decoded.rack_id, "r");
}

TEST(ConsumerProtocolTest, TruncatedInputIsRejectedAtEveryLength) {
  ConsumerSubscription s;
  s.topics = {"topic"};
  s.user_data = "data";
  s.owned_partitions = {{"topic", 1}};
  const std::string sub = EncodeSubscription(s).value();
  for (size_t n = 0; n < sub.size(); ++n) {
    absl::StatusOr<ConsumerSubscription> r = DecodeSubscription(sub.substr(0, n));
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes";
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  }
  const std::string asg = EncodeAssignment(ConsumerAssignment{{{"topic", 1}}, std::string("x")}).value();
  for (size_t n = 1; n < asg.size(); ++n) EXPECT_FALSE(DecodeAssignment(asg.substr(0, n)).ok()) << n;
}

TEST(ConsumerProtocolTest, EmptyAssignmentBytesAreAnEmptyAssignment) {
  // What the coordinator sends a member the leader left out.
  ConsumerAssignment a = DecodeAssignment("").value();
  EXPECT_TRUE(a.partitions.empty());
  EXPECT_FALSE(a.user_data.has_value());
  EXPECT_FALSE(DecodeSubscription("").ok());
}

TEST(ConsumerProtocolTest, GarbledCountsAndLengthsAreRejected) {
  // A huge topic count must not make the decoder allocate or read past the end.
  EXPECT_FALSE(DecodeSubscription(Bytes({0, 0, 0x7f, 0xff, 0xff, 0xff})).ok());
  EXPECT_FALSE(DecodeSubscription(Bytes({0, 0, 0xff, 0xff, 0xff, 0xfe})).ok());  // negative count
  EXPECT_FALSE(DecodeSubscription(Bytes({0, 0, 0, 0, 0, 1, 0xff, 0xfe})).ok());  // negative string length
  EXPECT_FALSE(DecodeSubscription(Bytes({0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})).ok());  // version -1
  EXPECT_FALSE(DecodeAssignment(Bytes({0, 0, 0, 0, 0, 1, 0, 1, 'x', 0x40, 0, 0, 0})).ok());
  EXPECT_FALSE(DecodeAssignment(Bytes({0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xfd})).ok());  // user_data len -3
}

TEST(ConsumerProtocolTest, PartitionsAreGroupedByTopicInNameOrder) {
  ConsumerAssignment a{{{"b", 1}, {"a", 0}, {"b", 0}}, std::nullopt};
  ConsumerAssignment decoded = DecodeAssignment(EncodeAssignment(a).value()).value();
  EXPECT_THAT(decoded.partitions, ElementsAre(TopicPartition{"a", 0}, TopicPartition{"b", 1}, TopicPartition{"b", 0}));
}

}  // namespace
}  // namespace eddy::broker
