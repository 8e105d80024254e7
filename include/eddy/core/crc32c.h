// CRC-32C (Castagnoli), the checksum of Kafka's record batch v2. Debian 12 ships no crc32c library and its
// Abseil predates absl::crc32c, so Eddy has its own: SSE4.2's crc32 instruction where the CPU has it
// (checked once at startup; three interleaved chains on inputs of 768 bytes or more, about 28 GB/s of one
// core in `eddy_bench --benchmark_filter=BM_Crc32c` against 9.4 GB/s with one chain), a slicing-by-8 table
// otherwise.
#pragma once

#include <cstddef>
#include <cstdint>

namespace eddy::crc32c {

// Extend returns the CRC-32C of data[0, n) continuing from `crc` (the CRC of the bytes before). Thread-safe.
uint32_t Extend(uint32_t crc, const void* data, size_t n);

// Value returns the CRC-32C of data[0, n).
inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }

}  // namespace eddy::crc32c
