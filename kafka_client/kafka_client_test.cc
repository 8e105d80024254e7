// The librdkafka-backed Producer and Consumer against librdkafka's in-process mock cluster
// (rd_kafka_mock_cluster_new). Admin and the rest run against a real `eddy broker` in
// tests/kafka_client_broker_test.cc (the mock cluster has no CreateTopics or DescribeGroups).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eddy/core/partitioner.h"
#include "eddy/kafka_client/kafka_client.h"
#include "gtest/gtest.h"
#include "kafka_client/kafka_client_test_util.h"

namespace eddy::kafka_client {
namespace {

#define ASSERT_OK(expr)                                  \
  do {                                                   \
    const absl::Status assert_ok_ = (expr);              \
    ASSERT_TRUE(assert_ok_.ok()) << #expr << ": " << assert_ok_; \
  } while (0)

class MockClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    owner_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    ASSERT_NE(owner_, nullptr) << err;
    mock_ = rd_kafka_mock_cluster_new(owner_, 1);
    ASSERT_NE(mock_, nullptr);
    kafka_ = {{"bootstrap.servers", rd_kafka_mock_cluster_bootstraps(mock_)}};
    ASSERT_EQ(rd_kafka_mock_topic_create(mock_, "t", 3, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  void TearDown() override {
    if (mock_ != nullptr) rd_kafka_mock_cluster_destroy(mock_);
    if (owner_ != nullptr) rd_kafka_destroy(owner_);
  }

  std::unique_ptr<Producer> NewProducer(ProducerConfig config = {}) {
    config.linger_ms = 1;
    absl::StatusOr<std::unique_ptr<Producer>> p = NewKafkaProducer(config, kafka_);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *std::move(p) : nullptr;
  }
  std::unique_ptr<Consumer> NewConsumer(ConsumerConfig config = {}) {
    absl::StatusOr<std::unique_ptr<Consumer>> c = NewKafkaConsumer(config, kafka_);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }
  std::vector<TopicPartition> AllPartitions() { return {{"t", 0}, {"t", 1}, {"t", 2}}; }

  rd_kafka_t* owner_ = nullptr;
  rd_kafka_mock_cluster_t* mock_ = nullptr;
  KafkaConfigs kafka_;
};

TEST_F(MockClusterTest, KeyedRecordsLandWhereKafkasJavaClientPutsThemAndReadBackInOrder) {
  std::unique_ptr<Producer> producer = NewProducer();
  ASSERT_NE(producer, nullptr);
  constexpr int kCount = 3000;
  std::atomic<int> acked{0};
  std::vector<std::string> keys;
  std::map<std::string, int32_t> placed;  // key -> partition reported by the delivery callback
  absl::Mutex mu;
  for (int i = 0; i < kCount; ++i) keys.push_back(absl::StrCat("key-", i));
  for (int i = 0; i < kCount; ++i) {
    ProducerRecord r{.topic = "t", .key = keys[i], .value = keys[i]};
    ASSERT_OK(producer->Send(r, [&, i](const absl::Status& s, const RecordMetadata& md) {
      ASSERT_TRUE(s.ok()) << s;
      EXPECT_GE(md.offset, 0);
      absl::MutexLock lock(&mu);
      placed[keys[i]] = md.partition;
      acked.fetch_add(1);
    }));
  }
  ASSERT_OK(producer->Flush());
  EXPECT_EQ(acked.load(), kCount);
  for (const auto& [key, partition] : placed) EXPECT_EQ(partition, KeyPartition(key, 3)) << key;
  absl::StatusOr<int32_t> partitions = producer->PartitionsFor("t");
  ASSERT_TRUE(partitions.ok()) << partitions.status();
  EXPECT_EQ(*partitions, 3);
  ASSERT_OK(producer->Close());

  std::unique_ptr<Consumer> consumer = NewConsumer();
  ASSERT_OK(consumer->Assign(AllPartitions()));
  ASSERT_OK(consumer->SeekToBeginning(AllPartitions()));
  absl::StatusOr<std::vector<OwnedRecord>> got = PollUntil(*consumer, kCount);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), static_cast<size_t>(kCount));
  std::map<int32_t, int64_t> next;  // per partition: offsets are consecutive from 0
  for (const OwnedRecord& r : *got) {
    EXPECT_EQ(r.offset, next[r.partition]++);
    ASSERT_TRUE(r.key.has_value());
    EXPECT_EQ(r.value, r.key);
    EXPECT_EQ(r.partition, placed[*r.key]);
  }
  for (const auto& [partition, end] : next) {
    absl::StatusOr<int64_t> pos = consumer->Position({"t", partition});
    ASSERT_TRUE(pos.ok()) << pos.status();
    EXPECT_EQ(*pos, end);
  }
  ASSERT_OK(consumer->Close());
}

TEST_F(MockClusterTest, NullKeysNullValuesHeadersAndTimestampsRoundTrip) {
  std::unique_ptr<Producer> producer = NewProducer();
  const HeaderRef headers[] = {{"h1", absl::string_view("v1")}, {"h2", std::nullopt}};
  ASSERT_OK(producer->Send({.topic = "t", .partition = 1, .key = std::nullopt, .value = "no key"}));
  ASSERT_OK(producer->Send({.topic = "t", .partition = 1, .key = "tombstone", .value = std::nullopt}));
  ASSERT_OK(producer->Send({.topic = "t", .partition = 1, .key = "k", .value = "v", .timestamp = 1234567,
                            .headers = headers}));
  ASSERT_OK(producer->Flush());

  std::unique_ptr<Consumer> consumer = NewConsumer();
  ASSERT_OK(consumer->Assign({{"t", 1}}));
  ASSERT_OK(consumer->Seek({"t", 1}, 0));
  absl::StatusOr<std::vector<OwnedRecord>> got = PollUntil(*consumer, 3);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_FALSE((*got)[0].key.has_value());
  EXPECT_EQ((*got)[0].value, "no key");
  EXPECT_EQ((*got)[1].key, "tombstone");
  EXPECT_FALSE((*got)[1].value.has_value());
  EXPECT_EQ((*got)[2].timestamp, 1234567);
  ASSERT_EQ((*got)[2].headers.size(), 2u);
  EXPECT_EQ((*got)[2].headers[0].first, "h1");
  EXPECT_EQ((*got)[2].headers[0].second, "v1");
  EXPECT_EQ((*got)[2].headers[1].first, "h2");
  EXPECT_FALSE((*got)[2].headers[1].second.has_value());
}

TEST_F(MockClusterTest, SeekStartsReadingAtTheGivenOffset) {
  std::unique_ptr<Producer> producer = NewProducer();
  for (int i = 0; i < 10; ++i) {
    const std::string v = absl::StrCat(i);
    ASSERT_OK(producer->Send({.topic = "t", .partition = 0, .value = v}));
  }
  ASSERT_OK(producer->Flush());
  std::unique_ptr<Consumer> consumer = NewConsumer();
  ASSERT_OK(consumer->Assign({{"t", 0}}));
  ASSERT_OK(consumer->Seek({"t", 0}, 7));
  absl::StatusOr<std::vector<OwnedRecord>> got = PollUntil(*consumer, 3);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].offset, 7);
  EXPECT_EQ((*got)[0].value, "7");
  ASSERT_OK(consumer->SeekToEnd({{"t", 0}}));
  absl::StatusOr<int64_t> pos = consumer->Position({"t", 0});
  ASSERT_TRUE(pos.ok()) << pos.status();
  EXPECT_EQ(*pos, 10);
}

TEST_F(MockClusterTest, WakeupEndsAPollWaitingOnAnotherThread) {
  std::unique_ptr<Consumer> consumer = NewConsumer();
  ASSERT_OK(consumer->Assign({{"t", 0}}));
  std::atomic<bool> polling{false};
  std::thread waker([&] {
    while (!polling.load()) absl::SleepFor(absl::Milliseconds(1));
    absl::SleepFor(absl::Milliseconds(300));
    consumer->Wakeup();
  });
  ConsumerRecords records;
  const absl::Time start = absl::Now();
  polling.store(true);
  const absl::Status polled = consumer->Poll(absl::Seconds(30), &records);
  const absl::Duration waited = absl::Now() - start;
  waker.join();
  ASSERT_OK(polled);
  EXPECT_TRUE(records.empty());
  EXPECT_LT(waited, absl::Seconds(15)) << "Poll was not woken by Wakeup";
  ASSERT_OK(consumer->Close());
  consumer->Wakeup();  // after Close: nothing to wake, no crash
}

class RecordingListener : public RebalanceListener {
 public:
  void OnPartitionsAssigned(const std::vector<TopicPartition>& p) override { assigned.insert(assigned.end(), p.begin(), p.end()); }
  std::vector<TopicPartition> assigned;
};

TEST_F(MockClusterTest, GroupMemberCommitsAndTheNextMemberResumesAfterTheCommit) {
  std::unique_ptr<Producer> producer = NewProducer();
  for (int i = 0; i < 20; ++i) {
    const std::string v = absl::StrCat(i);
    ASSERT_OK(producer->Send({.topic = "t", .partition = 2, .value = v}));
  }
  ASSERT_OK(producer->Flush());

  ConsumerConfig config;
  config.group_id = "g";
  config.auto_offset_reset = OffsetReset::kEarliest;
  config.enable_auto_commit = false;
  config.session_timeout_ms = 6000;
  config.heartbeat_interval_ms = 500;
  {
    RecordingListener listener;
    std::unique_ptr<Consumer> first = NewConsumer(config);
    ASSERT_OK(first->Subscribe({"t"}, &listener));
    absl::StatusOr<std::vector<OwnedRecord>> got = PollUntil(*first, 20);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->size(), 20u);
    EXPECT_EQ(listener.assigned.size(), 3u);
    ASSERT_OK(first->CommitSync({{.tp = {"t", 2}, .offset = 15}}));
    absl::StatusOr<std::optional<int64_t>> committed = first->Committed({"t", 2});
    ASSERT_TRUE(committed.ok()) << committed.status();
    EXPECT_EQ(*committed, std::optional<int64_t>(15));
    ASSERT_OK(first->Close());
  }
  std::unique_ptr<Consumer> second = NewConsumer(config);
  ASSERT_OK(second->Subscribe({"t"}));
  absl::StatusOr<std::vector<OwnedRecord>> got = PollUntil(*second, 5);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 5u);
  EXPECT_EQ((*got)[0].offset, 15);
  ASSERT_OK(second->CommitSync());
  absl::StatusOr<std::optional<int64_t>> committed = second->Committed({"t", 2});
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(*committed, std::optional<int64_t>(20));
}

TEST_F(MockClusterTest, ClosedProducerRefusesSendsAndGrouplessConsumerRefusesCommits) {
  std::unique_ptr<Producer> producer = NewProducer();
  ASSERT_OK(producer->Close());
  EXPECT_TRUE(absl::IsFailedPrecondition(producer->Send({.topic = "t", .value = "x"})));
  std::unique_ptr<Consumer> consumer = NewConsumer();
  EXPECT_TRUE(absl::IsFailedPrecondition(consumer->CommitSync()));
  EXPECT_TRUE(absl::IsInvalidArgument(consumer->Subscribe({"t"})));
}

TEST(KafkaClientConfigTest, MissingBootstrapServersIsInvalidArgument) {
  EXPECT_TRUE(absl::IsInvalidArgument(NewKafkaProducer({}, {}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(NewKafkaConsumer({}, {}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(NewKafkaAdmin({}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      NewKafkaProducer({}, {{"bootstrap.servers", "x:1"}, {"no.such.config", "1"}}).status()));
}

}  // namespace
}  // namespace eddy::kafka_client
