// The sales topology through the TestDriver (two partitions, the repartition topic included) against an
// expectation computed independently from the generated sales: per aggregation task (the partition of the
// category in the repartition topic) stream time, late sales dropped, one result per closed window.
#include "examples/sales_windowed/sales_topology.h"

#include <fstream>
#include <map>
#include <sstream>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/time/time.h"
#include "eddy/core/partitioner.h"
#include "eddy/dsl/dsl.h"
#include "eddy/runtime/test_driver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy::sales {
namespace {

using ::testing::HasSubstr;

TEST(SalesTopologyTest, TimestampsRoundTripWithMilliseconds) {
  auto t = ParseTimestamp("2024-01-15T10:30:00.123Z");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t, 1705314600123);
  EXPECT_EQ(FormatTimestamp(*t), "2024-01-15T10:30:00.123Z");
  EXPECT_FALSE(ParseTimestamp("yesterday").ok());
  // The fast path and absl::ParseTime agree, days 29-31 and leap days included.
  for (int64_t ms = 946684800000; ms < 4102444800000; ms += 86399999) {  // 2000 to 2100, a day less 1 ms
    const std::string text = FormatTimestamp(ms);
    ASSERT_EQ(text, absl::FormatTime("%Y-%m-%d%ET%H:%M:%E3SZ", absl::FromUnixMillis(ms), absl::UTCTimeZone()));
    auto parsed = ParseTimestamp(text);
    ASSERT_TRUE(parsed.ok()) << text;
    ASSERT_EQ(*parsed, ms) << text;
    auto whole = ParseTimestamp(text.substr(0, 19) + "Z");
    ASSERT_TRUE(whole.ok()) << text;
    ASSERT_EQ(*whole, ms - ms % 1000) << text;
  }
  EXPECT_EQ(*ParseTimestamp("2024-02-29T23:59:60Z"), *ParseTimestamp("2024-03-01T00:00:00Z"));  // leap second
  EXPECT_FALSE(ParseTimestamp("2024-13-01T00:00:00.000Z").ok());
  EXPECT_EQ(MicrosToRoundedUnits(ToMicros(0.005)), 0.01) << "half a cent rounds away from zero";
  EXPECT_EQ(MicrosToRoundedUnits(ToMicros(12.344)), 12.34);
}

TEST(SalesTopologyTest, RepartitionedSaleRoundTripsExactlyAndShortValueIsDataLoss) {
  SaleBinarySerde serde;
  std::string bytes;
  Sale in{"garden & outdoor, a category longer than the small-string buffer", 0.1 + 0.2, 1705312800123};
  serde.Serialize(in, &bytes);
  EXPECT_EQ(bytes.size(), SaleBinarySerde::kFixedSize + in.category.size());
  Sale out{"stale", 1, 1};
  ASSERT_TRUE(serde.Deserialize(bytes, &out).ok());
  EXPECT_EQ(out.category, in.category);
  EXPECT_EQ(out.amount, in.amount) << "the double's bits cross the topic, not a rounded decimal";
  EXPECT_EQ(out.timestamp_ms, in.timestamp_ms);
  in.category.clear();
  in.timestamp_ms = -1;  // a sale without a valid timestamp still round-trips
  serde.Serialize(in, &bytes);
  ASSERT_TRUE(serde.Deserialize(bytes, &out).ok());
  EXPECT_EQ(out.category, "");
  EXPECT_EQ(out.timestamp_ms, -1);
  EXPECT_EQ(serde.Deserialize(absl::string_view(bytes).substr(0, 15), &out).code(), absl::StatusCode::kDataLoss);
}

TEST(SalesTopologyTest, OneFinalResultPerCategoryAndWindowMatchesIndependentExpectation) {
  SalesOptions options;  // 1-minute windows, 30 s grace
  auto topology = SalesTopology(options);
  ASSERT_TRUE(topology.ok()) << topology.status();
  EXPECT_THAT(topology->Describe(), HasSubstr("sales-by-category-repartition"));
  TestDriverConfig config;
  config.application_id = "sales-app";
  config.default_partitions = 2;
  config.commit_after_each_input = false;  // updates coalesce in the caches, as between real commits
  config.log = [](absl::string_view) {};
  auto driver = TestDriver::Create(*topology, config);
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto sales_in = (*driver)->CreateInputTopic("sales", StringSerde(), JsonSerde<Sale>());

  const std::vector<std::string> categories = {"books", "games", "music", "toys", "garden"};
  const int64_t base = *ParseTimestamp("2024-01-15T10:00:00.000Z");
  std::mt19937 rng(42);
  std::map<int32_t, int64_t> stream_time;  // per repartition partition (aggregation task)
  std::map<std::pair<std::string, int64_t>, std::pair<int64_t, int64_t>> totals;  // (category, start) -> count, micros
  int64_t dropped = 0, t = base;
  for (int i = 0; i < 3000; ++i) {
    t += std::uniform_int_distribution<int64_t>(0, 400)(rng);
    const int roll = std::uniform_int_distribution<int>(0, 99)(rng);
    const int64_t back = std::uniform_int_distribution<int64_t>(0, roll < 5 ? 180000 : 20000)(rng);
    Sale sale;
    sale.category = categories[std::uniform_int_distribution<size_t>(0, categories.size() - 1)(rng)];
    sale.amount = std::uniform_int_distribution<int64_t>(1, 200000)(rng) / 1000.0;  // sub-cent amounts too
    sale.timestamp_ms = t - back;
    if (i % 3 == 0) {
      ASSERT_TRUE(sales_in.PipeValue(sale, 0).ok());  // no key; the record's own timestamp is ignored
    } else {
      ASSERT_TRUE(sales_in.PipeInput("sale-" + std::to_string(i), sale, 0).ok());
    }
    // The expectation.
    const int32_t task = KeyPartition(sale.category, 2);
    int64_t& st = stream_time.try_emplace(task, -1).first->second;
    st = std::max(st, sale.timestamp_ms);
    const int64_t start = sale.timestamp_ms - sale.timestamp_ms % options.window_ms;
    if (start + options.window_ms + options.grace_ms <= st) {
      ++dropped;
      continue;
    }
    auto& [count, micros] = totals[{sale.category, start}];
    ++count;
    micros += ToMicros(sale.amount);
  }
  ASSERT_TRUE((*driver)->Commit().ok());
  ASSERT_GT(dropped, 0);

  std::set<std::tuple<std::string, int64_t, int64_t, int64_t, double>> expected;
  for (const auto& [k, v] : totals) {
    const int64_t st = stream_time[KeyPartition(k.first, 2)];
    if (k.second + options.window_ms + options.grace_ms > st) continue;  // still open: no final result yet
    expected.emplace(k.first, k.second, k.second + options.window_ms, v.first, MicrosToRoundedUnits(v.second));
  }
  ASSERT_GT(expected.size(), 20u);

  auto out = (*driver)->CreateOutputTopic(options.output_topic, StringSerde(), JsonSerde<SalesPerWindow>());
  auto records = out.ReadRecordsToList();
  ASSERT_TRUE(records.ok()) << records.status();
  std::set<std::tuple<std::string, int64_t, int64_t, int64_t, double>> got;
  for (const auto& r : *records) {
    ASSERT_TRUE(r.key.has_value() && r.value.has_value());
    EXPECT_EQ(*r.key, r.value->category) << "keyed by category";
    EXPECT_TRUE(got.emplace(r.value->category, r.value->window_start_ms, r.value->window_end_ms, r.value->count,
                            r.value->revenue)
                    .second)
        << "one result per window";
  }
  EXPECT_EQ(got, expected);
  int64_t task_dropped = 0;
  for (const TaskId& id : (*driver)->task_ids()) task_dropped += (*driver)->task(id)->metrics().dropped_records;
  EXPECT_EQ(task_dropped, dropped);

  // The output's exact JSON.
  const StoredRecord& first = (*driver)->TopicRecords(options.output_topic).front();
  EXPECT_THAT(*first.value, ::testing::MatchesRegex(
                                R"(\{"category":"[a-z]+","window_start":"2024-01-15T[0-9]{2}:[0-9]{2}:00\.000Z",)"
                                R"("window_end":"2024-01-15T[0-9]{2}:[0-9]{2}:00\.000Z","count":[0-9]+,"revenue":[0-9.]+\})"));
}

}  // namespace
}  // namespace eddy::sales

namespace eddy::sales {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// docs/windows.md shows the topology as the code draws it (Topology::DescribeMermaid).
TEST(SalesTopologyTest, DocsShowTheTopologysOwnDrawing) {
  auto topology = SalesTopology();
  ASSERT_TRUE(topology.ok());
  const std::string doc = ReadFile(std::string(EDDY_SOURCE_DIR) + "/docs/windows.md");
  EXPECT_THAT(doc, HasSubstr(topology->DescribeMermaid())) << topology->DescribeMermaid() << "\n" << topology->Describe();
}

}  // namespace
}  // namespace eddy::sales
