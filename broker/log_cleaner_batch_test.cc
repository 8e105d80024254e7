// Log compaction at the record level: the offset map, what BatchFilter keeps of a batch and how it rewrites
// it (offsets, codec, CRC, delete horizon), and the null-key rule of compacted topics.
#include "broker/log_cleaner_batch.h"

#include <string>
#include <vector>

#include "broker/log_cleaner_offset_map.h"
#include "broker/log_cleaner_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy::broker {
namespace {

namespace bf = batch_format;
using ::testing::HasSubstr;
using testing_util::kCleanerNow;
using testing_util::KeyedBatch;
using testing_util::KeyedRecord;

// ---- OffsetMap ----------------------------------------------------------------------------------------------

TEST(OffsetMapTest, KeepsTheLatestOffsetPerKey) {
  OffsetMap map(1 << 20);
  EXPECT_TRUE(map.Put("a", 1));
  EXPECT_TRUE(map.Put("b", 2));
  EXPECT_TRUE(map.Put("a", 7));
  EXPECT_TRUE(map.Put("", 8));  // an empty key is a key
  EXPECT_EQ(map.Get("a"), 7);
  EXPECT_EQ(map.Get("b"), 2);
  EXPECT_EQ(map.Get(""), 8);
  EXPECT_EQ(map.Get("c"), -1);
  EXPECT_EQ(map.size(), 3u);
}

TEST(OffsetMapTest, RefusesANewKeyPastItsBudgetButStillUpdatesKnownKeys) {
  OffsetMap map(500);  // room for a handful of entries
  int put = 0;
  while (map.Put(absl::StrCat("key-", put), put)) ++put;
  EXPECT_GT(put, 1);
  EXPECT_LE(map.memory_used(), 500);
  EXPECT_EQ(map.Get(absl::StrCat("key-", put)), -1);  // the refused key changed nothing
  EXPECT_EQ(map.size(), static_cast<size_t>(put));
  EXPECT_TRUE(map.Put("key-0", 1000));
  EXPECT_EQ(map.Get("key-0"), 1000);
}

TEST(OffsetMapTest, ClearForgetsKeysAndKeysLargerThanAnArenaChunkWork) {
  OffsetMap map(int64_t{64} << 20);
  const std::string big(3 << 20, 'x');
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 10000; ++i) ASSERT_TRUE(map.Put(absl::StrCat("k", i, "-", round), i));
    ASSERT_TRUE(map.Put(big, 5));
    EXPECT_EQ(map.Get(big), 5);
    EXPECT_EQ(map.Get(absl::StrCat("k", 9999, "-", round)), 9999);
    map.set_latest_offset(9999);
    map.Clear();
    EXPECT_EQ(map.Get(big), -1);
    EXPECT_EQ(map.Get(absl::StrCat("k", 1, "-", round)), -1);
    EXPECT_EQ(map.latest_offset(), -1);
  }
}

// ---- BatchFilter --------------------------------------------------------------------------------------------

class BatchFilterTest : public ::testing::Test {
 protected:
  // A batch at base offset `base` (as the log would store it).
  static std::string At(std::string batch, int64_t base) {
    SetBaseOffset(batch.data(), base);
    SetPartitionLeaderEpoch(batch.data(), 0);
    return batch;
  }
  absl::StatusOr<std::string> Run(const std::string& batch, bool retain_if_empty = false, int64_t now = kCleanerNow) {
    std::string out;
    RecordRetention rules{&map_, now, 1000};
    absl::Status s = filter_.Filter(batch, rules, retain_if_empty, &out, &result_);
    if (!s.ok()) return s;
    return out;
  }
  static std::vector<testing_util::StoredRecord> Decode(const std::string& batch) {
    std::vector<testing_util::StoredRecord> out;
    std::string scratch;
    absl::StatusOr<RecordIterator> it = RecordIterator::Open(batch, &scratch, /*verify_crc=*/true);
    EXPECT_TRUE(it.ok()) << it.status();
    if (!it.ok()) return out;
    RecordView v;
    while (it->Next(&v)) {
      testing_util::StoredRecord r{v.offset(), v.timestamp(), std::nullopt, std::nullopt};
      if (v.has_key()) r.key = std::string(v.key());
      if (v.has_value()) r.value = std::string(v.value());
      out.push_back(r);
    }
    EXPECT_TRUE(it->status().ok()) << it->status();
    return out;
  }

  OffsetMap map_{1 << 20};
  BatchFilter filter_;
  BatchFilterResult result_;
};

TEST_F(BatchFilterTest, ABatchWhoseRecordsAreAllLatestIsCopiedByteForByte) {
  const std::string in = At(KeyedBatch({{"a", "1"}, {"b", "2"}}, kCleanerNow), 100);
  map_.Put("a", 100);
  map_.Put("b", 101);
  map_.set_latest_offset(101);
  absl::StatusOr<std::string> out = Run(in);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, in);
  EXPECT_EQ(result_.output, BatchFilterResult::Output::kOriginal);
}

TEST_F(BatchFilterTest, SupersededRecordsGoButTheBatchKeepsItsOffsetRangeAndAValidCrc) {
  const std::string in = At(KeyedBatch({{"a", "1"}, {"b", "2"}, {"a", "3"}, {"c", "4"}}, kCleanerNow), 100);
  map_.Put("a", 102);
  map_.Put("b", 500);  // superseded later in the log
  map_.Put("c", 103);
  map_.set_latest_offset(600);
  absl::StatusOr<std::string> out = Run(in);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(result_.output, BatchFilterResult::Output::kRewritten);
  EXPECT_EQ(result_.records_read, 4);
  EXPECT_EQ(result_.records_kept, 2);
  absl::StatusOr<BatchHeaderView> h = ValidateBatch(*out, /*verify_crc=*/true);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->base_offset(), 100);
  EXPECT_EQ(h->last_offset_delta(), 3);
  EXPECT_EQ(h->records_count(), 2);
  EXPECT_EQ(h->size_in_bytes(), static_cast<int64_t>(out->size()));
  EXPECT_EQ(h->max_timestamp(), kCleanerNow + 3);
  const auto recs = Decode(*out);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].offset, 102);
  EXPECT_EQ(*recs[0].value, "3");
  EXPECT_EQ(recs[0].timestamp, kCleanerNow + 2);
  EXPECT_EQ(recs[1].offset, 103);
  EXPECT_EQ(*recs[1].key, "c");
}

TEST_F(BatchFilterTest, RecordsPastTheMapAreKeptAndKeylessOnesRemoved) {
  const std::string in = At(KeyedBatch({{std::nullopt, "x"}, {"a", "1"}, {"a", "2"}}, kCleanerNow), 10);
  map_.Put("a", 50);
  map_.set_latest_offset(10);  // offsets 11 and 12 were not mapped
  ASSERT_TRUE(Run(in).ok());
  EXPECT_EQ(result_.records_kept, 2);
  absl::StatusOr<std::string> out = Run(in);
  const auto recs = Decode(*out);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].offset, 11);
  EXPECT_EQ(recs[1].offset, 12);
}

TEST_F(BatchFilterTest, AnEmptiedBatchIsDroppedUnlessItMustStayThenItIsAHeaderWithTheSameOffsets) {
  const std::string in = At(KeyedBatch({{"a", "1"}, {"a", "2"}}, kCleanerNow, Compression::kLz4, 42), 20);
  map_.Put("a", 99);
  map_.set_latest_offset(99);
  absl::StatusOr<std::string> dropped = Run(in);
  ASSERT_TRUE(dropped.ok());
  EXPECT_TRUE(dropped->empty());
  EXPECT_EQ(result_.output, BatchFilterResult::Output::kDropped);

  absl::StatusOr<std::string> empty = Run(in, /*retain_if_empty=*/true);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(result_.output, BatchFilterResult::Output::kEmpty);
  absl::StatusOr<BatchHeaderView> h = ValidateBatch(*empty, /*verify_crc=*/true);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(empty->size(), static_cast<size_t>(bf::kHeaderSize));
  EXPECT_EQ(h->base_offset(), 20);
  EXPECT_EQ(h->last_offset(), 21);
  EXPECT_EQ(h->records_count(), 0);
  EXPECT_EQ(h->compression(), Compression::kNone);
  EXPECT_EQ(h->producer_id(), 42);
  EXPECT_EQ(h->max_timestamp(), kCleanerNow + 1);
  // Kept again by the next cleaning, unchanged.
  absl::StatusOr<std::string> again = Run(*empty, /*retain_if_empty=*/true);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *empty);
}

class BatchFilterCodecTest : public BatchFilterTest, public ::testing::WithParamInterface<Compression> {};

TEST_P(BatchFilterCodecTest, ACompressedBatchIsRecompressedWithItsCodec) {
  std::vector<KeyedRecord> records;
  for (int i = 0; i < 200; ++i) records.push_back({absl::StrCat("k", i % 50), std::string(100, 'a' + i % 26)});
  const std::string in = At(KeyedBatch(records, kCleanerNow, GetParam()), 1000);
  for (int i = 0; i < 200; ++i) map_.Put(absl::StrCat("k", i % 50), 1000 + i);
  map_.set_latest_offset(1199);
  absl::StatusOr<std::string> out = Run(in);
  ASSERT_TRUE(out.ok()) << out.status();
  absl::StatusOr<BatchHeaderView> h = ValidateBatch(*out, /*verify_crc=*/true);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->compression(), GetParam());
  EXPECT_EQ(h->records_count(), 50);
  EXPECT_EQ(h->last_offset(), 1199);
  const auto recs = Decode(*out);
  ASSERT_EQ(recs.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(recs[i].offset, 1150 + i);
    EXPECT_EQ(*recs[i].key, absl::StrCat("k", i));
    EXPECT_EQ(*recs[i].value, std::string(100, 'a' + (150 + i) % 26));
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, BatchFilterCodecTest,
                         ::testing::Values(Compression::kNone, Compression::kGzip, Compression::kSnappy,
                                           Compression::kLz4, Compression::kZstd));

TEST_F(BatchFilterTest, AKeptTombstoneGetsADeleteHorizonAndGoesOnceItPasses) {
  const std::string in = At(KeyedBatch({{"a", "1"}, {"b", std::nullopt}, {"c", "3"}}, kCleanerNow), 0);
  map_.Put("a", 0);
  map_.Put("b", 1);
  map_.Put("c", 2);
  map_.set_latest_offset(2);
  // First cleaning: kept, horizon = now + delete.retention.ms (1000 here), record timestamps unchanged.
  absl::StatusOr<std::string> first = Run(in, false, kCleanerNow + 5);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(result_.delete_horizon, kCleanerNow + 1005);
  absl::StatusOr<BatchHeaderView> h = ValidateBatch(*first, /*verify_crc=*/true);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_TRUE(h->attributes() & bf::kDeleteHorizonBit);
  EXPECT_EQ(h->base_timestamp(), kCleanerNow + 1005);
  EXPECT_EQ(h->max_timestamp(), kCleanerNow + 2);
  auto recs = Decode(*first);
  ASSERT_EQ(recs.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(recs[i].timestamp, kCleanerNow + i);
  EXPECT_FALSE(recs[1].value.has_value());

  // Before the horizon: unchanged.
  absl::StatusOr<std::string> second = Run(*first, false, kCleanerNow + 1004);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, *first);
  EXPECT_EQ(result_.delete_horizon, kCleanerNow + 1005);
  // At the horizon: the tombstone goes and the batch loses its horizon.
  absl::StatusOr<std::string> third = Run(*first, false, kCleanerNow + 1005);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(result_.delete_horizon, kNoDeleteHorizon);
  h = ValidateBatch(*third, /*verify_crc=*/true);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_FALSE(h->attributes() & bf::kDeleteHorizonBit);
  EXPECT_EQ(h->last_offset_delta(), 2);
  recs = Decode(*third);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].timestamp, kCleanerNow);
  EXPECT_EQ(recs[1].offset, 2);
  EXPECT_EQ(recs[1].timestamp, kCleanerNow + 2);
}

TEST_F(BatchFilterTest, ALogAppendTimeBatchKeepsItsAppendTime) {
  std::string in = At(KeyedBatch({{"a", "1"}, {"a", "2"}, {"b", "3"}}, kCleanerNow), 0);
  SetLogAppendTime(absl::MakeSpan(in), kCleanerNow + 777);
  map_.Put("a", 1);
  map_.Put("b", 2);
  map_.set_latest_offset(2);
  absl::StatusOr<std::string> out = Run(in);
  ASSERT_TRUE(out.ok());
  const auto recs = Decode(*out);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].timestamp, kCleanerNow + 777);
  EXPECT_EQ(BatchHeaderView(out->data()).max_timestamp(), kCleanerNow + 777);
}

TEST(CheckRecordKeysTest, NamesTheTopicAndTheKeylessRecord) {
  std::string scratch;
  EXPECT_TRUE(CheckRecordKeys(KeyedBatch({{"a", "1"}, {"", "2"}}, 0), "t", &scratch).ok());
  absl::Status s = CheckRecordKeys(KeyedBatch({{"a", "1"}, {std::nullopt, "2"}}, 0, Compression::kZstd), "t", &scratch);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("compacted topic t requires keys"));
  EXPECT_THAT(s.message(), HasSubstr("record 1"));
}

}  // namespace
}  // namespace eddy::broker
