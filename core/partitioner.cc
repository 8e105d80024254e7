// Kafka-compatible partitioning: murmur2 for keys, sticky random partitions for null keys.
#include "eddy/core/partitioner.h"

#include <random>

namespace eddy {

int32_t Murmur2(absl::string_view data) {
  // Unsigned arithmetic wraps exactly as Java's int does; >>> is a logical shift of the same bits.
  const uint32_t length = static_cast<uint32_t>(data.size());
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  uint32_t h = 0x9747b28cu ^ length;
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  const size_t length4 = data.size() / 4;
  for (size_t i = 0; i < length4; ++i) {
    const uint8_t* b = p + i * 4;
    uint32_t k = uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const uint8_t* tail = p + (data.size() & ~size_t{3});
  switch (data.size() % 4) {
    case 3: h ^= uint32_t{tail[2]} << 16; [[fallthrough]];
    case 2: h ^= uint32_t{tail[1]} << 8; [[fallthrough]];
    case 1:
      h ^= uint32_t{tail[0]};
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

StickyPartitioner::StickyPartitioner(uint64_t seed) : state_(seed) {}

StickyPartitioner::StickyPartitioner() : state_((uint64_t{std::random_device{}()} << 32) ^ std::random_device{}()) {}

uint64_t StickyPartitioner::NextRandom() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

int32_t StickyPartitioner::RandomPartition(int32_t n, int32_t avoid) {
  if (n <= 1) return 0;
  if (avoid < 0 || avoid >= n) return static_cast<int32_t>(NextRandom() % static_cast<uint64_t>(n));
  // Uniform over the n - 1 others: draw from [0, n - 1) and skip over `avoid`.
  const auto r = static_cast<int32_t>(NextRandom() % static_cast<uint64_t>(n - 1));
  return r >= avoid ? r + 1 : r;
}

int32_t StickyPartitioner::Partition(absl::string_view topic, int32_t num_partitions) {
  auto it = sticky_.find(topic);
  if (it == sticky_.end()) {
    it = sticky_.emplace(std::string(topic), RandomPartition(num_partitions, -1)).first;
  } else if (it->second >= num_partitions) {
    it->second = RandomPartition(num_partitions, -1);
  }
  return it->second;
}

void StickyPartitioner::OnNewBatch(absl::string_view topic, int32_t num_partitions, int32_t prev_partition) {
  auto it = sticky_.find(topic);
  if (it == sticky_.end()) {
    sticky_.emplace(std::string(topic), RandomPartition(num_partitions, prev_partition));
  } else if (it->second == prev_partition) {
    it->second = RandomPartition(num_partitions, prev_partition);
  }
}

}  // namespace eddy
