#include "eddy/core/crc32c.h"

#include <string>

#include "gtest/gtest.h"

namespace eddy {
namespace {

TEST(Crc32cTest, MatchesTheStandardCheckValue) {
  // The CRC-32C check value from the Castagnoli/iSCSI catalogue (RFC 3720).
  EXPECT_EQ(crc32c::Value("123456789", 9), 0xE3069283u);
}

TEST(Crc32cTest, MatchesRfc3720Vectors) {
  std::string zeros(32, '\0');
  EXPECT_EQ(crc32c::Value(zeros.data(), zeros.size()), 0x8A9136AAu);
  std::string ones(32, '\xff');
  EXPECT_EQ(crc32c::Value(ones.data(), ones.size()), 0x62A8AB43u);
  std::string inc(32, '\0');
  for (int i = 0; i < 32; ++i) inc[i] = static_cast<char>(i);
  EXPECT_EQ(crc32c::Value(inc.data(), inc.size()), 0x46DD794Eu);
}

TEST(Crc32cTest, ExtendEqualsOneShotAtEverySplit) {
  std::string data;
  for (int i = 0; i < 100; ++i) data.push_back(static_cast<char>(i * 31 + 7));
  const uint32_t whole = crc32c::Value(data.data(), data.size());
  for (size_t split = 0; split <= data.size(); ++split) {
    const uint32_t first = crc32c::Value(data.data(), split);
    EXPECT_EQ(crc32c::Extend(first, data.data() + split, data.size() - split), whole) << split;
  }
}

// The textbook bit-at-a-time CRC-32C, to check the fast paths against.
uint32_t BitwiseCrc32c(const std::string& data) {
  uint32_t crc = ~0u;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
  }
  return ~crc;
}

TEST(Crc32cTest, MatchesTheBitwiseDefinitionAcrossTheInterleavedBlockSizes) {
  // Lengths around the 3 x 256 and 3 x 8192 byte thresholds of the three-chain loops, at every alignment.
  std::string data(3 * 8192 * 2 + 400, '\0');
  uint32_t x = 12345;
  for (char& c : data) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  for (size_t len : {0, 1, 7, 8, 9, 767, 768, 769, 1024, 24575, 24576, 24577, 25000, 49151, 49152, 49300}) {
    for (size_t align = 0; align < 8; ++align) {
      const std::string piece = data.substr(align, len);
      EXPECT_EQ(crc32c::Value(piece.data(), piece.size()), BitwiseCrc32c(piece)) << len << " at " << align;
      EXPECT_EQ(crc32c::Value(data.data() + align, len), BitwiseCrc32c(piece)) << len << " at " << align;
    }
  }
}

}  // namespace
}  // namespace eddy
