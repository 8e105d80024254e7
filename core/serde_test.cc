#include "eddy/core/serde.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eddy/core/json_serde.h"
#include "eddy/core/proto_serde.h"
#include "eddy/core/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
// protobuf_generate puts the generated headers under testdata/ of core/CMakeLists.txt's PROTOC_OUT_DIR.
#if __has_include("test_message.pb.h")
#include "test_message.pb.h"
#include "test_required.pb.h"
#else
#include "testdata/test_message.pb.h"
#include "testdata/test_required.pb.h"
#endif

namespace eddy {
namespace {

using ::testing::HasSubstr;

template <Serde S>
typename S::Type RoundTrip(const S& s, const typename S::Type& v) {
  std::string bytes;
  EXPECT_TRUE(SerializeWith(s, v, &bytes).ok());
  typename S::Type back{};
  const absl::Status st = s.Deserialize(bytes, &back);
  EXPECT_TRUE(st.ok()) << st;
  return back;
}

template <Serde S>
std::string Bytes(const S& s, const typename S::Type& v) {
  std::string out = "previous contents";
  s.Serialize(v, &out);
  return out;
}

TEST(SerdeTest, Int64IsEightBytesBigEndianLikeKafkasLongSerializer) {
  EXPECT_EQ(Bytes(Int64Serde{}, 1), std::string("\0\0\0\0\0\0\0\1", 8));
  EXPECT_EQ(Bytes(Int64Serde{}, -1), std::string(8, '\xff'));
  EXPECT_EQ(Bytes(Int64Serde{}, 0x0102030405060708), "\x01\x02\x03\x04\x05\x06\x07\x08");
  for (int64_t v : {int64_t{0}, int64_t{-42}, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(RoundTrip(Int64Serde{}, v), v);
  }
}

TEST(SerdeTest, Int64RejectsOtherSizesNamingTheSize) {
  int64_t v;
  const absl::Status st = Int64Serde{}.Deserialize("abc", &v);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("expected 8 bytes, got 3"));
  EXPECT_EQ(Int64Serde{}.Deserialize("", &v).code(), absl::StatusCode::kInvalidArgument);
}

TEST(SerdeTest, Int32IsFourBytesBigEndian) {
  EXPECT_EQ(Bytes(Int32Serde{}, 258), std::string("\0\0\1\2", 4));
  EXPECT_EQ(RoundTrip(Int32Serde{}, std::numeric_limits<int32_t>::min()), std::numeric_limits<int32_t>::min());
  int32_t v;
  EXPECT_THAT(Int32Serde{}.Deserialize("12345", &v).message(), HasSubstr("expected 4 bytes, got 5"));
}

TEST(SerdeTest, DoubleIsIeee754BigEndianLikeKafkasDoubleSerializer) {
  EXPECT_EQ(Bytes(DoubleSerde{}, 1.0), std::string("\x3f\xf0\0\0\0\0\0\0", 8));
  EXPECT_EQ(Bytes(DoubleSerde{}, -2.5), std::string("\xc0\x04\0\0\0\0\0\0", 8));
  EXPECT_EQ(RoundTrip(DoubleSerde{}, 0.1), 0.1);
  EXPECT_TRUE(std::isnan(RoundTrip(DoubleSerde{}, std::nan(""))));
  EXPECT_EQ(Bytes(FloatSerde{}, 1.0f), std::string("\x3f\x80\0\0", 4));
  EXPECT_EQ(RoundTrip(FloatSerde{}, 3.25f), 3.25f);
  double d;
  EXPECT_EQ(DoubleSerde{}.Deserialize("1234", &d).code(), absl::StatusCode::kInvalidArgument);
}

TEST(SerdeTest, BytesAndStringsPassThroughAndReplaceTheOutput) {
  const std::string binary("a\0b\xff", 4);
  EXPECT_EQ(Bytes(BytesSerde{}, binary), binary);
  EXPECT_EQ(RoundTrip(BytesSerde{}, binary), binary);
  EXPECT_EQ(Bytes(StringSerde{}, "héllo"), "héllo");
  EXPECT_EQ(RoundTrip(StringSerde{}, ""), "");
}

// ---- JSON -----------------------------------------------------------------------------------------------

struct Click {
  std::string user;
  int64_t page = 0;
  double score = 0;
  bool premium = false;
  std::vector<std::string> tags;
  friend bool operator==(const Click&, const Click&) = default;
};

void ToJson(json::Writer& w, const Click& c) {
  w.BeginObject();
  w.Key("user");
  w.String(c.user);
  w.Key("page");
  w.Int(c.page);
  w.Key("score");
  w.Double(c.score);
  w.Key("premium");
  w.Bool(c.premium);
  w.Key("tags");
  w.BeginArray();
  for (const std::string& t : c.tags) w.String(t);
  w.EndArray();
  w.EndObject();
}

absl::Status FromJson(simdjson::ondemand::value v, Click* c) {
  simdjson::ondemand::object o;
  EDDY_RETURN_IF_ERROR(json::Get(v.get_object(), &o));
  std::string_view user;
  EDDY_RETURN_IF_ERROR(json::Get(o["user"].get_string(), &user, "user"));
  c->user = std::string(user);
  EDDY_RETURN_IF_ERROR(json::Get(o["page"].get_int64(), &c->page, "page"));
  EDDY_RETURN_IF_ERROR(json::Get(o["score"].get_double(), &c->score, "score"));
  EDDY_RETURN_IF_ERROR(json::Get(o["premium"].get_bool(), &c->premium, "premium"));
  simdjson::ondemand::array tags;
  EDDY_RETURN_IF_ERROR(json::Get(o["tags"].get_array(), &tags, "tags"));
  c->tags.clear();
  for (auto t : tags) {
    std::string_view s;
    EDDY_RETURN_IF_ERROR(json::Get(std::move(t).get_string(), &s, "tags[]"));
    c->tags.emplace_back(s);
  }
  return absl::OkStatus();
}

// A scalar top-level document.
struct Celsius {
  double degrees = 0;
};
void ToJson(json::Writer& w, const Celsius& c) { w.Double(c.degrees); }
absl::Status FromJson(simdjson::ondemand::value v, Celsius* c) { return json::Get(v.get_double(), &c->degrees); }

static_assert(Serde<JsonSerde<Click>>);
static_assert(Serde<ProtoSerde<test::TestMessage>>);

TEST(JsonSerdeTest, RoundTripsAStruct) {
  JsonSerde<Click> serde;
  const Click c{"ada \"the\" lovelace", 42, 0.1, true, {"a", "", "naïve ☃"}};
  std::string bytes;
  serde.Serialize(c, &bytes);
  EXPECT_EQ(bytes, R"({"user":"ada \"the\" lovelace","page":42,"score":0.1,"premium":true,"tags":["a","","naïve ☃"]})");
  Click back;
  ASSERT_TRUE(serde.Deserialize(bytes, &back).ok());
  EXPECT_EQ(back, c);
  // Reusable: the parser and scratch buffer serve the next call.
  ASSERT_TRUE(serde.Deserialize(R"({"tags":[],"premium":false,"score":-1e300,"page":-7,"user":""})", &back).ok());
  EXPECT_EQ(back, (Click{"", -7, -1e300, false, {}}));
}

TEST(JsonSerdeTest, ReportsMalformedJsonAsInvalidArgument) {
  JsonSerde<Click> serde;
  Click c;
  for (absl::string_view bad : {R"({"user":"x","page":)", R"({"user":"x" "page":1})", "", "nul",
                                R"({"user":"x","page":1,"score":1,"premium":true,"tags":[]} {})",
                                R"({"user":"x","page":1,"score":1,"premium":true,"tags":[]}])"}) {
    const absl::Status st = serde.Deserialize(bad, &c);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  const absl::Status st = serde.Deserialize(R"({"user":7,"page":1})", &c);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("user"));
  EXPECT_THAT(st.message(), HasSubstr("does not have the requested type"));
}

TEST(JsonSerdeTest, HandlesScalarDocuments) {
  JsonSerde<Celsius> serde;
  std::string bytes;
  serde.Serialize(Celsius{21.5}, &bytes);
  EXPECT_EQ(bytes, "21.5");
  Celsius c;
  ASSERT_TRUE(serde.Deserialize(" -3.75 ", &c).ok());
  EXPECT_EQ(c.degrees, -3.75);
  EXPECT_FALSE(serde.Deserialize("1, 2", &c).ok());
  EXPECT_FALSE(serde.Deserialize("1] [2", &c).ok());
}

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControlCharacters) {
  std::string out;
  json::Writer w(&out);
  using namespace std::string_literals;
  w.String("q\" b\\ n\n t\t r\r f\f b\b nul\0 us\x1f del\x7f"s);
  EXPECT_EQ(out, R"("q\" b\\ n\n t\t r\r f\f b\b nul\u0000 us\u001f del)" "\x7f\"");
}

TEST(JsonWriterTest, CopiesUtf8AsIsAndParsesBack) {
  std::string out;
  json::Writer w(&out);
  w.String("日本語 é 😀 \u2028");
  EXPECT_EQ(out, "\"日本語 é 😀 \u2028\"");
  simdjson::ondemand::parser parser;
  std::string scratch;
  std::string parsed;
  ASSERT_TRUE(json::ParseValue(parser, &scratch, out, [&](simdjson::ondemand::value v) {
                std::string_view s;
                EDDY_RETURN_IF_ERROR(json::Get(v.get_string(), &s));
                parsed = std::string(s);
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(parsed, "日本語 é 😀 \u2028");
}

TEST(JsonWriterTest, WritesShortestRoundTripNumbersAndNullForNonFinite) {
  std::string out;
  json::Writer w(&out);
  w.BeginArray();
  w.Double(0.1);
  w.Double(1e21);
  w.Double(-0.0);
  w.Double(5e-324);
  w.Double(std::numeric_limits<double>::infinity());
  w.Double(std::nan(""));
  w.Int(std::numeric_limits<int64_t>::min());
  w.Uint(std::numeric_limits<uint64_t>::max());
  w.EndArray();
  EXPECT_EQ(out, "[0.1,1e+21,-0,5e-324,null,null,-9223372036854775808,18446744073709551615]");
}

TEST(JsonWriterTest, PlacesCommasInNestedContainers) {
  std::string out;
  json::Writer w(&out);
  w.BeginObject();
  w.Key("a");
  w.BeginArray();
  w.BeginObject();
  w.EndObject();
  w.BeginArray();
  w.Int(1);
  w.Int(2);
  w.EndArray();
  w.Null();
  w.EndArray();
  w.Key("b");
  w.BeginObject();
  w.Key("c");
  w.Raw(R"({"x":[true]})");
  w.EndObject();
  w.Key("");
  w.Bool(false);
  w.EndObject();
  EXPECT_EQ(out, R"({"a":[{},[1,2],null],"b":{"c":{"x":[true]}},"":false})");
}

TEST(JsonWriterTest, NestsBeyondSixtyFourLevels) {
  std::string out, want;
  json::Writer w(&out);
  for (int i = 0; i < 100; ++i) {
    w.BeginArray();
    w.Int(i);
    absl::StrAppend(&want, "[", i, ",");
  }
  for (int i = 0; i < 100; ++i) {
    w.Int(7);
    w.EndArray();
  }
  want += "7]";
  for (int i = 1; i < 100; ++i) want += ",7]";
  EXPECT_EQ(out, want);
}

// ---- protobuf -------------------------------------------------------------------------------------------

TEST(ProtoSerdeTest, RoundTripsAMessage) {
  ProtoSerde<test::TestMessage> serde;
  test::TestMessage m;
  m.set_name("eddy");
  m.set_id(-5);
  m.add_tags("x");
  m.add_tags("y");
  m.mutable_address()->set_city("Oslo");
  m.mutable_address()->set_zip(150);
  m.set_payload(std::string("\0\1\2", 3));
  m.set_score(2.5);
  test::TestMessage back = RoundTrip(serde, m);
  EXPECT_EQ(back.SerializeAsString(), m.SerializeAsString());
  EXPECT_EQ(back.address().city(), "Oslo");
  EXPECT_EQ(back.tags_size(), 2);
  // The wire format is protobuf's own: field 1 (name), length-delimited, first.
  std::string bytes;
  ASSERT_TRUE(serde.Serialize(m, &bytes).ok());
  EXPECT_EQ(bytes.substr(0, 6), "\x0a\x04" "eddy");
}

TEST(ProtoSerdeTest, RejectsBytesThatDoNotParse) {
  ProtoSerde<test::TestMessage> serde;
  test::TestMessage m;
  const absl::Status st = serde.Deserialize("\x0a\xff\xff\xff\xff\x0f", &m);  // a length past the end
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("eddy.test.TestMessage"));
}

TEST(ProtoSerdeTest, ReportsAMissingRequiredField) {
  ProtoSerde<test::WithRequired> serde;
  test::WithRequired m;
  m.set_note("no id");
  std::string out;
  const absl::Status st = serde.Serialize(m, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("id"));
  test::WithRequired parsed;
  EXPECT_EQ(serde.Deserialize("", &parsed).code(), absl::StatusCode::kInvalidArgument);  // id missing
}

}  // namespace
}  // namespace eddy
