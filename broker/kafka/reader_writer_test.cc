#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "broker/kafka/reader.h"
#include "broker/kafka/writer.h"
#include "gtest/gtest.h"

namespace eddy::kafka {
namespace {

TEST(ReaderWriterTest, IntegersAreBigEndianAndRoundTrip) {
  std::string out;
  Writer w(&out);
  w.WriteInt16(0x0102);
  w.WriteInt32(-2);
  w.WriteInt64(std::numeric_limits<int64_t>::min());
  w.WriteUint16(0xfffe);
  w.WriteFloat64(-1.5);
  w.WriteBool(true);
  EXPECT_EQ(out.substr(0, 6), std::string("\x01\x02\xff\xff\xff\xfe", 6));
  Reader r(out);
  int16_t a;
  int32_t b;
  int64_t c;
  uint16_t d;
  double e;
  bool f;
  ASSERT_TRUE(r.ReadInt16(&a) && r.ReadInt32(&b) && r.ReadInt64(&c) && r.ReadUint16(&d) && r.ReadFloat64(&e) &&
              r.ReadBool(&f));
  EXPECT_EQ(a, 0x0102);
  EXPECT_EQ(b, -2);
  EXPECT_EQ(c, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(d, 0xfffe);
  EXPECT_EQ(e, -1.5);
  EXPECT_TRUE(f);
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_FALSE(r.ReadBool(&f));
  EXPECT_EQ(r.error(), "need 1 bytes, 0 remaining");
}

TEST(ReaderWriterTest, UnsignedVarintsMatchKafka) {
  for (uint32_t v : {0u, 1u, 127u, 128u, 300u, 16383u, 16384u, 0x0fffffffu, 0xffffffffu}) {
    std::string out;
    Writer w(&out);
    w.WriteUnsignedVarint(v);
    Reader r(out);
    uint32_t got;
    ASSERT_TRUE(r.ReadUnsignedVarint(&got));
    EXPECT_EQ(got, v);
    EXPECT_EQ(r.remaining(), 0u);
  }
  std::string out;
  Writer w(&out);
  w.WriteUnsignedVarint(300);
  EXPECT_EQ(out, std::string("\xac\x02", 2));
}

TEST(ReaderWriterTest, OverlongAndTruncatedVarintsAreRefused) {
  uint32_t v;
  const std::string six_bytes("\x80\x80\x80\x80\x80\x01", 6);
  Reader six(six_bytes);
  EXPECT_FALSE(six.ReadUnsignedVarint(&v));
  EXPECT_EQ(six.error(), "varint longer than 5 bytes");
  const std::string two_bytes("\x80\x80", 2);
  Reader cut(two_bytes);
  EXPECT_FALSE(cut.ReadUnsignedVarint(&v));
  EXPECT_EQ(cut.error(), "varint runs past the end");
}

TEST(ReaderWriterTest, NullAndEmptyStringsDifferInBothEncodings) {
  for (bool compact : {false, true}) {
    std::string out;
    Writer w(&out);
    w.WriteNullableString(std::nullopt, compact, true);
    w.WriteNullableString(std::string(), compact, true);
    w.WriteNullableString(std::nullopt, compact, false);  // not nullable in this version: empty
    EXPECT_EQ(out, compact ? std::string("\x00\x01\x01", 3) : std::string("\xff\xff\x00\x00\x00\x00", 6));
    Reader r(out);
    std::optional<std::string> a, b, c;
    ASSERT_TRUE(r.ReadNullableString(compact, true, &a));
    ASSERT_TRUE(r.ReadNullableString(compact, true, &b));
    ASSERT_TRUE(r.ReadNullableString(compact, false, &c));
    EXPECT_FALSE(a.has_value());
    EXPECT_EQ(b, "");
    EXPECT_EQ(c, "");
  }
}

TEST(ReaderWriterTest, NullWhereNotNullableIsAnError) {
  const std::string null_string("\xff\xff", 2);
  Reader r(null_string);
  std::string s;
  EXPECT_FALSE(r.ReadString(false, &s));
  EXPECT_EQ(r.error(), "null string where the field is not nullable");
}

TEST(ReaderWriterTest, LengthsBeyondTheBufferAreRefusedBeforeAllocating) {
  const std::string huge_bytes("\x7f\xff\xff\xff", 4);
  Reader r(huge_bytes);
  std::string s;
  EXPECT_FALSE(r.ReadBytes(false, &s));
  EXPECT_EQ(r.error(), "bytes length 2147483647 exceeds remaining 0 bytes");
  Reader a(huge_bytes);
  int32_t n;
  EXPECT_FALSE(a.ReadArrayLength(false, &n));
  EXPECT_EQ(a.error(), "array length 2147483647 exceeds remaining 0 bytes");
  const std::string compact_huge("\xff\xff\xff\xff\x0f", 5);  // uvarint 2^32-1
  Reader c(compact_huge);
  EXPECT_FALSE(c.ReadArrayLength(true, &n));
}

TEST(ReaderWriterTest, TaggedFieldValueIsBoundedBySize) {
  std::string out;
  Writer w(&out);
  w.WriteTaggedField(7, "abc");
  out += "rest";
  Reader r(out);
  uint32_t tag;
  Reader value{absl::string_view()};
  ASSERT_TRUE(r.ReadTaggedField(&tag, &value));
  EXPECT_EQ(tag, 7u);
  EXPECT_EQ(value.rest(), "abc");
  EXPECT_EQ(r.rest(), "rest");

  const std::string overrun("\x01\x09" "abc", 5);
  Reader bad(overrun);
  EXPECT_FALSE(bad.ReadTaggedField(&tag, &value));
  EXPECT_EQ(bad.error(), "tagged field 1 size 9 exceeds remaining 3 bytes");
}

TEST(ReaderWriterTest, ExternalRecordsLeaveASpliceAndCountInTheFrame) {
  std::string out;
  Writer w(&out);
  const size_t frame = w.BeginFrame();
  w.WriteInt16(1);
  w.WriteRecords(RecordsRef::External(1000, 42), false, true);
  w.WriteInt16(2);
  w.WriteRecords(RecordsRef::External(24, 43), true, true);
  w.EndFrame(frame);
  // Size 9 + 1000 + 24 = 0x409; then 2 + 4 length + 2 + 1 compact length (25 = 0x19); the external bytes
  // themselves are not in `out`.
  EXPECT_EQ(out, std::string("\x00\x00\x04\x09\x00\x01\x00\x00\x03\xe8\x00\x02\x19", 13));
  ASSERT_EQ(w.splices().size(), 2u);
  EXPECT_EQ(w.splices()[0], (Writer::Splice{10, 1000, 42}));
  EXPECT_EQ(w.splices()[1], (Writer::Splice{13, 24, 43}));
}

}  // namespace
}  // namespace eddy::kafka
