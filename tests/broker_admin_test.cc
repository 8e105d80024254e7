// End-to-end tests of the embedded broker's Admin and of Broker::Open, through the public API only: topic
// creation rules, describing and listing topics, offsets by time, growing and deleting topics, and the
// data directory lock.
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/e2e_util.h"

namespace eddy::e2e {
namespace {

using BrokerAdminTest = E2eTest;

bool Contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

TEST_F(BrokerAdminTest, CreateTopicRejectsIllegalNames) {
  for (const std::string& name : {std::string(""), std::string("."), std::string(".."), std::string("a/b"),
                                  std::string("has space"), std::string("ünïcode"), std::string(250, 'x')}) {
    EXPECT_EQ(admin().CreateTopic({.name = name, .partitions = 1}).code(), absl::StatusCode::kInvalidArgument)
        << "'" << name << "'";
  }
  // The longest legal name, and every legal character.
  E2E_EXPECT_OK(admin().CreateTopic({.name = std::string(249, 'x'), .partitions = 1}));
  E2E_EXPECT_OK(admin().CreateTopic({.name = "Az09._-", .partitions = 1}));
  absl::StatusOr<std::vector<std::string>> topics = admin().ListTopics();
  ASSERT_TRUE(topics.ok()) << topics.status();
  EXPECT_EQ(*topics, (std::vector<std::string>{"Az09._-", std::string(249, 'x')}));
}

TEST_F(BrokerAdminTest, CreateTopicRejectsFewerThanOnePartition) {
  EXPECT_EQ(admin().CreateTopic({.name = "zero", .partitions = 0}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin().CreateTopic({.name = "negative", .partitions = -5}).code(),
            absl::StatusCode::kInvalidArgument);
  // -1 means the broker's num.partitions (1).
  E2E_ASSERT_OK(admin().CreateTopic({.name = "default", .partitions = -1}));
  absl::StatusOr<TopicDescription> topic = admin().DescribeTopic("default");
  ASSERT_TRUE(topic.ok()) << topic.status();
  EXPECT_EQ(topic->partitions.size(), 1u);
  absl::StatusOr<std::vector<std::string>> topics = admin().ListTopics();
  ASSERT_TRUE(topics.ok());
  EXPECT_EQ(*topics, std::vector<std::string>{"default"});
}

TEST_F(BrokerAdminTest, CreateTopicRejectsBadConfigs) {
  EXPECT_EQ(admin().CreateTopic({.name = "t", .partitions = 1, .configs = {{"no.such.config", "1"}}}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin().CreateTopic({.name = "t", .partitions = 1, .configs = {{"retention.ms", "soon"}}}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin().DescribeTopic("t").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(BrokerAdminTest, CreatingAnExistingTopicIsAlreadyExists) {
  CreateTopic("twice", 2);
  EXPECT_EQ(admin().CreateTopic({.name = "twice", .partitions = 2}).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(admin().CreateTopic({.name = "twice", .partitions = 5}).code(), absl::StatusCode::kAlreadyExists);
  absl::StatusOr<TopicDescription> topic = admin().DescribeTopic("twice");
  ASSERT_TRUE(topic.ok()) << topic.status();
  EXPECT_EQ(topic->partitions.size(), 2u);
}

TEST_F(BrokerAdminTest, InternalTopicNamesAreReservedButOtherDoubleUnderscoreNamesAreNot) {
  // As Kafka: __consumer_offsets is the broker's own; other names starting with __ are legal topics.
  EXPECT_EQ(admin().CreateTopic({.name = "__consumer_offsets", .partitions = 1}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(admin().CreateTopic({.name = "__my_topic", .partitions = 1}).ok());
  absl::StatusOr<std::vector<std::string>> names = admin().ListTopics(/*include_internal=*/false);
  ASSERT_TRUE(names.ok());
  EXPECT_NE(std::find(names->begin(), names->end(), "__my_topic"), names->end());
}

TEST_F(BrokerAdminTest, DescribeTopicShowsPartitionOffsetsAndOverriddenConfigs) {
  CreateTopic("described", 3, {{"retention.ms", "86400000"}});
  std::unique_ptr<Producer> producer = NewProducer();
  ProduceValues(producer.get(), "described", 0, Numbered("v", 0, 4));
  ProduceValues(producer.get(), "described", 2, Numbered("v", 0, 1));
  absl::StatusOr<TopicDescription> topic = admin().DescribeTopic("described");
  ASSERT_TRUE(topic.ok()) << topic.status();
  EXPECT_EQ(topic->name, "described");
  EXPECT_FALSE(topic->internal);
  ASSERT_EQ(topic->partitions.size(), 3u);
  const int64_t ends[] = {4, 0, 1};
  for (int p = 0; p < 3; ++p) {
    EXPECT_EQ(topic->partitions[p].partition, p);
    EXPECT_EQ(topic->partitions[p].log_start_offset, 0);
    EXPECT_EQ(topic->partitions[p].log_end_offset, ends[p]);
  }
  EXPECT_EQ(topic->configs, (std::map<std::string, std::string>{{"retention.ms", "86400000"}}));
  EXPECT_EQ(admin().DescribeTopic("missing").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(BrokerAdminTest, CreatePartitionsOnlyIncreasesTheCount) {
  CreateTopic("growing", 2);
  std::unique_ptr<Producer> producer = NewProducer();
  ASSERT_EQ(producer->PartitionsFor("growing").value_or(-1), 2);
  E2E_ASSERT_OK(admin().CreatePartitions("growing", 4));
  absl::StatusOr<TopicDescription> topic = admin().DescribeTopic("growing");
  ASSERT_TRUE(topic.ok()) << topic.status();
  EXPECT_EQ(topic->partitions.size(), 4u);
  EXPECT_EQ(admin().CreatePartitions("growing", 4).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin().CreatePartitions("growing", 3).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin().CreatePartitions("missing", 3).code(), absl::StatusCode::kNotFound);

  // An existing producer sees the new partitions.
  EXPECT_EQ(producer->PartitionsFor("growing").value_or(-1), 4);
  ProduceValues(producer.get(), "growing", 3, {"in-new-partition"});
  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign({{"growing", 3}}));
  std::vector<OwnedRecord> got;
  E2E_ASSERT_OK(PollFor(consumer.get(), 1, &got));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].value, "in-new-partition");
}

TEST_F(BrokerAdminTest, DeletedTopicIsGoneForProducersAndAdmin) {
  CreateTopic("doomed", 2);
  std::unique_ptr<Producer> producer = NewProducer();
  ProduceValues(producer.get(), "doomed", 0, Numbered("v", 0, 3));
  E2E_ASSERT_OK(admin().DeleteTopic("doomed"));
  EXPECT_EQ(producer->Send({.topic = "doomed", .value = "late"}).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(producer->PartitionsFor("doomed").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(admin().DescribeTopic("doomed").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(admin().DeleteTopic("doomed").code(), absl::StatusCode::kNotFound);
  absl::StatusOr<std::vector<std::string>> topics = admin().ListTopics();
  ASSERT_TRUE(topics.ok());
  EXPECT_FALSE(Contains(*topics, "doomed"));

  // The name can be used again, for a new, empty topic.
  CreateTopic("doomed", 1);
  absl::StatusOr<TopicDescription> topic = admin().DescribeTopic("doomed");
  ASSERT_TRUE(topic.ok()) << topic.status();
  ASSERT_EQ(topic->partitions.size(), 1u);
  EXPECT_EQ(topic->partitions[0].log_end_offset, 0);
  // The producer that wrote to the old topic writes to the new one.
  ProduceValues(producer.get(), "doomed", 0, {"reborn"});
  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign({{"doomed", 0}}));
  std::vector<OwnedRecord> got;
  E2E_ASSERT_OK(PollFor(consumer.get(), 2, &got, absl::Milliseconds(500)));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].offset, 0);
  EXPECT_EQ(got[0].value, "reborn");
}

TEST_F(BrokerAdminTest, ListTopicsShowsConsumerOffsetsOnlyWhenAskedForInternalTopics) {
  CreateTopic("visible", 1);
  // A commit makes sure the offsets topic exists.
  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig("committer"));
  E2E_ASSERT_OK(consumer->Assign({{"visible", 0}}));
  E2E_ASSERT_OK(consumer->CommitSync({{.tp = {"visible", 0}, .offset = 0}}, kDeadline));

  absl::StatusOr<std::vector<std::string>> user = admin().ListTopics();
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(*user, std::vector<std::string>{"visible"});
  absl::StatusOr<std::vector<std::string>> all = admin().ListTopics(/*include_internal=*/true);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_TRUE(Contains(*all, "visible"));
  EXPECT_TRUE(Contains(*all, "__consumer_offsets"));
  absl::StatusOr<TopicDescription> offsets = admin().DescribeTopic("__consumer_offsets");
  ASSERT_TRUE(offsets.ok()) << offsets.status();
  EXPECT_TRUE(offsets->internal);
}

TEST_F(BrokerAdminTest, ListOffsetsFindsEarliestLatestAndTheFirstRecordAtOrAfterATimestamp) {
  CreateTopic("timed", 1);
  std::unique_ptr<Producer> producer = NewProducer();
  // Timestamps 1000, 2000, ..., 10000, in two batches.
  for (int i = 0; i < 10; ++i) {
    E2E_ASSERT_OK(producer->Send({.topic = "timed", .value = "x", .timestamp = 1000 * (i + 1)}));
    if (i == 4) E2E_ASSERT_OK(producer->Flush(kDeadline));
  }
  E2E_ASSERT_OK(producer->Flush(kDeadline));
  const TopicPartition tp{"timed", 0};

  absl::StatusOr<OffsetAndTimestamp> earliest = admin().ListOffsets(tp, kEarliestTimestamp);
  ASSERT_TRUE(earliest.ok()) << earliest.status();
  EXPECT_EQ(earliest->offset, 0);
  absl::StatusOr<OffsetAndTimestamp> latest = admin().ListOffsets(tp, kLatestTimestamp);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->offset, 10);

  struct Case {
    int64_t timestamp, offset, found_timestamp;
  };
  for (const Case& c : {Case{0, 0, 1000}, Case{1000, 0, 1000}, Case{2500, 2, 3000}, Case{6000, 5, 6000},
                        Case{10000, 9, 10000}, Case{10001, -1, -1}}) {
    absl::StatusOr<OffsetAndTimestamp> found = admin().ListOffsets(tp, c.timestamp);
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ(found->offset, c.offset) << "timestamp " << c.timestamp;
    EXPECT_EQ(found->timestamp, c.found_timestamp) << "timestamp " << c.timestamp;
  }
  EXPECT_EQ(admin().ListOffsets({"timed", 1}, kLatestTimestamp).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(admin().ListOffsets({"missing", 0}, kLatestTimestamp).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(BrokerAdminTest, ASecondOpenOfTheSameDataDirectoryFailsWhileTheFirstIsOpen) {
  absl::StatusOr<std::unique_ptr<Broker>> second = Broker::Open({.data_dir = dir_.path()});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
  // The first broker is unharmed, and the directory can be opened again once it is closed.
  CreateTopic("still-works", 1);
  ReopenBroker();
  if (HasFatalFailure()) return;
  absl::StatusOr<std::vector<std::string>> topics = admin().ListTopics();
  ASSERT_TRUE(topics.ok()) << topics.status();
  EXPECT_EQ(*topics, std::vector<std::string>{"still-works"});
}

}  // namespace
}  // namespace eddy::e2e

namespace eddy {
namespace {

TEST(BrokerConfigTest, KafkaBrokerConfigsAreAcceptedAndBadOnesNamed) {
  char tmpl[] = "/tmp/eddy-broker-config-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  {
    absl::StatusOr<std::unique_ptr<Broker>> ok = Broker::Open(
        {.data_dir = dir,
         .configs = {{"num.partitions", "3"},
                     {"log.retention.ms", "3600000"},
                     {"log.cleaner.threads", "2"},
                     {"log.cleaner.backoff.ms", "1000"},
                     {"log.cleaner.delete.retention.ms", "1000"},
                     {"group.initial.rebalance.delay.ms", "0"}}});
    ASSERT_TRUE(ok.ok()) << ok.status();
    ASSERT_TRUE((*ok)->admin().CreateTopic({.name = "defaults"}).ok());
    absl::StatusOr<TopicDescription> d = (*ok)->admin().DescribeTopic("defaults");
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->partitions.size(), 3u);  // num.partitions
  }
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"log.cleaner.threads", "0"}, {"log.cleaner.enable", "maybe"}, {"no.such.config", "1"}}) {
    absl::StatusOr<std::unique_ptr<Broker>> bad = Broker::Open({.data_dir = dir, .configs = {{key, value}}});
    ASSERT_FALSE(bad.ok()) << key;
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(bad.status().message()).find(key), std::string::npos) << bad.status();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace eddy
