#include "eddy/core/compression.h"

#include <snappy.h>

#include <string>
#include <vector>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/crc32c.h"
#include "eddy/core/record_batch.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

using ::testing::HasSubstr;

constexpr Compression kCodecs[] = {Compression::kGzip, Compression::kSnappy, Compression::kLz4,
                                   Compression::kZstd};

// Deterministic, moderately compressible text.
std::string SampleText(size_t n) {
  std::string s;
  uint32_t x = 12345;
  while (s.size() < n) {
    x = x * 1103515245 + 12345;
    absl::StrAppend(&s, "{\"user\":", (x >> 16) % 1000, ",\"event\":\"click\",\"page\":\"/p/", (x >> 8) % 97, "\"}\n");
  }
  s.resize(n);
  return s;
}

class CodecTest : public ::testing::TestWithParam<Compression> {};

TEST_P(CodecTest, RoundTripsEmptySmallAndLargeInputs) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{100}, size_t{65536}, size_t{1000000}}) {
    const std::string in = SampleText(n);
    std::string packed, out = "stale";
    ASSERT_TRUE(Compress(GetParam(), in, &packed).ok());
    const absl::Status st = Decompress(GetParam(), packed, &out);
    ASSERT_TRUE(st.ok()) << CompressionName(GetParam()) << " " << n << ": " << st;
    EXPECT_EQ(out, in) << n;
    if (n >= 65536) {
      EXPECT_LT(packed.size(), in.size() / 2);
    }
  }
}

TEST_P(CodecTest, RoundTripsInsideABatch) {
  RecordBatchBuilder b(GetParam());
  for (int i = 0; i < 500; ++i) b.Append(1000 + i, absl::StrCat("key-", i), SampleText(100 + i));
  b.Append(2000, std::nullopt, std::nullopt);
  auto batch = b.Finish();
  ASSERT_TRUE(batch.ok()) << batch.status();
  const std::string bytes(batch->data(), batch->size());
  auto h = ValidateBatch(bytes);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->compression(), GetParam());
  EXPECT_LT(static_cast<size_t>(h->size_in_bytes()), b.size_estimate());

  std::string scratch;
  auto it = RecordIterator::Open(bytes, &scratch);
  ASSERT_TRUE(it.ok()) << it.status();
  RecordView r;
  int n = 0;
  while (it->Next(&r)) {
    if (n < 500) {
      ASSERT_EQ(r.key(), absl::StrCat("key-", n));
      ASSERT_EQ(r.value(), SampleText(100 + n));
      ASSERT_EQ(r.timestamp(), 1000 + n);
    } else {
      EXPECT_FALSE(r.has_key());
      EXPECT_FALSE(r.has_value());
    }
    ASSERT_EQ(r.offset(), n);
    ++n;
  }
  EXPECT_TRUE(it->status().ok()) << it->status();
  EXPECT_EQ(n, 501);

  // The builder is reusable with the codec.
  b.Reset();
  b.Append(1, "k", "v");
  auto second = b.Finish();
  ASSERT_TRUE(second.ok());
  auto it2 = RecordIterator::Open(absl::string_view(second->data(), second->size()), &scratch, true);
  ASSERT_TRUE(it2.ok()) << it2.status();
  ASSERT_TRUE(it2->Next(&r));
  EXPECT_EQ(r.value(), "v");
}

TEST_P(CodecTest, ReportsCorruptInputAsDataLossNamingTheCodec) {
  const std::string in = SampleText(100000);
  std::string packed, out;
  ASSERT_TRUE(Compress(GetParam(), in, &packed).ok());
  // Garbage in the middle of the payload, and the payload cut short.
  std::string garbled = packed;
  for (size_t i = garbled.size() / 3; i < garbled.size() / 3 + 64; ++i) garbled[i] = static_cast<char>(0xA5 ^ i);
  const std::string cut = packed.substr(0, packed.size() / 2);
  for (const std::string* bad : {static_cast<const std::string*>(&garbled), &cut}) {
    const absl::Status st = Decompress(GetParam(), *bad, &out);
    // A garbled payload may still decode to wrong bytes for codecs without checksums (raw snappy has none);
    // it must then not claim to have produced the input.
    if (st.ok()) {
      EXPECT_NE(out, in);
      continue;
    }
    EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
    EXPECT_THAT(st.message(), HasSubstr(CompressionName(GetParam())));
  }
  EXPECT_EQ(Decompress(GetParam(), cut, &out).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Decompress(GetParam(), "not compressed at all", &out).code(), absl::StatusCode::kDataLoss);
}

TEST_P(CodecTest, RefusesOutputAboveTheLimit) {
  const std::string zeros(8 << 20, '\0');  // compresses to a few KiB: a small decompression bomb
  std::string packed, out;
  ASSERT_TRUE(Compress(GetParam(), zeros, &packed).ok());
  EXPECT_LT(packed.size(), size_t{1} << 20);
  const absl::Status st = Decompress(GetParam(), packed, &out, /*max_size=*/1 << 20);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_LE(out.capacity(), size_t{4} << 20);  // never allocated the whole output
  // Exactly at the limit is fine.
  ASSERT_TRUE(Decompress(GetParam(), packed, &out, zeros.size()).ok());
  EXPECT_EQ(out.size(), zeros.size());
}

TEST_P(CodecTest, IteratorRefusesABatchAboveTheDecompressionLimit) {
  RecordBatchBuilder b(GetParam());
  for (int i = 0; i < 100; ++i) b.Append(0, std::nullopt, std::string(20000, 'z'));
  auto batch = b.Finish();
  ASSERT_TRUE(batch.ok());
  std::string scratch;
  auto it = RecordIterator::Open(absl::string_view(batch->data(), batch->size()), &scratch, false, 1 << 20);
  EXPECT_EQ(it.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_P(CodecTest, CorruptCompressedRecordsFailToOpen) {
  RecordBatchBuilder b(GetParam());
  for (int i = 0; i < 100; ++i) b.Append(0, "k", SampleText(200));
  auto batch = b.Finish();
  ASSERT_TRUE(batch.ok());
  std::string s(batch->data(), batch->size());
  s.resize(61 + (s.size() - 61) / 2);  // half the compressed payload
  absl::big_endian::Store32(s.data() + 8, static_cast<uint32_t>(s.size() - 12));
  absl::big_endian::Store32(s.data() + 17, crc32c::Value(s.data() + 21, s.size() - 21));
  std::string scratch;
  auto it = RecordIterator::Open(s, &scratch, true);
  ASSERT_FALSE(it.ok());
  EXPECT_EQ(it.status().code(), absl::StatusCode::kDataLoss) << it.status();
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, CodecTest, ::testing::ValuesIn(kCodecs),
                         [](const auto& info) { return std::string(CompressionName(info.param)); });

TEST(CompressionTest, SnappyWritesXerialFramingLikeTheJavaClient) {
  const std::string in = SampleText(100000);  // four 32 KiB blocks
  std::string packed;
  ASSERT_TRUE(Compress(Compression::kSnappy, in, &packed).ok());
  ASSERT_GE(packed.size(), 20u);
  EXPECT_EQ(packed.substr(0, 16), std::string("\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16));
  // Walk the chunks: each is a raw snappy block of at most 32 KiB.
  size_t pos = 16, chunks = 0, total = 0;
  while (pos < packed.size()) {
    const uint32_t len = absl::big_endian::Load32(packed.data() + pos);
    size_t n = 0;
    ASSERT_TRUE(snappy::GetUncompressedLength(packed.data() + pos + 4, len, &n));
    EXPECT_LE(n, 32768u);
    total += n;
    pos += 4 + len;
    ++chunks;
  }
  EXPECT_EQ(pos, packed.size());
  EXPECT_EQ(chunks, 4u);
  EXPECT_EQ(total, in.size());
}

TEST(CompressionTest, SnappyReadsHandBuiltXerialAndRawBlocks) {
  // As kafka-python's test_snappy_decode_xerial builds it.
  std::string a, b;
  for (int i = 0; i < 50; ++i) {
    a += "SNAPPY";
    b += "XERIAL";
  }
  std::string ra, rb;
  snappy::Compress(a.data(), a.size(), &ra);
  snappy::Compress(b.data(), b.size(), &rb);
  std::string xerial("\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16);
  char len[4];
  absl::big_endian::Store32(len, static_cast<uint32_t>(ra.size()));
  xerial.append(len, 4).append(ra);
  absl::big_endian::Store32(len, static_cast<uint32_t>(rb.size()));
  xerial.append(len, 4).append(rb);
  std::string out;
  ASSERT_TRUE(Decompress(Compression::kSnappy, xerial, &out).ok());
  EXPECT_EQ(out, a + b);
  // librdkafka: one raw block.
  ASSERT_TRUE(Decompress(Compression::kSnappy, ra, &out).ok());
  EXPECT_EQ(out, a);
  // A xerial chunk length past the end.
  std::string bad = xerial.substr(0, xerial.size() - 1);
  const absl::Status st = Decompress(Compression::kSnappy, bad, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(st.message(), HasSubstr("snappy"));
}

TEST(CompressionTest, SnappyRejectsALengthPreambleNoBlockCanEncode) {
  // Varint 0x0fffffff (256 MiB - 1) followed by one literal byte.
  const std::string claim("\xff\xff\xff\x7f\x00x", 6);
  std::string out;
  const absl::Status st = Decompress(Compression::kSnappy, claim, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_LT(out.capacity(), size_t{1} << 20);
}

TEST(CompressionTest, GzipReadsPythonsGzipOutput) {
  // gzip.compress(b"hello kafka", mtime=0) from CPython.
  const std::string gz(
      "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcb\x48\xcd\xc9\xc9\x57\xc8\x4e\x4c\xcb\x4e\x04\x00\xd1\x75\x81\x6c"
      "\x0b\x00\x00\x00",
      31);
  std::string out;
  ASSERT_TRUE(Decompress(Compression::kGzip, gz, &out).ok());
  EXPECT_EQ(out, "hello kafka");
  // What we write is gzip-framed (magic 1f 8b).
  std::string packed;
  ASSERT_TRUE(Compress(Compression::kGzip, "hello kafka", &packed).ok());
  EXPECT_EQ(packed.substr(0, 2), "\x1f\x8b");
}

TEST(CompressionTest, Lz4ReadsFramesWithContentSizeAndChecksums) {
  // `lz4 --content-size -BD -BX` (frame checksum on by default): FLG 0x7c = independent blocks, block
  // checksums, content size, content checksum.
  const std::string frame(
      "\x04\x22\x4d\x18\x7c\x40\x23\x00\x00\x00\x00\x00\x00\x00\xeb\x15\x00\x00\x00\xce\x68\x65\x6c\x6c\x6f\x20"
      "\x6b\x61\x66\x6b\x61\x20\x0c\x00\x50\x6b\x61\x66\x6b\x61\x04\x07\x2f\xb2\x00\x00\x00\x00\x61\xc4\xf6\xdf",
      52);
  std::string out;
  ASSERT_TRUE(Decompress(Compression::kLz4, frame, &out).ok());
  EXPECT_EQ(out, "hello kafka hello kafka hello kafka");
  // A flipped content byte fails the block checksum.
  std::string bad = frame;
  bad[25] ^= 1;
  const absl::Status st = Decompress(Compression::kLz4, bad, &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(st.message(), HasSubstr("lz4"));
  // We write the magic 04 22 4d 18.
  std::string packed;
  ASSERT_TRUE(Compress(Compression::kLz4, "hello", &packed).ok());
  EXPECT_EQ(packed.substr(0, 4), "\x04\x22\x4d\x18");
}

TEST_P(CodecTest, DecodesCleanlyAfterAFailure) {
  // A failed decode must not leave per-thread codec state behind (liblz4 1.9.4 did).
  const std::string in = SampleText(5000);
  std::string packed, out;
  ASSERT_TRUE(Compress(GetParam(), in, &packed).ok());
  EXPECT_FALSE(Decompress(GetParam(), packed.substr(0, packed.size() - 3), &out).ok());
  EXPECT_FALSE(Decompress(GetParam(), packed, &out, 100).ok());
  ASSERT_TRUE(Compress(GetParam(), "", &packed).ok());
  ASSERT_TRUE(Decompress(GetParam(), packed, &out).ok());
  EXPECT_EQ(out, "");
}

TEST(CompressionTest, ZstdReadsFramesWithoutContentSize) {
  // `... | zstd -c`: a frame from a pipe carries no content size, only a checksum.
  const std::string frame(
      "\x28\xb5\x2f\xfd\x04\x58\x95\x00\x00\x60\x68\x65\x6c\x6c\x6f\x20\x6b\x61\x66\x6b\x61\x20\x01\x00\xaf\x4b\x12"
      "\xc3\x2e\x1c\x62",
      31);
  std::string out;
  ASSERT_TRUE(Decompress(Compression::kZstd, frame, &out).ok());
  EXPECT_EQ(out, "hello kafka hello kafka hello kafka");
}

TEST(CompressionTest, ParsesKafkaCodecNames) {
  for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kSnappy, Compression::kLz4,
                        Compression::kZstd}) {
    auto parsed = ParseCompression(CompressionName(c));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, c);
  }
  EXPECT_EQ(ParseCompression("brotli").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CompressionTest, NoneCopiesAndHonoursTheLimit) {
  std::string out;
  ASSERT_TRUE(Compress(Compression::kNone, "abc", &out).ok());
  EXPECT_EQ(out, "abc");
  EXPECT_EQ(Decompress(Compression::kNone, "abcdef", &out, 3).code(), absl::StatusCode::kResourceExhausted);
}

TEST(CompressionTest, GzipRejectsAnInvalidLevel) {
  std::string out;
  EXPECT_EQ(Compress(Compression::kGzip, "abc", &out, 42).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Compress(Compression::kGzip, "abc", &out, 1).ok());
  std::string back;
  ASSERT_TRUE(Decompress(Compression::kGzip, out, &back).ok());
  EXPECT_EQ(back, "abc");
}

}  // namespace
}  // namespace eddy
