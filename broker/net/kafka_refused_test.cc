// Tests of what Eddy refuses with Kafka's error codes rather than serving: SASL, transactions, client
// quotas, TLS on the plaintext port; and that none of it is advertised in ApiVersions.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "broker/error_code.h"
#include "broker/kafka/supported_apis.h"
#include "broker/net/kafka_test_util.h"
#include "gtest/gtest.h"

namespace eddy::net {
namespace {

using broker::ErrorCode;
using testing::KafkaServerTest;

int16_t E(ErrorCode e) { return static_cast<int16_t>(e); }

class KafkaRefusedTest : public KafkaServerTest {
 protected:
  // The log lines containing `text`.
  int LinesWith(absl::string_view text) {
    int n = 0;
    for (const std::string& line : log()) n += absl::StrContains(line, text) ? 1 : 0;
    return n;
  }
};

TEST_F(KafkaRefusedTest, ApiVersionsAdvertisesNoRefusedApi) {
  auto c = Connect();
  kafka::ApiVersionsRequest request;
  kafka::ApiVersionsResponse r = c->Call<kafka::ApiVersionsResponse>(3, request);
  for (const auto& v : r.api_keys) EXPECT_EQ(kafka::IsRefusedVersion(v.api_key, v.min_version), false) << v.api_key;
  for (const kafka::ApiVersionRange& refused : kafka::RefusedApis()) {
    for (const auto& v : r.api_keys) EXPECT_NE(v.api_key, refused.api_key);
  }
}

TEST_F(KafkaRefusedTest, SaslHandshakeGetsUnsupportedMechanismWithNoMechanisms) {
  auto c = Connect();
  kafka::SaslHandshakeRequest request;
  request.mechanism = "PLAIN";
  for (int16_t v = 0; v <= 1; ++v) {
    kafka::SaslHandshakeResponse r = c->Call<kafka::SaslHandshakeResponse>(v, request);
    EXPECT_EQ(r.error_code, E(ErrorCode::kUnsupportedSaslMechanism));
    EXPECT_TRUE(r.mechanisms.empty());
  }
  EXPECT_EQ(LinesWith("SASL mechanism 'PLAIN' requested"), 2);
}

TEST_F(KafkaRefusedTest, SaslAuthenticateGetsIllegalSaslStateAtEveryVersion) {
  auto c = Connect();
  kafka::SaslAuthenticateRequest request;
  request.auth_bytes = std::string("\0user\0secret", 12);
  for (int16_t v = 0; v <= 2; ++v) {
    kafka::SaslAuthenticateResponse r = c->Call<kafka::SaslAuthenticateResponse>(v, request);
    EXPECT_EQ(r.error_code, E(ErrorCode::kIllegalSaslState)) << "v" << v;
  }
}

TEST_F(KafkaRefusedTest, TransactionApisGetTransactionalIdAuthorizationFailed) {
  auto c = Connect();
  const int16_t refused = E(ErrorCode::kTransactionalIdAuthorizationFailed);
  kafka::AddPartitionsToTxnRequest add;
  add.v3_and_below_transactional_id = "txn";
  add.v3_and_below_topics.emplace_back();
  add.v3_and_below_topics.back().name = "t";
  add.v3_and_below_topics.back().partitions = {0, 1};
  for (int16_t v : {0, 3}) {
    kafka::AddPartitionsToTxnResponse r = c->Call<kafka::AddPartitionsToTxnResponse>(v, add);
    ASSERT_EQ(r.results_by_topic_v3_and_below.size(), 1u);
    ASSERT_EQ(r.results_by_topic_v3_and_below[0].results_by_partition.size(), 2u);
    EXPECT_EQ(r.results_by_topic_v3_and_below[0].results_by_partition[1].partition_error_code, refused);
  }
  kafka::AddOffsetsToTxnRequest offsets;
  offsets.transactional_id = "txn";
  EXPECT_EQ(c->Call<kafka::AddOffsetsToTxnResponse>(0, offsets).error_code, refused);
  kafka::EndTxnRequest end;
  end.transactional_id = "txn";
  EXPECT_EQ(c->Call<kafka::EndTxnResponse>(0, end).error_code, refused);
  EXPECT_EQ(c->Call<kafka::EndTxnResponse>(3, end).error_code, refused);
  kafka::TxnOffsetCommitRequest commit;
  commit.transactional_id = "txn";
  commit.topics.emplace_back();
  commit.topics.back().name = "t";
  commit.topics.back().partitions.emplace_back();
  kafka::TxnOffsetCommitResponse cr = c->Call<kafka::TxnOffsetCommitResponse>(2, commit);
  ASSERT_EQ(cr.topics.size(), 1u);
  EXPECT_EQ(cr.topics[0].partitions[0].error_code, refused);
  EXPECT_EQ(LinesWith("Eddy does not support transactions"), 6);
}

TEST_F(KafkaRefusedTest, FindCoordinatorForATransactionLogsWhoAndWhy) {
  auto c = Connect();
  kafka::FindCoordinatorRequest request;
  request.key = "txn-1";
  request.key_type = 1;
  EXPECT_EQ(c->Call<kafka::FindCoordinatorResponse>(1, request).error_code,
            E(ErrorCode::kTransactionalIdAuthorizationFailed));
  ASSERT_EQ(LinesWith("refusing FindCoordinator from 127.0.0.1:"), 1);
  EXPECT_EQ(LinesWith("key type 1 (key 'txn-1')"), 1);
}

TEST_F(KafkaRefusedTest, ClientQuotaApisGetUnsupportedVersionWithAMessage) {
  auto c = Connect();
  kafka::DescribeClientQuotasRequest describe;
  describe.components.emplace_back();
  describe.components.back().entity_type = "client-id";
  describe.components.back().match_type = 2;
  describe.components.back().match = std::nullopt;
  for (int16_t v = 0; v <= 1; ++v) {
    kafka::DescribeClientQuotasResponse r = c->Call<kafka::DescribeClientQuotasResponse>(v, describe);
    EXPECT_EQ(r.error_code, E(ErrorCode::kUnsupportedVersion)) << "v" << v;
    ASSERT_TRUE(r.error_message.has_value());
    EXPECT_TRUE(absl::StrContains(*r.error_message, "does not support client quotas")) << *r.error_message;
  }
  kafka::AlterClientQuotasRequest alter;
  for (const char* name : {"app-1", "app-2"}) {
    alter.entries.emplace_back();
    alter.entries.back().entity.emplace_back();
    alter.entries.back().entity.back().entity_type = "client-id";
    alter.entries.back().entity.back().entity_name = std::string(name);
    alter.entries.back().ops.emplace_back();
    alter.entries.back().ops.back().key = "producer_byte_rate";
    alter.entries.back().ops.back().value = 1024.0;
  }
  for (int16_t v = 0; v <= 1; ++v) {
    kafka::AlterClientQuotasResponse r = c->Call<kafka::AlterClientQuotasResponse>(v, alter);
    ASSERT_EQ(r.entries.size(), 2u) << "v" << v;
    for (const auto& e : r.entries) EXPECT_EQ(e.error_code, E(ErrorCode::kUnsupportedVersion));
    ASSERT_EQ(r.entries[1].entity.size(), 1u);
    EXPECT_EQ(r.entries[1].entity[0].entity_name, std::optional<std::string>("app-2"));
  }
  EXPECT_EQ(LinesWith("Eddy does not support client quotas"), 4);
}

TEST_F(KafkaRefusedTest, TlsClientHelloOnThePlaintextPortClosesWithOneLogLine) {
  auto tls = Connect();
  // The start of a TLS 1.2 ClientHello record: handshake (22), version 3.1, length 512, ClientHello (1).
  ASSERT_TRUE(tls->raw().WriteRaw(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)));
  EXPECT_TRUE(tls->raw().AtEof());
  ASSERT_EQ(log().size(), 1u);
  EXPECT_EQ(LinesWith("a TLS client connected to a plaintext listener"), 1) << log()[0];
  // Plaintext clients are unaffected.
  auto c = Connect();
  kafka::ApiVersionsRequest request;
  EXPECT_EQ(c->Call<kafka::ApiVersionsResponse>(0, request).error_code, 0);
}

}  // namespace
}  // namespace eddy::net
