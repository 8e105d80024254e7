// Session windows through the TestDriver (two partitions): merging, tombstones for merged-away sessions,
// and randomized out-of-order input with late records against a brute-force reference (sessions recomputed
// from scratch by sorting the accepted records and splitting at gaps).
#include <algorithm>
#include <map>
#include <set>
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

struct SessionReference {
  WindowResults sessions;  // (key, start, end) -> count, every session at the end
  // What OnWindowClose emits: before each record, every session of the record's partition whose close time
  // stream time has reached, once. A record may still extend a closed session (Kafka checks the merged
  // session's end), which then closes again as a new, larger window.
  WindowResults emitted;
  int64_t dropped = 0;
};

// Brute force: for each record, the sessions of the key's accepted records plus this one are recomputed by
// sorting and splitting where two neighbours are more than `gap` apart; the record is dropped if its
// session would already be closed (end + gap + grace < stream time, Kafka's rule).
SessionReference Reference(const std::vector<InputRecord>& records, const SessionWindows& w) {
  SessionReference ref;
  std::map<int32_t, int64_t> stream_time;
  std::map<std::string, std::vector<int64_t>> accepted;
  auto sessions_of = [&](std::vector<int64_t> ts) {
    std::sort(ts.begin(), ts.end());
    std::vector<std::tuple<int64_t, int64_t, int64_t>> out;  // start, end, count
    for (int64_t t : ts) {
      if (!out.empty() && t - std::get<1>(out.back()) <= w.gap_ms) {
        std::get<1>(out.back()) = t;
        ++std::get<2>(out.back());
      } else {
        out.emplace_back(t, t, 1);
      }
    }
    return out;
  };
  std::map<std::string, int32_t> partition_of;
  for (const InputRecord& r : records) partition_of[r.key] = r.partition;
  std::set<std::tuple<std::string, int64_t, int64_t>> emitted;
  auto emit_closed = [&](int32_t partition, int64_t st) {
    for (const auto& [key, ts] : accepted) {
      if (partition_of[key] != partition) continue;
      for (const auto& [start, end, count] : sessions_of(ts)) {
        if (w.CloseTime(end) <= st && emitted.insert({key, start, end}).second) ref.emitted[{key, start, end}] = count;
      }
    }
  };
  for (const InputRecord& r : records) {
    int64_t& st = stream_time.try_emplace(r.partition, -1).first->second;
    st = std::max(st, r.timestamp);
    emit_closed(r.partition, st);
    std::vector<int64_t> with = accepted[r.key];
    with.push_back(r.timestamp);
    for (const auto& [start, end, count] : sessions_of(with)) {
      if (r.timestamp < start || r.timestamp > end) continue;
      if (end + w.gap_ms + w.grace_ms < st) {
        ++ref.dropped;
      } else {
        accepted[r.key].push_back(r.timestamp);
      }
      break;
    }
  }
  for (const auto& [key, ts] : accepted) {
    for (const auto& [start, end, count] : sessions_of(ts)) ref.sessions[{key, start, end}] = count;
  }
  return ref;
}

enum class Emit { kEveryUpdate, kOnWindowClose, kSuppress };

Topology CountSessions(const SessionWindows& w, Emit emit) {
  StreamsBuilder builder;
  auto windowed = builder.Stream<std::string, int64_t>("in").GroupByKey().WindowedBy(w);
  if (emit == Emit::kOnWindowClose) windowed = windowed.Emit(EmitStrategy::OnWindowClose());
  // A retention far beyond gap + grace: the reference keeps every session.
  auto counts = windowed.Count(Materialized::As("sessions").WithRetention(absl::Hours(24)));
  if (emit == Emit::kSuppress) counts = counts.Suppress(Suppressed::UntilWindowCloses(BufferConfig::Unbounded()));
  counts.ToStream().To("out", Produced(SessionWindowedSerde<StringSerde>(StringSerde()), Int64Serde()));
  return *builder.Build();
}

WindowResults StoredSessions(TestDriver& driver, const std::vector<InputRecord>& records) {
  WindowResults out;
  std::map<std::string, int32_t> partition_of;
  for (const InputRecord& r : records) partition_of[r.key] = r.partition;
  for (const auto& [key, partition] : partition_of) {
    SessionStore* store = driver.GetSessionStore("sessions", partition);
    EXPECT_NE(store, nullptr);
    if (store == nullptr) continue;
    for (SessionStoreIterator it = store->Fetch(key); it.Valid(); it.Next()) {
      int64_t count = 0;
      EXPECT_TRUE(Int64Serde().Deserialize(it.value(), &count).ok());
      out[{key, it.window().start, it.window().end}] = count;
    }
  }
  return out;
}

TEST(SessionWindowsTest, RecordsMergeSessionsAndMergedSessionsBecomeTombstones) {
  StreamsBuilder builder;
  builder.Stream<std::string, int64_t>("in")
      .GroupByKey()
      .WindowedBy(SessionWindows::OfInactivityGapWithNoGrace(absl::Seconds(5)))
      .Reduce([](int64_t a, int64_t b) { return a + b; }, Materialized::As("sessions").WithCachingDisabled().WithRetention(absl::Hours(1)))
      .ToStream()
      .To("out", Produced(SessionWindowedSerde<StringSerde>(StringSerde()), Int64Serde()));
  auto topology = builder.Build();
  ASSERT_TRUE(topology.ok()) << topology.status();
  auto driver = TestDriver::Create(*topology);
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto in = (*driver)->CreateInputTopic("in", StringSerde(), Int64Serde());
  ASSERT_TRUE(in.PipeInput("a", 1, 0).ok());
  ASSERT_TRUE(in.PipeInput("a", 10, 8000).ok());   // 8 s later: a second session
  ASSERT_TRUE(in.PipeInput("a", 100, 4000).ok());  // within 5 s of both: merges them into [0, 8000]
  SessionStore* store = (*driver)->GetSessionStore("sessions");
  ASSERT_NE(store, nullptr);
  std::vector<std::pair<Window, std::string>> live;
  for (SessionStoreIterator it = store->Fetch("a"); it.Valid(); it.Next()) live.emplace_back(it.window(), it.value());
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].first, (Window{0, 8000}));
  int64_t sum = 0;
  ASSERT_TRUE(Int64Serde().Deserialize(live[0].second, &sum).ok());
  EXPECT_EQ(sum, 111);
  // The stream of updates (ToStream drops the tombstones of the two merged sessions).
  auto out = (*driver)->CreateOutputTopic("out", SessionWindowedSerde<StringSerde>(StringSerde()), Int64Serde());
  auto records = out.ReadRecordsToList();
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ((*records)[2].key->window, (Window{0, 8000}));
  EXPECT_EQ(*(*records)[2].value, 111);
  EXPECT_EQ((*records)[2].timestamp, 8000) << "a session update is stamped with the session end";
}

TEST(SessionWindowsTest, SessionsMatchBruteForceReference) {
  for (uint32_t seed : {11u, 12u}) {
    const SessionWindows w = SessionWindows::OfInactivityGapAndGrace(absl::Milliseconds(700), absl::Milliseconds(500));
    auto driver = TestDriver::Create(CountSessions(w, Emit::kEveryUpdate), window_test::TwoPartitions());
    ASSERT_TRUE(driver.ok()) << driver.status();
    auto records = window_test::RandomRecords(seed, 1500, 6, 150, 400, 8000);
    window_test::PipeAll(**driver, &records);
    ASSERT_TRUE((*driver)->Commit().ok());
    const SessionReference ref = Reference(records, w);
    ASSERT_GT(ref.dropped, 0);
    EXPECT_EQ(StoredSessions(**driver, records), ref.sessions);
    EXPECT_EQ(window_test::DroppedRecords(**driver), ref.dropped);
  }
}

// OnWindowClose and Suppress(UntilWindowCloses) on session windows: each session closed by stream time
// (end + gap + grace passed) goes out once, with its final count; merged-away sessions never do.
void ExpectEachClosedSessionOnce(Emit emit, uint32_t seed) {
  const SessionWindows w = SessionWindows::OfInactivityGapAndGrace(absl::Milliseconds(700), absl::Milliseconds(500));
  auto driver = TestDriver::Create(CountSessions(w, emit), window_test::TwoPartitions());
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto records = window_test::RandomRecords(seed, 1500, 6, 150, 400, 8000);
  window_test::PipeAll(**driver, &records);
  ASSERT_TRUE((*driver)->Commit().ok());
  const SessionReference ref = Reference(records, w);
  ASSERT_GT(ref.emitted.size(), 20u);
  WindowResults emitted;
  std::map<std::tuple<std::string, int64_t, int64_t>, int> emits;
  window_test::ReadWindowed(**driver, "out", SessionWindowedSerde<StringSerde>(StringSerde()), &emitted, &emits);
  EXPECT_EQ(emitted, ref.emitted);
  for (const auto& [k, n] : emits) EXPECT_EQ(n, 1);
}

TEST(SessionWindowsTest, OnWindowCloseEmitsEachClosedSessionExactlyOnce) {
  ExpectEachClosedSessionOnce(Emit::kOnWindowClose, 13);
}

TEST(SessionWindowsTest, SuppressUntilWindowClosesEmitsEachClosedSessionExactlyOnce) {
  ExpectEachClosedSessionOnce(Emit::kSuppress, 13);
  ExpectEachClosedSessionOnce(Emit::kSuppress, 14);
}

}  // namespace
}  // namespace eddy
