#include "broker/kafka/supported_apis.h"

#include "broker/kafka/kafka_messages.h"

namespace eddy::kafka {
namespace {

// Sorted by api key. Minimums are the old ones on purpose (kafka-python and librdkafka 2.0.2 need them):
// do not copy Kafka 4.0's raised minimums.
constexpr ApiVersionRange kSupported[] = {
    {api_keys::kProduce, 3, 7},          // 3: record batch v2 (librdkafka MsgVer2); 7: zstd
    {api_keys::kFetch, 4, 11},           // 4: MsgVer2; 10: zstd; 11: rack-aware (preferred replica -1)
    {api_keys::kListOffsets, 1, 3},
    {api_keys::kMetadata, 0, 6},
    {api_keys::kOffsetCommit, 2, 7},
    {api_keys::kOffsetFetch, 1, 5},      // > 5 turns on flexible encodings in librdkafka
    {api_keys::kFindCoordinator, 0, 2},  // librdkafka's group and LZ4 gates need 0 in the range
    {api_keys::kJoinGroup, 0, 5},
    {api_keys::kHeartbeat, 0, 3},
    {api_keys::kLeaveGroup, 0, 3},
    {api_keys::kSyncGroup, 0, 3},
    {api_keys::kDescribeGroups, 0, 4},
    {api_keys::kListGroups, 0, 2},       // > 2 turns on flexible encodings in librdkafka
    {api_keys::kApiVersions, 0, 3},      // v3: flexible body, response header still v0
    {api_keys::kCreateTopics, 0, 4},
    {api_keys::kDeleteTopics, 0, 3},
    {api_keys::kInitProducerId, 0, 1},   // 0: librdkafka's idempotence gate; > 1 is flexible
    {api_keys::kDescribeConfigs, 0, 2},
};

// Sorted by api key; the ranges are the schemas' validVersions (supported_apis_test.cc checks them).
constexpr ApiVersionRange kRefused[] = {
    {api_keys::kSaslHandshake, 0, 1},
    {api_keys::kAddPartitionsToTxn, 0, 5},
    {api_keys::kAddOffsetsToTxn, 0, 4},
    {api_keys::kEndTxn, 0, 5},
    {api_keys::kTxnOffsetCommit, 0, 4},
    {api_keys::kSaslAuthenticate, 0, 2},
    {api_keys::kDescribeClientQuotas, 0, 1},
    {api_keys::kAlterClientQuotas, 0, 1},
};

bool InRange(absl::Span<const ApiVersionRange> table, int16_t api_key, int16_t version) {
  for (const ApiVersionRange& r : table) {
    if (r.api_key == api_key) return version >= r.min_version && version <= r.max_version;
  }
  return false;
}

}  // namespace

absl::Span<const ApiVersionRange> RefusedApis() { return kRefused; }

bool IsRefusedVersion(int16_t api_key, int16_t version) { return InRange(kRefused, api_key, version); }

absl::Span<const ApiVersionRange> SupportedApis() { return kSupported; }

const ApiVersionRange* FindSupportedApi(int16_t api_key) {
  for (const ApiVersionRange& r : kSupported) {
    if (r.api_key == api_key) return &r;
  }
  return nullptr;
}

bool IsSupportedVersion(int16_t api_key, int16_t version) { return InRange(kSupported, api_key, version); }

int16_t AdvertisedMinVersion(const ApiVersionRange& range) {
  return range.api_key == api_keys::kProduce ? 0 : range.min_version;
}

}  // namespace eddy::kafka
