// PartitionLog: reopening after clean and unclean shutdowns, index rebuilds, recovery points.
#include <filesystem>
#include <fstream>
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
constexpr size_t kValueSize = 50;

class PartitionLogRecoveryTest : public ::testing::Test {
 protected:
  PartitionLogRecoveryTest() {
    config_.segment_bytes = 8192;
    config_.index_interval_bytes = 300;
  }

  absl::StatusOr<std::unique_ptr<PartitionLog>> Open(bool clean, std::optional<RecoveryPoint> rp = std::nullopt) {
    RecoveryInfo info;
    info.clean_shutdown = clean;
    info.recovery_point = rp;
    return PartitionLog::Open(dir(), {"t", 0}, config_, info);
  }

  std::unique_ptr<PartitionLog> MustOpen(bool clean, std::optional<RecoveryPoint> rp = std::nullopt) {
    absl::StatusOr<std::unique_ptr<PartitionLog>> log = Open(clean, rp);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : nullptr;
  }

  // Appends `batches` batches of 5 records with timestamps kNow + offset.
  void Fill(PartitionLog& log, int batches) {
    for (int i = 0; i < batches; ++i) {
      ASSERT_TRUE(AppendOffsetBatch(log, 5, kValueSize, kNow + log.log_end_offset(), kNow).ok());
    }
  }

  void ExpectContent(const PartitionLog& log, int64_t first, int64_t end) {
    absl::StatusOr<std::vector<testing_util::DecodedRecord>> recs = ReadRange(log, first, 700);
    ASSERT_TRUE(recs.ok()) << recs.status();
    EXPECT_EQ(CheckOffsetContent(*recs, first, end, kValueSize), absl::OkStatus());
  }

  std::string dir() const { return dir_.Sub("t-0"); }
  std::string SegmentFile(int64_t base, const char* ext) const {
    return dir() + "/" + LogSegment::FileName(base, ext);
  }

  TempDir dir_;
  LogConfig config_;
};

TEST_F(PartitionLogRecoveryTest, ReopenAfterCleanCloseKeepsEverything) {
  int segments;
  {
    auto log = MustOpen(true);
    Fill(*log, 100);
    segments = log->segment_count();
    ASSERT_GT(segments, 3);
    ASSERT_TRUE(log->Close().ok());
    EXPECT_EQ(log->flushed_offset(), 500);
    EXPECT_EQ(log->Append(absl::Span<char>(), kNow).status().code(), absl::StatusCode::kInvalidArgument);
    std::string b = testing_util::MakeBatch(1, 1, kNow);
    EXPECT_EQ(log->Append(absl::MakeSpan(b), kNow).status().code(), absl::StatusCode::kFailedPrecondition);
  }
  auto log = MustOpen(true);
  EXPECT_EQ(log->log_end_offset(), 500);
  EXPECT_EQ(log->flushed_offset(), 500);
  EXPECT_EQ(log->segment_count(), segments);
  ExpectContent(*log, 0, 500);
  absl::StatusOr<OffsetAndTimestamp> t = log->OffsetForTimestamp(kNow + 250);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->offset, 250);
  absl::StatusOr<AppendResult> r = AppendOffsetBatch(*log, 5, kValueSize, kNow, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_offset, 500);
  ExpectContent(*log, 0, 505);
}

TEST_F(PartitionLogRecoveryTest, DeletedOrCorruptIndexFilesAreRebuiltFromTheLog) {
  {
    auto log = MustOpen(true);
    Fill(*log, 60);
    ASSERT_TRUE(log->Close().ok());
  }
  const std::string index = SegmentFile(0, ".index");
  const auto original_size = std::filesystem::file_size(index);
  ASSERT_GT(original_size, 0u);
  std::filesystem::remove(index);
  { std::ofstream(SegmentFile(0, ".timeindex"), std::ios::app) << "xyz"; }  // no longer a multiple of 12
  auto log = MustOpen(true);
  EXPECT_EQ(log->log_end_offset(), 300);
  ExpectContent(*log, 0, 300);
  absl::StatusOr<OffsetAndTimestamp> t = log->OffsetForTimestamp(kNow + 3);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->offset, 3);
  ASSERT_TRUE(log->Close().ok());
  EXPECT_EQ(std::filesystem::file_size(index), original_size);
  EXPECT_EQ(std::filesystem::file_size(SegmentFile(0, ".timeindex")) % TimeIndex::kEntrySize, 0u);
}

TEST_F(PartitionLogRecoveryTest, UncleanOpenWithoutRecoveryPointCutsATornTail) {
  {
    auto log = MustOpen(true);
    Fill(*log, 7);
    // Destroyed without Close: like a crash.
  }
  const std::string seg = SegmentFile(0, ".log");
  const auto valid = std::filesystem::file_size(seg);
  { std::ofstream(seg, std::ios::app | std::ios::binary) << std::string(100, '\x07'); }
  auto log = MustOpen(false);
  EXPECT_EQ(log->log_end_offset(), 35);
  EXPECT_EQ(log->flushed_offset(), 35);
  EXPECT_EQ(std::filesystem::file_size(seg), valid);
  ExpectContent(*log, 0, 35);
  absl::StatusOr<AppendResult> r = AppendOffsetBatch(*log, 5, kValueSize, kNow, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_offset, 35);
}

TEST_F(PartitionLogRecoveryTest, UncleanOpenTrustsDataBeforeTheRecoveryPointAndScansAfterIt) {
  RecoveryPoint rp;
  {
    auto log = MustOpen(true);
    Fill(*log, 30);
    ASSERT_TRUE(log->Flush().ok());
    rp = log->recovery_point();
    EXPECT_EQ(rp.offset, 150);
    EXPECT_EQ(log->flushed_offset(), 150);
    Fill(*log, 4);
  }
  // Damage a batch before the recovery point (in its segment) and one after it. Only the second is seen:
  // the scan starts at the recovery point.
  std::vector<std::string> logs;
  for (const auto& e : std::filesystem::directory_iterator(dir())) {
    if (e.path().extension() == ".log") logs.push_back(e.path().string());
  }
  std::sort(logs.begin(), logs.end());
  const std::string last = logs.back();
  ASSERT_GE(rp.position, 200);
  {
    std::fstream f(last, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(rp.position - 20);
    f.put('X');
    f.seekp(rp.position + 200);  // inside the first batch after the recovery point
    f.put('X');
  }
  auto log = MustOpen(false, rp);
  // A scan from the start of the segment would have cut at offset 145; from the recovery point it cuts at 150.
  EXPECT_EQ(log->log_end_offset(), 150);
  EXPECT_EQ(log->flushed_offset(), 150);
  absl::StatusOr<AppendResult> r = AppendOffsetBatch(*log, 5, kValueSize, kNow, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_offset, 150);
}

TEST_F(PartitionLogRecoveryTest, ARecoveryPointThatDoesNotMatchTheLogFallsBackToScanningTheSegment) {
  {
    auto log = MustOpen(true);
    Fill(*log, 12);
  }
  {
    auto log = MustOpen(false, RecoveryPoint{31, 777, -1});  // offset 31 is not at a batch boundary
    EXPECT_EQ(log->log_end_offset(), 60);
    ExpectContent(*log, 0, 60);
  }
  auto log = MustOpen(false, RecoveryPoint{1'000'000, 5, -1});  // beyond the log
  EXPECT_EQ(log->log_end_offset(), 60);
  ExpectContent(*log, 0, 60);
}

TEST_F(PartitionLogRecoveryTest, GarbageInALaterSegmentDeletesItAndEverythingAfter) {
  int64_t second_base;
  {
    auto log = MustOpen(true);
    Fill(*log, 60);
    ASSERT_GE(log->segment_count(), 3);
  }
  std::vector<std::string> logs;
  for (const auto& e : std::filesystem::directory_iterator(dir())) {
    if (e.path().extension() == ".log") logs.push_back(e.path().string());
  }
  std::sort(logs.begin(), logs.end());
  second_base = std::stoll(std::filesystem::path(logs[1]).stem().string());
  {
    std::fstream f(logs[1], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(30);  // inside the first batch's CRC-covered header
    f.put('\x55');
  }
  auto log = MustOpen(false);
  EXPECT_EQ(log->log_end_offset(), second_base);
  EXPECT_EQ(log->segment_count(), 2);  // the first, and the emptied second as the active segment
  ExpectContent(*log, 0, second_base);
  absl::StatusOr<AppendResult> r = AppendOffsetBatch(*log, 5, kValueSize, kNow, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_offset, second_base);
  ExpectContent(*log, 0, second_base + 5);
}

}  // namespace
}  // namespace eddy::broker
