// Kafka-compatible partitioning: murmur2 for keys, sticky random partitions for null keys.
#include "eddy/core/partitioner.h"


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

}  // namespace eddy
