// Kafka's consumer embedded protocol: the bytes a consumer puts in JoinGroup's protocol metadata
// (ConsumerProtocolSubscription) and the leader puts in SyncGroup's assignments (ConsumerProtocolAssignment),
// for protocol_type "consumer". The coordinator treats them as opaque; group members of different clients
// (Java, librdkafka, kafka-python, kafkajs, Eddy's embedded consumer) must read each other's, so the layout is
// exactly Kafka's (ConsumerProtocolSubscription.json / ConsumerProtocolAssignment.json, non-flexible,
// big-endian, see broker/group_bytes.h for the primitives):
//
//   Subscription: int16 version
//                 [string] topics
//                 nullable bytes user_data
//                 v1+: [ {string topic, [int32] partitions} ] owned_partitions
//                 v2+: int32 generation_id
//                 v3+: nullable string rack_id
//   Assignment:   int16 version
//                 [ {string topic, [int32] partitions} ] assigned_partitions
//                 nullable bytes user_data                      (same layout for versions 0..3)
//
// Like Kafka's readers, a version newer than 3 is read with the version-3 layout and trailing bytes are
// ignored (Kafka promises new versions only append fields).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eddy/core/record.h"

namespace eddy::broker {

inline constexpr absl::string_view kConsumerProtocolType = "consumer";
inline constexpr int16_t kConsumerProtocolMaxVersion = 3;
// What Eddy writes: version 1 (with owned partitions), which every client listed in the wire-protocol README
// reads; librdkafka 2.0 writes version 1 as well.
inline constexpr int16_t kConsumerProtocolDefaultVersion = 1;

struct ConsumerSubscription {
  std::vector<std::string> topics;
  std::optional<std::string> user_data;          // null unless an assignor uses it
  std::vector<TopicPartition> owned_partitions;  // v1+: partitions the member owns (cooperative protocols)
  int32_t generation_id = -1;                    // v2+: generation of owned_partitions
  std::optional<std::string> rack_id;            // v3+: client.rack

  friend bool operator==(const ConsumerSubscription&, const ConsumerSubscription&) = default;
};

struct ConsumerAssignment {
  std::vector<TopicPartition> partitions;
  std::optional<std::string> user_data;

  friend bool operator==(const ConsumerAssignment&, const ConsumerAssignment&) = default;
};

// EncodeSubscription writes `s` in `version` (0..3; fields the version lacks are dropped). Partitions are
// grouped per topic, topics in name order. kInvalidArgument: a version out of range or a string over 32767
// bytes.
absl::StatusOr<std::string> EncodeSubscription(const ConsumerSubscription& s,
                                               int16_t version = kConsumerProtocolDefaultVersion);
// DecodeSubscription reads any version >= 0. kInvalidArgument on truncated or garbled bytes.
absl::StatusOr<ConsumerSubscription> DecodeSubscription(absl::string_view bytes);

absl::StatusOr<std::string> EncodeAssignment(const ConsumerAssignment& a,
                                             int16_t version = kConsumerProtocolDefaultVersion);
// DecodeAssignment reads any version >= 0. Empty input is an empty assignment: that is what the coordinator
// hands a member the leader left out of its SyncGroup. kInvalidArgument on truncated or garbled bytes.
absl::StatusOr<ConsumerAssignment> DecodeAssignment(absl::string_view bytes);

}  // namespace eddy::broker
