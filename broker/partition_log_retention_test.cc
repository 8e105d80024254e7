// PartitionLog: retention by time and size, and what it does to the log start offset.
#include <memory>
#include <string>

#include "broker/log_test_util.h"
#include "broker/partition_log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy::broker {
namespace {

using testing_util::AppendOffsetBatch;
using testing_util::CheckOffsetContent;
using testing_util::ReadRange;
using testing_util::TempDir;

constexpr int64_t kNow = 1'700'000'000'000;

class PartitionLogRetentionTest : public ::testing::Test {
 protected:
  std::unique_ptr<PartitionLog> OpenLog(const LogConfig& config) {
    RecoveryInfo info;
    info.clean_shutdown = true;
    absl::StatusOr<std::unique_ptr<PartitionLog>> log = PartitionLog::Open(dir_.Sub("t-0"), {"t", 0}, config, info);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : nullptr;
  }
  TempDir dir_;
};

// Appends batches of 10 records: batch i has record timestamps base_ts + i*1000 (+0..9) and a segment of its
// own (segment.bytes is smaller than two batches).
std::vector<int64_t> FillOneBatchPerSegment(PartitionLog& log, int batches, int64_t base_ts) {
  std::vector<int64_t> bases;
  for (int i = 0; i < batches; ++i) {
    absl::StatusOr<AppendResult> r = AppendOffsetBatch(log, 10, 50, base_ts + i * 1000, kNow);
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) bases.push_back(r->first_offset);
  }
  return bases;
}

TEST_F(PartitionLogRetentionTest, TimeRetentionDeletesSegmentsWhoseNewestRecordIsTooOld) {
  LogConfig config;
  config.segment_bytes = 1000;
  config.retention_ms = 10'000;
  auto log = OpenLog(config);
  FillOneBatchPerSegment(*log, 5, kNow);  // newest timestamps kNow+9, kNow+1009, ..., kNow+4009
  ASSERT_EQ(log->segment_count(), 5);
  // Segment i expires once now - (kNow + i*1000 + 9) > 10000.
  absl::StatusOr<int> none = log->DeleteOldSegments(kNow + 10'009);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
  absl::StatusOr<int> two = log->DeleteOldSegments(kNow + 11'010);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(*two, 2);
  EXPECT_EQ(log->log_start_offset(), 20);
  EXPECT_EQ(log->segment_count(), 3);
  std::string out;
  EXPECT_EQ(log->Read(19, 1000, &out).status().code(), absl::StatusCode::kOutOfRange);
  absl::StatusOr<std::vector<testing_util::DecodedRecord>> rest = ReadRange(*log, 20);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(CheckOffsetContent(*rest, 20, 50, 50), absl::OkStatus());
  EXPECT_EQ(log->OffsetForTimestamp(kEarliestTimestamp)->offset, 20);
  EXPECT_EQ(log->OffsetForTimestamp(kNow)->offset, 20);  // the oldest remaining record
}

TEST_F(PartitionLogRetentionTest, WhenEverythingExpiredTheActiveSegmentIsRolledAndDeleted) {
  LogConfig config;
  config.segment_bytes = 1000;
  config.retention_ms = 1000;
  auto log = OpenLog(config);
  FillOneBatchPerSegment(*log, 3, kNow);
  absl::StatusOr<int> deleted = log->DeleteOldSegments(kNow + 100'000);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 3);
  EXPECT_EQ(log->segment_count(), 1);
  EXPECT_EQ(log->log_start_offset(), 30);
  EXPECT_EQ(log->log_end_offset(), 30);
  EXPECT_EQ(log->size_bytes(), 0);
  absl::StatusOr<AppendResult> r = AppendOffsetBatch(*log, 10, 50, kNow, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_offset, 30);
  ASSERT_TRUE(log->Close().ok());
  auto reopened = OpenLog(config);
  EXPECT_EQ(reopened->log_start_offset(), 30);
  EXPECT_EQ(reopened->log_end_offset(), 40);
}

TEST_F(PartitionLogRetentionTest, SizeRetentionKeepsAtLeastRetentionBytesAndNeverTheActiveSegment) {
  LogConfig config;
  config.segment_bytes = 1000;
  config.retention_ms = -1;
  auto log = OpenLog(config);
  FillOneBatchPerSegment(*log, 6, kNow);
  const int64_t seg_size = log->size_bytes() / 6;
  config.retention_bytes = seg_size * 2 + 1;  // needs three segments to stay at or above it
  ASSERT_TRUE(log->Close().ok());
  log = OpenLog(config);
  ASSERT_EQ(log->segment_count(), 6);
  absl::StatusOr<int> deleted = log->DeleteOldSegments(kNow);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 3);
  EXPECT_EQ(log->log_start_offset(), 30);
  EXPECT_GE(log->size_bytes(), config.retention_bytes);
  // retention.bytes 0 still keeps the active segment.
  config.retention_bytes = 0;
  ASSERT_TRUE(log->Close().ok());
  log = OpenLog(config);
  EXPECT_EQ(*log->DeleteOldSegments(kNow), 2);
  EXPECT_EQ(log->segment_count(), 1);
  EXPECT_EQ(log->log_start_offset(), 50);
  EXPECT_EQ(log->log_end_offset(), 60);
}

TEST_F(PartitionLogRetentionTest, CompactOnlyTopicsAreNotDeleted) {
  LogConfig config;
  config.segment_bytes = 1000;
  config.retention_ms = 1;
  config.cleanup_policy = "compact";
  auto log = OpenLog(config);
  FillOneBatchPerSegment(*log, 3, kNow);
  EXPECT_EQ(*log->DeleteOldSegments(kNow + 1'000'000), 0);
  EXPECT_EQ(log->log_start_offset(), 0);
}

}  // namespace
}  // namespace eddy::broker
