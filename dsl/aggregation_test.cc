// Grouping and aggregation through the TestDriver: GroupByKey, GroupBy (repartition), Count, Reduce,
// Aggregate, the emitted updates (with and without cache coalescing), stores and changelogs.
#include <map>
#include <string>
#include <vector>

#include "eddy/core/partitioner.h"
#include "eddy/dsl/dsl.h"
#include "eddy/runtime/test_driver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using KV = KeyValue<std::string, int64_t>;

int64_t Stored(TestDriver& driver, const std::string& store, const std::string& key) {
  // The key's store is in the task of its partition.
  for (int32_t p = 0; p < 8; ++p) {
    KeyValueStore* s = driver.GetKeyValueStore(store, p);
    if (s == nullptr) break;
    std::string bytes;
    auto found = s->Get(key, &bytes);
    if (found.ok() && *found) {
      int64_t v = 0;
      if (!Int64Serde().Deserialize(bytes, &v).ok()) return -2;
      return v;
    }
  }
  return -1;
}

TEST(AggregationTest, CountByKeyEmitsEveryUpdateAndLogsIt) {
  StreamsBuilder builder;
  builder.Stream<std::string, std::string>("clicks")
      .GroupByKey()
      .Count(Materialized::As("click-counts"))
      .ToStream()
      .To("click-counts-out", Produced(StringSerde(), Int64Serde()));
  auto topology = builder.Build();
  ASSERT_TRUE(topology.ok()) << topology.status();
  EXPECT_THAT(topology->Describe(), HasSubstr("Processor: clicks-count (stores: [click-counts])"));
  EXPECT_EQ(topology->subtopologies().size(), 1u) << "GroupByKey on the source's key does not repartition";

  TestDriverConfig config;
  config.application_id = "app";
  auto driver = TestDriver::Create(*topology, config);
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto clicks = (*driver)->CreateInputTopic("clicks", StringSerde(), StringSerde());
  ASSERT_TRUE(clicks.PipeInput("alice", "/a", 1).ok());
  ASSERT_TRUE(clicks.PipeInput("bob", "/b", 2).ok());
  ASSERT_TRUE(clicks.PipeInput("alice", "/c", 3).ok());
  auto out = (*driver)->CreateOutputTopic("click-counts-out", StringSerde(), Int64Serde());
  auto records = out.ReadRecordsToList();
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ(*(*records)[2].key, "alice");
  EXPECT_EQ(*(*records)[2].value, 2);
  EXPECT_EQ((*records)[2].timestamp, 3) << "an update carries the timestamp of the record that made it";
  EXPECT_EQ(Stored(**driver, "click-counts", "alice"), 2);
  auto changelog = (*driver)->CreateOutputTopic("app-click-counts-changelog", StringSerde(), Int64Serde());
  auto logged = changelog.ReadKeyValuesToList();
  ASSERT_TRUE(logged.ok());
  EXPECT_THAT(*logged, ElementsAre(KV{"alice", 1}, KV{"bob", 1}, KV{"alice", 2}));
}

TEST(AggregationTest, CacheCoalescesUpdatesUntilCommit) {
  StreamsBuilder builder;
  builder.Stream<std::string, std::string>("clicks")
      .GroupByKey()
      .Count(Materialized::As("counts"))
      .ToStream()
      .To("out", Produced(StringSerde(), Int64Serde()));
  TestDriverConfig config;
  config.commit_after_each_input = false;
  auto driver = TestDriver::Create(builder.Build().value(), config);
  ASSERT_TRUE(driver.ok());
  auto clicks = (*driver)->CreateInputTopic("clicks", StringSerde(), StringSerde());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(clicks.PipeInput(i % 2 ? "b" : "a", "x", i).ok());
  auto out = (*driver)->CreateOutputTopic("out", StringSerde(), Int64Serde());
  EXPECT_TRUE(out.IsEmpty()) << "updates wait in the cache";
  ASSERT_TRUE((*driver)->Commit().ok());
  auto kvs = out.ReadKeyValuesToList();
  ASSERT_TRUE(kvs.ok());
  EXPECT_THAT(*kvs, ElementsAre(KV{"a", 3}, KV{"b", 2})) << "one update per key per commit";
  EXPECT_EQ((*driver)->TopicRecords("eddy-test-counts-changelog").size(), 2u);
}

TEST(AggregationTest, UncachedStoreEmitsOnEveryRecordEvenWithoutCommits) {
  StreamsBuilder builder;
  builder.Stream<std::string, std::string>("clicks")
      .GroupByKey()
      .Count(Materialized::As("counts").WithCachingDisabled().InMemory())
      .ToStream()
      .To("out", Produced(StringSerde(), Int64Serde()));
  TestDriverConfig config;
  config.commit_after_each_input = false;
  auto driver = TestDriver::Create(builder.Build().value(), config);
  ASSERT_TRUE(driver.ok());
  auto clicks = (*driver)->CreateInputTopic("clicks", StringSerde(), StringSerde());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(clicks.PipeInput("a", "x", i).ok());
  auto kvs = (*driver)->CreateOutputTopic("out", StringSerde(), Int64Serde()).ReadKeyValuesToList();
  ASSERT_TRUE(kvs.ok());
  EXPECT_THAT(*kvs, ElementsAre(KV{"a", 1}, KV{"a", 2}, KV{"a", 3}));
}

TEST(AggregationTest, GroupByRepartitionsSoEachKeyIsCountedByOneTask) {
  StreamsBuilder builder;
  // Keyed by user; count per page.
  builder.Stream<std::string, std::string>("visits")
      .GroupBy([](const std::string&, const std::string& page) { return page; }, Grouped::As("by-page"))
      .Count(Materialized::As("page-counts"))
      .ToStream()
      .To("page-counts", Produced(StringSerde(), Int64Serde()));
  auto topology = builder.Build();
  ASSERT_TRUE(topology.ok()) << topology.status();
  ASSERT_EQ(topology->subtopologies().size(), 2u);
  EXPECT_THAT(topology->Describe(), HasSubstr("Sink: by-page-repartition-sink (topic: by-page-repartition)"));

  TestDriverConfig config;
  config.application_id = "app";
  config.default_partitions = 3;
  auto driver = TestDriver::Create(*topology, config);
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto visits = (*driver)->CreateInputTopic("visits", StringSerde(), StringSerde());
  std::map<std::string, int64_t> expected;
  const std::vector<std::string> pages = {"/home", "/cart", "/home", "/pay", "/home", "/cart"};
  for (size_t i = 0; i < pages.size(); ++i) {
    // Users spread over the input partitions: the same page arrives on several of them.
    ASSERT_TRUE(visits.PipeInput("user-" + std::to_string(i), pages[i], static_cast<int64_t>(i),
                                 static_cast<int32_t>(i % 3)).ok());
    ++expected[pages[i]];
  }
  for (const auto& [page, n] : expected) EXPECT_EQ(Stored(**driver, "page-counts", page), n) << page;
  // The last update per page is its total.
  std::map<std::string, int64_t> last;
  auto out = (*driver)->CreateOutputTopic("page-counts", StringSerde(), Int64Serde()).ReadKeyValuesToList();
  ASSERT_TRUE(out.ok());
  for (const auto& kv : *out) last[kv.key] = kv.value;
  EXPECT_EQ(last, expected);
  // Repartitioned records went to the partition of their new key.
  for (const StoredRecord& r : (*driver)->TopicRecords("app-by-page-repartition")) {
    EXPECT_EQ(r.partition, KeyPartition(*r.key, 3));
  }
  // The changelog has one partition per task of the aggregating sub-topology.
  EXPECT_EQ((*driver)->PartitionCount("app-page-counts-changelog"), 3);
}

TEST(AggregationTest, GroupByKeyAfterSelectKeyRepartitions) {
  StreamsBuilder builder;
  builder.Stream<std::string, std::string>("visits")
      .SelectKey([](const std::string&, const std::string& page) { return page; })
      .GroupByKey()
      .Count(Materialized::As("page-counts"));
  auto topology = builder.Build();
  ASSERT_TRUE(topology.ok()) << topology.status();
  EXPECT_EQ(topology->subtopologies().size(), 2u);
  EXPECT_THAT(topology->Describe(), HasSubstr("page-counts-repartition"))
      << "named after the store when Grouped gives no name, as Kafka";
}

TEST(AggregationTest, ReduceAndAggregateKeepTheirOwnTypes) {
  StreamsBuilder builder;
  auto grouped = builder.Stream<std::string, int64_t>("amounts").GroupByKey();
  grouped.Reduce([](int64_t a, int64_t b) { return std::max(a, b); }, Materialized::As("max"))
      .ToStream()
      .To("max-out", Produced(StringSerde(), Int64Serde()));
  grouped
      .Aggregate([] { return std::string("["); },
                 [](const std::string&, int64_t v, const std::string& agg) { return agg + std::to_string(v) + ";"; },
                 Materialized::As("history").WithSerdes(StringSerde(), StringSerde()))
      .ToStream()
      .To("history-out", Produced(StringSerde(), StringSerde()));
  auto driver = TestDriver::Create(builder.Build().value());
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto amounts = (*driver)->CreateInputTopic("amounts", StringSerde(), Int64Serde());
  ASSERT_TRUE(amounts.PipeInput("k", 5, 1).ok());
  ASSERT_TRUE(amounts.PipeInput("k", 3, 2).ok());
  ASSERT_TRUE(amounts.PipeInput("k", 9, 3).ok());
  auto max = (*driver)->CreateOutputTopic("max-out", StringSerde(), Int64Serde()).ReadValuesToList();
  ASSERT_TRUE(max.ok());
  EXPECT_THAT(*max, ElementsAre(5, 5, 9));
  auto history = (*driver)->CreateOutputTopic("history-out", StringSerde(), StringSerde()).ReadValuesToList();
  ASSERT_TRUE(history.ok());
  EXPECT_THAT(*history, ElementsAre("[5;", "[5;3;", "[5;3;9;"));
}

}  // namespace
}  // namespace eddy
