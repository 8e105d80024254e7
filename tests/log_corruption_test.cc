// Recovery from damaged segment files: the active segment's tail cut at random byte positions, and bytes
// overwritten inside its batches. After an unclean open the log must end at the last valid batch before
// the damage, everything before it must be intact and readable, and appends must continue at the right
// offsets. Seeded randomness: every run damages the same positions.
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "broker/log_test_util.h"
#include "broker/partition_log.h"
#include "gtest/gtest.h"

namespace eddy::broker {
namespace {

namespace fs = std::filesystem;
using testing_util::CheckOffsetContent;
using testing_util::ReadRange;
using testing_util::TempDir;

constexpr int64_t kNow = 1'700'000'000'000;
constexpr size_t kValueSize = 37;

struct Batch {
  int64_t position, size, base_offset, next_offset;
};

class LogCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.segment_bytes = 16 * 1024;
    config_.index_interval_bytes = 512;
    std::mt19937 rng(7);
    auto log = Open(pristine(), /*clean=*/true);
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < 150; ++i) {
      const int count = 1 + static_cast<int>(rng() % 8);
      ASSERT_TRUE(testing_util::AppendOffsetBatch(*log, count, kValueSize, kNow + i, kNow).ok());
    }
    ASSERT_TRUE(log->Close().ok());
    ASSERT_GE(log->segment_count(), 3);
    end_ = log->log_end_offset();
    // The active segment and its batch boundaries.
    std::vector<fs::path> logs;
    for (const auto& e : fs::directory_iterator(pristine())) {
      if (e.path().extension() == ".log") logs.push_back(e.path());
    }
    std::sort(logs.begin(), logs.end());
    active_name_ = logs.back().filename().string();
    std::ifstream in(logs.back(), std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (int64_t pos = 0; pos < static_cast<int64_t>(data.size());) {
      BatchHeaderView h(data.data() + pos);
      batches_.push_back({pos, h.size_in_bytes(), h.base_offset(), h.next_offset()});
      pos += h.size_in_bytes();
    }
    ASSERT_GE(batches_.size(), 5u);
  }

  std::unique_ptr<PartitionLog> Open(const std::string& dir, bool clean) {
    RecoveryInfo info;
    info.clean_shutdown = clean;
    absl::StatusOr<std::unique_ptr<PartitionLog>> log = PartitionLog::Open(dir, {"t", 0}, config_, info);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : nullptr;
  }

  // A fresh copy of the pristine log to damage.
  std::string Copy(int i) {
    const std::string dir = tmp_.Sub("work-" + std::to_string(i));
    fs::copy(pristine(), dir, fs::copy_options::recursive);
    return dir;
  }

  // Reopens `dir` as after a crash and checks it ends at `expected_end` with intact data before it and
  // working appends.
  void ExpectRecoveredTo(const std::string& dir, int64_t expected_end, const std::string& what) {
    SCOPED_TRACE(what);
    auto log = Open(dir, /*clean=*/false);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->log_end_offset(), expected_end);
    absl::StatusOr<std::vector<testing_util::DecodedRecord>> recs = ReadRange(*log, 0, 1000);
    ASSERT_TRUE(recs.ok()) << recs.status();
    EXPECT_EQ(CheckOffsetContent(*recs, 0, expected_end, kValueSize), absl::OkStatus());
    absl::StatusOr<AppendResult> r = testing_util::AppendOffsetBatch(*log, 3, kValueSize, kNow, kNow);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->first_offset, expected_end);
    recs = ReadRange(*log, expected_end);
    ASSERT_TRUE(recs.ok()) << recs.status();
    EXPECT_EQ(CheckOffsetContent(*recs, expected_end, expected_end + 3, kValueSize), absl::OkStatus());
  }

  std::string pristine() const { return tmp_.Sub("pristine"); }

  TempDir tmp_;
  LogConfig config_;
  int64_t end_ = 0;
  std::string active_name_;
  std::vector<Batch> batches_;  // of the active segment
};

TEST_F(LogCorruptionTest, ATailCutAtAnyByteRecoversToTheLastWholeBatch) {
  std::mt19937 rng(42);
  const int64_t size = batches_.back().position + batches_.back().size;
  for (int i = 0; i < 40; ++i) {
    // Mostly random cuts; every fifth exactly at a batch boundary.
    int64_t cut = static_cast<int64_t>(rng() % static_cast<uint64_t>(size));
    if (i % 5 == 0) cut = batches_[rng() % batches_.size()].position;
    int64_t expected = batches_.front().base_offset;
    for (const Batch& b : batches_) {
      if (b.position + b.size <= cut) expected = b.next_offset;
    }
    const std::string dir = Copy(i);
    fs::resize_file(dir + "/" + active_name_, static_cast<uintmax_t>(cut));
    ExpectRecoveredTo(dir, expected, "cut at byte " + std::to_string(cut));
  }
}

TEST_F(LogCorruptionTest, OverwrittenBytesInsideABatchCutTheLogBeforeIt) {
  std::mt19937 rng(1234);
  for (int i = 0; i < 40; ++i) {
    // The last batch most of the time, sometimes one in the middle (everything after it goes too).
    const Batch& b = i % 4 == 3 ? batches_[batches_.size() / 2] : batches_.back();
    // Any byte but the partitionLeaderEpoch [12, 16): like Kafka's, it is not covered by the CRC, and the
    // log has no way to notice it changed.
    int64_t at;
    do {
      at = static_cast<int64_t>(rng() % static_cast<uint64_t>(b.size));
    } while (at >= batch_format::kPartitionLeaderEpoch && at < batch_format::kMagic);
    const int n = 1 + static_cast<int>(rng() % 4);
    const std::string dir = Copy(100 + i);
    {
      std::fstream f(dir + "/" + active_name_, std::ios::in | std::ios::out | std::ios::binary);
      for (int k = 0; k < n && at + k < b.size; ++k) {
        if (at + k >= batch_format::kPartitionLeaderEpoch && at + k < batch_format::kMagic) continue;
        f.seekg(b.position + at + k);
        const char old = static_cast<char>(f.get());
        f.seekp(b.position + at + k);
        f.put(static_cast<char>(old ^ static_cast<char>(1 + rng() % 255)));
      }
    }
    ExpectRecoveredTo(dir, b.base_offset, "batch at " + std::to_string(b.position) + ", byte " + std::to_string(at));
  }
}

TEST_F(LogCorruptionTest, AnUndamagedLogOpenedAsUncleanLosesNothing) {
  ExpectRecoveredTo(Copy(999), end_, "no damage");
}

}  // namespace
}  // namespace eddy::broker
