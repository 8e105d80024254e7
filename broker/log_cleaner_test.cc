// Log compaction of a partition log (Cleaner, ComputeCleanableRange, GroupSegments): what survives a
// cleaning, that offsets never change, grouping, min.compaction.lag.ms, the dirty ratio, tombstone expiry,
// a small offset map, reopening, readers of old segments, compact,delete, producers' last batches, and the
// produce-time key rule. Scheduling and configs: log_cleaner_manager_test.cc; crash recovery of swaps:
// log_cleaner_swap_test.cc; the record level: log_cleaner_batch_test.cc.
#include "broker/log_cleaner.h"

#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "broker/log_cleaner_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy::broker {
namespace {

using ::testing::HasSubstr;
using testing_util::AppendModel;
using testing_util::CleanOnce;
using testing_util::kCleanerNow;
using testing_util::KeyedBatch;
using testing_util::KeyedRecord;
using testing_util::ReadLog;
using testing_util::StoredRecord;
using testing_util::TempDir;

constexpr int64_t kMinute = 60'000;

class CleanerTest : public ::testing::Test {
 protected:
  static LogConfig CompactConfig() {
    LogConfig c;
    c.cleanup_policy = "compact";
    c.segment_bytes = 4096;
    c.index_interval_bytes = 512;
    return c;
  }
  std::unique_ptr<PartitionLog> OpenLog(const LogConfig& config, bool clean_shutdown = true) {
    RecoveryInfo info;
    info.clean_shutdown = clean_shutdown;
    absl::StatusOr<std::unique_ptr<PartitionLog>> log = PartitionLog::Open(dir_.Sub("t-0"), {"t", 0}, config, info);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : nullptr;
  }
  std::vector<std::string> SegmentFiles() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_.Sub("t-0"))) {
      // Producer state snapshots are not segment files.
      if (e.path().extension() != ".snapshot") names.push_back(e.path().filename());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  int64_t ActiveBase(const PartitionLog& log) const { return log.segments()->back()->base_offset(); }

  TempDir dir_;
  AppendModel model_;
};

TEST_F(CleanerTest, TheLatestRecordOfEveryKeySurvivesAndOffsetsNeverChange) {
  auto log = OpenLog(CompactConfig());
  std::mt19937 rng(7);
  ASSERT_TRUE(model_.AppendRandom(*log, &rng, 3000, 40, kCleanerNow).ok());
  const int64_t end = log->log_end_offset(), start = log->log_start_offset();
  const int64_t size = log->size_bytes();
  ASSERT_GT(log->segment_count(), 20);
  const int64_t active = ActiveBase(*log);

  absl::StatusOr<CleanStats> stats = CleanOnce(*log, 0, kCleanerNow);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->end_offset, active);
  EXPECT_EQ(stats->records_read, active);
  EXPECT_LT(stats->records_kept, 45);  // at most one per key (or a kept tombstone)
  EXPECT_EQ(log->log_end_offset(), end);
  EXPECT_EQ(log->log_start_offset(), start);
  EXPECT_LT(log->size_bytes(), size / 5);
  absl::StatusOr<std::vector<StoredRecord>> read = ReadLog(*log);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(model_.CheckCleaned(*read, active, /*tombstones_may_be_gone=*/false).ok())
      << model_.CheckCleaned(*read, active, false);

  // Appends continue where they did, and a second cleaning covers the new records too.
  ASSERT_TRUE(model_.AppendRandom(*log, &rng, 2000, 40, kCleanerNow).ok());
  stats = CleanOnce(*log, stats->end_offset, kCleanerNow);
  ASSERT_TRUE(stats.ok()) << stats.status();
  read = ReadLog(*log);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(model_.CheckCleaned(*read, ActiveBase(*log), false).ok())
      << model_.CheckCleaned(*read, ActiveBase(*log), false);
  // No temporary file is left.
  for (const std::string& f : SegmentFiles()) {
    EXPECT_FALSE(absl::EndsWith(f, ".cleaned") || absl::EndsWith(f, ".swap")) << f;
  }
}

TEST_F(CleanerTest, TheActiveSegmentIsNeverCleaned) {
  LogConfig config = CompactConfig();
  config.segment_bytes = 1 << 20;
  auto log = OpenLog(config);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(model_.Append(*log, {{"k", absl::StrCat(i)}}, kCleanerNow).ok());
  ASSERT_EQ(log->segment_count(), 1);
  absl::StatusOr<CleanStats> stats = CleanOnce(*log, 0, kCleanerNow);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->records_read, 0);
  EXPECT_EQ(ReadLog(*log)->size(), 20u);
}

TEST_F(CleanerTest, SmallCleanedSegmentsAreGroupedUnderTheFirstBaseOffset) {
  auto log = OpenLog(CompactConfig());
  // 30 segments, each one batch of updates to the same 5 keys.
  for (int i = 0; i < 30; ++i) {
    std::vector<KeyedRecord> records;
    for (int k = 0; k < 5; ++k) records.push_back({absl::StrCat("k", k), std::string(700, 'a' + i % 26)});
    ASSERT_TRUE(model_.Append(*log, records, kCleanerNow).ok());
  }
  std::vector<int64_t> bases_before;
  for (const auto& seg : *log->segments()) bases_before.push_back(seg->base_offset());
  ASSERT_EQ(bases_before.size(), 30u);
  // Groups are formed from the segments' sizes before cleaning (Kafka's rule): these are too big to
  // share one, so the first cleaning leaves 29 tiny segments...
  absl::StatusOr<CleanStats> first = CleanOnce(*log, 0, kCleanerNow);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(log->segment_count(), 30);
  // ...which the next cleaning merges, up to segment.bytes, into segments named after their first base
  // offset: the 28 first ones (now empty batches) into one; the 29th, which keeps the latest records the
  // map knew, is too big to join them.
  ASSERT_TRUE(CleanOnce(*log, first->end_offset, kCleanerNow).ok());
  std::shared_ptr<const PartitionLog::SegmentList> segs = log->segments();
  ASSERT_EQ(segs->size(), 3u);
  EXPECT_EQ((*segs)[0]->base_offset(), bases_before[0]);
  EXPECT_EQ((*segs)[1]->base_offset(), bases_before[28]);
  EXPECT_EQ((*segs)[2]->base_offset(), bases_before[29]);
  std::vector<testing_util::BatchInfo> batches;
  absl::StatusOr<std::vector<StoredRecord>> read = ReadLog(*log, &batches);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(model_.CheckCleaned(*read, bases_before.back(), false).ok());
  // One batch per former segment, each ending where its segment did: 28 empty ones (their records
  // superseded, each kept as the last batch of its group in the first cleaning), the 29th's, then the
  // active segment's.
  ASSERT_EQ(batches.size(), 30u);
  for (int i = 0; i < 28; ++i) {
    EXPECT_EQ(batches[i].records, 0) << i;
    EXPECT_EQ(batches[i].last_offset, bases_before[i + 1] - 1) << i;
  }
  EXPECT_EQ(batches[28].records, 5);
  EXPECT_EQ(batches[28].last_offset, bases_before.back() - 1);
  const std::vector<std::string> files = SegmentFiles();
  EXPECT_EQ(files.size(), 7u) << ::testing::PrintToString(files);  // the active segment has no index files yet
  EXPECT_EQ(files[0], LogSegment::FileName(0, ".index"));
}

TEST_F(CleanerTest, GroupsRespectSegmentBytesAndTheOffsetSpan) {
  LogConfig config = CompactConfig();
  config.segment_bytes = 1000;
  PartitionLog::SegmentList segs;
  // Hand-made segments of known sizes: 400, 400, 400, 100.
  std::vector<std::shared_ptr<LogSegment>> made;
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<std::shared_ptr<LogSegment>> s = LogSegment::Create(dir_.path(), i * 10, config);
    ASSERT_TRUE(s.ok());
    std::string batch = KeyedBatch({{"k", std::string(i == 3 ? 30 : 330, 'v')}}, 0);
    SetBaseOffset(batch.data(), i * 10);
    bool damaged;
    ASSERT_TRUE((*s)->Append(batch, 0, &damaged).ok());
    segs.push_back(*s);
  }
  auto groups = GroupSegments(segs, 40, config);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].size(), 2u);
  EXPECT_EQ(groups[1].size(), 2u);
  // An offset span beyond int32 splits groups whatever their size.
  groups = GroupSegments(segs, int64_t{1} << 33, config);
  EXPECT_EQ(groups.back().size(), 1u);
}

TEST_F(CleanerTest, MinCompactionLagLeavesYoungSegmentsDirty) {
  LogConfig config = CompactConfig();
  config.min_compaction_lag_ms = 5 * kMinute;
  auto log = OpenLog(config);
  auto fill = [&](int64_t ts) {
    for (int i = 0; i < 8; ++i) {
      std::vector<KeyedRecord> records;
      for (int k = 0; k < 5; ++k) records.push_back({absl::StrCat("k", k), std::string(300, 'x')});
      ASSERT_TRUE(model_.Append(*log, records, ts).ok());
    }
  };
  fill(kCleanerNow - 10 * kMinute);  // old enough
  const int64_t young_from = log->log_end_offset();
  fill(kCleanerNow - 1 * kMinute);  // too young
  absl::StatusOr<CleanableRange> range = ComputeCleanableRange(*log->segments(), config, 0, kCleanerNow);
  ASSERT_TRUE(range.ok());
  EXPECT_LE(range->first_uncleanable, young_from);
  EXPECT_GT(range->first_uncleanable, 0);
  absl::StatusOr<CleanStats> stats = CleanOnce(*log, 0, kCleanerNow);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->end_offset, range->first_uncleanable);
  absl::StatusOr<std::vector<StoredRecord>> read = ReadLog(*log);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(model_.CheckCleaned(*read, range->first_uncleanable, false).ok());
  // Every young record is still there although its keys have newer records.
  int young = 0;
  for (const StoredRecord& r : *read) young += r.offset >= young_from;
  EXPECT_EQ(young, static_cast<int>(log->log_end_offset() - young_from));
  // Ten minutes later they are old enough.
  range = ComputeCleanableRange(*log->segments(), config, stats->end_offset, kCleanerNow + 10 * kMinute);
  EXPECT_EQ(range->first_uncleanable, ActiveBase(*log));
}

TEST_F(CleanerTest, DirtyRatioIsDirtyBytesOverCleanableBytes) {
  LogConfig config = CompactConfig();
  auto log = OpenLog(config);
  std::vector<int64_t> bases;
  for (int i = 0; i < 5; ++i) {
    bases.push_back(log->log_end_offset());
    ASSERT_TRUE(model_.Append(*log, {{absl::StrCat("k", i), std::string(3000, 'x')}}, kCleanerNow).ok());
  }
  ASSERT_EQ(log->segment_count(), 5);  // 4 sealed segments of equal size and the active one
  for (int dirty_from = 0; dirty_from <= 4; ++dirty_from) {
    absl::StatusOr<CleanableRange> r = ComputeCleanableRange(*log->segments(), config, bases[dirty_from], kCleanerNow);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->first_dirty, bases[dirty_from]);
    EXPECT_EQ(r->first_uncleanable, bases[4]);
    EXPECT_DOUBLE_EQ(r->dirty_ratio, (4 - dirty_from) / 4.0) << dirty_from;
  }
}

TEST_F(CleanerTest, TombstonesStayForDeleteRetentionAfterTheFirstCleaningThenGo) {
  LogConfig config = CompactConfig();
  config.delete_retention_ms = 10 * kMinute;
  auto log = OpenLog(config);
  std::mt19937 rng(11);
  ASSERT_TRUE(model_.AppendRandom(*log, &rng, 1500, 30, kCleanerNow).ok());
  // A key written, then deleted: its old values must never come back.
  ASSERT_TRUE(model_.Append(*log, {{"gone", "v1"}, {"gone", "v2"}}, kCleanerNow).ok());
  ASSERT_TRUE(model_.Append(*log, {{"gone", std::nullopt}}, kCleanerNow).ok());
  ASSERT_TRUE(model_.AppendRandom(*log, &rng, 300, 30, kCleanerNow).ok());
  const int64_t t0 = kCleanerNow + kMinute;
  absl::StatusOr<CleanStats> first = CleanOnce(*log, 0, t0);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->delete_horizon, t0 + 10 * kMinute);
  auto tombstones = [&] {
    int n = 0;
    std::set<std::string> gone_seen;
    const std::vector<StoredRecord> read = *ReadLog(*log);
    for (const StoredRecord& r : read) {
      if (r.offset < ActiveBase(*log) && !r.value) ++n;
      if (*r.key == "gone" && r.value) gone_seen.insert(*r.value);
    }
    EXPECT_TRUE(gone_seen.empty()) << "a deleted key's value came back";
    return n;
  };
  const int kept = tombstones();
  EXPECT_GT(kept, 0);
  // Just before the horizon nothing changes; at it, every tombstone of the cleaned part goes.
  absl::StatusOr<CleanStats> second = CleanOnce(*log, first->end_offset, t0 + 10 * kMinute - 1);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(tombstones(), kept);
  absl::StatusOr<CleanStats> third = CleanOnce(*log, first->end_offset, t0 + 10 * kMinute);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(tombstones(), 0);
  EXPECT_EQ(third->delete_horizon, kNoDeleteHorizon);
  absl::StatusOr<std::vector<StoredRecord>> read = ReadLog(*log);
  EXPECT_TRUE(model_.CheckCleaned(*read, third->end_offset, /*tombstones_may_be_gone=*/true).ok())
      << model_.CheckCleaned(*read, third->end_offset, true);
}

TEST_F(CleanerTest, ASmallOffsetMapCleansInSeveralPasses) {
  auto log = OpenLog(CompactConfig());
  std::mt19937 rng(3);
  ASSERT_TRUE(model_.AppendRandom(*log, &rng, 1500, 200, kCleanerNow, /*compress=*/false).ok());
  const int64_t active = ActiveBase(*log);
  int64_t first_dirty = 0;
  int passes = 0;
  while (first_dirty < active) {
    absl::StatusOr<CleanStats> stats = CleanOnce(*log, first_dirty, kCleanerNow, nullptr, /*map_bytes=*/50 * 60);
    ASSERT_TRUE(stats.ok()) << stats.status();
    ASSERT_GT(stats->end_offset, first_dirty);
    ASSERT_LE(stats->map_keys * 48, 50 * 60);
    first_dirty = stats->end_offset;
    ++passes;
    absl::StatusOr<std::vector<StoredRecord>> read = ReadLog(*log);
    ASSERT_TRUE(read.ok()) << read.status();
    // Only what the maps have covered so far is compacted; nothing newer is lost.
    ASSERT_TRUE(model_.CheckCleaned(*read, -1, false).ok()) << model_.CheckCleaned(*read, -1, false);
  }
  EXPECT_GT(passes, 2);
  absl::StatusOr<CleanStats> last = CleanOnce(*log, first_dirty, kCleanerNow);
  ASSERT_TRUE(last.ok());
  absl::StatusOr<std::vector<StoredRecord>> read = ReadLog(*log);
  EXPECT_TRUE(model_.CheckCleaned(*read, active, false).ok()) << model_.CheckCleaned(*read, active, false);
}

TEST_F(CleanerTest, ACleanedLogReopensAfterACleanAndAnUncleanShutdown) {
  auto log = OpenLog(CompactConfig());
  std::mt19937 rng(5);
  ASSERT_TRUE(model_.AppendRandom(*log, &rng, 2000, 50, kCleanerNow).ok());
  absl::StatusOr<CleanStats> stats = CleanOnce(*log, 0, kCleanerNow);
  ASSERT_TRUE(stats.ok());
  const std::vector<StoredRecord> before = *ReadLog(*log);
  const int64_t end = log->log_end_offset();
  ASSERT_TRUE(log->Close().ok());
  log = OpenLog(CompactConfig(), /*clean_shutdown=*/true);
  EXPECT_EQ(*ReadLog(*log), before);
  // Unclean, without a recovery point: every segment is scanned, gaps and empty batches included.
  log.reset();
  log = OpenLog(CompactConfig(), /*clean_shutdown=*/false);
  EXPECT_EQ(log->log_end_offset(), end);
  EXPECT_EQ(*ReadLog(*log), before);
  ASSERT_TRUE(model_.Append(*log, {{"after", "reopen"}}, kCleanerNow).ok());
  EXPECT_EQ(ReadLog(*log)->back().offset, end);
}

TEST_F(CleanerTest, AReaderHoldingTheOldSegmentsKeepsReadingThem) {
  auto log = OpenLog(CompactConfig());
  std::mt19937 rng(9);
  ASSERT_TRUE(model_.AppendRandom(*log, &rng, 1000, 10, kCleanerNow).ok());
  std::shared_ptr<const PartitionLog::SegmentList> old = log->segments();
  std::vector<std::string> old_bytes;
  for (const auto& seg : *old) {
    std::string b;
    ASSERT_TRUE(seg->ReadAt(0, seg->size(), &b).ok());
    old_bytes.push_back(b);
  }
  const int64_t size = log->size_bytes();
  ASSERT_TRUE(CleanOnce(*log, 0, kCleanerNow).ok());
  ASSERT_LT(log->size_bytes(), size);
  for (size_t i = 0; i < old->size(); ++i) {
    std::string b;
    ASSERT_TRUE((*old)[i]->ReadAt(0, (*old)[i]->size(), &b).ok());
    EXPECT_EQ(b, old_bytes[i]) << "segment " << i;
  }
}

TEST_F(CleanerTest, RetentionAndCompactionBothApplyToCompactDelete) {
  LogConfig config = CompactConfig();
  config.cleanup_policy = "compact,delete";
  config.retention_ms = 10 * kMinute;
  auto log = OpenLog(config);
  std::mt19937 rng(13);
  ASSERT_TRUE(model_.AppendRandom(*log, &rng, 800, 20, kCleanerNow - 20 * kMinute).ok());
  ASSERT_TRUE(model_.AppendRandom(*log, &rng, 800, 20, kCleanerNow).ok());
  ASSERT_TRUE(CleanOnce(*log, 0, kCleanerNow).ok());
  absl::StatusOr<int> deleted = log->DeleteOldSegments(kCleanerNow);
  ASSERT_TRUE(deleted.ok());
  EXPECT_GT(*deleted, 0);
  EXPECT_GT(log->log_start_offset(), 0);
  EXPECT_GE(log->segments()->front()->max_timestamp(), kCleanerNow - 10 * kMinute);
  absl::StatusOr<std::vector<StoredRecord>> read = ReadLog(*log);
  ASSERT_TRUE(read.ok()) << read.status();
  const int64_t active = ActiveBase(*log);
  EXPECT_TRUE(model_.CheckCleaned(*read, active, false).ok()) << model_.CheckCleaned(*read, active, false);
}

TEST_F(CleanerTest, AProducersLastBatchStaysAsAnEmptyBatch) {
  auto log = OpenLog(CompactConfig());
  std::string batch = KeyedBatch({{"a", "1"}, {"b", "1"}}, kCleanerNow, Compression::kNone, /*producer_id=*/7);
  ASSERT_TRUE(log->Append(absl::MakeSpan(batch), kCleanerNow).ok());  // offsets 0-1, producer 7's last batch
  batch = KeyedBatch({{"c", "1"}, {"d", "1"}}, kCleanerNow, Compression::kNone, /*producer_id=*/8);
  ASSERT_TRUE(log->Append(absl::MakeSpan(batch), kCleanerNow).ok());  // offsets 2-3
  batch = KeyedBatch({{"c", "2"}, {"d", "2"}}, kCleanerNow, Compression::kNone, /*producer_id=*/8,
                     /*base_sequence=*/2);
  ASSERT_TRUE(log->Append(absl::MakeSpan(batch), kCleanerNow).ok());  // offsets 4-5, producer 8's last
  for (int i = 0; i < 30; ++i) {
    batch = KeyedBatch({{"a", "2"}, {"b", "2"}, {"c", "3"}, {"d", "3"}, {"pad", std::string(200, 'p')}}, kCleanerNow);
    ASSERT_TRUE(log->Append(absl::MakeSpan(batch), kCleanerNow).ok());
  }
  ASSERT_TRUE(CleanOnce(*log, 0, kCleanerNow).ok());
  std::vector<testing_util::BatchInfo> batches;
  ASSERT_TRUE(ReadLog(*log, &batches).ok());
  ASSERT_GE(batches.size(), 2u);
  // Producer 7's only batch stays, empty, with its offsets; producer 8's first batch goes.
  EXPECT_EQ(batches[0].base_offset, 0);
  EXPECT_EQ(batches[0].last_offset, 1);
  EXPECT_EQ(batches[0].records, 0);
  EXPECT_EQ(batches[1].base_offset, 4);
  EXPECT_EQ(batches[1].records, 0);
}

TEST_F(CleanerTest, CompactedTopicsRejectRecordsWithoutKeys) {
  for (const char* policy : {"compact", "compact,delete", "delete"}) {
    LogConfig config = CompactConfig();
    config.cleanup_policy = policy;
    TempDir dir;
    absl::StatusOr<std::unique_ptr<PartitionLog>> log =
        PartitionLog::Open(dir.Sub("orders-0"), {"orders", 0}, config, RecoveryInfo{true, std::nullopt});
    ASSERT_TRUE(log.ok());
    std::string batch = KeyedBatch({{"k", "v"}, {std::nullopt, "v"}}, kCleanerNow, Compression::kLz4);
    absl::StatusOr<AppendResult> r = (*log)->Append(absl::MakeSpan(batch), kCleanerNow);
    if (std::string(policy) == "delete") {
      EXPECT_TRUE(r.ok()) << r.status();
      continue;
    }
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << policy;
    EXPECT_THAT(r.status().message(), HasSubstr("compacted topic orders requires keys")) << policy;
    EXPECT_EQ((*log)->log_end_offset(), 0);
  }
}

TEST_F(CleanerTest, MaxCompactionLagRollsTheActiveSegment) {
  LogConfig config = CompactConfig();
  config.segment_bytes = 1 << 20;
  config.max_compaction_lag_ms = 1000;
  auto log = OpenLog(config);
  ASSERT_TRUE(model_.Append(*log, {{"k", "1"}}, kCleanerNow).ok());
  std::string batch = KeyedBatch({{"k", "2"}}, kCleanerNow);
  ASSERT_TRUE(log->Append(absl::MakeSpan(batch), kCleanerNow + 500).ok());
  EXPECT_EQ(log->segment_count(), 1);
  batch = KeyedBatch({{"k", "3"}}, kCleanerNow);
  ASSERT_TRUE(log->Append(absl::MakeSpan(batch), kCleanerNow + 1001).ok());
  EXPECT_EQ(log->segment_count(), 2);
}

}  // namespace
}  // namespace eddy::broker
