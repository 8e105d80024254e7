// Compression codecs of Kafka record batches: gzip, snappy, lz4 and zstd, framed the way Kafka clients
// frame them, so batches built here decode in Kafka clients and batches from Kafka clients decode here.
//
//   gzip    zlib with gzip framing (RFC 1952), as Java's GZIPOutputStream writes.
//   snappy  encode: xerial framing like the Java client ("\x82SNAPPY\0", version 1, compatible version 1,
//           then [int32 big-endian length, raw snappy block]* with 32 KiB input blocks).
//           decode: xerial framing (detected by its magic) or one raw snappy block (librdkafka's output).
//   lz4     the standard LZ4 frame format (liblz4's LZ4F API); 64 KiB independent blocks on encode; any
//           valid frame on decode, including content and block checksums (which are verified).
//   zstd    standard zstd frames, with or without the content size.
//
// Decompression bounds its output: input that would decompress past `max_size` (a decompression bomb or
// an oversized batch) fails with kResourceExhausted before that memory is allocated. Corrupt input fails
// with kDataLoss and a message naming the codec.
//
// All functions are thread-safe. Codec contexts that are costly to create (zlib streams, zstd and lz4
// decompression contexts) are cached per thread, so steady-state calls allocate only when *out must grow.
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eddy/core/record_batch_format.h"

namespace eddy {

// Default bound on the decompressed size of one batch.
inline constexpr size_t kDefaultMaxDecompressedSize = size_t{256} << 20;  // 256 MiB

// CompressionName returns Kafka's name for the codec ("none", "gzip", "snappy", "lz4", "zstd"), as the
// compression.type config spells it.
absl::string_view CompressionName(Compression c);

// ParseCompression maps a compression.type value to the codec. kInvalidArgument for an unknown name.
absl::StatusOr<Compression> ParseCompression(absl::string_view name);

// Compress replaces *out with `in` compressed by codec `c`. `level` -1 picks the codec default: gzip 6
// (zlib's and Kafka's), lz4 the fast mode (librdkafka's default; higher levels use LZ4 HC), zstd 3 (Kafka's
// default); snappy has no levels. kNone copies. Errors: kInvalidArgument for an unknown codec, kInternal if
// the codec library fails.
absl::Status Compress(Compression c, absl::string_view in, std::string* out, int level = -1);

// CompressAppend is Compress, appending to *out instead of replacing it (the record batch builder puts the
// compressed records right after a reserved header).
absl::Status CompressAppend(Compression c, absl::string_view in, std::string* out, int level = -1);

// Decompress replaces *out with the decompression of `in` (its capacity is reused). Errors: kDataLoss for
// corrupt or truncated input (the message names the codec), kResourceExhausted when the output would exceed
// max_size bytes, kInvalidArgument for an unknown codec.
absl::Status Decompress(Compression c, absl::string_view in, std::string* out,
                        size_t max_size = kDefaultMaxDecompressedSize);

}  // namespace eddy
