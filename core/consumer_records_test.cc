#include "eddy/core/consumer_records.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eddy/core/record_batch.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

// One uncompressed batch at base offset 0 holding values v0..v(n-1).
std::string Batch(int n, const std::string& prefix) {
  RecordBatchBuilder b;
  for (int i = 0; i < n; ++i) {
    const std::string v = absl::StrCat(prefix, i);
    b.Append(1000 + i, std::nullopt, v);
  }
  auto batch = b.Finish();
  return std::string(batch->data(), batch->size());
}

TEST(ConsumerRecordsTest, ForEachPartitionHandsOverOneSpanPerPartitionInOffsetOrder) {
  ConsumerRecords records;
  std::string* b0 = records.NewBuffer();
  *b0 = Batch(3, "a");
  ASSERT_TRUE(records.AddBatches({"t", 0}, *b0, 0, true).ok());
  std::string* b1 = records.NewBuffer();
  *b1 = Batch(4, "b");
  ASSERT_TRUE(records.AddBatches({"u", 2}, *b1, 1, true).ok());  // starts inside the batch: skips offset 0

  std::vector<RecordView> scratch;
  std::vector<std::string> seen;
  ASSERT_TRUE(records
                  .ForEachPartition(&scratch,
                                    [&](const TopicPartition& tp, absl::Span<const RecordView> span) {
                                      std::string s = absl::StrCat(ToString(tp), ":");
                                      for (const RecordView& r : span) {
                                        absl::StrAppend(&s, " ", r.offset(), "=", r.value());
                                      }
                                      seen.push_back(s);
                                    })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"t-0: 0=a0 1=a1 2=a2", "u-2: 1=b1 2=b2 3=b3"}));

  // Refilled after Clear: the spans cover only the new records.
  records.Clear();
  std::string* b2 = records.NewBuffer();
  *b2 = Batch(2, "c");
  ASSERT_TRUE(records.AddBatches({"t", 1}, *b2, 0, true).ok());
  seen.clear();
  ASSERT_TRUE(records
                  .ForEachPartition(&scratch,
                                    [&](const TopicPartition& tp, absl::Span<const RecordView> span) {
                                      seen.push_back(absl::StrCat(ToString(tp), " ", span.size()));
                                    })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"t-1 2"}));
}

}  // namespace
}  // namespace eddy
