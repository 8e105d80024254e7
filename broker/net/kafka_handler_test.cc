// Tests of the Kafka handlers over real sockets: ApiVersions, Metadata, FindCoordinator, InitProducerId,
// CreateTopics, DeleteTopics, DescribeConfigs, and what happens to malformed or unsupported requests.
#include "broker/net/kafka_handler.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "broker/error_code.h"
#include "broker/kafka/supported_apis.h"
#include "broker/log_manager.h"
#include "broker/net/kafka_test_util.h"
#include "gtest/gtest.h"

namespace eddy::net {
namespace {

using broker::ErrorCode;
using testing::KafkaClient;
using testing::KafkaServerTest;

int16_t E(ErrorCode e) { return static_cast<int16_t>(e); }

class KafkaHandlerTest : public KafkaServerTest {};

// A Metadata request for the one topic `name`.
kafka::MetadataRequest MetadataOf(std::string name) {
  kafka::MetadataRequest request;
  request.topics.emplace();
  request.topics->emplace_back();
  request.topics->back().name = std::move(name);
  return request;
}

void ExpectSupportedMatrix(const kafka::ApiVersionsResponse& r) {
  absl::Span<const kafka::ApiVersionRange> want = kafka::SupportedApis();
  ASSERT_EQ(r.api_keys.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(r.api_keys[i].api_key, want[i].api_key);
    // Produce is advertised from v0 (librdkafka's compression check), served from v3.
    EXPECT_EQ(r.api_keys[i].min_version, want[i].api_key == kafka::api_keys::kProduce ? 0 : want[i].min_version);
    EXPECT_EQ(r.api_keys[i].max_version, want[i].max_version);
  }
}

TEST_F(KafkaHandlerTest, ApiVersionsAnswersTheSupportedMatrixAtEveryVersion) {
  auto c = Connect();
  for (int16_t v = 0; v <= 3; ++v) {
    kafka::ApiVersionsRequest request;
    request.client_software_name = "eddy-test";
    request.client_software_version = "1.0";
    kafka::ApiVersionsResponse r = c->Call<kafka::ApiVersionsResponse>(v, request);
    EXPECT_EQ(r.error_code, 0) << "v" << v;
    ExpectSupportedMatrix(r);
  }
}

TEST_F(KafkaHandlerTest, ApiVersionsAtAnUnsupportedVersionAnswersError35InTheV0Shape) {
  auto c = Connect();
  kafka::ApiVersionsRequest request;
  request.client_software_name = "future-client";
  request.client_software_version = "9.9";
  const int32_t id = c->Send(/*version=*/4, request);
  // The body is in the v0 shape whatever version was asked (and the header is always v0).
  kafka::ApiVersionsResponse r = c->Receive<kafka::ApiVersionsResponse>(0, id);
  EXPECT_EQ(r.error_code, E(ErrorCode::kUnsupportedVersion));
  ExpectSupportedMatrix(r);
}

TEST_F(KafkaHandlerTest, MetadataV0EmptyListAndV1NullListEveryTopic) {
  ASSERT_TRUE(broker_->CreateTopic({"alpha", 2, {}}).ok());
  auto c = Connect();
  kafka::MetadataRequest v0;  // empty list
  kafka::MetadataResponse r0 = c->Call<kafka::MetadataResponse>(0, v0);
  kafka::MetadataRequest v1;
  v1.topics = std::nullopt;
  kafka::MetadataResponse r1 = c->Call<kafka::MetadataResponse>(1, v1);
  for (const kafka::MetadataResponse* r : {&r0, &r1}) {
    ASSERT_EQ(r->brokers.size(), 1u);
    EXPECT_EQ(r->brokers[0].node_id, 0);
    EXPECT_EQ(r->brokers[0].host, "127.0.0.1");
    EXPECT_EQ(r->brokers[0].port, kAdvertisedPort);
    std::vector<std::string> names;
    for (const auto& t : r->topics) names.push_back(t.name.value_or(""));
    EXPECT_EQ(names, (std::vector<std::string>{"__consumer_offsets", "alpha"}));
  }
  EXPECT_EQ(r1.controller_id, 0);
  EXPECT_TRUE(r1.topics[0].is_internal);
  // v1: an empty list means no topics.
  kafka::MetadataRequest none;
  EXPECT_TRUE(c->Call<kafka::MetadataResponse>(1, none).topics.empty());
}

TEST_F(KafkaHandlerTest, MetadataForAnUnknownTopicCreatesItWithNumPartitions) {
  auto c = Connect();
  kafka::MetadataResponse r = c->Call<kafka::MetadataResponse>(6, MetadataOf("orders"));
  ASSERT_EQ(r.topics.size(), 1u);
  EXPECT_EQ(r.topics[0].error_code, 0);
  ASSERT_EQ(r.topics[0].partitions.size(), 3u);  // num.partitions=3 in the fixture
  for (int32_t p = 0; p < 3; ++p) {
    const auto& part = r.topics[0].partitions[static_cast<size_t>(p)];
    EXPECT_EQ(part.partition_index, p);
    EXPECT_EQ(part.leader_id, 0);
    EXPECT_EQ(part.replica_nodes, std::vector<int32_t>{0});
    EXPECT_EQ(part.isr_nodes, std::vector<int32_t>{0});
  }
  EXPECT_EQ(r.cluster_id, "eddy-single-node-00000");
  EXPECT_TRUE(broker_->log_manager().DescribeTopic("orders").ok());
}

TEST_F(KafkaHandlerTest, MetadataDoesNotCreateWhenTheClientDisallowsItAndRejectsBadNames) {
  auto c = Connect();
  kafka::MetadataRequest request;
  request.topics.emplace(2);
  (*request.topics)[0].name = "not-created";
  (*request.topics)[1].name = "bad/name";
  request.allow_auto_topic_creation = false;
  kafka::MetadataResponse r = c->Call<kafka::MetadataResponse>(4, request);
  ASSERT_EQ(r.topics.size(), 2u);
  EXPECT_EQ(r.topics[0].error_code, E(ErrorCode::kUnknownTopicOrPartition));
  EXPECT_EQ(r.topics[1].error_code, E(ErrorCode::kInvalidTopicException));
  EXPECT_FALSE(broker_->log_manager().DescribeTopic("not-created").ok());
}

TEST_F(KafkaHandlerTest, FindCoordinatorNamesThisNodeForGroupsAndRefusesTransactions) {
  auto c = Connect();
  kafka::FindCoordinatorRequest request;
  request.key = "group-1";
  for (int16_t v : {0, 2}) {
    kafka::FindCoordinatorResponse r = c->Call<kafka::FindCoordinatorResponse>(v, request);
    EXPECT_EQ(r.error_code, 0);
    EXPECT_EQ(r.node_id, 0);
    EXPECT_EQ(r.host, "127.0.0.1");
    EXPECT_EQ(r.port, kAdvertisedPort);
  }
  request.key_type = 1;  // transaction coordinator
  kafka::FindCoordinatorResponse r = c->Call<kafka::FindCoordinatorResponse>(2, request);
  EXPECT_EQ(r.error_code, E(ErrorCode::kTransactionalIdAuthorizationFailed));
}

TEST_F(KafkaHandlerTest, InitProducerIdHandsOutDistinctIdsAndRefusesTransactionalIds) {
  auto c = Connect();
  kafka::InitProducerIdRequest request;
  request.transactional_id = std::nullopt;
  kafka::InitProducerIdResponse a = c->Call<kafka::InitProducerIdResponse>(1, request);
  kafka::InitProducerIdResponse b = c->Call<kafka::InitProducerIdResponse>(0, request);
  EXPECT_EQ(a.error_code, 0);
  EXPECT_GE(a.producer_id, 0);
  EXPECT_EQ(a.producer_epoch, 0);
  EXPECT_NE(a.producer_id, b.producer_id);
  request.transactional_id = "txn-1";
  EXPECT_EQ(c->Call<kafka::InitProducerIdResponse>(1, request).error_code,
            E(ErrorCode::kTransactionalIdAuthorizationFailed));
}

TEST_F(KafkaHandlerTest, CreateTopicsReportsKafkasErrorPerTopic) {
  auto c = Connect();
  kafka::CreateTopicsRequest request;
  auto add = [&](std::string name, int32_t partitions, int16_t replication) {
    request.topics.emplace_back();
    request.topics.back().name = std::move(name);
    request.topics.back().num_partitions = partitions;
    request.topics.back().replication_factor = replication;
  };
  add("created", 2, 1);
  add("defaults", -1, -1);
  add("bad name", 1, 1);
  add("zero", 0, 1);
  add("replicated", 1, 3);
  add("badconfig", 1, 1);
  request.topics.back().configs.push_back({"retention.ms", "soon"});
  kafka::CreateTopicsResponse r = c->Call<kafka::CreateTopicsResponse>(4, request);
  ASSERT_EQ(r.topics.size(), 6u);
  EXPECT_EQ(r.topics[0].error_code, 0);
  EXPECT_EQ(r.topics[1].error_code, 0);
  EXPECT_EQ(r.topics[2].error_code, E(ErrorCode::kInvalidTopicException));
  EXPECT_EQ(r.topics[3].error_code, E(ErrorCode::kInvalidPartitions));
  EXPECT_EQ(r.topics[4].error_code, E(ErrorCode::kInvalidReplicationFactor));
  EXPECT_EQ(r.topics[5].error_code, E(ErrorCode::kInvalidConfig));
  EXPECT_TRUE(r.topics[5].error_message.has_value());
  EXPECT_EQ(broker_->log_manager().DescribeTopic("created")->partitions, 2);
  EXPECT_EQ(broker_->log_manager().DescribeTopic("defaults")->partitions, 3);

  // Again: it exists. validate_only creates nothing.
  kafka::CreateTopicsRequest again;
  again.topics.emplace_back();
  again.topics.back().name = "created";
  again.topics.back().num_partitions = 1;
  again.topics.back().replication_factor = 1;
  again.topics.emplace_back();
  again.topics.back().name = "validated";
  again.topics.back().num_partitions = 1;
  again.topics.back().replication_factor = 1;
  again.validate_only = true;
  kafka::CreateTopicsResponse r2 = c->Call<kafka::CreateTopicsResponse>(3, again);
  EXPECT_EQ(r2.topics[0].error_code, E(ErrorCode::kTopicAlreadyExists));
  EXPECT_EQ(r2.topics[1].error_code, 0);
  EXPECT_FALSE(broker_->log_manager().DescribeTopic("validated").ok());
}

TEST_F(KafkaHandlerTest, DeleteTopicsDeletesAndReportsUnknownTopics) {
  ASSERT_TRUE(broker_->CreateTopic({"doomed", 1, {}}).ok());
  auto c = Connect();
  kafka::DeleteTopicsRequest request;
  request.topic_names = {"doomed", "never-existed"};
  kafka::DeleteTopicsResponse r = c->Call<kafka::DeleteTopicsResponse>(3, request);
  ASSERT_EQ(r.responses.size(), 2u);
  EXPECT_EQ(r.responses[0].error_code, 0);
  EXPECT_EQ(r.responses[1].error_code, E(ErrorCode::kUnknownTopicOrPartition));
  EXPECT_FALSE(broker_->log_manager().DescribeTopic("doomed").ok());
}

TEST_F(KafkaHandlerTest, TopicChangesWaitOnTheAdminThreadWhileTheIoThreadAnswersOtherRequests) {
  // Creating a topic syncs its directories and files; the I/O thread must not wait for that. The hook
  // holds each topic change on the admin thread until the test has been answered on another connection
  // of the same (only) I/O thread; were the change made on the I/O thread, the hook would wait in vain.
  Stop();
  struct Gate {
    absl::Notification held;
    absl::Notification release;
    std::atomic<bool> released_in_time{true};
  };
  auto gate = std::make_shared<std::unique_ptr<Gate>>(std::make_unique<Gate>());
  before_topic_change_ = [gate] {
    Gate& g = **gate;
    g.held.Notify();
    if (!g.release.WaitForNotificationWithTimeout(absl::Seconds(5))) g.released_in_time = false;
  };
  io_threads_ = 1;
  Start();
  auto changer = Connect();
  auto other = Connect();
  ASSERT_TRUE(broker_->CreateTopic({"existing", 1, {}}).ok());

  kafka::CreateTopicsRequest create;
  create.topics.emplace_back();
  create.topics.back().name = "held";
  create.topics.back().num_partitions = 1;
  create.topics.back().replication_factor = 1;
  const int32_t create_id = changer->Send(4, create);
  // Pipelined behind the held create on the same connection: answered after it, in order.
  const int32_t versions_id = changer->Send(3, kafka::ApiVersionsRequest());
  ASSERT_TRUE((*gate)->held.WaitForNotificationWithTimeout(absl::Seconds(10)));
  const kafka::MetadataRequest existing = MetadataOf("existing");
  kafka::MetadataResponse m = other->Call<kafka::MetadataResponse>(6, existing);
  ASSERT_EQ(m.topics.size(), 1u);
  EXPECT_EQ(m.topics[0].error_code, 0);
  (*gate)->release.Notify();
  EXPECT_EQ(changer->Receive<kafka::CreateTopicsResponse>(4, create_id).topics.at(0).error_code, 0);
  EXPECT_EQ(changer->Receive<kafka::ApiVersionsResponse>(3, versions_id).error_code, 0);
  EXPECT_TRUE((*gate)->released_in_time);

  // A Metadata request that auto-creates a topic waits there too; so does DeleteTopics.
  *gate = std::make_unique<Gate>();
  const int32_t metadata_id = changer->Send(6, MetadataOf("auto-created"));
  ASSERT_TRUE((*gate)->held.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(other->Call<kafka::MetadataResponse>(6, existing).topics.at(0).error_code, 0);
  (*gate)->release.Notify();
  kafka::MetadataResponse created = changer->Receive<kafka::MetadataResponse>(6, metadata_id);
  ASSERT_EQ(created.topics.size(), 1u);
  EXPECT_EQ(created.topics[0].error_code, 0);
  EXPECT_EQ(created.topics[0].partitions.size(), 3u);
  EXPECT_TRUE((*gate)->released_in_time);

  *gate = std::make_unique<Gate>();
  kafka::DeleteTopicsRequest doomed;
  doomed.topic_names = {"held"};
  const int32_t delete_id = changer->Send(3, doomed);
  ASSERT_TRUE((*gate)->held.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(other->Call<kafka::MetadataResponse>(6, existing).topics.at(0).error_code, 0);
  (*gate)->release.Notify();
  EXPECT_EQ(changer->Receive<kafka::DeleteTopicsResponse>(3, delete_id).responses.at(0).error_code, 0);
  EXPECT_TRUE((*gate)->released_in_time);
  EXPECT_FALSE(broker_->log_manager().DescribeTopic("held").ok());
}

TEST_F(KafkaHandlerTest, DescribeConfigsShowsTopicOverridesAndBrokerConfigs) {
  ASSERT_TRUE(broker_->CreateTopic({"configured", 1, {{"retention.ms", "1234"}}}).ok());
  auto c = Connect();
  kafka::DescribeConfigsRequest request;
  request.resources.resize(3);
  request.resources[0].resource_type = 2;
  request.resources[0].resource_name = "configured";
  request.resources[0].configuration_keys = std::vector<std::string>{"retention.ms", "segment.bytes"};
  request.resources[1].resource_type = 4;
  request.resources[1].resource_name = "0";
  request.resources[1].configuration_keys = std::nullopt;
  request.resources[2].resource_type = 2;
  request.resources[2].resource_name = "missing";
  kafka::DescribeConfigsResponse r = c->Call<kafka::DescribeConfigsResponse>(1, request);
  ASSERT_EQ(r.results.size(), 3u);
  ASSERT_EQ(r.results[0].error_code, 0);
  ASSERT_EQ(r.results[0].configs.size(), 2u);
  EXPECT_EQ(r.results[0].configs[0].name, "retention.ms");
  EXPECT_EQ(r.results[0].configs[0].value, "1234");
  EXPECT_EQ(r.results[0].configs[0].config_source, 1);  // DYNAMIC_TOPIC_CONFIG
  EXPECT_EQ(r.results[0].configs[1].name, "segment.bytes");
  EXPECT_EQ(r.results[0].configs[1].config_source, 5);  // DEFAULT_CONFIG
  ASSERT_EQ(r.results[1].error_code, 0);
  ASSERT_EQ(r.results[1].configs.size(), 1u);
  EXPECT_EQ(r.results[1].configs[0].name, "auto.create.topics.enable");
  EXPECT_EQ(r.results[2].error_code, E(ErrorCode::kUnknownTopicOrPartition));
}

TEST_F(KafkaHandlerTest, MalformedRequestClosesTheConnectionAndOthersAreUnaffected) {
  auto good = Connect();
  auto bad = Connect();
  // A Metadata v1 header followed by a topic count of 1000 with no topics after it.
  std::string body("\x00\x03\x00\x01\x00\x00\x00\x07\x00\x01x\x00\x00\x03\xe8", 15);
  ASSERT_TRUE(bad->raw().WriteFrame(body));
  EXPECT_TRUE(bad->raw().AtEof());
  std::vector<std::string> lines = log();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(absl::StrContains(lines[0], "127.0.0.1:")) << lines[0];
  EXPECT_TRUE(absl::StrContains(lines[0], "malformed Metadata v1 request")) << lines[0];
  kafka::MetadataRequest request;
  EXPECT_EQ(good->Call<kafka::MetadataResponse>(1, request).brokers.size(), 1u);
}

TEST_F(KafkaHandlerTest, UnsupportedVersionAndUnknownApiKeyCloseTheConnection) {
  auto old_produce = Connect();
  kafka::ProduceRequest produce;
  old_produce->Send(2, produce);  // Produce v2 (magic 0/1 message sets) is below the supported range
  EXPECT_TRUE(old_produce->raw().AtEof());
  auto unknown = Connect();
  std::string body("\x00\x63\x00\x00\x00\x00\x00\x01\x00\x00", 10);  // api key 99
  ASSERT_TRUE(unknown->raw().WriteFrame(body));
  EXPECT_TRUE(unknown->raw().AtEof());
  std::vector<std::string> lines = log();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(absl::StrContains(lines[0], "Produce v2 is not supported (versions 3-7)")) << lines[0];
  EXPECT_TRUE(absl::StrContains(lines[1], "unknown api key 99")) << lines[1];
}

}  // namespace
}  // namespace eddy::net
