// Crash test: a child process produces with acks=all semantics (Append, then wait for durability, then
// report the acknowledged end offset through a pipe) and is killed with SIGKILL at a random moment, 20
// times. After each kill the parent reopens the data directory (an unclean recovery) and checks what must
// survive: every acknowledged record at its offset with its content (derived from the offset), every batch
// served valid (CRC), offsets contiguous, and appends continuing at the log end. Seeded randomness.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "broker/log_manager.h"
#include "broker/log_test_util.h"
#include "gtest/gtest.h"

namespace eddy::broker {
namespace {

using testing_util::TempDir;
using testing_util::ValueForOffset;

constexpr char kTopic[] = "crash";

size_t ValueSizeForOffset(int64_t offset) { return 10 + static_cast<size_t>((offset * 7919) % 400); }

LogManagerOptions Options(const std::string& dir) {
  LogManagerOptions o;
  o.data_dir = dir;
  o.default_config.segment_bytes = 128 * 1024;  // many rolls
  o.default_config.index_interval_bytes = 1024;
  o.recovery_point_checkpoint_interval_ms = 15;  // recovery points land everywhere
  return o;
}

// The child: produce until killed. Never returns.
[[noreturn]] void Produce(const std::string& dir, int ack_fd, uint32_t seed) {
  absl::StatusOr<std::unique_ptr<LogManager>> m = LogManager::Open(Options(dir));
  if (!m.ok()) _exit(2);
  if (!(*m)->GetLog(kTopic, 0).ok() && !(*m)->CreateTopic(kTopic, 1).ok()) _exit(3);
  std::shared_ptr<PartitionLog> log = *(*m)->GetLog(kTopic, 0);
  std::mt19937 rng(seed);
  RecordBatchBuilder builder;
  for (uint64_t i = 0;; ++i) {
    builder.Reset();
    const int64_t base = log->log_end_offset();  // the only producer: offsets are known in advance
    const int count = 1 + static_cast<int>(rng() % 30);
    for (int k = 0; k < count; ++k) {
      const int64_t offset = base + k;
      builder.Append(1'700'000'000'000 + offset, absl::StrCat("key-", offset),
                     ValueForOffset(offset, ValueSizeForOffset(offset)));
    }
    absl::StatusOr<absl::Span<char>> batch = builder.Finish();
    if (!batch.ok()) _exit(4);
    absl::StatusOr<AppendResult> r = log->Append(*batch, 1'700'000'000'000);
    if (!r.ok() || r->first_offset != base) _exit(5);
    const int64_t acked = r->last_offset + 1;
    // acks=all, both ways the broker can do it: the group-commit service, or a direct Flush.
    if (i % 2 == 0) {
      absl::Notification done;
      absl::Status status;
      (*m)->RequestFlush(log, r->last_offset, [&](absl::Status s) {
        status = s;
        done.Notify();
      });
      done.WaitForNotification();
      if (!status.ok()) _exit(6);
    } else if (!log->Flush().ok()) {
      _exit(7);
    }
    if (write(ack_fd, &acked, sizeof(acked)) != sizeof(acked)) _exit(8);
  }
}

TEST(LogCrashTest, AcknowledgedRecordsSurviveSigkillAtRandomMoments) {
  TempDir tmp;
  const std::string dir = tmp.Sub("data");
  std::mt19937 rng(20240601);
  int64_t total_acked = 0;
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      Produce(dir, fds[1], static_cast<uint32_t>(round));
    }
    close(fds[1]);
    // Kill at a random moment: sometimes during the child's own recovery, mostly while producing.
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 400));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "the child exited by itself with status " << WEXITSTATUS(wstatus);
    int64_t acked = 0, value;
    while (read(fds[0], &value, sizeof(value)) == sizeof(value)) acked = value;
    close(fds[0]);
    total_acked = std::max(total_acked, acked);

    absl::StatusOr<std::unique_ptr<LogManager>> m = LogManager::Open(Options(dir));
    ASSERT_TRUE(m.ok()) << m.status();
    absl::StatusOr<std::shared_ptr<PartitionLog>> log = (*m)->GetLog(kTopic, 0);
    if (total_acked == 0 && !log.ok()) continue;  // killed before the topic existed
    ASSERT_TRUE(log.ok()) << log.status();
    const int64_t end = (*log)->log_end_offset();
    ASSERT_GE(end, total_acked) << "acknowledged records were lost";
    absl::StatusOr<std::vector<testing_util::DecodedRecord>> recs = testing_util::ReadRange(**log, 0, 64 * 1024);
    ASSERT_TRUE(recs.ok()) << recs.status();  // CRC-checked, contiguous
    ASSERT_EQ(static_cast<int64_t>(recs->size()), end);
    for (const auto& rec : *recs) {
      ASSERT_EQ(rec.key, absl::StrCat("key-", rec.offset));
      ASSERT_EQ(rec.value, ValueForOffset(rec.offset, ValueSizeForOffset(rec.offset))) << "offset " << rec.offset;
    }
    // Appends continue at the end (their content follows the same rule, so later rounds check it too).
    RecordBatchBuilder b;
    b.Append(1'700'000'000'000, absl::StrCat("key-", end), ValueForOffset(end, ValueSizeForOffset(end)));
    absl::StatusOr<AppendResult> r = (*log)->Append(*b.Finish(), 1'700'000'000'000);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->first_offset, end);
    ASSERT_TRUE((*m)->Close().ok());
  }
  EXPECT_GT(total_acked, 0);
}

}  // namespace
}  // namespace eddy::broker
