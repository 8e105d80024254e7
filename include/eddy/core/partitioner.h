// Partition choice as Kafka's Java producer makes it, so that Eddy and Kafka clients put the same key in the
// same partition:
//   - a record with a key goes to toPositive(murmur2(key)) % numPartitions (Kafka's
//     BuiltInPartitioner.partitionForKey, librdkafka's "murmur2_random" partitioner);
//   - a record without a key goes to the topic's current "sticky" partition, which changes to another
//     random partition whenever a batch for it is completed (KIP-480), so that null-key records fill
//     batches instead of spraying one record into every partition.
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace eddy {

// Murmur2 is Kafka's org.apache.kafka.common.utils.Utils.murmur2: 32-bit MurmurHash2 with seed 0x9747b28c,
// as a signed int. Thread-safe.
int32_t Murmur2(absl::string_view data);

// ToPositive is Kafka's Utils.toPositive: clears the sign bit (not abs: INT32_MIN maps to 0).
inline int32_t ToPositive(int32_t n) { return n & 0x7fffffff; }

// KeyPartition returns the partition of a keyed record among num_partitions (> 0). Thread-safe.
inline int32_t KeyPartition(absl::string_view key, int32_t num_partitions) {
  return ToPositive(Murmur2(key)) % num_partitions;
}

}  // namespace eddy
