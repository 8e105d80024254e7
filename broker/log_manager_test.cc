// LogManager: topics on disk, the directory lock, reopen, retention, checkpoints and group-commit flushes.
#include "broker/log_manager.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "broker/log_checkpoint.h"
#include "broker/log_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy::broker {
namespace {

using testing_util::AppendOffsetBatch;
using testing_util::CheckOffsetContent;
using testing_util::MakeBatch;
using testing_util::ReadRange;
using testing_util::TempDir;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1'700'000'000'000;

class LogManagerTest : public ::testing::Test {
 protected:
  LogManagerOptions Options(const std::string& dir) {
    LogManagerOptions o;
    o.data_dir = dir;
    o.clock = [this] { return now_.load(); };
    o.default_config.segment_bytes = 4096;
    return o;
  }
  std::unique_ptr<LogManager> MustOpen(const std::string& dir) {
    absl::StatusOr<std::unique_ptr<LogManager>> m = LogManager::Open(Options(dir));
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? *std::move(m) : nullptr;
  }
  std::shared_ptr<PartitionLog> Log(LogManager& m, const std::string& topic, int32_t p) {
    absl::StatusOr<std::shared_ptr<PartitionLog>> log = m.GetLog(topic, p);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *log : nullptr;
  }

  TempDir tmp_;
  std::atomic<int64_t> now_{kNow};
};

TEST_F(LogManagerTest, CreateTopicValidatesNamesPartitionsAndConfigs) {
  auto m = MustOpen(tmp_.path());
  EXPECT_EQ(m->CreateTopic(".", 1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->CreateTopic("..", 1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->CreateTopic(std::string(250, 'x'), 1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->CreateTopic("a/b", 1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(m->CreateTopic("t", 0).message(), HasSubstr("got 0"));
  EXPECT_THAT(m->CreateTopic("t", -3).message(), HasSubstr("got -3"));
  EXPECT_THAT(m->CreateTopic("t", 1, {{"retention.ms", "x"}}).message(), HasSubstr("retention.ms"));
  EXPECT_THAT(m->CreateTopic("t", 1, {{"bogus", "1"}}).message(), HasSubstr("bogus"));
  ASSERT_TRUE(m->CreateTopic("ok.name_-1", 3, {{"retention.ms", "1000"}}).ok());
  EXPECT_EQ(m->CreateTopic("ok.name_-1", 3).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(m->CreateTopic("ok_name_-1", 1).message(), HasSubstr("collides with existing topic"));
  absl::StatusOr<TopicInfo> info = m->DescribeTopic("ok.name_-1");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->partitions, 3);
  EXPECT_EQ(info->configs.at("retention.ms"), "1000");
  EXPECT_EQ(info->config.retention_ms, 1000);
  EXPECT_EQ(info->topic_id.size(), 16u);
  EXPECT_EQ(info->partition_info.size(), 3u);
}

TEST_F(LogManagerTest, UnknownTopicsAndPartitionsAreNotFound) {
  auto m = MustOpen(tmp_.path());
  ASSERT_TRUE(m->CreateTopic("t", 2).ok());
  EXPECT_THAT(m->GetLog("nope", 0).status().message(), HasSubstr("unknown topic nope"));
  absl::Status s = m->GetLog("t", 2).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("topic t has 2 partitions, no partition 2"));
  EXPECT_EQ(m->GetLog("t", -1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(m->DescribeTopic("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(m->DeleteTopic("nope").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(m->AddPartitions("nope", 3).code(), absl::StatusCode::kNotFound);
}

TEST_F(LogManagerTest, TopicsAndDataSurviveACleanReopen) {
  {
    auto m = MustOpen(tmp_.path());
    ASSERT_TRUE(m->CreateTopic("orders", 2, {{"segment.bytes", "2048"}}).ok());
    ASSERT_TRUE(m->CreateTopic("clicks", 1).ok());
    auto log = Log(*m, "orders", 1);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(AppendOffsetBatch(*log, 5, 50, kNow, kNow).ok());
    EXPECT_FALSE(std::filesystem::exists(tmp_.Sub(".eddy_cleanshutdown")));
    ASSERT_TRUE(m->Close().ok());
    EXPECT_TRUE(std::filesystem::exists(tmp_.Sub(".eddy_cleanshutdown")));
  }
  auto m = MustOpen(tmp_.path());
  EXPECT_FALSE(std::filesystem::exists(tmp_.Sub(".eddy_cleanshutdown")));
  std::vector<TopicInfo> topics = m->ListTopics();
  ASSERT_EQ(topics.size(), 2u);
  EXPECT_EQ(topics[0].name, "clicks");
  EXPECT_EQ(topics[1].name, "orders");
  EXPECT_EQ(topics[1].configs.at("segment.bytes"), "2048");
  EXPECT_EQ(topics[1].partition_info[1].log_end_offset, 100);
  absl::StatusOr<RecoveryCheckpoint> cp = ReadRecoveryCheckpoint(tmp_.Sub("recovery-point-offset-checkpoint"));
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ(cp->at(TopicPartition{"orders", 1}).offset, 100);
  auto log = Log(*m, "orders", 1);
  absl::StatusOr<std::vector<testing_util::DecodedRecord>> recs = ReadRange(*log, 0);
  ASSERT_TRUE(recs.ok());
  EXPECT_EQ(CheckOffsetContent(*recs, 0, 100, 50), absl::OkStatus());
}

TEST_F(LogManagerTest, ASecondOpenOfALockedDirectoryFailsWithTheOwnersPid) {
  auto m = MustOpen(tmp_.path());
  absl::StatusOr<std::unique_ptr<LogManager>> second = LogManager::Open(Options(tmp_.path()));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(),
              HasSubstr(absl::StrCat("data directory ", tmp_.path(), " is locked by another process (pid ", getpid())));
  ASSERT_TRUE(m->Close().ok());
  EXPECT_TRUE(LogManager::Open(Options(tmp_.path())).ok());
}

TEST_F(LogManagerTest, AddPartitionsOnlyIncreases) {
  auto m = MustOpen(tmp_.path());
  ASSERT_TRUE(m->CreateTopic("t", 2).ok());
  EXPECT_THAT(m->AddPartitions("t", 2).message(), HasSubstr("already has 2 partitions"));
  EXPECT_THAT(m->AddPartitions("t", 1).message(), HasSubstr("higher than the requested 1"));
  ASSERT_TRUE(m->AddPartitions("t", 5).ok());
  EXPECT_TRUE(m->GetLog("t", 4).ok());
  ASSERT_TRUE(m->Close().ok());
  m = MustOpen(tmp_.path());
  EXPECT_EQ(m->DescribeTopic("t")->partitions, 5);
}

TEST_F(LogManagerTest, DeletedTopicsLoseTheirDataAndHeldLogsReportNotFound) {
  auto m = MustOpen(tmp_.path());
  ASSERT_TRUE(m->CreateTopic("t", 1).ok());
  auto log = Log(*m, "t", 0);
  ASSERT_TRUE(AppendOffsetBatch(*log, 5, 50, kNow, kNow).ok());
  const std::string id = m->DescribeTopic("t")->topic_id;
  ASSERT_TRUE(m->DeleteTopic("t").ok());
  EXPECT_FALSE(std::filesystem::exists(tmp_.Sub("t-0")));
  std::string out;
  EXPECT_EQ(log->Read(0, 100, &out).status().code(), absl::StatusCode::kNotFound);
  std::string batch = MakeBatch(1, 1, kNow);
  EXPECT_EQ(log->Append(absl::MakeSpan(batch), kNow).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(m->GetLog("t", 0).status().code(), absl::StatusCode::kNotFound);
  // The same name again is a new, empty topic.
  ASSERT_TRUE(m->CreateTopic("t", 1).ok());
  EXPECT_NE(m->DescribeTopic("t")->topic_id, id);
  EXPECT_EQ(Log(*m, "t", 0)->log_end_offset(), 0);
}

TEST_F(LogManagerTest, RequestFlushCompletesEveryWaiterOnceItsOffsetIsDurable) {
  auto m = MustOpen(tmp_.path());
  ASSERT_TRUE(m->CreateTopic("t", 2).ok());
  constexpr int kThreads = 8, kAppends = 30;
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto log = Log(*m, "t", t % 2);
      for (int i = 0; i < kAppends; ++i) {
        std::string batch = MakeBatch(1 + i % 3, 100, kNow);  // single-record batches too
        absl::StatusOr<AppendResult> r = log->Append(absl::MakeSpan(batch), kNow);
        if (!r.ok()) {
          ++bad;
          continue;
        }
        const int64_t last = r->last_offset;
        absl::Notification done;
        m->RequestFlush(log, last, [&](absl::Status s) {
          if (s.ok() && log->flushed_offset() > last) {
            ++ok;
          } else {
            ++bad;
          }
          done.Notify();
        });
        done.WaitForNotification();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kAppends);
  EXPECT_EQ(bad.load(), 0);
  // Each thread appended 30 batches of 1, 2, 3, 1, ... records: 60 records.
  for (int p = 0; p < 2; ++p) EXPECT_EQ(Log(*m, "t", p)->flushed_offset(), kThreads / 2 * 60);
  // Already durable: completed at once. At or beyond the end: refused at once.
  auto log0 = Log(*m, "t", 0);
  absl::Status durable = absl::UnknownError("not called");
  m->RequestFlush(log0, log0->log_end_offset() - 1, [&](absl::Status s) { durable = s; });
  EXPECT_TRUE(durable.ok()) << durable;
  absl::Status beyond;
  m->RequestFlush(log0, log0->log_end_offset(), [&](absl::Status s) { beyond = s; });
  EXPECT_EQ(beyond.code(), absl::StatusCode::kOutOfRange);
}

TEST_F(LogManagerTest, RetentionRunsWithTheInjectedClock) {
  auto m = MustOpen(tmp_.path());
  ASSERT_TRUE(m->CreateTopic("t", 1, {{"retention.ms", "60000"}, {"segment.bytes", "1000"}}).ok());
  auto log = Log(*m, "t", 0);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(AppendOffsetBatch(*log, 10, 50, kNow + i * 10'000, kNow).ok());
  now_ = kNow + 60'000;
  EXPECT_EQ(*m->RunRetentionNow(), 0);
  now_ = kNow + 70'010;  // only the first two segments (newest records kNow+9, kNow+10009) are older than 60 s
  EXPECT_EQ(*m->RunRetentionNow(), 2);
  EXPECT_EQ(log->log_start_offset(), 20);
  EXPECT_EQ(m->DescribeTopic("t")->partition_info[0].log_start_offset, 20);
}

TEST_F(LogManagerTest, AnUncleanCopyRecoversFromTheCheckpointWithEverything) {
  auto m = MustOpen(tmp_.path() + "/live");
  ASSERT_TRUE(m->CreateTopic("t", 1, {{"segment.bytes", "2048"}}).ok());
  auto log = Log(*m, "t", 0);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(AppendOffsetBatch(*log, 5, 50, kNow, kNow).ok());
  ASSERT_TRUE(log->Flush().ok());
  ASSERT_TRUE(m->CheckpointRecoveryPoints().ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(AppendOffsetBatch(*log, 5, 50, kNow, kNow).ok());  // not flushed
  // A copy of a live directory looks like a crash: no clean marker, a checkpoint at offset 100.
  std::filesystem::copy(tmp_.path() + "/live", tmp_.path() + "/copy", std::filesystem::copy_options::recursive);
  absl::StatusOr<RecoveryCheckpoint> cp = ReadRecoveryCheckpoint(tmp_.path() + "/copy/recovery-point-offset-checkpoint");
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->at(TopicPartition{"t", 0}).offset, 100);
  auto copy = MustOpen(tmp_.path() + "/copy");
  auto recovered = Log(*copy, "t", 0);
  EXPECT_EQ(recovered->log_end_offset(), 115);
  absl::StatusOr<std::vector<testing_util::DecodedRecord>> recs = ReadRange(*recovered, 0);
  ASSERT_TRUE(recs.ok());
  EXPECT_EQ(CheckOffsetContent(*recs, 0, 115, 50), absl::OkStatus());
}

TEST_F(LogManagerTest, StrayPartitionDirectoriesAreRemovedUnlessTheMetadataIsMissing) {
  { auto m = MustOpen(tmp_.path()); }
  std::filesystem::create_directories(tmp_.Sub("gone-0"));
  std::filesystem::create_directories(tmp_.Sub("t-0.abcd-delete"));
  std::filesystem::create_directories(tmp_.Sub("not a partition"));
  { auto m = MustOpen(tmp_.path()); }
  EXPECT_FALSE(std::filesystem::exists(tmp_.Sub("gone-0")));
  EXPECT_FALSE(std::filesystem::exists(tmp_.Sub("t-0.abcd-delete")));
  EXPECT_TRUE(std::filesystem::exists(tmp_.Sub("not a partition")));
  std::filesystem::create_directories(tmp_.Sub("kept-0"));
  std::filesystem::remove(tmp_.Sub("meta/topics.pb"));
  absl::StatusOr<std::unique_ptr<LogManager>> m = LogManager::Open(Options(tmp_.path()));
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(std::filesystem::exists(tmp_.Sub("kept-0")));
}

TEST(RecoveryCheckpointTest, RoundTripsAndRejectsMalformedText) {
  RecoveryCheckpoint cp;
  cp[TopicPartition{"a.b-c", 3}] = RecoveryPoint{1500, 823417, kNow};
  cp[TopicPartition{"z", 0}] = RecoveryPoint{0, 0, -1};
  absl::StatusOr<RecoveryCheckpoint> back = ParseRecoveryCheckpoint(EncodeRecoveryCheckpoint(cp));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->size(), 2u);
  EXPECT_EQ(back->at(TopicPartition{"a.b-c", 3}).position, 823417);
  EXPECT_EQ(back->at(TopicPartition{"a.b-c", 3}).max_timestamp, kNow);
  EXPECT_EQ(ParseRecoveryCheckpoint("1\n2\nt 0 1 2 3\n").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseRecoveryCheckpoint("0\n0\n").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseRecoveryCheckpoint("1\n1\nt 0 x 2 3\n").status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace eddy::broker
