// Tumbling and hopping windows through the TestDriver (two partitions), against a brute-force reference on
// randomized out-of-order input with late records: final per-window results, dropped-record counts,
// exactly-once final results with EmitStrategy::OnWindowClose and Suppress, retention, the Windowed serde;
// the same input also in record batches of random sizes, as a stream thread processes them.
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "dsl/window_test_util.h"
#include "eddy/dsl/dsl.h"
#include "eddy/runtime/test_driver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

using window_test::InputRecord;
using window_test::WindowResults;
using ::testing::HasSubstr;

// The reference: per partition (task) stream time; a record updates every window containing it whose
// end + grace is after stream time, and counts one drop for each other one (Kafka's KStreamWindowAggregate).
struct TimeReference {
  WindowResults count, sum;
  int64_t dropped = 0;
  std::map<int32_t, int64_t> stream_time;
};
TimeReference Reference(const std::vector<InputRecord>& records, const TimeWindows& w) {
  TimeReference ref;
  for (const InputRecord& r : records) {
    int64_t& st = ref.stream_time.try_emplace(r.partition, -1).first->second;
    st = std::max(st, r.timestamp);
    for (int64_t start = 0; start <= r.timestamp; start += w.advance_ms) {
      const int64_t end = start + w.size_ms;
      if (r.timestamp >= end) continue;  // brute force: every aligned window, keep those containing r
      if (end + w.grace_ms <= st) {
        ++ref.dropped;
        continue;
      }
      ref.count[{r.key, start, end}] += 1;
      ref.sum[{r.key, start, end}] += r.value;
    }
  }
  return ref;
}

// Windows of `all` that are closed at their partition's final stream time.
WindowResults ClosedOnly(const WindowResults& all, const TimeReference& ref, const TimeWindows& w,
                         const std::map<std::string, int32_t>& partition_of) {
  WindowResults out;
  for (const auto& [k, v] : all) {
    const int64_t st = ref.stream_time.at(partition_of.at(std::get<0>(k)));
    if (std::get<2>(k) + w.grace_ms <= st) out[k] = v;
  }
  return out;
}

std::map<std::string, int32_t> PartitionOf(const std::vector<InputRecord>& records) {
  std::map<std::string, int32_t> out;
  for (const InputRecord& r : records) out[r.key] = r.partition;
  return out;
}

// `batched`: records processed in batches of random sizes, as a stream thread does (the aggregations hold a
// batch's windows and write them back at its end), instead of one record per batch. `cached` false: the
// count's store has caching disabled, so every update must go downstream.
void CheckAgainstReference(const TimeWindows& w, uint32_t seed, bool batched = false, bool cached = true) {
  StreamsBuilder builder;
  auto grouped = builder.Stream<std::string, int64_t>("in").GroupByKey();
  auto windowed = grouped.WindowedBy(w);
  const TimeWindowedSerde<StringSerde> wserde(StringSerde(), w.size_ms);
  windowed.Count(cached ? Materialized::As("counts") : Materialized::As("counts").WithCachingDisabled()).ToStream().To("counts-out", Produced(wserde, Int64Serde()));
  windowed.Reduce([](int64_t a, int64_t b) { return a + b; }, Materialized::As("sums"))
      .ToStream()
      .To("sums-out", Produced(wserde, Int64Serde()));
  auto topology = builder.Build();
  ASSERT_TRUE(topology.ok()) << topology.status();
  auto driver = TestDriver::Create(*topology, window_test::TwoPartitions());
  ASSERT_TRUE(driver.ok()) << driver.status();

  auto records = window_test::RandomRecords(seed, 2000, 7, 60, 800, 20000);
  if (batched) {
    window_test::ProcessAllInBatches(**driver, &records, seed);
  } else {
    window_test::PipeAll(**driver, &records);
  }
  ASSERT_TRUE((*driver)->Commit().ok());
  const TimeReference ref = Reference(records, w);
  ASSERT_GT(ref.dropped, 0) << "the input must contain late records";

  WindowResults counts, sums;
  std::map<std::tuple<std::string, int64_t, int64_t>, int> count_emits;
  window_test::ReadWindowed(**driver, "counts-out", wserde, &counts, &count_emits);
  if (!cached) {
    // Without a cache every update is emitted: a window's count of emits is its count.
    for (const auto& [k, n] : ref.count) EXPECT_EQ(count_emits[k], n) << std::get<0>(k) << "@" << std::get<1>(k);
  }
  window_test::ReadWindowed(**driver, "sums-out", wserde, &sums, nullptr);
  EXPECT_EQ(counts, ref.count);
  EXPECT_EQ(sums, ref.sum);
  EXPECT_EQ(window_test::DroppedRecords(**driver), 2 * ref.dropped) << "each of the two aggregations drops";
}

TEST(TimeWindowsTest, TumblingWindowsMatchBruteForceReference) {
  CheckAgainstReference(TimeWindows::OfSizeAndGrace(absl::Seconds(5), absl::Seconds(2)), 1);
  CheckAgainstReference(TimeWindows::OfSizeWithNoGrace(absl::Seconds(3)), 2);
}

TEST(TimeWindowsTest, WindowsMatchBruteForceReferenceInBatches) {
  CheckAgainstReference(TimeWindows::OfSizeAndGrace(absl::Seconds(5), absl::Seconds(2)), 11, /*batched=*/true);
  CheckAgainstReference(TimeWindows::OfSizeAndGrace(absl::Seconds(5), absl::Seconds(2)).AdvanceBy(absl::Seconds(2)), 12,
                        /*batched=*/true);
}

TEST(TimeWindowsTest, WithoutACacheEveryUpdateIsEmittedInBatchesToo) {
  CheckAgainstReference(TimeWindows::OfSizeAndGrace(absl::Seconds(5), absl::Seconds(2)), 13, /*batched=*/false,
                        /*cached=*/false);
  CheckAgainstReference(TimeWindows::OfSizeAndGrace(absl::Seconds(5), absl::Seconds(2)), 14, /*batched=*/true,
                        /*cached=*/false);
}

TEST(TimeWindowsTest, HoppingWindowsMatchBruteForceReference) {
  CheckAgainstReference(TimeWindows::OfSizeAndGrace(absl::Seconds(5), absl::Seconds(2)).AdvanceBy(absl::Seconds(2)), 3);
  CheckAgainstReference(TimeWindows::OfSizeWithNoGrace(absl::Seconds(4)).AdvanceBy(absl::Seconds(1)), 4);
}

// Final results only: with OnWindowClose or Suppress, each window closed by stream time is emitted exactly
// once, with its final value; windows still open emit nothing.
// `batched`: as for CheckAgainstReference (cache_per_commit then does not apply).
void CheckFinalResults(const TimeWindows& w, uint32_t seed, bool suppress, bool cache_per_commit,
                       bool batched = false) {
  StreamsBuilder builder;
  auto windowed = builder.Stream<std::string, int64_t>("in").GroupByKey().WindowedBy(w);
  const TimeWindowedSerde<StringSerde> wserde(StringSerde(), w.size_ms);
  if (suppress) {
    windowed.Reduce([](int64_t a, int64_t b) { return a + b; }, Materialized::As("sums"))
        .Suppress(Suppressed::UntilWindowCloses(BufferConfig::Unbounded()))
        .ToStream()
        .To("final", Produced(wserde, Int64Serde()));
  } else {
    windowed.Emit(EmitStrategy::OnWindowClose())
        .Reduce([](int64_t a, int64_t b) { return a + b; }, Materialized::As("sums"))
        .ToStream()
        .To("final", Produced(wserde, Int64Serde()));
  }
  auto topology = builder.Build();
  ASSERT_TRUE(topology.ok()) << topology.status();
  TestDriverConfig config = window_test::TwoPartitions();
  config.commit_after_each_input = cache_per_commit;
  auto driver = TestDriver::Create(*topology, config);
  ASSERT_TRUE(driver.ok()) << driver.status();

  // A commit per record flushes RocksDB (an fsync) each time: fewer records then.
  auto records = window_test::RandomRecords(seed, cache_per_commit ? 400 : 1500, 5, cache_per_commit ? 200 : 60, 800, 20000);
  if (batched) {
    window_test::ProcessAllInBatches(**driver, &records, seed);
  } else {
    window_test::PipeAll(**driver, &records);
  }
  ASSERT_TRUE((*driver)->Commit().ok());
  const TimeReference ref = Reference(records, w);
  const WindowResults expected = ClosedOnly(ref.sum, ref, w, PartitionOf(records));
  ASSERT_GE(expected.size(), 10u);

  WindowResults final_values;
  std::map<std::tuple<std::string, int64_t, int64_t>, int> emits;
  window_test::ReadWindowed(**driver, "final", wserde, &final_values, &emits);
  EXPECT_EQ(final_values, expected);
  for (const auto& [k, n] : emits) EXPECT_EQ(n, 1) << std::get<0>(k) << "@" << std::get<1>(k);
  EXPECT_EQ(window_test::DroppedRecords(**driver), ref.dropped);
}

TEST(TimeWindowsTest, OnWindowCloseEmitsEachClosedWindowExactlyOnce) {
  CheckFinalResults(TimeWindows::OfSizeAndGrace(absl::Seconds(5), absl::Seconds(2)), 5, false, true);
  CheckFinalResults(TimeWindows::OfSizeAndGrace(absl::Seconds(4), absl::Seconds(1)).AdvanceBy(absl::Seconds(2)), 6,
                    false, false);
}

TEST(TimeWindowsTest, SuppressUntilWindowClosesEmitsEachClosedWindowExactlyOnce) {
  CheckFinalResults(TimeWindows::OfSizeAndGrace(absl::Seconds(5), absl::Seconds(2)), 7, true, true);
  // Commits only at the end: updates sit in the cache while their windows close; the final values are
  // still exact.
  CheckFinalResults(TimeWindows::OfSizeAndGrace(absl::Seconds(5), absl::Seconds(2)), 8, true, false);
}

// A record that closes windows emits their final values, including the updates earlier in its own batch
// (still held by the aggregation when the close is checked).
TEST(TimeWindowsTest, FinalResultsInBatchesIncludeTheBatchsOwnUpdates) {
  CheckFinalResults(TimeWindows::OfSizeAndGrace(absl::Seconds(5), absl::Seconds(2)), 15, false, false, /*batched=*/true);
  CheckFinalResults(TimeWindows::OfSizeAndGrace(absl::Seconds(4), absl::Seconds(1)).AdvanceBy(absl::Seconds(2)), 16,
                    false, false, /*batched=*/true);
  CheckFinalResults(TimeWindows::OfSizeAndGrace(absl::Seconds(5), absl::Seconds(2)), 17, true, false, /*batched=*/true);
}

TEST(TimeWindowsTest, WindowsExpireFromTheStoreAfterRetention) {
  StreamsBuilder builder;
  builder.Stream<std::string, int64_t>("in")
      .GroupByKey()
      .WindowedBy(TimeWindows::OfSizeWithNoGrace(absl::Minutes(1)))
      .Count(Materialized::As("counts").WithRetention(absl::Minutes(5)));
  auto topology = builder.Build();
  ASSERT_TRUE(topology.ok()) << topology.status();
  auto driver = TestDriver::Create(*topology);
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto in = (*driver)->CreateInputTopic("in", StringSerde(), Int64Serde());
  ASSERT_TRUE(in.PipeInput("a", 1, 0).ok());
  WindowStore* store = (*driver)->GetWindowStore("counts");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->retention_ms(), 300000);
  std::string value;
  EXPECT_TRUE(*store->Fetch("a", 0, &value));
  ASSERT_TRUE(in.PipeInput("a", 1, 4 * 60000).ok());
  EXPECT_TRUE(*store->Fetch("a", 0, &value)) << "within retention";
  ASSERT_TRUE(in.PipeInput("a", 1, 20 * 60000).ok());
  EXPECT_FALSE(*store->Fetch("a", 0, &value)) << "past retention";
}

TEST(TimeWindowsTest, InvalidSpecsAndShortRetentionFailTheBuild) {
  {
    StreamsBuilder builder;
    builder.Stream<std::string, int64_t>("in")
        .GroupByKey()
        .WindowedBy(TimeWindows::OfSizeWithNoGrace(absl::Seconds(1)).AdvanceBy(absl::Seconds(2)))
        .Count();
    EXPECT_THAT(builder.Build().status().message(), HasSubstr("advance"));
  }
  {
    StreamsBuilder builder;
    builder.Stream<std::string, int64_t>("in")
        .GroupByKey()
        .WindowedBy(TimeWindows::OfSizeAndGrace(absl::Minutes(1), absl::Minutes(1)))
        .Count(Materialized::As("c").WithRetention(absl::Seconds(90)));
    EXPECT_THAT(builder.Build().status().message(), HasSubstr("shorter than the window size plus grace"));
  }
  {
    StreamsBuilder builder;
    builder.Stream<std::string, int64_t>("in").GroupByKey().Count().Suppress(
        Suppressed::UntilWindowCloses(BufferConfig::Unbounded()));
    EXPECT_THAT(builder.Build().status().message(), HasSubstr("needs a windowed table"));
  }
}

TEST(TimeWindowsTest, WindowedSerdeUsesKafkasLayout) {
  const TimeWindowedSerde<StringSerde> serde(StringSerde(), 60000);
  std::string bytes;
  ASSERT_TRUE(serde.Serialize(Windowed<std::string>{"ab", {0x0102, 0x0102 + 60000}}, &bytes).ok());
  EXPECT_EQ(bytes, std::string("ab\0\0\0\0\0\0\x01\x02", 10));
  Windowed<std::string> back;
  ASSERT_TRUE(serde.Deserialize(bytes, &back).ok());
  EXPECT_EQ(back, (Windowed<std::string>{"ab", {0x0102, 0x0102 + 60000}}));
  EXPECT_FALSE(serde.Deserialize("short", &back).ok());

  const SessionWindowedSerde<StringSerde> session{StringSerde()};
  ASSERT_TRUE(session.Serialize(Windowed<std::string>{"k", {1, 2}}, &bytes).ok());
  EXPECT_EQ(bytes, std::string("k\0\0\0\0\0\0\0\x02\0\0\0\0\0\0\0\x01", 17)) << "end before start, as Kafka";
  ASSERT_TRUE(session.Deserialize(bytes, &back).ok());
  EXPECT_EQ(back, (Windowed<std::string>{"k", {1, 2}}));
}

}  // namespace
}  // namespace eddy

namespace eddy {
namespace {

// The idle timeout (eddy.stream.time.idle.advance.ms): without new records, stream time follows wall-clock
// time once the task has been idle that long, so the last window closes; off by default (Kafka: it never
// closes until a new record comes).
int64_t FinalResultsAfterIdle(int64_t idle_advance_ms, absl::Duration first, absl::Duration second,
                              int64_t* after_first) {
  const TimeWindows w = TimeWindows::OfSizeAndGrace(absl::Seconds(10), absl::Seconds(5));
  StreamsBuilder builder;
  builder.Stream<std::string, int64_t>("in")
      .GroupByKey()
      .WindowedBy(w)
      .Count(Materialized::As("counts"))
      .Suppress(Suppressed::UntilWindowCloses(BufferConfig::Unbounded()))
      .ToStream()
      .To("final", Produced(TimeWindowedSerde<StringSerde>(StringSerde(), w.size_ms), Int64Serde()));
  TestDriverConfig config = window_test::TwoPartitions();
  config.stream_time_idle_advance_ms = idle_advance_ms;
  auto driver = TestDriver::Create(*builder.Build(), config);
  EXPECT_TRUE(driver.ok()) << driver.status();
  auto in = (*driver)->CreateInputTopic("in", StringSerde(), Int64Serde());
  EXPECT_TRUE(in.PipeInput("a", 1, 1000).ok());
  EXPECT_TRUE(in.PipeInput("b", 1, 2000).ok());
  EXPECT_TRUE((*driver)->Commit().ok());
  EXPECT_TRUE((*driver)->AdvanceWallClockTime(first).ok());
  *after_first = (*driver)->UnreadCount("final");
  EXPECT_TRUE((*driver)->AdvanceWallClockTime(second).ok());
  return (*driver)->UnreadCount("final");
}

TEST(IdleTimeoutTest, IdleTaskAdvancesStreamTimeSoSuppressedWindowsClose) {
  int64_t after_first = -1;
  // 6 s idle: stream time 1 s/2 s + 6 s, before the close at 15 s; 10 s more: past it.
  EXPECT_EQ(FinalResultsAfterIdle(5000, absl::Seconds(6), absl::Seconds(10), &after_first), 2);
  EXPECT_EQ(after_first, 0);
}

TEST(IdleTimeoutTest, OffByDefaultWindowsWaitForANewRecord) {
  int64_t after_first = -1;
  EXPECT_EQ(FinalResultsAfterIdle(0, absl::Seconds(6), absl::Hours(1), &after_first), 0);
  EXPECT_EQ(after_first, 0);
}

}  // namespace
}  // namespace eddy

namespace eddy {
namespace {

TEST(TimeWindowsTest, LateDropsCountAsDroppedButStillAsProcessed) {
  StreamsBuilder builder;
  builder.Stream<std::string, int64_t>("in")
      .GroupByKey()
      .WindowedBy(TimeWindows::OfSizeWithNoGrace(absl::Seconds(4)).AdvanceBy(absl::Seconds(1)))
      .Count();
  TestDriverConfig config;
  std::vector<std::string> log;
  config.log = [&log](absl::string_view line) { log.emplace_back(line); };
  auto driver = TestDriver::Create(*builder.Build(), config);
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto in = (*driver)->CreateInputTopic("in", StringSerde(), Int64Serde());
  ASSERT_TRUE(in.PipeInput("a", 1, 10000).ok());
  ASSERT_TRUE(in.PipeInput("a", 1, 8500).ok());  // windows [5 s, 9 s) and [6 s, 10 s) closed; 7 s and 8 s open
  const TaskMetrics& m = (*driver)->task(TaskId{0, 0})->metrics();
  EXPECT_EQ(m.dropped_records, 2) << "one per closed window, as Kafka";
  EXPECT_EQ(m.late_records_dropped, 2);
  EXPECT_EQ(m.processed_records, 2);
  ASSERT_EQ(log.size(), 1u) << "the first drop is logged";
  EXPECT_THAT(log[0], HasSubstr("Skipping record for expired window (task 0_0, node in-count): timestamp 8500, "
                                "window [5000,9000), stream time 10000"));
  ASSERT_TRUE(in.PipeInput("a", 1, 100).ok());
  EXPECT_EQ(m.dropped_records, 3);
  EXPECT_EQ(log.size(), 1u) << "later drops are only counted";
}

}  // namespace
}  // namespace eddy
