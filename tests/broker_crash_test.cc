// Crash test of the whole embedded broker: a child process produces with acks=all through the public
// Producer API and commits consumer-group offsets, reporting every acknowledgement to the parent through a
// pipe; the parent kills it with SIGKILL at a random moment, reopens the data directory and checks that
// every acknowledged record is at its offset with its content, that every committed offset survived, and
// that producing continues. Repeated over several rounds on the same directory.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eddy/broker/broker.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

constexpr char kTopic[] = "crash";
constexpr int32_t kPartitions = 3;
constexpr char kGroup[] = "crash-group";

// One report from the child: kind 0 = record acknowledged (a = partition, b = offset, c = record id);
// kind 1 = offset committed (a = partition, b = committed offset).
struct Report {
  int64_t kind, a, b, c;
};

std::string ValueFor(int64_t id) { return absl::StrCat("value-", id, "-", std::string(id % 50, 'x')); }

void WriteReport(int fd, const Report& r) {
  // Writes of at most PIPE_BUF bytes to a pipe are atomic, so callbacks on several threads never interleave.
  ssize_t n = write(fd, &r, sizeof(r));
  if (n != sizeof(r)) _exit(3);
}

// The child: produce forever (acks=all) from id `first_id`, and commit a consumer's progress.
[[noreturn]] void RunChild(const std::string& dir, int fd, int64_t first_id) {
  auto broker = Broker::Open({.data_dir = dir});
  if (!broker.ok()) _exit(2);
  ProducerConfig pc;
  pc.acks = Acks::kAll;
  pc.linger_ms = 1;
  std::unique_ptr<Producer> producer = (*broker)->NewProducer(pc);
  std::thread committer([&] {
    ConsumerConfig cc;
    cc.group_id = kGroup;
    cc.enable_auto_commit = false;
    cc.auto_offset_reset = OffsetReset::kEarliest;
    auto consumer = (*broker)->NewConsumer(cc);
    if (!consumer.ok()) _exit(4);
    std::vector<TopicPartition> all;
    for (int32_t p = 0; p < kPartitions; ++p) all.push_back({kTopic, p});
    if (!(*consumer)->Assign(all).ok()) _exit(5);
    ConsumerRecords records;
    while (true) {
      if (!(*consumer)->Poll(absl::Milliseconds(20), &records).ok()) _exit(6);
      if (records.empty()) continue;
      if (!(*consumer)->CommitSync().ok()) _exit(7);
      for (const TopicPartition& tp : all) {
        absl::StatusOr<int64_t> pos = (*consumer)->Position(tp);
        if (pos.ok()) WriteReport(fd, Report{1, tp.partition, *pos, 0});
      }
    }
  });
  for (int64_t id = first_id;; ++id) {
    const std::string key = absl::StrCat("key-", id);
    const std::string value = ValueFor(id);
    absl::Status s = producer->Send({.topic = kTopic, .key = key, .value = value},
                                    [fd, id](const absl::Status& st, const RecordMetadata& md) {
                                      if (st.ok()) WriteReport(fd, Report{0, md.partition, md.offset, id});
                                    });
    if (!s.ok()) _exit(8);
  }
}

TEST(BrokerCrashTest, AcknowledgedRecordsAndCommittedOffsetsSurviveSigkill) {
  char tmpl[] = "/tmp/eddy-broker-crash-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  {
    auto broker = Broker::Open({.data_dir = dir});
    ASSERT_TRUE(broker.ok()) << broker.status();
    ASSERT_TRUE((*broker)->admin().CreateTopic({.name = kTopic, .partitions = kPartitions}).ok());
  }
  std::mt19937 rng(20261122);
  std::map<std::pair<int32_t, int64_t>, int64_t> acked;  // (partition, offset) -> id
  std::map<int32_t, int64_t> committed;                   // partition -> highest committed offset reported
  int64_t next_id = 0;
  constexpr int kRounds = 8;
  for (int round = 0; round < kRounds; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      RunChild(dir, fds[1], next_id);
    }
    close(fds[1]);
    Report r;
    int64_t acked_this_round = 0;
    auto take = [&](const Report& report) {
      if (report.kind == 0) {
        acked[{static_cast<int32_t>(report.a), report.b}] = report.c;
        next_id = std::max(next_id, report.c + 1);
        ++acked_this_round;
      } else {
        committed[static_cast<int32_t>(report.a)] = std::max(committed[static_cast<int32_t>(report.a)], report.b);
      }
    };
    // Kill at a random moment after the first acknowledgement (not after a fixed time: on a loaded machine
    // recovery and the first fsync can take longer than any fixed window, and a round that acknowledged
    // nothing tests nothing).
    pollfd readable{fds[0], POLLIN, 0};
    while (acked_this_round == 0 && poll(&readable, 1, 60000) == 1 && read(fds[0], &r, sizeof(r)) == sizeof(r)) {
      take(r);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 400));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "the child exited by itself with " << WEXITSTATUS(wstatus);
    while (read(fds[0], &r, sizeof(r)) == sizeof(r)) take(r);
    close(fds[0]);
    next_id += 1000000;  // ids of unacknowledged sends of this round are never reused
    EXPECT_GT(acked_this_round, 0) << "round " << round << " acknowledged nothing";

    // Reopen (recovery after an unclean shutdown) and check everything acknowledged so far.
    auto broker = Broker::Open({.data_dir = dir});
    ASSERT_TRUE(broker.ok()) << broker.status();
    ConsumerConfig cc;
    cc.group_id = kGroup;
    cc.enable_auto_commit = false;
    auto consumer = (*broker)->NewConsumer(cc);
    ASSERT_TRUE(consumer.ok());
    for (const auto& [p, offset] : committed) {
      absl::StatusOr<std::optional<int64_t>> c = (*consumer)->Committed({kTopic, p});
      ASSERT_TRUE(c.ok()) << c.status();
      ASSERT_TRUE(c->has_value()) << "partition " << p << " lost its committed offset";
      EXPECT_GE(**c, offset) << "partition " << p << " committed offset went back";
    }
    std::vector<TopicPartition> all;
    for (int32_t p = 0; p < kPartitions; ++p) all.push_back({kTopic, p});
    ASSERT_TRUE((*consumer)->Assign(all).ok());
    ASSERT_TRUE((*consumer)->SeekToBeginning(all).ok());
    std::map<std::pair<int32_t, int64_t>, std::string> seen;
    std::map<int32_t, int64_t> ends;
    absl::StatusOr<TopicDescription> description = (*broker)->admin().DescribeTopic(kTopic);
    ASSERT_TRUE(description.ok()) << description.status();
    for (const PartitionDescription& pd : description->partitions) ends[pd.partition] = pd.log_end_offset;
    ConsumerRecords records;
    int64_t total = 0, expected_total = 0;
    for (const auto& [p, end] : ends) expected_total += end;
    while (total < expected_total) {
      absl::Status s = (*consumer)->Poll(absl::Seconds(5), &records);
      ASSERT_TRUE(s.ok()) << s;
      ASSERT_FALSE(records.empty()) << "log ends early: read " << total << " of " << expected_total;
      for (const RecordView& rec : records) {
        seen[{rec.partition(), rec.offset()}] = std::string(rec.value());
        ++total;
      }
      ASSERT_TRUE(records.status().ok()) << records.status();
    }
    for (const auto& [where, id] : acked) {
      auto it = seen.find(where);
      ASSERT_NE(it, seen.end()) << "acknowledged record " << id << " at partition " << where.first << " offset "
                                << where.second << " is missing after round " << round;
      ASSERT_EQ(it->second, ValueFor(id)) << "partition " << where.first << " offset " << where.second;
    }
    // Appends continue after recovery.
    std::unique_ptr<Producer> producer = (*broker)->NewProducer({});
    ASSERT_TRUE(producer->Send({.topic = kTopic, .partition = 0, .value = "after-recovery"}).ok());
    ASSERT_TRUE(producer->Flush().ok());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace eddy
