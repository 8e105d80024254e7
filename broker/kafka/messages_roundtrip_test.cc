// Every generated message at every version of its schema (a superset of the versions the broker serves):
// filled with non-default values, encoded, decoded back unchanged; and every strict prefix of an encoding
// is refused with an error, never read past.
#include <string>

#include "absl/strings/match.h"
#include "broker/kafka/kafka_messages.h"
#include "broker/kafka/kafka_messages_testdata.h"
#include "gtest/gtest.h"

namespace eddy::kafka {
namespace {

using testing::AllMessageTypes;
using testing::Fill;
using testing::TestValues;

template <typename T>
class MessageTest : public ::testing::Test {};

class MessageNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};
TYPED_TEST_SUITE(MessageTest, AllMessageTypes, MessageNames);

constexpr int kSeedsPerVersion = 12;

TYPED_TEST(MessageTest, RoundTripsAtEveryVersion) {
  for (int16_t v = TypeParam::kMinVersion; v <= TypeParam::kMaxVersion; ++v) {
    for (int seed = 1; seed <= kSeedsPerVersion; ++seed) {
      TestValues g(seed * 1000 + v);
      TypeParam m;
      Fill(&m, v, g);
      std::string bytes;
      Writer w(&bytes);
      m.Encode(w, v);
      Reader r(bytes);
      TypeParam decoded;
      ASSERT_TRUE(decoded.Decode(r, v).ok()) << TypeParam::kName << " v" << v << " seed " << seed;
      EXPECT_EQ(r.remaining(), 0u) << TypeParam::kName << " v" << v;
      ASSERT_TRUE(decoded == m) << TypeParam::kName << " v" << v << " seed " << seed;
      std::string again;
      Writer w2(&again);
      decoded.Encode(w2, v);
      EXPECT_EQ(again, bytes) << TypeParam::kName << " v" << v;
    }
  }
}

TYPED_TEST(MessageTest, FillingChangesTheEncodingFromTheDefault) {
  // Guards the test above: if Fill left everything at its default the round trip would prove little.
  const int16_t v = TypeParam::kMaxVersion;
  std::string defaults;
  Writer wd(&defaults);
  TypeParam().Encode(wd, v);
  int differing = 0;
  for (int seed = 1; seed <= kSeedsPerVersion; ++seed) {
    TestValues g(seed);
    TypeParam m;
    Fill(&m, v, g);
    std::string bytes;
    Writer w(&bytes);
    m.Encode(w, v);
    differing += bytes != defaults;
  }
  EXPECT_GT(differing, 0) << TypeParam::kName;
}

TYPED_TEST(MessageTest, EveryTruncationIsAnErrorNamingTheMessage) {
  for (int16_t v = TypeParam::kMinVersion; v <= TypeParam::kMaxVersion; ++v) {
    for (int seed = 1; seed <= 3; ++seed) {
      TestValues g(seed * 7919 + v);
      TypeParam m;
      Fill(&m, v, g);
      std::string bytes;
      Writer w(&bytes);
      m.Encode(w, v);
      const std::string prefix = std::string(TypeParam::kName) + " v" + std::to_string(v) + ": field ";
      for (size_t len = 0; len < bytes.size(); ++len) {
        // A copy of exactly `len` bytes, so reading past it is an ASan/valgrind error, not a silent read.
        const std::string truncated = bytes.substr(0, len);
        Reader r(truncated);
        TypeParam decoded;
        const absl::Status s = decoded.Decode(r, v);
        ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << TypeParam::kName << " v" << v << " len " << len;
        ASSERT_TRUE(absl::StartsWith(s.message(), prefix)) << s.message();
      }
    }
  }
}

TYPED_TEST(MessageTest, VersionOutsideTheSchemaIsRefused) {
  for (int v : {TypeParam::kMinVersion - 1, TypeParam::kMaxVersion + 1}) {
    const std::string zeros(8, '\0');
    Reader r(zeros);
    TypeParam m;
    const absl::Status s = m.Decode(r, v);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(s.message(), "unsupported version")) << s.message();
  }
}

}  // namespace
}  // namespace eddy::kafka
