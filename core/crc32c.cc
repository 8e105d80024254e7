// CRC-32C: hardware (SSE4.2) path, three crc32 chains interleaved on long inputs, with a portable
// slicing-by-8 fallback.
#include "eddy/core/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>
#endif

namespace eddy::crc32c {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;  // reflected Castagnoli polynomial

struct Tables {
  std::array<std::array<uint32_t, 256>, 8> t{};
  constexpr Tables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
      t[0][i] = c;
    }
    for (int s = 1; s < 8; ++s)
      for (uint32_t i = 0; i < 256; ++i) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
};
constexpr Tables kTables;

uint32_t ExtendPortable(uint32_t crc, const uint8_t* p, size_t n) {
  crc = ~crc;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);  // little-endian hosts only, as every platform Eddy targets
    v ^= crc;
    crc = kTables.t[7][v & 0xff] ^ kTables.t[6][(v >> 8) & 0xff] ^ kTables.t[5][(v >> 16) & 0xff] ^
          kTables.t[4][(v >> 24) & 0xff] ^ kTables.t[3][(v >> 32) & 0xff] ^ kTables.t[2][(v >> 40) & 0xff] ^
          kTables.t[1][(v >> 48) & 0xff] ^ kTables.t[0][v >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) crc = (crc >> 8) ^ kTables.t[0][(crc ^ *p++) & 0xff];
  return ~crc;
}

#if defined(__x86_64__)
// The crc32 instruction has a latency of 3 cycles and a throughput of 1 a cycle, so one dependency chain
// uses a third of it. Long inputs are cut into three adjacent blocks whose CRCs run as three independent
// chains in one loop, then are combined: CRC(A || B) = Shift(CRC(A), |B|) ^ CRC(B) for raw (uncomplemented)
// CRCs, where Shift appends |B| zero bytes, a linear map applied with four 256-entry tables per block size
// (the method of Mark Adler's crc32c.c). Two block sizes: kLong for the bulk of a record batch, kShort for
// the rest.
constexpr size_t kLong = 8192;
constexpr size_t kShort = 256;

// A 32x32 matrix over GF(2): column i is the image of bit i.
using Gf2Matrix = std::array<uint32_t, 32>;

uint32_t Gf2Times(const Gf2Matrix& m, uint32_t v) {
  uint32_t sum = 0;
  for (int i = 0; v != 0; ++i, v >>= 1) {
    if (v & 1) sum ^= m[i];
  }
  return sum;
}

Gf2Matrix Gf2Square(const Gf2Matrix& m) {
  Gf2Matrix sq;
  for (int i = 0; i < 32; ++i) sq[i] = Gf2Times(m, m[i]);
  return sq;
}

// ZerosTable: the tables that apply "append `len` zero bytes" (len a power of two, at least 2) to a raw
// CRC register.
using ZerosTable = std::array<std::array<uint32_t, 256>, 4>;

ZerosTable MakeZerosTable(size_t len) {
  // Operator for one zero bit, then squared up to one zero byte's, then to `len` bytes' by repeated squaring.
  Gf2Matrix op;
  op[0] = kPoly;
  for (int i = 1; i < 32; ++i) op[i] = 1u << (i - 1);
  Gf2Matrix bits2 = Gf2Square(op);      // 2 bits
  Gf2Matrix bits4 = Gf2Square(bits2);   // 4 bits
  Gf2Matrix m = Gf2Square(bits4);       // 1 byte
  for (size_t n = 1; n < len; n <<= 1) m = Gf2Square(m);
  ZerosTable t;
  for (uint32_t i = 0; i < 256; ++i) {
    t[0][i] = Gf2Times(m, i);
    t[1][i] = Gf2Times(m, i << 8);
    t[2][i] = Gf2Times(m, i << 16);
    t[3][i] = Gf2Times(m, i << 24);
  }
  return t;
}

uint32_t Shift(const ZerosTable& t, uint32_t crc) {
  return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
}

const ZerosTable& LongZeros() {
  static const ZerosTable t = MakeZerosTable(kLong);
  return t;
}
const ZerosTable& ShortZeros() {
  static const ZerosTable t = MakeZerosTable(kShort);
  return t;
}

uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Three chains over [p, p + block), [p + block, p + 2 block), [p + 2 block, p + 3 block) for as long as
// three blocks remain.
template <size_t kBlock>
__attribute__((target("sse4.2"))) inline uint64_t ThreeWay(uint64_t c0, const ZerosTable& zeros, const uint8_t*& p,
                                                           size_t& n) {
  while (n >= 3 * kBlock) {
    uint64_t c1 = 0;
    uint64_t c2 = 0;
    for (const uint8_t* end = p + kBlock; p < end; p += 8) {
      c0 = _mm_crc32_u64(c0, Load64(p));
      c1 = _mm_crc32_u64(c1, Load64(p + kBlock));
      c2 = _mm_crc32_u64(c2, Load64(p + 2 * kBlock));
    }
    c0 = Shift(zeros, static_cast<uint32_t>(c0)) ^ c1;
    c0 = Shift(zeros, static_cast<uint32_t>(c0)) ^ c2;
    p += 2 * kBlock;
    n -= 3 * kBlock;
  }
  return c0;
}

__attribute__((target("sse4.2"))) uint32_t ExtendHardware(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = ~crc & 0xffffffffu;
  // Align to 8 bytes first, so the loads of the long loops do not straddle cache lines.
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    --n;
  }
  c = ThreeWay<kLong>(c, LongZeros(), p, n);
  c = ThreeWay<kShort>(c, ShortZeros(), p, n);
  while (n >= 8) {
    c = _mm_crc32_u64(c, Load64(p));
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n--) c32 = _mm_crc32_u8(c32, *p++);
  return ~c32;
}

bool HasSse42() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  return (c & bit_SSE4_2) != 0;
}
#endif

using ExtendFn = uint32_t (*)(uint32_t, const uint8_t*, size_t);

ExtendFn Choose() {
#if defined(__x86_64__)
  if (HasSse42()) return ExtendHardware;
#endif
  return ExtendPortable;
}

const ExtendFn kExtend = Choose();

}  // namespace

uint32_t Extend(uint32_t crc, const void* data, size_t n) {
  return kExtend(crc, static_cast<const uint8_t*>(data), n);
}

}  // namespace eddy::crc32c
