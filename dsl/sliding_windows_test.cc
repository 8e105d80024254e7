// Sliding windows (Kafka's SlidingWindows, KIP-450) through the TestDriver: randomized out-of-order input
// with late records on two partitions against a brute-force reference (every distinct non-empty window
// whose bounds records define, its aggregate recomputed from scratch), final results with OnWindowClose and
// Suppress, and the cases Kafka's own tests single out.
#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "dsl/window_test_util.h"
#include "eddy/core/partitioner.h"
#include "eddy/dsl/dsl.h"
#include "eddy/runtime/test_driver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

using window_test::InputRecord;
using window_test::WindowResults;
using ::testing::HasSubstr;
using Emits = std::map<std::tuple<std::string, int64_t, int64_t>, int>;

// Mostly increasing timestamps with jitter of up to `jitter_ms`; one record in ten is late beyond grace
// (every window that could hold it has closed, so it is dropped whole). A record that would be late for
// only some of its windows is moved up to the earliest on-time timestamp: what Kafka does with those is
// pinned by LateRecordsBeyondGraceAreDroppedAndCounted, not by the reference.
std::vector<InputRecord> SlidingInput(uint32_t seed, int n, int keys, int64_t step_ms, int64_t jitter_ms,
                                      const SlidingWindows& w) {
  const int64_t d = w.time_difference_ms, g = w.grace_ms;
  std::mt19937 rng(seed);
  std::map<int32_t, int64_t> stream_time;
  std::vector<InputRecord> out;
  int64_t t = 0;
  for (int i = 0; i < n; ++i) {
    t += std::uniform_int_distribution<int64_t>(0, step_ms)(rng);
    InputRecord r;
    r.key = absl::StrCat("k", std::uniform_int_distribution<int>(0, keys - 1)(rng));
    r.value = std::uniform_int_distribution<int64_t>(1, 100)(rng);
    r.partition = KeyPartition(r.key, 2);
    int64_t& st = stream_time.try_emplace(r.partition, -1).first->second;
    const bool late = std::uniform_int_distribution<int>(0, 9)(rng) == 0;
    r.timestamp = late ? st - g - d - 1 - std::uniform_int_distribution<int64_t>(0, 3 * d)(rng)
                       : t - std::uniform_int_distribution<int64_t>(0, jitter_ms)(rng);
    r.timestamp = std::max<int64_t>(0, r.timestamp);
    if (w.CloseTime(r.timestamp) > st && r.timestamp < st - g) r.timestamp = st - g;
    st = std::max(st, r.timestamp);
    out.push_back(r);
  }
  return out;
}

struct SlidingReference {
  WindowResults count, sum;  // every window at the end
  int64_t dropped = 0;
  std::map<int32_t, int64_t> stream_time;  // per partition, at the end
};

// Brute force, from Kafka's definition: a record is dropped whole once stream time reaches the close time
// of [t, t + d], the last window that could hold it. Of the accepted records of a key, each record at t
// defines its left window [t - d, t] ([0, d] while t < d) and, when another record lies in (t, t + d + 1],
// its right window [t + 1, t + 1 + d]. Each distinct window holds every record in it, both ends inclusive.
SlidingReference Reference(const std::vector<InputRecord>& records, const SlidingWindows& w) {
  const int64_t d = w.time_difference_ms;
  SlidingReference ref;
  std::map<std::string, std::vector<const InputRecord*>> accepted;
  for (const InputRecord& r : records) {
    int64_t& st = ref.stream_time.try_emplace(r.partition, -1).first->second;
    st = std::max(st, r.timestamp);
    if (w.CloseTime(r.timestamp) <= st) {
      ++ref.dropped;
      continue;
    }
    EXPECT_GE(r.timestamp, st - w.grace_ms) << "the input has no record late for only some of its windows";
    accepted[r.key].push_back(&r);
  }
  for (const auto& [key, rs] : accepted) {
    std::set<int64_t> starts;
    for (const InputRecord* r : rs) {
      starts.insert(std::max<int64_t>(0, r->timestamp - d));
      for (const InputRecord* later : rs) {
        if (later->timestamp > r->timestamp && later->timestamp <= r->timestamp + d + 1) {
          starts.insert(r->timestamp + 1);
          break;
        }
      }
    }
    for (int64_t start : starts) {
      for (const InputRecord* r : rs) {
        if (r->timestamp < start || r->timestamp > start + d) continue;
        ref.count[{key, start, start + d}] += 1;
        ref.sum[{key, start, start + d}] += r->value;
      }
    }
  }
  return ref;
}

std::vector<InputRecord> PipeRandom(TestDriver& driver, uint32_t seed, int n, const SlidingWindows& w) {
  std::vector<InputRecord> records = SlidingInput(seed, n, 7, 60, 2 * w.grace_ms + 200, w);
  const std::vector<InputRecord> planned = records;
  window_test::PipeAll(driver, &records);
  for (size_t i = 0; i < records.size(); ++i) EXPECT_EQ(records[i].partition, planned[i].partition);
  return records;
}

void CheckAgainstReference(const SlidingWindows& w, uint32_t seed) {
  StreamsBuilder builder;
  auto windowed = builder.Stream<std::string, int64_t>("in").GroupByKey().WindowedBy(w);
  const TimeWindowedSerde<StringSerde> wserde(StringSerde(), w.time_difference_ms);
  windowed.Count(Materialized::As("counts")).ToStream().To("counts-out", Produced(wserde, Int64Serde()));
  windowed
      .Aggregate([] { return int64_t{0}; }, [](const std::string&, int64_t v, int64_t sum) { return sum + v; },
                 Materialized::As("sums"))
      .ToStream()
      .To("sums-out", Produced(wserde, Int64Serde()));
  auto topology = builder.Build();
  ASSERT_TRUE(topology.ok()) << topology.status();
  auto driver = TestDriver::Create(*topology, window_test::TwoPartitions());
  ASSERT_TRUE(driver.ok()) << driver.status();

  const std::vector<InputRecord> records = PipeRandom(**driver, seed, 2000, w);
  ASSERT_TRUE((*driver)->Commit().ok());
  const SlidingReference ref = Reference(records, w);
  ASSERT_GT(ref.dropped, 0) << "the input must contain late records";
  ASSERT_GT(ref.count.size(), 1000u);

  WindowResults counts, sums;
  window_test::ReadWindowed(**driver, "counts-out", wserde, &counts, nullptr);
  window_test::ReadWindowed(**driver, "sums-out", wserde, &sums, nullptr);
  EXPECT_EQ(counts, ref.count);
  EXPECT_EQ(sums, ref.sum);
  EXPECT_EQ(window_test::DroppedRecords(**driver), 2 * ref.dropped) << "each of the two aggregations drops";
}

TEST(SlidingWindowsTest, WindowsMatchBruteForceReferenceWithGrace) {
  CheckAgainstReference(SlidingWindows::OfTimeDifferenceAndGrace(absl::Seconds(1), absl::Milliseconds(500)), 1);
  CheckAgainstReference(SlidingWindows::OfTimeDifferenceAndGrace(absl::Milliseconds(250), absl::Seconds(2)), 2);
}

TEST(SlidingWindowsTest, WindowsMatchBruteForceReferenceWithoutGrace) {
  CheckAgainstReference(SlidingWindows::OfTimeDifferenceWithNoGrace(absl::Milliseconds(300)), 3);
  CheckAgainstReference(SlidingWindows::OfTimeDifferenceWithNoGrace(absl::Milliseconds(0)), 4);
}

// With OnWindowClose or Suppress, each window closed by its partition's stream time is emitted exactly
// once, with its final value; open windows emit nothing.
void CheckFinalResults(const SlidingWindows& w, uint32_t seed, bool suppress, bool commit_per_record) {
  StreamsBuilder builder;
  auto windowed = builder.Stream<std::string, int64_t>("in").GroupByKey().WindowedBy(w);
  const TimeWindowedSerde<StringSerde> wserde(StringSerde(), w.time_difference_ms);
  if (!suppress) windowed = windowed.Emit(EmitStrategy::OnWindowClose());
  auto table = windowed.Reduce([](int64_t a, int64_t b) { return a + b; }, Materialized::As("sums"));
  if (suppress) table = table.Suppress(Suppressed::UntilWindowCloses(BufferConfig::Unbounded()));
  table.ToStream().To("final", Produced(wserde, Int64Serde()));
  auto topology = builder.Build();
  ASSERT_TRUE(topology.ok()) << topology.status();
  TestDriverConfig config = window_test::TwoPartitions();
  config.commit_after_each_input = commit_per_record;
  auto driver = TestDriver::Create(*topology, config);
  ASSERT_TRUE(driver.ok()) << driver.status();

  // A commit per record flushes RocksDB each time: fewer records then.
  const std::vector<InputRecord> records = PipeRandom(**driver, seed, commit_per_record ? 400 : 1500, w);
  ASSERT_TRUE((*driver)->Commit().ok());
  const SlidingReference ref = Reference(records, w);
  WindowResults expected;
  for (const auto& [k, v] : ref.sum) {
    if (w.CloseTime(std::get<1>(k)) <= ref.stream_time.at(KeyPartition(std::get<0>(k), 2))) expected[k] = v;
  }
  ASSERT_GE(expected.size(), 100u);

  WindowResults final_values;
  Emits emits;
  window_test::ReadWindowed(**driver, "final", wserde, &final_values, &emits);
  EXPECT_EQ(final_values, expected);
  for (const auto& [k, n] : emits) EXPECT_EQ(n, 1) << std::get<0>(k) << "@" << std::get<1>(k);
  EXPECT_EQ(window_test::DroppedRecords(**driver), ref.dropped);
}

TEST(SlidingWindowsTest, OnWindowCloseEmitsEachClosedWindowExactlyOnce) {
  CheckFinalResults(SlidingWindows::OfTimeDifferenceAndGrace(absl::Seconds(1), absl::Milliseconds(500)), 5, false,
                    true);
  CheckFinalResults(SlidingWindows::OfTimeDifferenceWithNoGrace(absl::Milliseconds(400)), 6, false, false);
}

TEST(SlidingWindowsTest, SuppressUntilWindowClosesEmitsEachClosedWindowExactlyOnce) {
  CheckFinalResults(SlidingWindows::OfTimeDifferenceAndGrace(absl::Seconds(1), absl::Milliseconds(500)), 7, true,
                    true);
  CheckFinalResults(SlidingWindows::OfTimeDifferenceAndGrace(absl::Milliseconds(700), absl::Milliseconds(300)), 8,
                    true, false);
}

// ---- Targeted cases, after Kafka's KStreamSlidingWindowAggregateTest: one partition, caching off, so every
// store write reaches the output. ----

struct CountRun {
  WindowResults counts;  // last value per window
  Emits emits;           // writes per window
  int64_t dropped = 0;
  std::vector<std::string> log;
};

// Pipes (key, timestamp) pairs in order and counts per sliding window.
CountRun CountWindows(const SlidingWindows& w, const std::vector<std::pair<std::string, int64_t>>& input) {
  CountRun run;
  StreamsBuilder builder;
  const TimeWindowedSerde<StringSerde> wserde(StringSerde(), w.time_difference_ms);
  builder.Stream<std::string, int64_t>("in")
      .GroupByKey()
      .WindowedBy(w)
      .Count(Materialized::As("counts").WithCachingDisabled())
      .ToStream()
      .To("out", Produced(wserde, Int64Serde()));
  TestDriverConfig config;
  config.log = [&run](absl::string_view line) { run.log.emplace_back(line); };
  auto driver = TestDriver::Create(*builder.Build(), config);
  EXPECT_TRUE(driver.ok()) << driver.status();
  if (!driver.ok()) return run;
  auto in = (*driver)->CreateInputTopic("in", StringSerde(), Int64Serde());
  for (const auto& [key, ts] : input) EXPECT_TRUE(in.PipeInput(key, 1, ts).ok());
  window_test::ReadWindowed(**driver, "out", wserde, &run.counts, &run.emits);
  run.dropped = window_test::DroppedRecords(**driver);
  return run;
}

WindowResults Windows(std::initializer_list<std::tuple<int64_t, int64_t, int64_t>> windows) {
  WindowResults out;
  for (const auto& [start, end, count] : windows) out[{"a", start, end}] = count;
  return out;
}

const SlidingWindows kTenWithGrace = SlidingWindows::OfTimeDifferenceAndGrace(absl::Milliseconds(10), absl::Minutes(1));

TEST(SlidingWindowsTest, ALaterRecordCreatesTheRightWindowOfAnEarlierOne) {
  // 15 is within d of 10: 10's right window [11, 21] holds 15 alone; 15's left window [5, 15] holds both.
  EXPECT_EQ(CountWindows(kTenWithGrace, {{"a", 10}, {"a", 15}}).counts, Windows({{0, 10, 1}, {5, 15, 2}, {11, 21, 1}}));
  // Out of order: 15 after 20 goes into [10, 20] and [11, 21], and gets its left window [5, 15] (from
  // [0, 10]'s aggregate) and right window [16, 26] (a copy of [11, 21] before 15 joined it).
  EXPECT_EQ(CountWindows(kTenWithGrace, {{"a", 10}, {"a", 20}, {"a", 15}}).counts,
            Windows({{0, 10, 1}, {5, 15, 2}, {10, 20, 3}, {11, 21, 2}, {16, 26, 1}}));
}

TEST(SlidingWindowsTest, IdenticalTimestampsShareTheirWindows) {
  EXPECT_EQ(CountWindows(kTenWithGrace, {{"a", 10}, {"a", 10}, {"a", 10}}).counts, Windows({{0, 10, 3}}));
  EXPECT_EQ(CountWindows(kTenWithGrace, {{"a", 10}, {"a", 10}, {"a", 15}, {"a", 15}}).counts,
            Windows({{0, 10, 2}, {5, 15, 4}, {11, 21, 2}}));
}

TEST(SlidingWindowsTest, RecordsExactlyTheTimeDifferenceApartShareAWindow) {
  const SlidingWindows w = SlidingWindows::OfTimeDifferenceWithNoGrace(absl::Milliseconds(5));
  // Both ends are inclusive: [10, 15] holds 10 and 15.
  EXPECT_EQ(CountWindows(w, {{"a", 10}, {"a", 15}}).counts, Windows({{5, 10, 1}, {10, 15, 2}, {11, 16, 1}}));
  // d + 1 apart: 10's right window is 16's left window [11, 16], written once.
  const CountRun run = CountWindows(w, {{"a", 10}, {"a", 16}});
  EXPECT_EQ(run.counts, Windows({{5, 10, 1}, {11, 16, 1}}));
  EXPECT_EQ(run.emits.at({"a", 11, 16}), 1) << "no window is emitted twice for the same content";
}

TEST(SlidingWindowsTest, RecordsBeforeTheTimeDifferenceShareTheFirstWindow) {
  // No window starts before 0: 3 and 7 are both in [0, 10]; 12's left window [2, 12] holds all three.
  EXPECT_EQ(CountWindows(kTenWithGrace, {{"a", 3}, {"a", 7}, {"a", 12}}).counts,
            Windows({{0, 10, 2}, {2, 12, 3}, {4, 14, 2}, {8, 18, 1}}));
  // A record before d arriving after later ones gets a right window copied from [0, d].
  EXPECT_EQ(CountWindows(kTenWithGrace, {{"a", 5}, {"a", 8}, {"a", 3}}).counts,
            Windows({{0, 10, 3}, {4, 14, 2}, {6, 16, 1}}));
}

TEST(SlidingWindowsTest, LateRecordsBeyondGraceAreDroppedAndCounted) {
  const SlidingWindows w = SlidingWindows::OfTimeDifferenceAndGrace(absl::Milliseconds(5), absl::Milliseconds(2));
  // Stream time 20, grace 2: 12's last window [12, 17] closed at 20 (17 < 20 - 2): dropped whole, counted
  // once. 14 is late for its left window [9, 14] only (counted), and still joins [13, 18], which is open.
  const CountRun run = CountWindows(w, {{"a", 20}, {"a", 12}, {"a", 18}, {"a", 14}});
  EXPECT_EQ(run.counts, Windows({{13, 18, 2}, {15, 20, 2}, {19, 24, 1}}));
  EXPECT_EQ(run.dropped, 2);
  ASSERT_EQ(run.log.size(), 1u) << "the first drop is logged, later ones only counted";
  EXPECT_THAT(run.log[0], HasSubstr("timestamp 12, window [7,12], stream time 20"));
}

TEST(SlidingWindowsTest, ARecordAtTheGraceLimitStillSeesThePreviousRecord) {
  // b's records move the store's observed time to 20 (b's right window [20, 30]); a's record at 20 = stream
  // time - grace must still read [0, 10], 2d before it, to know 10 is in its left window. Kafka's retention
  // of 2d + grace hides it; the default here is one millisecond longer.
  const SlidingWindows w = SlidingWindows::OfTimeDifferenceWithNoGrace(absl::Milliseconds(10));
  const CountRun run = CountWindows(w, {{"a", 10}, {"b", 19}, {"b", 20}, {"a", 20}});
  WindowResults a;
  for (const auto& [k, v] : run.counts) {
    if (std::get<0>(k) == "a") a[k] = v;
  }
  EXPECT_EQ(a, Windows({{0, 10, 1}, {10, 20, 2}, {11, 21, 1}}));
}

TEST(SlidingWindowsTest, RetentionDefaultsToTwiceTheTimeDifferencePlusGrace) {
  StreamsBuilder builder;
  builder.Stream<std::string, int64_t>("in")
      .GroupByKey()
      .WindowedBy(SlidingWindows::OfTimeDifferenceAndGrace(absl::Seconds(10), absl::Seconds(3)))
      .Count(Materialized::As("counts"));
  auto driver = TestDriver::Create(*builder.Build());
  ASSERT_TRUE(driver.ok()) << driver.status();
  WindowStore* store = (*driver)->GetWindowStore("counts");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->retention_ms(), 23001);
  EXPECT_EQ(store->window_size_ms(), 10000);
}

TEST(SlidingWindowsTest, InvalidSpecsAndShortRetentionFailTheBuild) {
  {
    StreamsBuilder builder;
    builder.Stream<std::string, int64_t>("in")
        .GroupByKey()
        .WindowedBy(SlidingWindows::OfTimeDifferenceWithNoGrace(absl::Milliseconds(-1)))
        .Count();
    EXPECT_THAT(builder.Build().status().message(), HasSubstr("time difference must not be negative"));
  }
  {
    StreamsBuilder builder;
    builder.Stream<std::string, int64_t>("in")
        .GroupByKey()
        .WindowedBy(SlidingWindows::OfTimeDifferenceAndGrace(absl::Seconds(1), absl::Milliseconds(-1)))
        .Count();
    EXPECT_THAT(builder.Build().status().message(), HasSubstr("grace period must not be negative"));
  }
  {
    StreamsBuilder builder;
    builder.Stream<std::string, int64_t>("in")
        .GroupByKey()
        .WindowedBy(SlidingWindows::OfTimeDifferenceAndGrace(absl::Seconds(10), absl::Seconds(3)))
        .Count(Materialized::As("c").WithRetention(absl::Seconds(23)));
    EXPECT_THAT(builder.Build().status().message(), HasSubstr("shorter than 2 * time difference + grace period"));
  }
}

}  // namespace
}  // namespace eddy
