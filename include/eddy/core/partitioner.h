// Partition choice as Kafka's Java producer makes it, so that Eddy and Kafka clients put the same key in the
// same partition:
//   - a record with a key goes to toPositive(murmur2(key)) % numPartitions (Kafka's
//     BuiltInPartitioner.partitionForKey, librdkafka's "murmur2_random" partitioner);
//   - a record without a key goes to the topic's current "sticky" partition, which changes to another
//     random partition whenever a batch for it is completed (KIP-480), so that null-key records fill
//     batches instead of spraying one record into every partition.
#pragma once

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
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

// Chooses partitions for records with null keys, per topic. Partition() keeps returning the topic's sticky
// partition until the producer reports, through OnNewBatch, that the batch it was filling for that partition
// is complete; then another partition is picked at random (different from the previous one when the topic
// has more than one). Randomness comes from a seeded generator, so tests are deterministic.
//
// Thread-compatible: the producer calls it under the lock that guards its accumulator.
class StickyPartitioner {
 public:
  explicit StickyPartitioner(uint64_t seed);
  // Seeds from std::random_device.
  StickyPartitioner();

  // Partition returns the sticky partition for `topic` (choosing one if it has none yet, or if the topic
  // shrank below it). num_partitions must be > 0.
  int32_t Partition(absl::string_view topic, int32_t num_partitions);

  // OnNewBatch is called when the batch for prev_partition of `topic` is complete (full, or sent because of
  // linger.ms). If prev_partition is the topic's sticky partition, a different random one becomes sticky;
  // otherwise (another thread of the producer already moved on) nothing changes.
  void OnNewBatch(absl::string_view topic, int32_t num_partitions, int32_t prev_partition);

 private:
  // A random partition in [0, n), different from `avoid` when n > 1 and avoid is in range.
  int32_t RandomPartition(int32_t n, int32_t avoid);
  uint64_t NextRandom();

  absl::flat_hash_map<std::string, int32_t> sticky_;
  uint64_t state_;  // splitmix64
};

}  // namespace eddy
