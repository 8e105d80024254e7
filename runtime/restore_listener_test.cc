// The stream thread's restore listener: the log lines of a store's restoration (start, progress "N records,
// offset X of [start, end)", end with the rate), the per-store counts, and forwarding to the user's listener.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/stream_thread.h"

namespace eddy::runtime_internal {
namespace {

using ::testing::HasSubstr;

struct CountingListener : StateRestoreListener {
  int starts = 0, batches = 0, ends = 0;
  int64_t total = 0;
  void OnRestoreStart(const TopicPartition&, absl::string_view, int64_t, int64_t) override { ++starts; }
  void OnBatchRestored(const TopicPartition&, absl::string_view, int64_t, int64_t) override { ++batches; }
  void OnRestoreEnd(const TopicPartition&, absl::string_view, int64_t n) override {
    ++ends;
    total = n;
  }
};

TEST(ThreadRestoreListenerTest, LogsStartProgressAndEndAndForwardsToTheUsersListener) {
  std::vector<std::string> lines;
  const LogSink log = [&](absl::string_view line) { lines.emplace_back(line); };
  CountingListener user;
  ThreadRestoreListener listener("app-StreamThread-1", &log, &user, absl::ZeroDuration());
  const TopicPartition changelog{"app-counts-changelog", 2};
  listener.OnRestoreStart(changelog, "counts", 100, 1100);
  listener.OnBatchRestored(changelog, "counts", 349, 200);  // offsets 100..349, with compaction's gaps
  listener.OnBatchRestored(changelog, "counts", 1099, 600);
  listener.OnRestoreEnd(changelog, "counts", 800);

  ASSERT_EQ(lines.size(), 4u);
  EXPECT_THAT(lines[0], HasSubstr("restoring store counts from app-counts-changelog-2 offsets [100, 1100)"));
  EXPECT_THAT(lines[1], HasSubstr("restoring store counts from app-counts-changelog-2: 200 records, offset 350 of "
                                  "[100, 1100) (25%)"));
  EXPECT_THAT(lines[2], HasSubstr("800 records, offset 1100 of [100, 1100) (100%)"));
  EXPECT_THAT(lines[3], HasSubstr("restored store counts from app-counts-changelog-2: 800 records in "));
  EXPECT_THAT(lines[3], HasSubstr("records/s)"));
  EXPECT_EQ(listener.restored().at("counts"), 800);
  EXPECT_EQ(user.starts, 1);
  EXPECT_EQ(user.batches, 2);
  EXPECT_EQ(user.ends, 1);
  EXPECT_EQ(user.total, 800);
}

TEST(ThreadRestoreListenerTest, ProgressIsLoggedAtMostOncePerInterval) {
  std::vector<std::string> lines;
  const LogSink log = [&](absl::string_view line) { lines.emplace_back(line); };
  ThreadRestoreListener listener("t", &log, nullptr, absl::Hours(1));
  const TopicPartition changelog{"c", 0};
  listener.OnRestoreStart(changelog, "s", 0, 1000);
  for (int i = 0; i < 10; ++i) listener.OnBatchRestored(changelog, "s", i * 100 + 99, 100);
  listener.OnRestoreEnd(changelog, "s", 1000);
  ASSERT_EQ(lines.size(), 2u) << "progress lines within the interval";
  EXPECT_THAT(lines[1], HasSubstr("restored store s from c-0: 1000 records"));
}

}  // namespace
}  // namespace eddy::runtime_internal
