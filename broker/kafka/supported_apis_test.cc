#include "broker/kafka/supported_apis.h"

#include <map>
#include <utility>

#include "broker/kafka/kafka_messages.h"
#include "gtest/gtest.h"

namespace eddy::kafka {
namespace {

TEST(SupportedApisTest, IsExactlyTheClientMatrix) {
  // The matrix that serves librdkafka 2.0.2, kafka-python 2.0.2 and kafkajs 2.2.4 (README.md).
  const std::map<int16_t, std::pair<int16_t, int16_t>> expected = {
      {0, {3, 7}},  {1, {4, 11}}, {2, {1, 3}},  {3, {0, 6}},  {8, {2, 7}},  {9, {1, 5}},
      {10, {0, 2}}, {11, {0, 5}}, {12, {0, 3}}, {13, {0, 3}}, {14, {0, 3}}, {15, {0, 4}},
      {16, {0, 2}}, {18, {0, 3}}, {19, {0, 4}}, {20, {0, 3}}, {22, {0, 1}}, {32, {0, 2}},
  };
  std::map<int16_t, std::pair<int16_t, int16_t>> actual;
  for (const ApiVersionRange& r : SupportedApis()) actual[r.api_key] = {r.min_version, r.max_version};
  EXPECT_EQ(actual, expected);
  EXPECT_EQ(SupportedApis().size(), expected.size());  // no duplicates
}

TEST(SupportedApisTest, IsSortedByApiKey) {
  for (size_t i = 1; i < SupportedApis().size(); ++i) {
    EXPECT_LT(SupportedApis()[i - 1].api_key, SupportedApis()[i].api_key);
  }
}

TEST(SupportedApisTest, EveryRangeLiesWithinTheSchemasValidVersions) {
  for (const ApiVersionRange& r : SupportedApis()) {
    bool has_codecs = VisitApi(r.api_key, [&](auto api) {
      using Req = typename decltype(api)::Request;
      using Resp = typename decltype(api)::Response;
      EXPECT_EQ(Req::kApiKey, r.api_key);
      EXPECT_LE(r.min_version, r.max_version) << Req::kName;
      EXPECT_GE(r.min_version, Req::kMinVersion) << Req::kName;
      EXPECT_LE(r.max_version, Req::kMaxVersion) << Req::kName;
      EXPECT_GE(r.min_version, Resp::kMinVersion) << Resp::kName;
      EXPECT_LE(r.max_version, Resp::kMaxVersion) << Resp::kName;
    });
    EXPECT_TRUE(has_codecs) << "api " << r.api_key;
    EXPECT_NE(ApiName(r.api_key), nullptr);
  }
}

TEST(SupportedApisTest, RefusedApisCoverTheirSchemasAndAreNeverAdvertised) {
  const std::map<int16_t, std::pair<int16_t, int16_t>> expected = {
      {17, {0, 1}}, {24, {0, 5}}, {25, {0, 4}}, {26, {0, 5}}, {28, {0, 4}}, {36, {0, 2}}, {48, {0, 1}}, {49, {0, 1}},
  };
  std::map<int16_t, std::pair<int16_t, int16_t>> actual;
  for (const ApiVersionRange& r : RefusedApis()) {
    actual[r.api_key] = {r.min_version, r.max_version};
    EXPECT_EQ(FindSupportedApi(r.api_key), nullptr) << "api " << r.api_key;
    bool has_codecs = VisitApi(r.api_key, [&](auto api) {
      using Req = typename decltype(api)::Request;
      EXPECT_EQ(r.min_version, Req::kMinVersion) << Req::kName;
      EXPECT_EQ(r.max_version, Req::kMaxVersion) << Req::kName;
    });
    EXPECT_TRUE(has_codecs) << "api " << r.api_key;
    EXPECT_TRUE(IsRefusedVersion(r.api_key, r.max_version));
    EXPECT_FALSE(IsRefusedVersion(r.api_key, r.max_version + 1));
  }
  EXPECT_EQ(actual, expected);
}

TEST(SupportedApisTest, OnlyApiVersionsV3IsFlexible) {
  // The clients switch to flexible encodings on their own when a range reaches a flexible version.
  for (const ApiVersionRange& r : SupportedApis()) {
    VisitApi(r.api_key, [&](auto api) {
      using Req = typename decltype(api)::Request;
      using Resp = typename decltype(api)::Response;
      for (int16_t v = r.min_version; v <= r.max_version; ++v) {
        const bool flexible = r.api_key == api_keys::kApiVersions && v == 3;
        EXPECT_EQ(v >= Req::kFirstFlexibleVersion, flexible) << Req::kName << " v" << v;
        EXPECT_EQ(v >= Resp::kFirstFlexibleVersion, flexible) << Resp::kName << " v" << v;
      }
    });
  }
}

TEST(SupportedApisTest, LookupAndVersionChecks) {
  ASSERT_NE(FindSupportedApi(api_keys::kProduce), nullptr);
  EXPECT_EQ(FindSupportedApi(api_keys::kProduce)->min_version, 3);
  EXPECT_EQ(FindSupportedApi(17), nullptr);
  EXPECT_TRUE(IsSupportedVersion(api_keys::kFetch, 11));
  EXPECT_FALSE(IsSupportedVersion(api_keys::kFetch, 12));
  EXPECT_FALSE(IsSupportedVersion(api_keys::kProduce, 2));
  EXPECT_TRUE(IsSupportedVersion(api_keys::kApiVersions, 3));
  EXPECT_FALSE(IsSupportedVersion(api_keys::kApiVersions, 4));
}

}  // namespace
}  // namespace eddy::kafka
