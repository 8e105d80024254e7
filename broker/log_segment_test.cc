// LogSegment's block reservation: appends reserve disk blocks past the end of the file without changing
// its size, and Seal gives them back.
#include "broker/log_segment.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <string>

#include "broker/log_test_util.h"
#include "gtest/gtest.h"

namespace eddy::broker {
namespace {

using testing_util::MakeBatch;
using testing_util::TempDir;

// Bytes of disk the file holds (st_blocks counts 512-byte units).
int64_t AllocatedBytes(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_blocks) * 512;
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return -1;
  return st.st_size;
}

// Whether the file system under `path` can reserve blocks past the end of a file.
bool FileSystemPreallocates(const std::string& path) {
  absl::StatusOr<File> f = File::Open(path, O_RDWR | O_CREAT);
  return f.ok() && f->Preallocate(0, 1 << 20).ok() && AllocatedBytes(path) >= (1 << 20);
}

// Appends `count` batches of 10 records of 1 KiB values, offsets from the segment's next offset.
void AppendBatches(LogSegment& seg, int count) {
  for (int i = 0; i < count; ++i) {
    std::string batch = MakeBatch(10, 1024, 1000);
    SetBaseOffset(batch.data(), seg.next_offset());
    bool damaged = false;
    ASSERT_TRUE(seg.Append(batch, 1000, &damaged).ok());
  }
}

TEST(LogSegmentTest, AppendsReserveBlocksPastTheEndWithoutChangingTheSizeAndSealReleasesThem) {
  TempDir dir;
  LogConfig config;
  absl::StatusOr<std::shared_ptr<LogSegment>> seg = LogSegment::Create(dir.path(), 0, config);
  ASSERT_TRUE(seg.ok()) << seg.status();
  AppendBatches(**seg, 20);
  const std::string path = (*seg)->log_path();
  const int64_t size = (*seg)->size();
  EXPECT_EQ(FileSize(path), size);  // readers and recovery see only what was written
  if (!FileSystemPreallocates(dir.Sub("probe"))) GTEST_SKIP() << "no fallocate(FALLOC_FL_KEEP_SIZE) here";
  EXPECT_GT(AllocatedBytes(path), size + 4096);

  ASSERT_TRUE((*seg)->Seal().ok());
  EXPECT_EQ(FileSize(path), size);
  EXPECT_LE(AllocatedBytes(path), size + 4096);
  EXPECT_EQ((*seg)->next_offset(), 200);
}

TEST(LogSegmentTest, ReservationStopsAtSegmentBytes) {
  TempDir dir;
  LogConfig config;
  config.segment_bytes = 64 * 1024;
  absl::StatusOr<std::shared_ptr<LogSegment>> seg = LogSegment::Create(dir.path(), 0, config);
  ASSERT_TRUE(seg.ok()) << seg.status();
  AppendBatches(**seg, 1);
  EXPECT_LE(AllocatedBytes((*seg)->log_path()), 64 * 1024);
  // An append past segment.bytes (the log rolls before the next one) still goes through.
  AppendBatches(**seg, 8);
  EXPECT_GT((*seg)->size(), 64 * 1024);
  EXPECT_EQ(FileSize((*seg)->log_path()), (*seg)->size());
}

}  // namespace
}  // namespace eddy::broker
