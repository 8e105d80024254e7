// Crash safety of log compaction: a cleaning stopped at each step of the segment swap, as a crash would
// leave it (no cleanup, the log object dropped without Close), then the log reopened after an unclean
// shutdown. Recovery must roll the swap back or complete it: every record read is what was appended at
// its offset, the latest record of every key is there, no temporary file is left, the log end offset is
// unchanged, and appending and cleaning continue.
#include "broker/log_cleaner_swap.h"

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "broker/log_cleaner_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy::broker {
namespace {

using testing_util::AppendModel;
using testing_util::CleanOnce;
using testing_util::kCleanerNow;
using testing_util::ReadLog;
using testing_util::StoredRecord;
using testing_util::TempDir;

LogConfig CompactConfig() {
  LogConfig c;
  c.cleanup_policy = "compact";
  c.segment_bytes = 4096;
  c.index_interval_bytes = 256;
  return c;
}

class SwapCrashTest : public ::testing::TestWithParam<CleanerStep> {
 protected:
  std::unique_ptr<PartitionLog> OpenLog(bool clean_shutdown) {
    RecoveryInfo info;
    info.clean_shutdown = clean_shutdown;
    absl::StatusOr<std::unique_ptr<PartitionLog>> log =
        PartitionLog::Open(dir_.Sub("t-0"), {"t", 0}, CompactConfig(), info);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : nullptr;
  }
  std::vector<std::string> Files() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_.Sub("t-0"))) names.push_back(e.path().filename());
    return names;
  }

  TempDir dir_;
  AppendModel model_;
};

TEST_P(SwapCrashTest, RecoveryRollsTheSwapBackOrCompletesIt) {
  const CleanerStep crash_at = GetParam();
  auto log = OpenLog(true);
  std::mt19937 rng(static_cast<uint32_t>(crash_at) + 1);
  ASSERT_TRUE(model_.AppendRandom(*log, &rng, 2500, 30, kCleanerNow).ok());
  const int64_t end = log->log_end_offset();
  const size_t appended = model_.appended().size();

  int calls = 0;
  absl::StatusOr<CleanStats> stats = CleanOnce(*log, 0, kCleanerNow, [&](CleanerStep step) {
    ++calls;
    return step == crash_at ? absl::UnavailableError("simulated crash") : absl::OkStatus();
  });
  ASSERT_EQ(stats.status().code(), absl::StatusCode::kUnavailable) << stats.status();
  ASSERT_GT(calls, 0);
  bool leftovers = false;
  for (const std::string& f : Files()) leftovers |= absl::EndsWith(f, ".cleaned") || absl::EndsWith(f, ".swap");
  EXPECT_EQ(leftovers, crash_at != CleanerStep::kLogInPlace);
  log.reset();  // the crash: nothing closed or synced

  log = OpenLog(/*clean_shutdown=*/false);
  ASSERT_NE(log, nullptr);
  for (const std::string& f : Files()) {
    EXPECT_FALSE(absl::EndsWith(f, ".cleaned") || absl::EndsWith(f, ".swap")) << f;
  }
  EXPECT_EQ(log->log_end_offset(), end);
  absl::StatusOr<std::vector<StoredRecord>> read = ReadLog(*log);
  ASSERT_TRUE(read.ok()) << read.status();
  // Only that nothing was lost or changed: the cleaning stopped part way.
  EXPECT_TRUE(model_.CheckCleaned(*read, -1, false).ok()) << model_.CheckCleaned(*read, -1, false);
  if (crash_at < CleanerStep::kSwapCommitted) {
    EXPECT_EQ(read->size(), appended);  // rolled back
  } else {
    EXPECT_LT(read->size(), appended);  // the first group's swap was completed
  }

  // The log goes on: appends, then a full cleaning.
  ASSERT_TRUE(model_.AppendRandom(*log, &rng, 300, 30, kCleanerNow).ok());
  ASSERT_TRUE(CleanOnce(*log, 0, kCleanerNow).ok());
  read = ReadLog(*log);
  ASSERT_TRUE(read.ok()) << read.status();
  const int64_t active = log->segments()->back()->base_offset();
  EXPECT_TRUE(model_.CheckCleaned(*read, active, false).ok()) << model_.CheckCleaned(*read, active, false);
}

std::string StepName(const ::testing::TestParamInfo<CleanerStep>& info) {
  static constexpr const char* kNames[] = {"CleanedWritten", "IndexSwapsRenamed", "SwapCommitted",
                                           "OldSegmentsDeleted", "IndexesInPlace", "LogInPlace"};
  return kNames[static_cast<int>(info.param)];
}

INSTANTIATE_TEST_SUITE_P(EachStep, SwapCrashTest,
                         ::testing::Values(CleanerStep::kCleanedWritten, CleanerStep::kIndexSwapsRenamed,
                                           CleanerStep::kSwapCommitted, CleanerStep::kOldSegmentsDeleted,
                                           CleanerStep::kIndexesInPlace, CleanerStep::kLogInPlace),
                         StepName);

TEST(SwapRecoveryTest, APartlyWrittenCleanedSegmentIsRemovedAtOpen) {
  TempDir dir;
  AppendModel model;
  RecoveryInfo unclean;
  auto log = *PartitionLog::Open(dir.Sub("t-0"), {"t", 0}, CompactConfig(), unclean);
  std::mt19937 rng(1);
  ASSERT_TRUE(model.AppendRandom(*log, &rng, 500, 10, kCleanerNow).ok());
  log.reset();
  // What a crash in the middle of writing a cleaned segment leaves: garbage under the .cleaned names.
  for (const char* ext : {".log.cleaned", ".index.cleaned", ".timeindex.cleaned"}) {
    const std::string path = dir.Sub(absl::StrCat("t-0/", LogSegment::FileName(0, ""), ext));
    ASSERT_TRUE(WriteFileAtomically(path, "half a batch").ok());
  }
  log = *PartitionLog::Open(dir.Sub("t-0"), {"t", 0}, CompactConfig(), unclean);
  for (const auto& e : std::filesystem::directory_iterator(dir.Sub("t-0"))) {
    EXPECT_FALSE(absl::EndsWith(e.path().filename().string(), ".cleaned")) << e.path();
  }
  absl::StatusOr<std::vector<StoredRecord>> read = ReadLog(*log);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->size(), 500u);
}

}  // namespace
}  // namespace eddy::broker
