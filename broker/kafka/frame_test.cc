// Request/response framing: header versions per api and version, unknown apis, and a Fetch response whose
// records are supplied outside the encoded buffer.
#include <string>

#include "broker/kafka/frame.h"
#include "broker/kafka/supported_apis.h"
#include "gtest/gtest.h"

namespace eddy::kafka {
namespace {

TEST(FrameTest, HeaderVersionsFollowTheSchemasFlexibleVersions) {
  EXPECT_EQ(RequestHeaderVersion(api_keys::kApiVersions, 2), 1);
  EXPECT_EQ(RequestHeaderVersion(api_keys::kApiVersions, 3), 2);
  EXPECT_EQ(RequestHeaderVersion(api_keys::kApiVersions, 9), 2);  // beyond the schema: still parseable
  EXPECT_EQ(ResponseHeaderVersion(api_keys::kApiVersions, 3), 0);  // always v0
  EXPECT_EQ(RequestHeaderVersion(api_keys::kProduce, 8), 1);
  EXPECT_EQ(RequestHeaderVersion(api_keys::kProduce, 9), 2);
  EXPECT_EQ(ResponseHeaderVersion(api_keys::kProduce, 9), 1);
  EXPECT_EQ(ResponseHeaderVersion(api_keys::kFetch, 11), 0);
  EXPECT_EQ(ResponseHeaderVersion(api_keys::kFetch, 12), 1);
  EXPECT_EQ(RequestHeaderVersion(27, 0), -1);  // WriteTxnMarkers: no codecs
  // Every supported version except ApiVersions v3 is non-flexible: header v1 in, v0 out.
  for (const ApiVersionRange& api : SupportedApis()) {
    for (int16_t v = api.min_version; v <= api.max_version; ++v) {
      const bool flexible = api.api_key == api_keys::kApiVersions && v == 3;
      EXPECT_EQ(RequestHeaderVersion(api.api_key, v), flexible ? 2 : 1) << ApiName(api.api_key) << " v" << v;
      EXPECT_EQ(ResponseHeaderVersion(api.api_key, v), 0) << ApiName(api.api_key) << " v" << v;
    }
  }
}

TEST(FrameTest, HeaderV2SkipsUnknownTaggedFields) {
  const std::string frame("\x00\x03\x00\x09\x00\x00\x00\x05\xff\xff"  // Metadata v9, corr 5, null client
                          "\x01\x05\x02zz"                            // one tagged field: tag 5, 2 bytes
                          "BODY",
                          19);
  Reader r(frame);
  RequestHeader header;
  ASSERT_TRUE(DecodeRequestHeader(r, &header).ok());
  EXPECT_EQ(header.request_api_key, api_keys::kMetadata);
  EXPECT_EQ(header.correlation_id, 5);
  EXPECT_FALSE(header.client_id.has_value());
  EXPECT_EQ(r.rest(), "BODY");
}

TEST(FrameTest, UnknownApiStillYieldsTheCorrelationId) {
  const std::string frame("\x00\x1b\x00\x01\x00\x00\x00\x09\x00\x01x", 11);  // WriteTxnMarkers v1
  Reader r(frame);
  RequestHeader header;
  const absl::Status s = DecodeRequestHeader(r, &header);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "unknown api key 27");
  EXPECT_EQ(header.correlation_id, 9);
  EXPECT_EQ(header.client_id, "x");
}

TEST(FrameTest, ShortHeaderIsAnError) {
  for (size_t len = 0; len < 10; ++len) {
    const std::string frame = std::string("\x00\x12\x00\x00\x00\x00\x00\x01\x00\x00", 10).substr(0, len);
    Reader r(frame);
    RequestHeader header;
    EXPECT_EQ(DecodeRequestHeader(r, &header).code(), absl::StatusCode::kInvalidArgument) << len;
  }
}

FetchResponse OnePartition(RecordsRef records) {
  FetchResponse resp;
  auto& topic = resp.responses.emplace_back();
  topic.topic.assign(1, 't');  // not = "t": GCC 12 false -Wrestrict warning (bug 105329)
  auto& p = topic.partitions.emplace_back();
  p.partition_index = 0;
  p.high_watermark = 10;
  p.records = records;
  auto& p2 = topic.partitions.emplace_back();
  p2.partition_index = 1;
  p2.records = RecordsRef::External(3, 2);
  return resp;
}

TEST(FrameTest, ExternalRecordsSplicedInGiveTheInlineEncoding) {
  const std::string file_bytes = "0123456789ABCDEFGHIJ";  // stands for record batches in a segment
  const std::string other = "xyz";
  for (int16_t v : {4, 11, 12, 16}) {  // non-flexible and flexible (compact records length)
    std::string with_splices;
    Writer w(&with_splices);
    EncodeResponseFrame(77, v, OnePartition(RecordsRef::External(file_bytes.size(), 1)), w);
    ASSERT_EQ(w.splices().size(), 2u);

    // What writev would send: buffer pieces with the external bytes in between.
    std::string sent;
    size_t pos = 0;
    for (const Writer::Splice& s : w.splices()) {
      sent.append(with_splices, pos, s.offset - pos);
      sent += s.token == 1 ? file_bytes : other;
      ASSERT_EQ(s.size, s.token == 1 ? file_bytes.size() : other.size());
      pos = s.offset;
    }
    sent.append(with_splices, pos, std::string::npos);

    FetchResponse inline_resp = OnePartition(RecordsRef::Inline(file_bytes));
    inline_resp.responses[0].partitions[1].records = RecordsRef::Inline(other);
    std::string expected;
    Writer we(&expected);
    EncodeResponseFrame(77, v, inline_resp, we);
    EXPECT_TRUE(we.splices().empty());
    EXPECT_EQ(sent, expected) << "v" << v;  // including the frame size, which counts the external bytes

    Reader r(absl::string_view(sent).substr(4));
    ResponseHeader header;
    ASSERT_TRUE(header.Decode(r, ResponseHeaderVersion(api_keys::kFetch, v)).ok());
    EXPECT_EQ(header.correlation_id, 77);
    FetchResponse decoded;
    ASSERT_TRUE(decoded.Decode(r, v).ok());
    EXPECT_EQ(decoded.responses[0].partitions[0].records.bytes(), file_bytes);
  }
}

}  // namespace
}  // namespace eddy::kafka
