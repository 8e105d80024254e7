#include "eddy/core/partitioner.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

TEST(Murmur2Test, MatchesKafkasUtilsTestVectors) {
  // org.apache.kafka.common.utils.UtilsTest.testMurmur2.
  EXPECT_EQ(Murmur2("21"), -973932308);
  EXPECT_EQ(Murmur2("foobar"), -790332482);
  EXPECT_EQ(Murmur2("a-little-bit-long-string"), -985981536);
  EXPECT_EQ(Murmur2("a-little-bit-longer-string"), -1486304829);
  EXPECT_EQ(Murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
  const char abc[] = {'a', 'b', 'c'};
  EXPECT_EQ(Murmur2(absl::string_view(abc, 3)), 479470107);
}

TEST(Murmur2Test, HashesBytesAboveTheAsciiRangeAsUnsigned) {
  // Java masks each byte with 0xff; a sign-extending implementation would differ on these.
  EXPECT_NE(Murmur2("\xff\xfe\xfd"), Murmur2("\x7f\x7e\x7d"));
  EXPECT_EQ(Murmur2(std::string("\x00\x80", 2)), Murmur2(std::string("\x00\x80", 2)));
}

TEST(PartitionerTest, ToPositiveClearsTheSignBitLikeKafka) {
  EXPECT_EQ(ToPositive(-1), 0x7fffffff);
  EXPECT_EQ(ToPositive(INT32_MIN), 0);
  EXPECT_EQ(ToPositive(5), 5);
}

TEST(PartitionerTest, KeyPartitionIsPositiveMurmur2ModuloPartitions) {
  for (int i = 0; i < 1000; ++i) {
    const std::string key = absl::StrCat("key-", i);
    for (int32_t n : {1, 3, 12, 100}) {
      const int32_t p = KeyPartition(key, n);
      ASSERT_EQ(p, static_cast<int32_t>((static_cast<uint32_t>(Murmur2(key)) & 0x7fffffff) % n));
      ASSERT_GE(p, 0);
      ASSERT_LT(p, n);
    }
  }
  // "21" hashes to -973932308: (-973932308 & 0x7fffffff) = 1173551340, and 1173551340 % 10 = 0.
  EXPECT_EQ(KeyPartition("21", 10), 0);
  EXPECT_EQ(KeyPartition("21", 7), 1173551340 % 7);
}

}  // namespace
}  // namespace eddy
