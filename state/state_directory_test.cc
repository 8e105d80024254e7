// Task directories: layout, locks, checkpoints (Kafka's file format, atomic replacement), wiping, cleaning.
#include "eddy/state/state_directory.h"

#include <sys/stat.h>
#include <sys/time.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "eddy/state/offset_checkpoint.h"
#include "eddy/state/stores.h"
#include "gtest/gtest.h"
#include "state/test_util.h"

namespace eddy {
namespace {

namespace fs = std::filesystem;
using state_testing::TempDir;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& data) { std::ofstream(path) << data; }

TEST(StateDirectoryTest, LaysOutTasksAsKafkaStreams) {
  TempDir tmp;
  auto dir = *StateDirectory::Open(tmp.path(), "app");
  EXPECT_EQ(dir->app_dir(), tmp.path() + "/app");
  EXPECT_EQ(*dir->TaskDir("0_3"), tmp.path() + "/app/0_3");
  EXPECT_TRUE(fs::is_directory(tmp.path() + "/app/0_3"));
  EXPECT_EQ(dir->StoreDir("0_3", "counts"), tmp.path() + "/app/0_3/rocksdb/counts");
  EXPECT_EQ(dir->TaskDir("../x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(dir->TaskDir("0_").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StateDirectory::Open(tmp.path(), "a/b").status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(dir->TaskDir("1_0").ok());
  fs::create_directories(tmp.path() + "/app/not-a-task");
  EXPECT_EQ(*dir->ListTaskIds(), (std::vector<std::string>{"0_3", "1_0"}));

  // A persistent store opened with the task's context lands in <task>/rocksdb/<store>.
  StateStoreContext context;
  context.application_id = "app";
  context.task_id = "0_3";
  context.task_dir = *dir->TaskDir("0_3");
  auto store = *Stores::PersistentKeyValueStore("counts").WithLoggingDisabled().Build();
  ASSERT_TRUE(store->Init(&context).ok());
  ASSERT_TRUE(store->Close().ok());
  EXPECT_TRUE(fs::exists(tmp.path() + "/app/0_3/rocksdb/counts/CURRENT"));
  EXPECT_TRUE(dir->StoreHasLocalState("0_3", "counts"));
  EXPECT_FALSE(dir->StoreHasLocalState("0_3", "other"));
}

TEST(StateDirectoryTest, SecondOwnerOfATaskGetsFailedPrecondition) {
  TempDir tmp;
  auto dir = *StateDirectory::Open(tmp.path(), "app");
  auto other = *StateDirectory::Open(tmp.path(), "app");  // as a second process would
  auto lock = dir->Lock("0_1");
  ASSERT_TRUE(lock.ok()) << lock.status();
  EXPECT_TRUE(lock->held());
  auto second = other->Lock("0_1");
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("locked by another owner"), std::string::npos);
  EXPECT_EQ(dir->Lock("0_1").status().code(), absl::StatusCode::kFailedPrecondition);  // same instance too
  EXPECT_TRUE(other->Lock("0_2").ok());  // other tasks are free
  TaskDirectoryLock moved = std::move(*lock);
  EXPECT_EQ(other->Lock("0_1").status().code(), absl::StatusCode::kFailedPrecondition);
  moved.Unlock();
  EXPECT_TRUE(other->Lock("0_1").ok());
}

TEST(StateDirectoryTest, CheckpointRoundTripsInKafkasFormat) {
  TempDir tmp;
  auto dir = *StateDirectory::Open(tmp.path(), "app");
  auto lock = *dir->Lock("0_3");
  EXPECT_TRUE(dir->ReadCheckpoint("0_3")->empty());  // none yet
  std::map<TopicPartition, int64_t> offsets = {{{"app-counts-changelog", 3}, 1234},
                                               {{"app-sums-changelog", 3}, 0},
                                               {{"app-x-changelog", 3}, OffsetCheckpoint::kOffsetUnknown}};
  ASSERT_TRUE(dir->WriteCheckpoint(lock, offsets).ok());
  EXPECT_EQ(ReadAll(tmp.path() + "/app/0_3/.checkpoint"),
            "0\n3\napp-counts-changelog 3 1234\napp-sums-changelog 3 0\napp-x-changelog 3 -4\n");
  EXPECT_EQ(*dir->ReadCheckpoint("0_3"), offsets);
  EXPECT_FALSE(fs::exists(tmp.path() + "/app/0_3/.checkpoint.tmp"));
  // Writing nothing deletes the file, as Kafka does.
  ASSERT_TRUE(dir->WriteCheckpoint(lock, {}).ok());
  EXPECT_FALSE(fs::exists(tmp.path() + "/app/0_3/.checkpoint"));
  // Without the lock: refused.
  lock.Unlock();
  EXPECT_EQ(dir->WriteCheckpoint(lock, offsets).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(StateDirectoryTest, InterruptedCheckpointWriteLeavesThePreviousOne) {
  TempDir tmp;
  OffsetCheckpoint checkpoint(tmp.path() + "/.checkpoint");
  std::map<TopicPartition, int64_t> old_offsets = {{{"t", 0}, 5}};
  ASSERT_TRUE(checkpoint.Write(old_offsets).ok());
  // A crash after the temporary file was written, before the rename.
  WriteAll(tmp.path() + "/.checkpoint.tmp", "0\n1\nt 0 9");
  EXPECT_EQ(*checkpoint.Read(), old_offsets);
  // The next write replaces both.
  ASSERT_TRUE(checkpoint.Write({{{"t", 0}, 10}}).ok());
  EXPECT_EQ(checkpoint.Read()->at({"t", 0}), 10);
  EXPECT_FALSE(fs::exists(tmp.path() + "/.checkpoint.tmp"));
}

TEST(StateDirectoryTest, MalformedCheckpointIsDataLossAndInvalidOffsetsAreSkipped) {
  TempDir tmp;
  OffsetCheckpoint checkpoint(tmp.path() + "/.checkpoint");
  for (const char* bad : {"", "1\n0\n", "0\n2\nt 0 1\n", "0\n1\nt x 1\n", "0\n1\nt 0\n", "0\n0\nt 0 1\n"}) {
    WriteAll(checkpoint.path(), bad);
    EXPECT_EQ(checkpoint.Read().status().code(), absl::StatusCode::kDataLoss) << bad;
  }
  WriteAll(checkpoint.path(), "0\n2\nt 0 -1\nt 1 7\n");
  EXPECT_EQ(*checkpoint.Read(), (std::map<TopicPartition, int64_t>{{{"t", 1}, 7}}));
}

TEST(StateDirectoryTest, WipeDeletesStoresAndCheckpointButKeepsTheLock) {
  TempDir tmp;
  auto dir = *StateDirectory::Open(tmp.path(), "app");
  auto lock = *dir->Lock("0_3");
  fs::create_directories(tmp.path() + "/app/0_3/rocksdb/a");
  fs::create_directories(tmp.path() + "/app/0_3/rocksdb/b");
  WriteAll(tmp.path() + "/app/0_3/rocksdb/a/data", "x");
  ASSERT_TRUE(dir->WriteCheckpoint(lock, {{{"t", 3}, 1}}).ok());
  ASSERT_TRUE(dir->WipeStore(lock, "a").ok());
  EXPECT_FALSE(fs::exists(tmp.path() + "/app/0_3/rocksdb/a"));
  EXPECT_TRUE(fs::exists(tmp.path() + "/app/0_3/rocksdb/b"));
  ASSERT_TRUE(dir->WipeTask(lock).ok());
  EXPECT_FALSE(fs::exists(tmp.path() + "/app/0_3/rocksdb"));
  EXPECT_TRUE(dir->ReadCheckpoint("0_3")->empty());
  EXPECT_TRUE(fs::exists(tmp.path() + "/app/0_3/.lock"));
  auto other = *StateDirectory::Open(tmp.path(), "app");
  EXPECT_EQ(other->Lock("0_3").status().code(), absl::StatusCode::kFailedPrecondition);  // still held
  lock.Unlock();
  EXPECT_EQ(dir->WipeTask(lock).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(StateDirectoryTest, CleansOnlyUnlockedTaskDirectoriesOlderThanTheDelay) {
  TempDir tmp;
  auto dir = *StateDirectory::Open(tmp.path(), "app");
  for (const char* id : {"0_0", "0_1", "0_2"}) ASSERT_TRUE(dir->TaskDir(id).ok());
  auto held = *dir->Lock("0_1");
  // 0_0 and 0_1 were last modified an hour ago; 0_2 now.
  const absl::Time now = absl::Now();
  struct timeval old_times[2] = {absl::ToTimeval(now - absl::Hours(1)), absl::ToTimeval(now - absl::Hours(1))};
  for (const char* id : {"0_0", "0_1"}) ASSERT_EQ(utimes((tmp.path() + "/app/" + id).c_str(), old_times), 0);
  auto removed = dir->CleanObsoleteTaskDirs(StateDirectory::kDefaultCleanupDelay, now);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, std::vector<std::string>{"0_0"});
  EXPECT_EQ(*dir->ListTaskIds(), (std::vector<std::string>{"0_1", "0_2"}));
}

}  // namespace
}  // namespace eddy
