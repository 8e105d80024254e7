// Byte-exact checks against encodings computed by hand from the Kafka protocol guide, in both directions.
#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/strings/escaping.h"
#include "broker/kafka/frame.h"
#include "broker/kafka/kafka_messages.h"
#include "gtest/gtest.h"

namespace eddy::kafka {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

std::string Hex(const std::string& s) { return absl::BytesToHexString(s); }

template <typename Message>
std::string Encode(const Message& m, int16_t version) {
  std::string out;
  Writer w(&out);
  m.Encode(w, version);
  return out;
}

template <typename Request>
std::string RequestFrame(int32_t correlation_id, int16_t version, const Request& body) {
  RequestHeader header;
  header.request_api_key = Request::kApiKey;
  header.request_api_version = version;
  header.correlation_id = correlation_id;
  header.client_id = "c1";
  std::string out;
  Writer w(&out);
  EncodeRequestFrame(header, body, w);
  return out;
}

TEST(GoldenBytesTest, ApiVersionsRequestV0IsHeaderV1AndAnEmptyBody) {
  const std::string expected = Bytes({
      0x00, 0x00, 0x00, 0x0c,  // frame size 12
      0x00, 0x12,              // api key 18
      0x00, 0x00,              // version 0
      0x00, 0x00, 0x00, 0x07,  // correlation id 7
      0x00, 0x02, 'c', '1',    // client id: int16 length, no tag buffer in header v1
  });
  EXPECT_EQ(Hex(RequestFrame(7, 0, ApiVersionsRequest())), Hex(expected));

  Reader r(absl::string_view(expected).substr(4));
  RequestHeader header;
  ASSERT_TRUE(DecodeRequestHeader(r, &header).ok());
  EXPECT_EQ(header.client_id, "c1");
  ApiVersionsRequest body;
  ASSERT_TRUE(body.Decode(r, 0).ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(GoldenBytesTest, ApiVersionsRequestV3HasHeaderV2AndCompactStrings) {
  ApiVersionsRequest req;
  req.client_software_name = "eddy";
  req.client_software_version = "0.1";
  const std::string expected = Bytes({
      0x00, 0x00, 0x00, 0x17,  // frame size 23
      0x00, 0x12, 0x00, 0x03,  // api key 18, version 3
      0x00, 0x00, 0x00, 0x07,  // correlation id
      0x00, 0x02, 'c', '1',    // client id stays an INT16-length string in header v2
      0x00,                    // header tag buffer: no tagged fields
      0x05, 'e', 'd', 'd', 'y',  // client_software_name: compact string, uvarint length+1
      0x04, '0', '.', '1',       // client_software_version
      0x00,                      // body tag buffer
  });
  EXPECT_EQ(Hex(RequestFrame(7, 3, req)), Hex(expected));

  Reader r(absl::string_view(expected).substr(4));
  RequestHeader header;
  ASSERT_TRUE(DecodeRequestHeader(r, &header).ok());
  EXPECT_EQ(header.request_api_version, 3);
  ApiVersionsRequest decoded;
  ASSERT_TRUE(decoded.Decode(r, 3).ok());
  EXPECT_EQ(decoded.client_software_name, "eddy");
  EXPECT_EQ(decoded.client_software_version, "0.1");
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(GoldenBytesTest, ApiVersionsResponseV3HasHeaderV0AndTaggedFeatures) {
  ApiVersionsResponse resp;
  resp.api_keys.push_back({18, 0, 3});
  resp.api_keys.push_back({3, 0, 6});
  resp.supported_features.push_back({"x", 1, 2});
  resp.finalized_features_epoch = 5;
  const std::string expected = Bytes({
      0x00, 0x00, 0x00, 0x2e,  // frame size 46
      0x00, 0x00, 0x00, 0x07,  // response header v0: correlation id only, no tag buffer
      0x00, 0x00,              // error_code
      0x03,                    // api_keys: compact array of 2
      0x00, 0x12, 0x00, 0x00, 0x00, 0x03, 0x00,  // {18, 0, 3}, tag buffer
      0x00, 0x03, 0x00, 0x00, 0x00, 0x06, 0x00,  // {3, 0, 6}, tag buffer
      0x00, 0x00, 0x00, 0x00,  // throttle_time_ms
      0x02,                    // two tagged fields, in tag order
      0x00, 0x08,              // tag 0 (supported_features), 8 bytes:
      0x02, 0x02, 'x', 0x00, 0x01, 0x00, 0x02, 0x00,  // [ {"x", 1, 2} ]
      0x01, 0x08,              // tag 1 (finalized_features_epoch), 8 bytes:
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
      // finalized_features (empty) and zk_migration_ready (false) are defaults: not written
  });
  std::string out;
  Writer w(&out);
  EncodeResponseFrame(7, 3, resp, w);
  EXPECT_EQ(Hex(out), Hex(expected));
  EXPECT_TRUE(w.splices().empty());

  Reader r(absl::string_view(expected).substr(4));
  ResponseHeader header;
  ASSERT_TRUE(header.Decode(r, ResponseHeaderVersion(api_keys::kApiVersions, 3)).ok());
  ApiVersionsResponse decoded;
  ASSERT_TRUE(decoded.Decode(r, 3).ok());
  EXPECT_TRUE(decoded == resp);
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(GoldenBytesTest, ApiVersionsResponseV0ForAnUnsupportedVersion) {
  // What the broker answers to ApiVersions v4+: the v0 body shape, error 35, its list.
  ApiVersionsResponse resp;
  resp.error_code = 35;
  resp.api_keys.push_back({18, 0, 3});
  resp.throttle_time_ms = 99;  // not in v0: dropped
  EXPECT_EQ(Hex(Encode(resp, 0)), Hex(Bytes({0x00, 0x23, 0x00, 0x00, 0x00, 0x01, 0x00, 0x12, 0x00, 0x00,
                                             0x00, 0x03})));
}

TEST(GoldenBytesTest, MetadataRequestV0EmptyTopicsVersusV1NullTopics) {
  MetadataRequest all_v0;  // v0: an empty list means all topics
  EXPECT_EQ(Hex(Encode(all_v0, 0)), Hex(Bytes({0x00, 0x00, 0x00, 0x00})));
  MetadataRequest all_v1;  // v1+: null means all topics, empty means none
  all_v1.topics.reset();
  EXPECT_EQ(Hex(Encode(all_v1, 1)), Hex(Bytes({0xff, 0xff, 0xff, 0xff})));

  const std::string null_topics = Bytes({0xff, 0xff, 0xff, 0xff});
  MetadataRequest decoded;
  Reader r1(null_topics);
  ASSERT_TRUE(decoded.Decode(r1, 1).ok());
  EXPECT_FALSE(decoded.topics.has_value());
  Reader r0(null_topics);  // null is not allowed in v0
  const absl::Status s = decoded.Decode(r0, 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "MetadataRequest v0: field topics: null where the field is not nullable");

  const std::string empty = Bytes({0x00, 0x00, 0x00, 0x00});
  Reader r2(empty);
  ASSERT_TRUE(decoded.Decode(r2, 1).ok());
  ASSERT_TRUE(decoded.topics.has_value());
  EXPECT_TRUE(decoded.topics->empty());
}

TEST(GoldenBytesTest, ProduceRequestV7RecordsAreAViewIntoTheRequest) {
  const std::string input = Bytes({
      0xff, 0xff,              // transactional_id: null
      0xff, 0xff,              // acks -1
      0x00, 0x00, 0x03, 0xe8,  // timeout_ms 1000
      0x00, 0x00, 0x00, 0x01,  // topic_data: 1 topic
      0x00, 0x01, 't',         // name
      0x00, 0x00, 0x00, 0x01,  // partition_data: 1 partition
      0x00, 0x00, 0x00, 0x02,  // index 2
      0x00, 0x00, 0x00, 0x05,  // records: 5 bytes
      'A', 'B', 'C', 'D', 'E',
  });
  Reader r(input);
  ProduceRequest req;
  ASSERT_TRUE(req.Decode(r, 7).ok());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_FALSE(req.transactional_id.has_value());
  EXPECT_EQ(req.acks, -1);
  EXPECT_EQ(req.timeout_ms, 1000);
  ASSERT_EQ(req.topic_data.size(), 1u);
  EXPECT_EQ(req.topic_data[0].name, "t");
  ASSERT_EQ(req.topic_data[0].partition_data.size(), 1u);
  EXPECT_EQ(req.topic_data[0].partition_data[0].index, 2);
  const RecordsRef& records = req.topic_data[0].partition_data[0].records;
  EXPECT_EQ(records.bytes(), "ABCDE");
  EXPECT_EQ(records.bytes().data(), input.data() + input.size() - 5);  // not copied
  EXPECT_EQ(Hex(Encode(req, 7)), Hex(input));
}

TEST(GoldenBytesTest, JoinGroupRequestV5) {
  JoinGroupRequest req;
  req.group_id = "g";
  req.session_timeout_ms = 10000;
  req.rebalance_timeout_ms = 300000;
  req.member_id = "";
  req.protocol_type = "consumer";
  req.protocols.push_back({"range", std::string("\x01\x02\x03", 3)});
  req.reason = "ignored";  // v8+: not in v5, dropped
  const std::string expected = Bytes({
      0x00, 0x01, 'g',         // group_id
      0x00, 0x00, 0x27, 0x10,  // session_timeout_ms 10000
      0x00, 0x04, 0x93, 0xe0,  // rebalance_timeout_ms 300000 (v1+)
      0x00, 0x00,              // member_id ""
      0xff, 0xff,              // group_instance_id: null (v5+, default null)
      0x00, 0x08, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r',  // protocol_type
      0x00, 0x00, 0x00, 0x01,  // protocols: 1
      0x00, 0x05, 'r', 'a', 'n', 'g', 'e',                 // name
      0x00, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03,            // metadata: int32-length bytes
  });
  EXPECT_EQ(Hex(Encode(req, 5)), Hex(expected));
  Reader r(expected);
  JoinGroupRequest decoded;
  ASSERT_TRUE(decoded.Decode(r, 5).ok());
  req.reason.reset();
  EXPECT_TRUE(decoded == req);
}

TEST(GoldenBytesTest, TruncatedStringNamesMessageVersionAndPath) {
  std::string input = Bytes({0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x01,
                             0x01, 0x2c});  // topic_data[0].name claims 300 bytes
  input += std::string(12, 'x');
  Reader r(input);
  ProduceRequest req;
  const absl::Status s = req.Decode(r, 7);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "ProduceRequest v7: field topic_data[0].name: string length 300 exceeds remaining 12 bytes");
}

}  // namespace
}  // namespace eddy::kafka
