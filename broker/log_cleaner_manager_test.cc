// Scheduling of log compaction (LogCleaner through the LogManager, with an injected clock and the cleaner
// threads off): the dirty ratio, max.compaction.lag.ms, delete horizons, the cleaner checkpoint across
// restarts and topic re-creation; and the compaction topic configs.
#include <atomic>
#include <map>
#include <random>
#include <string>

#include "broker/log_cleaner.h"
#include "broker/log_cleaner_test_util.h"
#include "broker/log_manager.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy::broker {
namespace {

using ::testing::HasSubstr;
using testing_util::AppendModel;
using testing_util::kCleanerNow;
using testing_util::ReadLog;
using testing_util::StoredRecord;
using testing_util::TempDir;

TEST(LogConfigCompactionTest, ParsesTheCompactionConfigsWithKafkasRules) {
  absl::StatusOr<LogConfig> c = LogConfig::FromMap(LogConfig(), {{"cleanup.policy", "delete,compact"},
                                                                 {"delete.retention.ms", "5"},
                                                                 {"min.compaction.lag.ms", "10"},
                                                                 {"max.compaction.lag.ms", "20"},
                                                                 {"min.cleanable.dirty.ratio", "0.25"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->compact_enabled());
  EXPECT_TRUE(c->delete_enabled());
  EXPECT_EQ(c->delete_retention_ms, 5);
  EXPECT_EQ(c->min_compaction_lag_ms, 10);
  EXPECT_EQ(c->max_compaction_lag_ms, 20);
  EXPECT_DOUBLE_EQ(c->min_cleanable_dirty_ratio, 0.25);
  EXPECT_EQ(c->max_segment_ms(), 20);
  EXPECT_EQ(c->ToMap().at("min.cleanable.dirty.ratio"), "0.25");
  EXPECT_EQ(LogConfig().ToMap().at("delete.retention.ms"), "86400000");
  EXPECT_EQ(LogConfig().max_segment_ms(), LogConfig().segment_ms);
  EXPECT_THAT(LogConfig::FromMap(LogConfig(), {{"min.cleanable.dirty.ratio", "1.5"}}).status().message(),
              HasSubstr("min.cleanable.dirty.ratio"));
  EXPECT_FALSE(LogConfig::FromMap(LogConfig(), {{"min.cleanable.dirty.ratio", "half"}}).ok());
  EXPECT_FALSE(LogConfig::FromMap(LogConfig(), {{"delete.retention.ms", "-1"}}).ok());
  EXPECT_THAT(LogConfig::FromMap(LogConfig(), {{"min.compaction.lag.ms", "30"}, {"max.compaction.lag.ms", "20"}})
                  .status()
                  .message(),
              HasSubstr("min.compaction.lag.ms (30) > max.compaction.lag.ms (20)"));
}

class LogCleanerTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    LogManagerOptions o;
    o.data_dir = dir_.path();
    o.clock = [this] { return now_.load(); };
    o.cleaner.enable = false;  // RunCleanerNow only: deterministic
    absl::StatusOr<std::unique_ptr<LogManager>> m = LogManager::Open(std::move(o));
    ASSERT_TRUE(m.ok()) << m.status();
    manager_ = *std::move(m);
  }
  std::shared_ptr<PartitionLog> CreateCompacted(const std::string& name,
                                                std::map<std::string, std::string> configs = {}) {
    configs.emplace("cleanup.policy", "compact");
    configs.emplace("segment.bytes", "4096");
    EXPECT_TRUE(manager_->CreateTopic(name, 1, configs).ok());
    return *manager_->GetLog(name, 0);
  }
  int RunCleaner() {
    absl::StatusOr<int> n = manager_->RunCleanerNow();
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *n : -1;
  }

  TempDir dir_;
  std::atomic<int64_t> now_{kCleanerNow};
  std::unique_ptr<LogManager> manager_;
  AppendModel model_;
};

TEST_F(LogCleanerTest, CleansALogOnlyWhenItsDirtyRatioExceedsTheMinimum) {
  std::shared_ptr<PartitionLog> log = CreateCompacted("c", {{"min.cleanable.dirty.ratio", "0.5"}});
  std::shared_ptr<PartitionLog> plain;
  ASSERT_TRUE(manager_->CreateTopic("d", 1, {{"segment.bytes", "4096"}}).ok());
  plain = *manager_->GetLog("d", 0);
  std::mt19937 rng(17);
  ASSERT_TRUE(model_.AppendRandom(*plain, &rng, 1000, 20, kCleanerNow).ok());
  bool saw_clean = false, saw_skip = false;
  for (int round = 0; round < 12; ++round) {
    ASSERT_TRUE(model_.AppendRandom(*log, &rng, 60 + round * 40, 200, kCleanerNow).ok());
    const int64_t first_dirty = manager_->CleanerFirstDirtyOffset({"c", 0}).value_or(0);
    absl::StatusOr<CleanableRange> range =
        ComputeCleanableRange(*log->segments(), log->config(), first_dirty, now_.load());
    ASSERT_TRUE(range.ok());
    const bool expect = range->dirty_ratio > 0.5;
    EXPECT_EQ(RunCleaner(), expect ? 1 : 0) << "round " << round << " ratio " << range->dirty_ratio;
    (expect ? saw_clean : saw_skip) = true;
    if (expect) {
      EXPECT_EQ(manager_->CleanerFirstDirtyOffset({"c", 0}), range->first_uncleanable);
    }
  }
  EXPECT_TRUE(saw_clean);
  EXPECT_TRUE(saw_skip);
  EXPECT_EQ(ReadLog(*plain)->size(), 1000u);  // a delete-only topic is never compacted
}

TEST_F(LogCleanerTest, MaxCompactionLagCleansALogBelowItsDirtyRatio) {
  std::shared_ptr<PartitionLog> log =
      CreateCompacted("c", {{"min.cleanable.dirty.ratio", "0.99"}, {"max.compaction.lag.ms", "3600000"}});
  std::mt19937 rng(19);
  ASSERT_TRUE(model_.AppendRandom(*log, &rng, 1000, 20, kCleanerNow).ok());
  ASSERT_EQ(RunCleaner(), 1);  // all dirty: ratio 1
  ASSERT_TRUE(model_.AppendRandom(*log, &rng, 300, 20, kCleanerNow).ok());
  EXPECT_EQ(RunCleaner(), 0);  // a little dirty, and young
  now_ = kCleanerNow + 2 * 3'600'000;
  EXPECT_EQ(RunCleaner(), 1);  // the dirty records are overdue
  EXPECT_EQ(RunCleaner(), 0);
}

TEST_F(LogCleanerTest, TombstonesExpireWithTheInjectedClock) {
  std::shared_ptr<PartitionLog> log = CreateCompacted("c", {{"delete.retention.ms", "60000"}});
  ASSERT_TRUE(model_.Append(*log, {{"a", "1"}, {"b", "1"}}, kCleanerNow).ok());
  ASSERT_TRUE(model_.Append(*log, {{"a", std::nullopt}}, kCleanerNow).ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(model_.Append(*log, {{"pad", std::string(400, 'p')}}, kCleanerNow).ok());
  }
  auto has_a = [&] {
    const std::vector<StoredRecord> read = *ReadLog(*log);
    for (const StoredRecord& r : read) {
      if (*r.key == "a") return true;
    }
    return false;
  };
  ASSERT_EQ(RunCleaner(), 1);
  EXPECT_TRUE(has_a());  // the tombstone, kept for delete.retention.ms
  now_ = kCleanerNow + 59'999;
  EXPECT_EQ(RunCleaner(), 0);  // nothing dirty, the horizon not reached
  EXPECT_TRUE(has_a());
  now_ = kCleanerNow + 60'000;
  EXPECT_EQ(RunCleaner(), 1);  // the horizon alone makes the log worth cleaning
  EXPECT_FALSE(has_a());
  EXPECT_EQ(RunCleaner(), 0);
}

TEST_F(LogCleanerTest, TheCheckpointSurvivesARestartAndATopicRecreatedUnderTheSameNameStartsOver) {
  std::shared_ptr<PartitionLog> log = CreateCompacted("c");
  std::mt19937 rng(23);
  ASSERT_TRUE(model_.AppendRandom(*log, &rng, 1000, 20, kCleanerNow).ok());
  ASSERT_EQ(RunCleaner(), 1);
  const std::optional<int64_t> first_dirty = manager_->CleanerFirstDirtyOffset({"c", 0});
  ASSERT_TRUE(first_dirty.has_value());
  EXPECT_GT(*first_dirty, 0);
  log.reset();
  ASSERT_TRUE(manager_->Close().ok());
  manager_.reset();
  Open();
  EXPECT_EQ(manager_->CleanerFirstDirtyOffset({"c", 0}), first_dirty);
  EXPECT_EQ(RunCleaner(), 0);  // already clean

  // A topic deleted and created again under the same name is another topic: the checkpoint, still holding
  // the old one's offset (no cleaning since), must not apply to it after a restart.
  ASSERT_TRUE(manager_->DeleteTopic("c").ok());
  log = CreateCompacted("c");
  ASSERT_TRUE(model_.AppendRandom(*log, &rng, 2000, 20, kCleanerNow).ok());
  log.reset();
  ASSERT_TRUE(manager_->Close().ok());
  manager_.reset();
  Open();
  EXPECT_EQ(manager_->CleanerFirstDirtyOffset({"c", 0}), 0);
}

}  // namespace
}  // namespace eddy::broker
