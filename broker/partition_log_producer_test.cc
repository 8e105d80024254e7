// PartitionLog: the idempotent producer's checks, their snapshot files and recovery, Kafka error codes on
// refused appends, and ReadSlices (file ranges for sendfile).
#include <fcntl.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/internal/endian.h"
#include "broker/error_code.h"
#include "broker/log_test_util.h"
#include "broker/partition_log.h"
#include "eddy/core/crc32c.h"
#include "eddy/core/record_batch.h"
#include "gtest/gtest.h"

namespace eddy::broker {
namespace {

using testing_util::MakeBatch;
using testing_util::TempDir;

constexpr int64_t kNow = 1'700'000'000'000;

// One batch of `count` records from producer `pid` starting at sequence `seq`.
std::string ProducerBatch(int64_t pid, int16_t epoch, int32_t seq, int count = 3) {
  RecordBatchBuilder b(Compression::kNone);
  b.SetProducer(pid, epoch, seq);
  for (int i = 0; i < count; ++i) b.Append(kNow + i, absl::StrCat("k", i), std::string(40, 'v'));
  absl::StatusOr<absl::Span<char>> span = b.Finish();
  return span.ok() ? std::string(span->data(), span->size()) : std::string();
}

std::optional<ErrorCode> CodeOf(const absl::StatusOr<AppendResult>& r) { return KafkaErrorOf(r.status()); }

class PartitionLogProducerTest : public ::testing::Test {
 protected:
  std::unique_ptr<PartitionLog> OpenLog(bool clean, LogConfig config = LogConfig()) {
    RecoveryInfo info;
    info.clean_shutdown = clean;
    absl::StatusOr<std::unique_ptr<PartitionLog>> log = PartitionLog::Open(dir_.Sub("t-0"), {"t", 0}, config, info);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : nullptr;
  }
  absl::StatusOr<AppendResult> Append(PartitionLog& log, std::string batch) {
    return log.Append(absl::MakeSpan(batch), kNow);
  }

  TempDir dir_;
};

TEST_F(PartitionLogProducerTest, RetryReturnsTheOriginalOffsetsAndAppendsNothing) {
  auto log = OpenLog(true);
  ASSERT_TRUE(Append(*log, ProducerBatch(7, 0, 0)).ok());
  absl::StatusOr<AppendResult> second = Append(*log, ProducerBatch(7, 0, 3));
  ASSERT_TRUE(second.ok());
  absl::StatusOr<AppendResult> retry = Append(*log, ProducerBatch(7, 0, 3));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->first_offset, second->first_offset);
  EXPECT_EQ(retry->last_offset, second->last_offset);
  EXPECT_EQ(log->log_end_offset(), 6);
}

TEST_F(PartitionLogProducerTest, GapsUnknownProducersAndOldEpochsAreRefusedWithKafkasCodes) {
  auto log = OpenLog(true);
  ASSERT_TRUE(Append(*log, ProducerBatch(7, 1, 0)).ok());
  EXPECT_EQ(CodeOf(Append(*log, ProducerBatch(7, 1, 5))), ErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_EQ(CodeOf(Append(*log, ProducerBatch(8, 0, 4))), ErrorCode::kUnknownProducerId);
  EXPECT_EQ(CodeOf(Append(*log, ProducerBatch(7, 0, 3))), ErrorCode::kInvalidProducerEpoch);
  EXPECT_EQ(CodeOf(Append(*log, ProducerBatch(7, 2, 3))), ErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_TRUE(Append(*log, ProducerBatch(7, 2, 0)).ok());  // a new epoch starts at 0
  EXPECT_TRUE(Append(*log, ProducerBatch(-1, -1, -1)).ok());  // not idempotent: never checked
  EXPECT_EQ(log->log_end_offset(), 9);
}

TEST_F(PartitionLogProducerTest, RefusedAppendsCarryTheKafkaErrorToAnswer) {
  LogConfig config;
  config.max_message_bytes = 2000;
  auto log = OpenLog(true, config);
  EXPECT_EQ(CodeOf(Append(*log, MakeBatch(50, 100, kNow))), ErrorCode::kMessageTooLarge);
  std::string bad_crc = MakeBatch(3, 10, kNow);
  bad_crc.back() ^= 1;
  EXPECT_EQ(CodeOf(Append(*log, bad_crc)), ErrorCode::kCorruptMessage);
  std::string control = MakeBatch(1, 10, kNow);
  absl::big_endian::Store16(control.data() + batch_format::kAttributes, batch_format::kControlBit);
  absl::big_endian::Store32(control.data() + batch_format::kCrc,
                            crc32c::Value(control.data() + batch_format::kCrcStart, control.size() - batch_format::kCrcStart));
  EXPECT_EQ(CodeOf(Append(*log, control)), ErrorCode::kInvalidRecord);
  EXPECT_EQ(CodeOf(Append(*log, "")), ErrorCode::kInvalidRecord);
  EXPECT_EQ(CodeOf(Append(*log, ProducerBatch(7, 0, 0) + ProducerBatch(8, 0, 0))), ErrorCode::kInvalidRecord);
  ASSERT_TRUE(log->Close().ok());
  EXPECT_EQ(CodeOf(Append(*log, MakeBatch(1, 10, kNow))), ErrorCode::kNotLeaderOrFollower);
  log->MarkDeleted();
  EXPECT_EQ(CodeOf(Append(*log, MakeBatch(1, 10, kNow))), ErrorCode::kUnknownTopicOrPartition);
}

// Appends batches of producers 7 and 9 across several segments; returns the offsets of 7's last batch.
AppendResult AppendAcrossRolls(PartitionLog& log) {
  AppendResult last;
  for (int i = 0; i < 12; ++i) {
    std::string b = ProducerBatch(7, 0, i * 3);
    last = *log.Append(absl::MakeSpan(b), kNow);
    std::string other = ProducerBatch(9, 0, i * 3);
    EXPECT_TRUE(log.Append(absl::MakeSpan(other), kNow).ok());
  }
  return last;
}

void ExpectStateSurvived(PartitionLog& log, const AppendResult& last) {
  std::string retry = ProducerBatch(7, 0, 33);
  absl::StatusOr<AppendResult> dup = log.Append(absl::MakeSpan(retry), kNow);
  ASSERT_TRUE(dup.ok()) << dup.status();
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(dup->first_offset, last.first_offset);
  std::string gap = ProducerBatch(9, 0, 40);
  EXPECT_EQ(KafkaErrorOf(log.Append(absl::MakeSpan(gap), kNow).status()), ErrorCode::kOutOfOrderSequenceNumber);
  std::string next = ProducerBatch(9, 0, 36);
  EXPECT_TRUE(log.Append(absl::MakeSpan(next), kNow).ok());
  EXPECT_EQ(log.max_producer_id(), 9);
}

TEST_F(PartitionLogProducerTest, StateSurvivesACleanRestartFromTheCloseSnapshot) {
  LogConfig config;
  config.segment_bytes = 1000;
  AppendResult last;
  {
    auto log = OpenLog(true, config);
    last = AppendAcrossRolls(*log);
    ASSERT_GT(log->segment_count(), 3);
    ASSERT_TRUE(log->Close().ok());
  }
  auto log = OpenLog(true, config);
  ExpectStateSurvived(*log, last);
}

TEST_F(PartitionLogProducerTest, StateSurvivesACrashFromARollSnapshotAndTheBatchHeadersAfterIt) {
  LogConfig config;
  config.segment_bytes = 1000;
  AppendResult last;
  {
    auto log = OpenLog(true, config);
    last = AppendAcrossRolls(*log);
    ASSERT_TRUE(log->Flush().ok());
  }  // no Close: like kill -9
  auto log = OpenLog(false, config);
  ExpectStateSurvived(*log, last);
}

TEST_F(PartitionLogProducerTest, StateIsRebuiltFromTheWholeLogWhenEverySnapshotIsDamaged) {
  LogConfig config;
  config.segment_bytes = 1000;
  AppendResult last;
  {
    auto log = OpenLog(true, config);
    last = AppendAcrossRolls(*log);
    ASSERT_TRUE(log->Close().ok());
  }
  int damaged = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.Sub("t-0"))) {
    if (e.path().extension() != ".snapshot") continue;
    std::filesystem::resize_file(e.path(), std::filesystem::file_size(e.path()) - 1);
    ++damaged;
  }
  ASSERT_GT(damaged, 0);
  auto log = OpenLog(false, config);
  ExpectStateSurvived(*log, last);
}

TEST_F(PartitionLogProducerTest, SlicesHoldTheSameBytesAsReadAndOutliveRetention) {
  LogConfig config;
  config.segment_bytes = 1000;
  config.retention_bytes = 0;
  auto log = OpenLog(true, config);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Append(*log, MakeBatch(3, 100, kNow, i * 3)).ok());
  std::string read;
  ASSERT_TRUE(log->Read(0, 1 << 20, &read).ok());
  std::vector<FileSlice> slices;
  absl::StatusOr<ReadResult> r = log->ReadSlices(0, 1 << 20, &slices);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->bytes, static_cast<int64_t>(read.size()));
  ASSERT_GT(slices.size(), 2u);  // one range per segment
  // Retention deletes every sealed segment; the slices still read through their open descriptors.
  ASSERT_TRUE(log->DeleteOldSegments(kNow).ok());
  ASSERT_GT(log->log_start_offset(), 0);
  std::string via_fd;
  for (const FileSlice& s : slices) {
    std::string part(static_cast<size_t>(s.length), '\0');
    ASSERT_EQ(pread(s.segment->log_fd(), part.data(), part.size(), s.position), static_cast<ssize_t>(part.size()));
    via_fd += part;
  }
  EXPECT_EQ(via_fd, read);
}

TEST_F(PartitionLogProducerTest, SlicesStopAtMaxBytesOnABatchBoundaryButHoldAtLeastOneBatch) {
  auto log = OpenLog(true);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Append(*log, MakeBatch(3, 100, kNow, i * 3)).ok());
  std::string one;
  ASSERT_TRUE(log->Read(3, 1, &one).ok());
  std::vector<FileSlice> slices;
  absl::StatusOr<ReadResult> r = log->ReadSlices(3, 1, &slices);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(slices.size(), 1u);
  EXPECT_EQ(slices[0].length, static_cast<int64_t>(one.size()));
  EXPECT_EQ(BatchHeaderView(one.data()).base_offset(), 3);
  slices.clear();
  r = log->ReadSlices(0, static_cast<int32_t>(2 * one.size() + 10), &slices);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->bytes, static_cast<int64_t>(2 * one.size()));
}

// The max_bytes cut found through the offset index (small batches: one read of the span; large ones: one
// read per header) is the one a walk over every batch from the start finds.
TEST_F(PartitionLogProducerTest, SlicesCutAtTheSameBatchBoundaryAsAFullWalkForSmallAndLargeBatches) {
  LogConfig config;
  config.index_interval_bytes = 300;
  auto log = OpenLog(true, config);
  std::vector<int64_t> sizes;  // of each batch, in order
  for (int i = 0; i < 400; ++i) {
    // Mostly tiny batches, some of ~5 KB, a few of ~80 KB (the cut then reads one header at a time).
    const int count = i % 7 == 0 ? 40 : 1 + i % 3;
    std::string b = MakeBatch(count, i % 50 == 0 ? 2000 : i % 7 == 0 ? 120 : 20, kNow);
    sizes.push_back(static_cast<int64_t>(b.size()));
    ASSERT_TRUE(Append(*log, b).ok());
  }
  const int64_t first_offset_of_batch_10 = [&] {
    std::string all;
    EXPECT_TRUE(log->Read(0, 1 << 30, &all).ok());
    int64_t at = 0;
    for (int i = 0; i < 10; ++i) at += sizes[static_cast<size_t>(i)];
    return BatchHeaderView(all.data() + at).base_offset();
  }();
  for (int32_t max_bytes : {1, 61, 500, 4096, 5000, 20000, 70000, 150000, 300000, 600000}) {
    int64_t expected = 0;
    for (size_t i = 10; i < sizes.size() && (expected == 0 || expected + sizes[i] <= max_bytes); ++i) {
      expected += sizes[i];
    }
    std::vector<FileSlice> slices;
    absl::StatusOr<ReadResult> r = log->ReadSlices(first_offset_of_batch_10, max_bytes, &slices);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->bytes, expected) << "max_bytes " << max_bytes;
  }
}

}  // namespace
}  // namespace eddy::broker
