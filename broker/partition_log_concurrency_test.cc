// PartitionLog: group-commit flushes, readers concurrent with appends/rolls/retention, and a full disk.
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "broker/log_test_util.h"
#include "broker/partition_log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy::broker {
namespace {

using testing_util::AppendOffsetBatch;
using testing_util::CheckOffsetContent;
using testing_util::DecodeAll;
using testing_util::MakeBatch;
using testing_util::ReadRange;
using testing_util::TempDir;

constexpr int64_t kNow = 1'700'000'000'000;

std::unique_ptr<PartitionLog> OpenLog(const std::string& dir, const LogConfig& config) {
  RecoveryInfo info;
  info.clean_shutdown = true;
  absl::StatusOr<std::unique_ptr<PartitionLog>> log = PartitionLog::Open(dir, {"t", 0}, config, info);
  EXPECT_TRUE(log.ok()) << log.status();
  return log.ok() ? *std::move(log) : nullptr;
}

TEST(PartitionLogConcurrencyTest, EveryFlushCoversItsCallersAppendWhileOthersKeepAppending) {
  TempDir dir;
  LogConfig config;
  config.segment_bytes = 64 * 1024;  // rolls happen between flushes
  auto log = OpenLog(dir.Sub("t-0"), config);
  constexpr int kThreads = 8, kAppends = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kAppends; ++i) {
        std::string batch = MakeBatch(5, 100, kNow);
        absl::StatusOr<AppendResult> r = log->Append(absl::MakeSpan(batch), kNow);
        if (!r.ok()) {
          ++failures;
          continue;
        }
        absl::StatusOr<int64_t> flushed = log->Flush();
        if (!flushed.ok() || *flushed < r->last_offset + 1 || log->flushed_offset() < r->last_offset + 1) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(log->log_end_offset(), kThreads * kAppends * 5);
  EXPECT_EQ(log->flushed_offset(), log->log_end_offset());
  EXPECT_EQ(log->recovery_point().offset, log->log_end_offset());
  EXPECT_GT(log->segment_count(), 1);
  // The recovery point is usable: an unclean reopen from it finds everything.
  RecoveryInfo info;
  info.recovery_point = log->recovery_point();
  log.reset();
  absl::StatusOr<std::unique_ptr<PartitionLog>> reopened = PartitionLog::Open(dir.Sub("t-0"), {"t", 0}, config, info);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->log_end_offset(), kThreads * kAppends * 5);
}

TEST(PartitionLogConcurrencyTest, ReadersSeeOnlyWholeValidBatchesWhileAppendsRollAndRetentionRun) {
  TempDir dir;
  LogConfig config;
  config.segment_bytes = 8 * 1024;
  config.index_interval_bytes = 512;
  config.retention_ms = -1;
  config.retention_bytes = 64 * 1024;
  auto log = OpenLog(dir.Sub("t-0"), config);
  constexpr int kBatches = 1500;
  std::atomic<bool> done{false};
  std::atomic<int> errors{0};
  std::atomic<int64_t> records_read{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      int64_t next = 0;
      ReadHint hint;  // the second reader tails the log as the embedded consumer does, with a ReadHint
      while (!done.load() || next < log->log_end_offset()) {
        std::string out;
        absl::StatusOr<ReadResult> res = log->Read(next, 4096, &out, r == 1 ? &hint : nullptr);
        if (absl::IsOutOfRange(res.status()) && next < log->log_start_offset()) {
          next = log->log_start_offset();  // retention overtook this reader
          continue;
        }
        if (!res.ok()) {
          ++errors;
          break;
        }
        absl::StatusOr<std::vector<testing_util::DecodedRecord>> recs = DecodeAll(out);
        if (!recs.ok()) {
          ++errors;
          break;
        }
        for (const auto& rec : *recs) {
          if (rec.offset < next) continue;
          if (rec.offset != next || rec.value != testing_util::ValueForOffset(rec.offset, 40)) ++errors;
          next = rec.offset + 1;
          ++records_read;
        }
      }
    });
  }
  for (int i = 0; i < kBatches; ++i) {
    ASSERT_TRUE(AppendOffsetBatch(*log, 4, 40, kNow, kNow).ok());
    if (i % 50 == 0) {
      ASSERT_TRUE(log->DeleteOldSegments(kNow).ok());
    }
  }
  done.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GT(records_read.load(), 0);
  EXPECT_GT(log->log_start_offset(), 0);
  absl::StatusOr<std::vector<testing_util::DecodedRecord>> rest = ReadRange(*log, log->log_start_offset());
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(CheckOffsetContent(*rest, log->log_start_offset(), kBatches * 4, 40), absl::OkStatus());
}

TEST(PartitionLogConcurrencyTest, AFullDiskFailsTheAppendAndLeavesTheLogConsistent) {
  TempDir dir;
  auto log = OpenLog(dir.Sub("t-0"), LogConfig());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(AppendOffsetBatch(*log, 5, 50, kNow, kNow).ok());
  const std::string seg = dir.Sub("t-0/") + LogSegment::FileName(0, ".log");
  const auto size = std::filesystem::file_size(seg);

  // A file size limit makes the write stop part way, as a full disk does (EFBIG instead of ENOSPC).
  struct rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  sighandler_t old_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit limit = old_limit;
  limit.rlim_cur = size + 100;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  std::string batch = MakeBatch(5, 50, kNow, 15);
  absl::StatusOr<AppendResult> r = log->Append(absl::MakeSpan(batch), kNow);
  setrlimit(RLIMIT_FSIZE, &old_limit);
  signal(SIGXFSZ, old_handler);

  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_EQ(log->log_end_offset(), 15);
  EXPECT_EQ(std::filesystem::file_size(seg), size);
  ASSERT_TRUE(AppendOffsetBatch(*log, 5, 50, kNow, kNow).ok());
  absl::StatusOr<std::vector<testing_util::DecodedRecord>> all = ReadRange(*log, 0);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(CheckOffsetContent(*all, 0, 20, 50), absl::OkStatus());
}

}  // namespace
}  // namespace eddy::broker
