// Zigzag varints as Kafka's record format uses them (org.apache.kafka.common.utils.ByteUtils): a signed
// value is zigzag-mapped ((n << 1) ^ (n >> 63)) and written 7 bits at a time, low bits first, with the high
// bit of each byte set when more bytes follow. An int32 takes at most 5 bytes, an int64 at most 10.
//
// Internal to core (record_batch.cc, record.cc). Encoders write to a buffer the caller has sized with
// VarintLength / kMaxVarint*; decoders are bounded by `limit` and return nullptr on a truncated or
// over-long varint, so no input can make them read past `limit`.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace eddy::varint {

inline constexpr int kMaxVarint32 = 5;
inline constexpr int kMaxVarint64 = 10;

inline constexpr uint64_t ZigZag64(int64_t n) {
  return (static_cast<uint64_t>(n) << 1) ^ static_cast<uint64_t>(n >> 63);
}
inline constexpr uint32_t ZigZag32(int32_t n) {
  return (static_cast<uint32_t>(n) << 1) ^ static_cast<uint32_t>(n >> 31);
}
inline constexpr int64_t UnZigZag64(uint64_t n) {
  return static_cast<int64_t>(n >> 1) ^ -static_cast<int64_t>(n & 1);
}
inline constexpr int32_t UnZigZag32(uint32_t n) {
  return static_cast<int32_t>(n >> 1) ^ -static_cast<int32_t>(n & 1);
}

// Number of bytes the unsigned varint encoding of v takes (1..10).
inline constexpr int UnsignedLength(uint64_t v) {
  // bit_width(0) == 0; every 7 significant bits take one byte, and 0 still takes one.
  return static_cast<int>((std::bit_width(v | 1) + 6) / 7);
}
// Encoded length of a signed (zigzag) value.
inline constexpr int Length32(int32_t v) { return UnsignedLength(ZigZag32(v)); }
inline constexpr int Length64(int64_t v) { return UnsignedLength(ZigZag64(v)); }

// Writes the unsigned varint v at p; returns the position after it.
inline char* PutUnsigned(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}
inline char* Put32(char* p, int32_t v) { return PutUnsigned(p, ZigZag32(v)); }
inline char* Put64(char* p, int64_t v) { return PutUnsigned(p, ZigZag64(v)); }

// Reads an unsigned varint of at most max_bytes from [p, limit). Returns the position after it, or nullptr
// if the input ends first or the varint is longer than max_bytes. Bits beyond 64 are dropped, as Kafka's
// readVarlong does.
inline const char* GetUnsigned(const char* p, const char* limit, int max_bytes, uint64_t* v) {
  if (p < limit && static_cast<uint8_t>(*p) < 0x80) {  // the common one-byte case
    *v = static_cast<uint8_t>(*p);
    return p + 1;
  }
  uint64_t result = 0;
  for (int i = 0, shift = 0; i < max_bytes && p < limit; ++i, shift += 7) {
    const uint8_t b = static_cast<uint8_t>(*p++);
    result |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (b < 0x80) {
      *v = result;
      return p;
    }
  }
  return nullptr;
}

// Reads a zigzag int32 (Kafka's readVarint: at most 5 bytes, the value truncated to 32 bits).
inline const char* Get32(const char* p, const char* limit, int32_t* v) {
  uint64_t u;
  p = GetUnsigned(p, limit, kMaxVarint32, &u);
  if (p != nullptr) *v = UnZigZag32(static_cast<uint32_t>(u));
  return p;
}
// Reads a zigzag int64 (Kafka's readVarlong: at most 10 bytes).
inline const char* Get64(const char* p, const char* limit, int64_t* v) {
  uint64_t u;
  p = GetUnsigned(p, limit, kMaxVarint64, &u);
  if (p != nullptr) *v = UnZigZag64(u);
  return p;
}

// Reads a zigzag int32 from bytes already known to hold a valid one (no bounds checks).
inline const char* Get32Unchecked(const char* p, int32_t* v) {
  uint32_t result = 0;
  for (int shift = 0;; shift += 7) {
    const uint8_t b = static_cast<uint8_t>(*p++);
    if (shift < 32) result |= static_cast<uint32_t>(b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  *v = UnZigZag32(result);
  return p;
}

}  // namespace eddy::varint
