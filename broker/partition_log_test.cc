// PartitionLog: appends, reads (Kafka fetch semantics), validation and ListOffsets.
#include "broker/partition_log.h"

#include <memory>
#include <string>

#include "absl/base/internal/endian.h"
#include "broker/log_test_util.h"
#include "eddy/core/crc32c.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy::broker {
namespace {

using testing_util::BatchOffsets;
using testing_util::DecodeAll;
using testing_util::MakeBatch;
using testing_util::TempDir;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1'700'000'000'000;

class PartitionLogTest : public ::testing::Test {
 protected:
  std::unique_ptr<PartitionLog> OpenLog(LogConfig config = LogConfig(), bool clean = true) {
    RecoveryInfo info;
    info.clean_shutdown = clean;
    absl::StatusOr<std::unique_ptr<PartitionLog>> log = PartitionLog::Open(dir_.Sub("t-0"), {"t", 0}, config, info);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : nullptr;
  }

  AppendResult AppendBatch(PartitionLog& log, int count, size_t value_size = 50, int64_t ts = kNow) {
    absl::StatusOr<AppendResult> r = testing_util::AppendOffsetBatch(log, count, value_size, ts, kNow);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : AppendResult{};
  }

  // Reads and checks offsets [first, end) of ValueForOffset content.
  void ExpectContent(const PartitionLog& log, int64_t first, int64_t end, int32_t max_bytes = 1 << 20) {
    absl::StatusOr<std::vector<testing_util::DecodedRecord>> recs = testing_util::ReadRange(log, first, max_bytes);
    ASSERT_TRUE(recs.ok()) << recs.status();
    EXPECT_EQ(testing_util::CheckOffsetContent(*recs, first, end, 50), absl::OkStatus());
  }

  TempDir dir_;
};

TEST_F(PartitionLogTest, AppendsAssignConsecutiveOffsetsAndReadBackAcrossSegmentRolls) {
  LogConfig config;
  config.segment_bytes = 4096;
  config.index_interval_bytes = 512;
  auto log = OpenLog(config);
  for (int i = 0; i < 60; ++i) {
    AppendResult r = AppendBatch(*log, 5);
    EXPECT_EQ(r.first_offset, i * 5);
    EXPECT_EQ(r.last_offset, i * 5 + 4);
    EXPECT_EQ(r.log_append_time, -1);
  }
  EXPECT_EQ(log->log_end_offset(), 300);
  EXPECT_GT(log->segment_count(), 5);
  ExpectContent(*log, 0, 300);
  // Small reads step through every segment boundary.
  ExpectContent(*log, 0, 300, 1);
  ExpectContent(*log, 123, 300);
}

TEST_F(PartitionLogTest, ReadStartingInsideABatchReturnsTheWholeBatch) {
  auto log = OpenLog();
  AppendBatch(*log, 10);
  AppendBatch(*log, 10);
  AppendBatch(*log, 10);
  std::string out;
  absl::StatusOr<ReadResult> r = log->Read(15, 1 << 20, &out);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->high_watermark, 30);
  EXPECT_EQ(r->bytes, static_cast<int64_t>(out.size()));
  EXPECT_THAT(BatchOffsets(out), ::testing::ElementsAre(std::make_pair(10, 19), std::make_pair(20, 29)));
}

TEST_F(PartitionLogTest, ReadReturnsAtLeastOneWholeBatchAndOnlyWholeBatches) {
  auto log = OpenLog();
  for (int i = 0; i < 5; ++i) AppendBatch(*log, 10);
  std::string one;
  ASSERT_TRUE(log->Read(0, 1, &one).ok());
  EXPECT_THAT(BatchOffsets(one), ::testing::ElementsAre(std::make_pair(0, 9)));
  const int32_t batch_size = static_cast<int32_t>(one.size());
  std::string two;
  ASSERT_TRUE(log->Read(0, batch_size * 2 + batch_size / 2, &two).ok());
  EXPECT_EQ(BatchOffsets(two).size(), 2u);
  EXPECT_EQ(two.size(), static_cast<size_t>(batch_size) * 2);
  // Read appends to the output.
  ASSERT_TRUE(log->Read(40, 1, &two).ok());
  EXPECT_EQ(BatchOffsets(two).back(), std::make_pair(int64_t{40}, int64_t{49}));
}

TEST_F(PartitionLogTest, TailReadsWithAHintReturnWhatReadsWithoutOneDoAcrossRolls) {
  LogConfig config;
  config.segment_bytes = 2048;
  config.index_interval_bytes = 256;
  auto log = OpenLog(config);
  ReadHint hint;
  int64_t next = 0;
  for (int round = 0; round < 40; ++round) {
    for (int b = 0; b <= round % 3; ++b) AppendBatch(*log, 1 + round % 4);
    std::string with, without;
    absl::StatusOr<ReadResult> r = log->Read(next, 1 << 20, &with, &hint);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(log->Read(next, 1 << 20, &without).ok());
    ASSERT_EQ(with, without) << "round " << round;
    ASSERT_FALSE(BatchOffsets(with).empty());
    EXPECT_EQ(BatchOffsets(with).front().first, next);
    next = BatchOffsets(with).back().second + 1;
    if (next == log->log_end_offset() && with.size() <= 2048) {
      // Reached the end inside one segment (the read stops at a segment's end otherwise).
      EXPECT_NE(hint.segment_id, 0u);
      EXPECT_EQ(hint.offset, next);
    }
  }
  EXPECT_GT(log->segment_count(), 3);
  EXPECT_EQ(next, log->log_end_offset());
  // A read cut after its one batch leaves a hint at the next; one from another offset ignores the hint.
  AppendBatch(*log, 3);
  AppendBatch(*log, 3);
  std::string part;
  ASSERT_TRUE(log->Read(next, 1, &part, &hint).ok());
  EXPECT_NE(hint.segment_id, 0u);
  EXPECT_EQ(hint.offset, next + 3);
  ASSERT_TRUE(log->Read(next + 3, 1 << 20, &part, &hint).ok());
  EXPECT_EQ(hint.offset, log->log_end_offset());
  std::string again;
  ASSERT_TRUE(log->Read(next, 1 << 20, &again, &hint).ok());
  EXPECT_EQ(BatchOffsets(again).front(), std::make_pair(next, next + 2));
  // Catching up in max_bytes steps: each cut leaves a hint at the next batch, and the hinted reads return
  // what unhinted ones do.
  hint = ReadHint{};
  int64_t at = 0;
  int hinted = 0;
  while (at < log->log_end_offset()) {
    const bool had_hint = hint.segment_id != 0 && hint.offset == at;
    std::string with, without;
    ASSERT_TRUE(log->Read(at, 300, &with, &hint).ok());
    ASSERT_TRUE(log->Read(at, 300, &without).ok());
    ASSERT_EQ(with, without) << "at " << at;
    hinted += had_hint ? 1 : 0;
    at = BatchOffsets(with).back().second + 1;
    if (hint.segment_id != 0) {
      EXPECT_EQ(hint.offset, at);
    }
  }
  EXPECT_GT(hinted, 20);
}

// A reader whose budget is about one batch (the embedded consumer's share of max.poll.records) is cut
// right after the first batch, with max_bytes below it or too little left for another: each read leaves a
// hint at the next batch, and hinted reads return what unhinted ones do.
TEST_F(PartitionLogTest, ReadsOfOneBatchEachLeaveAHintAtTheNext) {
  LogConfig config;
  config.segment_bytes = 16384;
  config.index_interval_bytes = 1;  // an index entry at every batch, as with batches of 4 KiB or more
  auto log = OpenLog(config);
  for (int i = 0; i < 60; ++i) AppendBatch(*log, 1 + i % 5, /*value_size=*/400);  // ~0.5 to 2 KiB
  std::string first;
  ASSERT_TRUE(log->Read(0, 1, &first).ok());
  const int32_t one = static_cast<int32_t>(first.size());
  // The last: several batches, the cut inside a batch that starts more than 1 KiB before it.
  for (int32_t max_bytes : {1, one, one + 60, 5000}) {
    ReadHint hint;
    int64_t at = 0;
    int reads = 0, hinted = 0;
    while (at < log->log_end_offset()) {
      const bool had_hint = hint.segment_id != 0 && hint.offset == at;
      std::string with, without;
      ASSERT_TRUE(log->Read(at, max_bytes, &with, &hint).ok());
      ASSERT_TRUE(log->Read(at, max_bytes, &without).ok());
      ASSERT_EQ(with, without) << "at " << at << ", max_bytes " << max_bytes;
      ASSERT_FALSE(BatchOffsets(with).empty());
      ++reads;
      hinted += had_hint ? 1 : 0;
      at = BatchOffsets(with).back().second + 1;
      if (hint.segment_id != 0) {
        EXPECT_EQ(hint.offset, at);
      }
    }
    EXPECT_EQ(at, log->log_end_offset());
    EXPECT_GT(log->segment_count(), 3);
    // Every read had a hint but the first and those after a read that ended at a segment's end.
    EXPECT_GE(hinted, reads - log->segment_count()) << "max_bytes " << max_bytes;
  }
}

TEST_F(PartitionLogTest, ReadAtTheEndIsEmptyAndOutsideTheLogIsOutOfRange) {
  auto log = OpenLog();
  AppendBatch(*log, 10);
  std::string out;
  absl::StatusOr<ReadResult> at_end = log->Read(10, 1000, &out);
  ASSERT_TRUE(at_end.ok());
  EXPECT_EQ(at_end->bytes, 0);
  EXPECT_EQ(at_end->high_watermark, 10);
  absl::StatusOr<ReadResult> past = log->Read(11, 1000, &out);
  EXPECT_EQ(past.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(past.status().message(), HasSubstr("log start offset 0, log end offset 10"));
  EXPECT_EQ(log->Read(-1, 1000, &out).status().code(), absl::StatusCode::kOutOfRange);
}

TEST_F(PartitionLogTest, OversizedBatchIsRejectedAndNothingElseIsLost) {
  LogConfig config;
  config.max_message_bytes = 2000;
  auto log = OpenLog(config);
  AppendBatch(*log, 5);
  std::string big = MakeBatch(50, 100, kNow);
  absl::StatusOr<AppendResult> r = log->Append(absl::MakeSpan(big), kNow);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              HasSubstr(absl::StrCat("record batch of ", big.size(), " bytes exceeds max.message.bytes 2000")));
  // A good batch followed by an oversized one in the same append: nothing of it is stored.
  std::string both = MakeBatch(5, 50, kNow, 5) + big;
  EXPECT_EQ(log->Append(absl::MakeSpan(both), kNow).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->log_end_offset(), 5);
  AppendBatch(*log, 5);
  ExpectContent(*log, 0, 10);
}

TEST_F(PartitionLogTest, CorruptControlAndEmptyAppendsAreRejected) {
  auto log = OpenLog();
  std::string bad_crc = MakeBatch(3, 10, kNow);
  bad_crc[bad_crc.size() - 1] ^= 1;
  EXPECT_EQ(log->Append(absl::MakeSpan(bad_crc), kNow).status().code(), absl::StatusCode::kDataLoss);
  std::string truncated = MakeBatch(3, 10, kNow);
  truncated.resize(truncated.size() - 3);
  EXPECT_EQ(log->Append(absl::MakeSpan(truncated), kNow).status().code(), absl::StatusCode::kDataLoss);
  std::string control = MakeBatch(1, 10, kNow);
  absl::big_endian::Store16(control.data() + batch_format::kAttributes, batch_format::kControlBit);
  absl::big_endian::Store32(control.data() + batch_format::kCrc,
                            crc32c::Value(control.data() + batch_format::kCrcStart,
                                          control.size() - batch_format::kCrcStart));
  EXPECT_EQ(log->Append(absl::MakeSpan(control), kNow).status().code(), absl::StatusCode::kInvalidArgument);
  std::string empty;
  EXPECT_EQ(log->Append(absl::MakeSpan(empty), kNow).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->log_end_offset(), 0);
}

TEST_F(PartitionLogTest, LogAppendTimeStampsTheBatchWithAValidCrc) {
  LogConfig config;
  config.message_timestamp_type = TimestampType::kLogAppendTime;
  auto log = OpenLog(config);
  std::string batch = MakeBatch(3, 10, /*ts=*/5);
  absl::StatusOr<AppendResult> r = log->Append(absl::MakeSpan(batch), kNow);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->log_append_time, kNow);
  std::string out;
  ASSERT_TRUE(log->Read(0, 1000, &out).ok());
  absl::StatusOr<std::vector<testing_util::DecodedRecord>> recs = DecodeAll(out);  // checks the CRC
  ASSERT_TRUE(recs.ok()) << recs.status();
  ASSERT_EQ(recs->size(), 3u);
  for (const auto& rec : *recs) EXPECT_EQ(rec.timestamp, kNow);
  absl::StatusOr<OffsetAndTimestamp> found = log->OffsetForTimestamp(kNow);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->offset, 0);
}

TEST_F(PartitionLogTest, OffsetForTimestampFindsTheFirstRecordAtOrAfterIt) {
  LogConfig config;
  config.segment_bytes = 2048;
  config.index_interval_bytes = 256;
  auto log = OpenLog(config);
  // Batch i holds 10 records with timestamps 1000*i + 0..9; batch 3 is compressed.
  for (int i = 0; i < 30; ++i) {
    std::string batch = MakeBatch(10, 40, 1000 * i, log->log_end_offset(), i == 3 ? Compression::kLz4 : Compression::kNone);
    ASSERT_TRUE(log->Append(absl::MakeSpan(batch), kNow).ok());
  }
  ASSERT_GT(log->segment_count(), 3);
  auto lookup = [&](int64_t ts) {
    absl::StatusOr<OffsetAndTimestamp> r = log->OffsetForTimestamp(ts);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : OffsetAndTimestamp{-99, -99};
  };
  EXPECT_EQ(lookup(0).offset, 0);
  EXPECT_EQ(lookup(3004).offset, 34);  // exact, in the compressed batch
  EXPECT_EQ(lookup(3004).timestamp, 3004);
  EXPECT_EQ(lookup(17005).offset, 175);  // exact
  EXPECT_EQ(lookup(17500).offset, 180);  // between batches: the next batch's first record
  EXPECT_EQ(lookup(17500).timestamp, 18000);
  EXPECT_EQ(lookup(29009).offset, 299);
  EXPECT_EQ(lookup(29010).offset, -1);  // after the last record
  EXPECT_EQ(lookup(kLatestTimestamp).offset, 300);
  EXPECT_EQ(lookup(kEarliestTimestamp).offset, 0);
  EXPECT_EQ(log->OffsetForTimestamp(-5).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PartitionLogTest, SegmentRollsByAgeOfItsFirstAppend) {
  LogConfig config;
  config.segment_ms = 1000;
  auto log = OpenLog(config);
  std::string b1 = MakeBatch(1, 10, kNow);
  ASSERT_TRUE(log->Append(absl::MakeSpan(b1), kNow).ok());
  std::string b2 = MakeBatch(1, 10, kNow);
  ASSERT_TRUE(log->Append(absl::MakeSpan(b2), kNow + 1000).ok());
  EXPECT_EQ(log->segment_count(), 1);
  std::string b3 = MakeBatch(1, 10, kNow);
  ASSERT_TRUE(log->Append(absl::MakeSpan(b3), kNow + 1001).ok());
  EXPECT_EQ(log->segment_count(), 2);
}

TEST_F(PartitionLogTest, ConfigRejectsUnknownKeysAndBadValuesNamingThem) {
  LogConfig defaults;
  absl::StatusOr<LogConfig> c = LogConfig::FromMap(defaults, {{"segment.bytes", "1024"}, {"retention.ms", "-1"},
                                                              {"cleanup.policy", "compact,delete"},
                                                              {"message.timestamp.type", "LogAppendTime"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->segment_bytes, 1024);
  EXPECT_EQ(c->retention_ms, -1);
  EXPECT_TRUE(c->delete_enabled());
  EXPECT_EQ(c->ToMap().at("message.timestamp.type"), "LogAppendTime");
  EXPECT_EQ(c->ToMap().at("segment.bytes"), "1024");
  EXPECT_FALSE(LogConfig::FromMap(defaults, {{"cleanup.policy", "compact"}})->delete_enabled());

  absl::Status unknown = LogConfig::FromMap(defaults, {{"segment.byte", "1"}}).status();
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.message(), HasSubstr("segment.byte"));
  absl::Status bad = LogConfig::FromMap(defaults, {{"retention.ms", "soon"}}).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("Invalid value soon for configuration retention.ms"));
  EXPECT_THAT(LogConfig::FromMap(defaults, {{"segment.bytes", "3000000000"}}).status().message(),
              HasSubstr("segment.bytes"));
  EXPECT_FALSE(LogConfig::FromMap(defaults, {{"segment.bytes", "10"}}).ok());
  EXPECT_FALSE(LogConfig::FromMap(defaults, {{"retention.ms", "-2"}}).ok());
  EXPECT_FALSE(LogConfig::FromMap(defaults, {{"message.timestamp.type", "Now"}}).ok());
  EXPECT_FALSE(LogConfig::FromMap(defaults, {{"cleanup.policy", "delete,shred"}}).ok());
}

TEST(TopicNameTest, FollowsKafkasRules) {
  EXPECT_TRUE(ValidateTopicName("ok.name_-1").ok());
  EXPECT_TRUE(ValidateTopicName(std::string(249, 'a')).ok());
  EXPECT_THAT(ValidateTopicName("").message(), HasSubstr("can't be empty"));
  EXPECT_THAT(ValidateTopicName(".").message(), HasSubstr("cannot be \".\" or \"..\""));
  EXPECT_EQ(ValidateTopicName("..").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ValidateTopicName(std::string(250, 'a')).message(), HasSubstr("longer than 249 characters"));
  EXPECT_THAT(ValidateTopicName("a/b").message(), HasSubstr("contains a character other than ASCII alphanumerics"));
  EXPECT_EQ(ValidateTopicName("a b").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateTopicName("caf\xc3\xa9").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace eddy::broker
