// The api versions Eddy's broker advertises in ApiVersions and accepts: the matrix found by running
// librdkafka 2.0.2, kafka-python 2.0.2 and kafkajs 2.2.4 against a reference broker (broker/kafka/README.md),
// chosen so that all of them work. Everything here is non-flexible except ApiVersions v3: advertising, for
// example, OffsetFetch > 5 would make librdkafka switch to flexible encodings it then expects us to serve.
// The one place these ranges are written down; supported_apis_test.cc checks each lies inside the range
// its schema declares. Immutable data: thread-safe.
#pragma once

#include <cstdint>

#include "absl/types/span.h"

namespace eddy::kafka {

struct ApiVersionRange {
  int16_t api_key;
  int16_t min_version;
  int16_t max_version;
};

// Every supported api, sorted by api key.
absl::Span<const ApiVersionRange> SupportedApis();

// The range advertised for `api_key`, or nullptr if the broker does not serve that api.
const ApiVersionRange* FindSupportedApi(int16_t api_key);

// True if the broker serves `api_key` at `version`.
bool IsSupportedVersion(int16_t api_key, int16_t version);

// The minimum version ApiVersions advertises for `range`: its min_version, except Produce, advertised from
// v0 but served from v3 (requests v0-2 close the connection, as any unsupported version). librdkafka up to
// 2.11 (so kcat and confluent-kafka) sends gzip, snappy and lz4 batches uncompressed unless the broker's
// Produce range reaches down to v0: its compression check asks whether Produce [0, 0] overlaps it. Kafka
// 4.0 does the same for the same reason (KAFKA-18659).
int16_t AdvertisedMinVersion(const ApiVersionRange& range);

// The apis the broker refuses with an error code rather than a closed connection (SASL, transactions,
// client quotas),
// over their schemas' whole version ranges, sorted by api key. Never advertised in ApiVersions, so no
// client picks them by negotiation; a client that sends one anyway learns why from Kafka's error code.
absl::Span<const ApiVersionRange> RefusedApis();

// True if the broker answers `api_key` at `version` with a refusal (RefusedApis).
bool IsRefusedVersion(int16_t api_key, int16_t version);

}  // namespace eddy::kafka
