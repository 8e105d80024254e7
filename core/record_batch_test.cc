#include "eddy/core/record_batch.h"

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/crc32c.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

namespace bf = batch_format;
using ::testing::HasSubstr;

// An owned copy of a decoded record, for comparisons.
struct Rec {
  std::optional<std::string> key;
  std::optional<std::string> value;
  int64_t timestamp = 0;
  int64_t offset = 0;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  friend bool operator==(const Rec&, const Rec&) = default;
};

std::optional<std::string> Opt(std::optional<absl::string_view> s) {
  return s ? std::optional<std::string>(std::string(*s)) : std::nullopt;
}

// Decodes every record of `batch`; returns the iterator's final status in *status.
std::vector<Rec> DecodeAll(absl::string_view batch, absl::Status* status, std::string* scratch = nullptr) {
  std::string local;
  absl::StatusOr<RecordIterator> it = RecordIterator::Open(batch, scratch ? scratch : &local, /*verify_crc=*/true);
  std::vector<Rec> out;
  if (!it.ok()) {
    *status = it.status();
    return out;
  }
  RecordView r;
  while (it->Next(&r)) {
    Rec rec;
    if (r.has_key()) rec.key = std::string(r.key());
    if (r.has_value()) rec.value = std::string(r.value());
    rec.timestamp = r.timestamp();
    rec.offset = r.offset();
    r.ForEachHeader([&](const HeaderRef& h) { rec.headers.emplace_back(std::string(h.key), Opt(h.value)); });
    out.push_back(std::move(rec));
  }
  *status = it->status();
  return out;
}

std::string ToStr(absl::Span<char> s) { return std::string(s.data(), s.size()); }

std::string BuildThreeRecords() {
  RecordBatchBuilder b;
  b.Append(1000, "a", "one");
  b.Append(1001, std::nullopt, "two");
  const HeaderRef h[] = {{"h", "v"}};
  b.Append(999, "c", std::nullopt, h);
  return ToStr(*b.Finish());
}

TEST(RecordBatchTest, RoundTripsNullAndEmptyKeysValuesAndHeaders) {
  RecordBatchBuilder b;
  const HeaderRef headers[] = {{"trace", "abc"}, {"empty", ""}, {"null", std::nullopt}, {"", "x"}};
  b.Append(1700000000000, std::nullopt, std::nullopt);
  b.Append(1700000000005, "", "");
  b.Append(1699999999990, "key", "value", headers);
  b.Append(1700000000001, std::string(300, 'k'), std::string(100000, 'v'));
  auto batch = b.Finish();
  ASSERT_TRUE(batch.ok()) << batch.status();
  absl::Status st;
  std::vector<Rec> recs = DecodeAll(ToStr(*batch), &st);
  ASSERT_TRUE(st.ok()) << st;
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0], (Rec{std::nullopt, std::nullopt, 1700000000000, 0, {}}));
  EXPECT_EQ(recs[1], (Rec{"", "", 1700000000005, 1, {}}));
  EXPECT_EQ(recs[2], (Rec{"key",
                          "value",
                          1699999999990,  // before the base timestamp: a negative delta
                          2,
                          {{"trace", "abc"}, {"empty", ""}, {"null", std::nullopt}, {"", "x"}}}));
  EXPECT_EQ(recs[3].key, std::string(300, 'k'));
  EXPECT_EQ(recs[3].value, std::string(100000, 'v'));
  BatchHeaderView h(batch->data());
  EXPECT_EQ(h.base_timestamp(), 1700000000000);
  EXPECT_EQ(h.max_timestamp(), 1700000000005);
  EXPECT_EQ(h.last_offset_delta(), 3);
  EXPECT_EQ(h.records_count(), 4);
}

TEST(RecordBatchTest, RoundTripsManyRecordsWithOffsetsFromTheBrokerAssignedBase) {
  RecordBatchBuilder b;
  for (int i = 0; i < 10000; ++i) b.Append(5000 + i, absl::StrCat("k", i), std::string(i % 50, 'x'));
  auto batch = b.Finish();
  ASSERT_TRUE(batch.ok());
  SetBaseOffset(batch->data(), 1234567);  // not covered by the CRC
  absl::Status st;
  std::vector<Rec> recs = DecodeAll(ToStr(*batch), &st);
  ASSERT_TRUE(st.ok()) << st;
  ASSERT_EQ(recs.size(), 10000u);
  for (int i = 0; i < 10000; ++i) {
    ASSERT_EQ(recs[i].offset, 1234567 + i);
    ASSERT_EQ(recs[i].timestamp, 5000 + i);
    ASSERT_EQ(recs[i].key, absl::StrCat("k", i));
    ASSERT_EQ(recs[i].value->size(), static_cast<size_t>(i % 50));
  }
}

TEST(RecordBatchTest, WritesProducerFieldsTimestampTypeAndTransactionalBit) {
  RecordBatchBuilder b;
  b.SetProducer(42, 7, 100);
  b.SetTransactional(true);
  b.SetTimestampType(TimestampType::kLogAppendTime);
  b.Append(10, "k", "v");
  b.Append(20, "k", "v");
  auto batch = b.Finish();
  ASSERT_TRUE(batch.ok());
  const std::string bytes = ToStr(*batch);  // the view returned by ValidateBatch points into it
  auto h = ValidateBatch(bytes);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->producer_id(), 42);
  EXPECT_EQ(h->producer_epoch(), 7);
  EXPECT_EQ(h->base_sequence(), 100);
  EXPECT_TRUE(h->is_transactional());
  EXPECT_FALSE(h->is_control());
  EXPECT_EQ(h->timestamp_type(), TimestampType::kLogAppendTime);
  // LogAppendTime: every record reads the batch's maxTimestamp.
  absl::Status st;
  std::vector<Rec> recs = DecodeAll(bytes, &st);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].timestamp, 20);
  EXPECT_EQ(recs[1].timestamp, 20);

  b.Reset();  // producer fields go back to "not idempotent"
  b.Append(10, "k", "v");
  auto again = b.Finish();
  ASSERT_TRUE(again.ok());
  BatchHeaderView h2(again->data());
  EXPECT_EQ(h2.producer_id(), -1);
  EXPECT_EQ(h2.producer_epoch(), -1);
  EXPECT_EQ(h2.base_sequence(), -1);
  EXPECT_FALSE(h2.is_transactional());
  EXPECT_EQ(h2.timestamp_type(), TimestampType::kCreateTime);
}

TEST(RecordBatchTest, SetLogAppendTimeRewritesTimestampsAndKeepsTheCrcValid) {
  RecordBatchBuilder b(Compression::kLz4);
  b.Append(10, "k", "v");
  b.Append(20, "k", "v");
  auto batch = b.Finish();
  ASSERT_TRUE(batch.ok());
  SetLogAppendTime(*batch, 99999);
  const std::string bytes = ToStr(*batch);
  auto h = ValidateBatch(bytes);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->timestamp_type(), TimestampType::kLogAppendTime);
  EXPECT_EQ(h->compression(), Compression::kLz4);
  EXPECT_EQ(h->max_timestamp(), 99999);
  absl::Status st;
  std::vector<Rec> recs = DecodeAll(bytes, &st);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].timestamp, 99999);
  EXPECT_EQ(recs[1].timestamp, 99999);
}

TEST(RecordBatchTest, MatchesAHandEncodedBatchByteForByte) {
  RecordBatchBuilder b;
  b.Append(1700000000000, "k", "v");
  auto batch = b.Finish();
  ASSERT_TRUE(batch.ok());

  // Record: length 8 (zigzag 16 = 0x10), attributes 0, timestampDelta 0, offsetDelta 0, keyLength 1 (0x02),
  // 'k', valueLength 1 (0x02), 'v', headerCount 0.
  const std::string record("\x10\x00\x00\x00\x02k\x02v\x00", 9);
  std::string want(61, '\0');
  char* p = want.data();
  absl::big_endian::Store64(p + 0, 0);                   // baseOffset
  absl::big_endian::Store32(p + 8, 61 - 12 + 9);         // batchLength = 58
  absl::big_endian::Store32(p + 12, 0xffffffff);         // partitionLeaderEpoch -1
  p[16] = 2;                                             // magic
  absl::big_endian::Store16(p + 21, 0);                  // attributes
  absl::big_endian::Store32(p + 23, 0);                  // lastOffsetDelta
  absl::big_endian::Store64(p + 27, 1700000000000);      // baseTimestamp
  absl::big_endian::Store64(p + 35, 1700000000000);      // maxTimestamp
  absl::big_endian::Store64(p + 43, ~uint64_t{0});       // producerId -1
  absl::big_endian::Store16(p + 51, 0xffff);             // producerEpoch -1
  absl::big_endian::Store32(p + 53, 0xffffffff);         // baseSequence -1
  absl::big_endian::Store32(p + 57, 1);                  // recordsCount
  want += record;
  absl::big_endian::Store32(want.data() + 17, crc32c::Value(want.data() + 21, want.size() - 21));
  EXPECT_EQ(ToStr(*batch), want);
  EXPECT_EQ(batch->size(), 70u);
}

// Three real batches written by a Kafka 0.11 broker (from kafka-python's test/record/test_records.py):
// value "123" at offset 0; two records with null keys and empty values at offsets 1-2; "123" at offset 3.
const char kKafkaBatches[] =
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x3b\x00\x00\x00\x01\x02\x03\x18\xa2\x70\x00\x00\x00"
    "\x00\x00\x00\x00\x00\x01\x5d\xff\x7b\x06\x3c\x00\x00\x01\x5d\xff\x7b\x06\x3c\xff\xff\xff\xff\xff"
    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x01\x12\x00\x00\x00\x01\x06\x31\x32\x33\x00\x00"
    "\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x40\x00\x00\x00\x02\x02\xc8\x5c\xbd\x23\x00\x00\x00\x00"
    "\x00\x01\x00\x00\x01\x5d\xff\x7c\xdd\x6c\x00\x00\x01\x5d\xff\x7c\xde\x14\xff\xff\xff\xff\xff\xff"
    "\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x02\x0c\x00\x00\x00\x01\x00\x00\x0e\x00\xd0\x02\x02"
    "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x3b\x00\x00\x00\x02\x02\x2e\x0b\x85\xb7"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x01\x5d\xff\x7c\xe7\x9d\x00\x00\x01\x5d\xff\x7c\xe7\x9d\xff\xff"
    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x01\x12\x00\x00\x00\x01\x06\x31\x32"
    "\x33\x00";

TEST(RecordBatchTest, ReadsBatchesWrittenByKafka) {
  absl::string_view data(kKafkaBatches, sizeof(kKafkaBatches) - 1);
  ASSERT_EQ(data.size(), 71u + 76u + 71u);
  std::vector<Rec> all;
  while (!data.empty()) {
    auto h = ValidateBatch(data);  // checks Kafka's CRC-32C
    ASSERT_TRUE(h.ok()) << h.status();
    absl::Status st;
    std::vector<Rec> recs = DecodeAll(data.substr(0, h->size_in_bytes()), &st);
    ASSERT_TRUE(st.ok()) << st;
    all.insert(all.end(), recs.begin(), recs.end());
    data.remove_prefix(h->size_in_bytes());
  }
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0], (Rec{std::nullopt, "123", 1503229838908, 0, {}}));
  EXPECT_EQ(all[1], (Rec{std::nullopt, "", 1503229959532, 1, {}}));
  EXPECT_EQ(all[2], (Rec{std::nullopt, "", 1503229959700, 2, {}}));
  EXPECT_EQ(all[3].offset, 3);
  EXPECT_EQ(all[3].value, "123");
}

TEST(RecordBatchTest, RebuildsKafkasBatchExactly) {
  // Kafka's first batch (leader epoch 1 rewritten by the broker) re-encoded by the builder.
  RecordBatchBuilder b;
  b.Append(1503229838908, std::nullopt, "123");
  auto batch = b.Finish();
  ASSERT_TRUE(batch.ok());
  SetPartitionLeaderEpoch(batch->data(), 1);
  EXPECT_EQ(ToStr(*batch), std::string(kKafkaBatches, 71));
}

TEST(RecordBatchTest, DetectsACorruptedByteAnywhereUnderTheCrc) {
  const std::string good = BuildThreeRecords();
  ASSERT_TRUE(ValidateBatch(good).ok());
  for (size_t i = bf::kCrcStart; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x01;
    auto h = ValidateBatch(bad);
    ASSERT_FALSE(h.ok()) << "byte " << i;
    EXPECT_EQ(h.status().code(), absl::StatusCode::kDataLoss);
  }
  std::string bad = good;
  bad[40] ^= 0x10;
  EXPECT_THAT(ValidateBatch(bad).status().message(), HasSubstr("CRC mismatch: stored 0x"));
  // Without CRC verification the iterator still refuses what it cannot parse, but trusts the rest.
  EXPECT_TRUE(ValidateBatch(bad, /*verify_crc=*/false).ok());
}

TEST(RecordBatchTest, ReportsTruncationAtEveryLength) {
  const std::string good = BuildThreeRecords();
  for (size_t n = 0; n < good.size(); ++n) {
    const std::string cut = good.substr(0, n);  // exact-size copy so that a read past it is a real overrun
    auto h = ValidateBatch(cut);
    ASSERT_FALSE(h.ok()) << n;
    EXPECT_EQ(h.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(h.status().message(), HasSubstr(n < 61 ? "truncated batch header" : "truncated batch: need"));
  }
}

// Truncates the records region and fixes batchLength and the CRC, as a buggy producer could: only record
// parsing can notice.
std::string ShortenConsistently(const std::string& batch, size_t n) {
  std::string s = batch.substr(0, n);
  absl::big_endian::Store32(s.data() + bf::kBatchLength, static_cast<uint32_t>(n - bf::kLogOverhead));
  absl::big_endian::Store32(s.data() + bf::kCrc, crc32c::Value(s.data() + bf::kCrcStart, n - bf::kCrcStart));
  return s;
}

TEST(RecordBatchTest, IteratorReportsRecordsCutShortAtEveryLength) {
  const std::string good = BuildThreeRecords();
  for (size_t n = bf::kHeaderSize; n < good.size(); ++n) {
    absl::Status st;
    std::vector<Rec> recs = DecodeAll(ShortenConsistently(good, n), &st);
    ASSERT_FALSE(st.ok()) << n;
    EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
    EXPECT_LT(recs.size(), 3u);
  }
}

TEST(RecordBatchTest, IteratorReportsARecordLengthPastTheBatch) {
  RecordBatchBuilder b;
  b.Append(1, "key", "value");
  std::string s = ToStr(*b.Finish());
  s[bf::kHeaderSize] = 0x7e;  // record length 63, far past the 14 bytes present
  absl::big_endian::Store32(s.data() + bf::kCrc, crc32c::Value(s.data() + 21, s.size() - 21));
  absl::Status st;
  DecodeAll(s, &st);
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(st.message(), HasSubstr("record 0 at byte 61 overruns its batch"));
}

TEST(RecordBatchTest, IteratorReportsAKeyPastItsRecord) {
  RecordBatchBuilder b;
  b.Append(1, "key", "value");
  b.Append(1, "key", "value");
  std::string s = ToStr(*b.Finish());
  // Second record: length, attributes, timestampDelta, offsetDelta, then keyLength 3 -> claim 60.
  const size_t second = bf::kHeaderSize + 1 + 14;
  ASSERT_EQ(s[second + 4], 0x06);
  s[second + 4] = 0x78;
  absl::big_endian::Store32(s.data() + bf::kCrc, crc32c::Value(s.data() + 21, s.size() - 21));
  absl::Status st;
  std::vector<Rec> recs = DecodeAll(s, &st);
  EXPECT_EQ(recs.size(), 1u);
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(st.message(), HasSubstr("record 1 at byte 76"));
  EXPECT_THAT(st.message(), HasSubstr("key"));
}

TEST(RecordBatchTest, IteratorReportsBytesAfterTheDeclaredRecords) {
  std::string s = BuildThreeRecords();
  absl::big_endian::Store32(s.data() + bf::kRecordsCount, 2);
  absl::big_endian::Store32(s.data() + bf::kCrc, crc32c::Value(s.data() + 21, s.size() - 21));
  absl::Status st;
  std::vector<Rec> recs = DecodeAll(s, &st);
  EXPECT_EQ(recs.size(), 2u);
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(st.message(), HasSubstr("declares 2 records"));
}

TEST(RecordBatchTest, SurvivesRandomCorruptionUnderAValidCrc) {
  // Seeded mutations of the records region (CRC recomputed so that parsing is reached): every outcome must
  // be either records or kDataLoss, never a crash or a read outside the batch (run under valgrind/ASan).
  std::mt19937 rng(20240601);
  for (Compression c : {Compression::kNone, Compression::kLz4, Compression::kSnappy}) {
    RecordBatchBuilder b(c);
    const HeaderRef h[] = {{"h1", "v1"}, {"h2", std::nullopt}};
    for (int i = 0; i < 20; ++i) b.Append(i * 3, absl::StrCat("key", i), std::string(i * 5, 'x'), h);
    const std::string good = ToStr(*b.Finish());
    for (int round = 0; round < 1500; ++round) {
      std::string s = good;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        const size_t at = bf::kHeaderSize + rng() % (s.size() - bf::kHeaderSize);
        s[at] = static_cast<char>(rng());
      }
      if (rng() % 4 == 0) s = ShortenConsistently(s, bf::kHeaderSize + rng() % (s.size() - bf::kHeaderSize));
      absl::big_endian::Store32(s.data() + bf::kCrc, crc32c::Value(s.data() + 21, s.size() - 21));
      absl::Status st;
      std::string scratch;
      std::vector<Rec> recs = DecodeAll(s, &st, &scratch);
      ASSERT_TRUE(st.ok() || st.code() == absl::StatusCode::kDataLoss) << st;
      ASSERT_LE(recs.size(), 20u);
    }
  }
}

TEST(RecordBatchTest, ValidateRejectsBadMagicCountsAndCodec) {
  const std::string good = BuildThreeRecords();
  auto with = [&](int at, auto store) {
    std::string s = good;
    store(s.data() + at);
    absl::big_endian::Store32(s.data() + bf::kCrc, crc32c::Value(s.data() + 21, s.size() - 21));
    return ValidateBatch(s).status();
  };
  EXPECT_THAT(with(bf::kMagic, [](char* p) { *p = 1; }).message(), HasSubstr("magic 1"));
  EXPECT_THAT(with(bf::kRecordsCount, [](char* p) { absl::big_endian::Store32(p, 0xffffffff); }).message(),
              HasSubstr("negative recordsCount -1"));
  EXPECT_THAT(with(bf::kLastOffsetDelta, [](char* p) { absl::big_endian::Store32(p, 1); }).message(),
              HasSubstr("lastOffsetDelta 1"));
  EXPECT_THAT(with(bf::kRecordsCount, [](char* p) { absl::big_endian::Store32(p, 1000); }).message(),
              HasSubstr("lastOffsetDelta"));
  EXPECT_THAT(with(bf::kAttributes, [](char* p) { absl::big_endian::Store16(p, 6); }).message(),
              HasSubstr("unknown compression codec 6"));
  EXPECT_THAT(with(bf::kBatchLength, [](char* p) { absl::big_endian::Store32(p, 48); }).message(),
              HasSubstr("invalid batchLength 48"));
  // A compacted batch may keep a lastOffsetDelta beyond its count.
  EXPECT_TRUE(with(bf::kLastOffsetDelta, [](char* p) { absl::big_endian::Store32(p, 10); }).ok());
}

TEST(RecordBatchTest, ValidateAcceptsTrailingBytesAfterTheBatch) {
  const std::string two = BuildThreeRecords() + BuildThreeRecords();
  auto h = ValidateBatch(two);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(static_cast<size_t>(h->size_in_bytes()), two.size() / 2);
}

TEST(RecordBatchTest, FinishOfAnEmptyBatchFails) {
  RecordBatchBuilder b;
  EXPECT_EQ(b.Finish().status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(RecordBatchTest, BuilderIsReusableAndTracksSizeAndTimestamps) {
  RecordBatchBuilder b;
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.size_estimate(), 61u);
  b.Append(50, "k", "v");
  b.Append(40, "k", "v");
  EXPECT_EQ(b.record_count(), 2);
  EXPECT_EQ(b.max_timestamp(), 50);
  EXPECT_EQ(b.size_estimate(), 61u + 9 + 9);
  b.Reset();
  EXPECT_TRUE(b.empty());
  b.Append(7, "x", "y");
  auto batch = b.Finish();
  ASSERT_TRUE(batch.ok());
  absl::Status st;
  std::vector<Rec> recs = DecodeAll(ToStr(*batch), &st);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0], (Rec{"x", "y", 7, 0, {}}));
}

TEST(RecordBatchTest, MovedBuilderKeepsItsBatchAndTheSourceStaysUsable) {
  RecordBatchBuilder a(Compression::kNone);
  a.Append(1, "k", "v");
  RecordBatchBuilder b(std::move(a));
  EXPECT_EQ(b.record_count(), 1);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): documented state
  a.Append(2, "x", "y");
  auto fa = a.Finish();
  ASSERT_TRUE(fa.ok());
  absl::Status st;
  EXPECT_EQ(DecodeAll(ToStr(*fa), &st)[0], (Rec{"x", "y", 2, 0, {}}));
  auto fb = b.Finish();
  ASSERT_TRUE(fb.ok());
  EXPECT_EQ(DecodeAll(ToStr(*fb), &st)[0], (Rec{"k", "v", 1, 0, {}}));
}

TEST(RecordBatchTest, RecordSizeUpperBoundCoversTheEncodedSize) {
  const HeaderRef h[] = {{"hk", "hv"}};
  RecordBatchBuilder b;
  b.Append(-5'000'000'000'000, std::string(1000, 'k'), std::string(70000, 'v'), h);
  EXPECT_LE(b.size_estimate() - 61, RecordBatchBuilder::RecordSizeUpperBound(1000, 70000, h));
}

TEST(RecordBatchTest, ViewsCarryThePartition) {
  const std::string s = BuildThreeRecords();
  auto it = RecordIterator::Open(s, nullptr);
  ASSERT_TRUE(it.ok());
  it->set_partition(5);
  RecordView r;
  ASSERT_TRUE(it->Next(&r));
  EXPECT_EQ(r.partition(), 5);
}

TEST(RecordBatchTest, DefaultIteratorIsEmpty) {
  RecordIterator it;
  RecordView r;
  EXPECT_FALSE(it.Next(&r));
  EXPECT_TRUE(it.status().ok());
}

TEST(TopicPartitionTest, ToStringUsesKafkasDirectoryName) {
  EXPECT_EQ(ToString(TopicPartition{"orders", 3}), "orders-3");
}

}  // namespace
}  // namespace eddy
