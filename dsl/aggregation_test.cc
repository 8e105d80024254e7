// Grouping and aggregation through the TestDriver: GroupByKey, GroupBy (repartition), Count, Reduce,
// Aggregate, the emitted updates (with and without cache coalescing), stores and changelogs; the same
// aggregations on randomized input processed in record batches, as a stream thread does.
#include <map>
#include <string>
#include <vector>

#include "dsl/window_test_util.h"
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

// Reads the count of each record's key from "counts", the Count's own store, after the Count updated it.
class CountReader : public Processor<std::string, int64_t, std::string, int64_t> {
 public:
  explicit CountReader(std::vector<int64_t>* seen) : seen_(seen) {}
  absl::Status Init(ProcessorContext<std::string, int64_t>& context) override {
    auto store = context.GetStateStore<KeyValueStore>("counts");
    if (!store.ok()) return store.status();
    store_ = *store;
    return absl::OkStatus();
  }
  absl::Status Process(const Record<std::string, int64_t>& record) override {
    std::string bytes;
    EDDY_ASSIGN_OR_RETURN(bool found, store_->Get(record.key(), &bytes));
    int64_t count = -1;
    if (found) EDDY_RETURN_IF_ERROR(Int64Serde().Deserialize(bytes, &count));
    seen_->push_back(count);
    return absl::OkStatus();
  }

 private:
  std::vector<int64_t>* seen_;
  KeyValueStore* store_ = nullptr;
};

// Count and sum per key of randomized input, processed in batches of random sizes: the final values, every
// update without a cache, and a processor sharing the Count's store sees each count as the record made it.
void CheckBatchedAggregation(uint32_t seed, bool cached) {
  std::vector<int64_t> seen;
  StreamsBuilder builder;
  auto stream = builder.Stream<std::string, int64_t>("in");
  auto grouped = stream.GroupByKey();
  grouped.Count(cached ? Materialized::As("counts") : Materialized::As("counts").WithCachingDisabled())
      .ToStream()
      .To("counts-out", Produced(StringSerde(), Int64Serde()));
  grouped.Reduce([](int64_t a, int64_t b) { return a + b; }, Materialized::As("sums"))
      .ToStream()
      .To("sums-out", Produced(StringSerde(), Int64Serde()));
  // Created after the Count: the source forwards each record to it after the Count has it.
  stream.Process([&seen] { return std::make_unique<CountReader>(&seen); }, {"counts"}, Named::As("reader"));
  auto topology = builder.Build();
  ASSERT_TRUE(topology.ok()) << topology.status();
  auto driver = TestDriver::Create(*topology, window_test::TwoPartitions());
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto records = window_test::RandomRecords(seed, 3000, 40, 60, 800, 20000);
  window_test::ProcessAllInBatches(**driver, &records, seed);
  ASSERT_TRUE((*driver)->Commit().ok());

  std::map<std::string, int64_t> count, sum;
  std::vector<int64_t> running;  // in processing order: partition by partition, each in input order
  for (int32_t p = 0; p < 2; ++p) {
    for (const auto& r : records) {
      if (r.partition != p) continue;
      running.push_back(++count[r.key]);
      sum[r.key] += r.value;
    }
  }
  EXPECT_EQ(seen, running);
  std::map<std::string, int64_t> last_count, last_sum, emits;
  for (const auto& [topic, last] : {std::pair{"counts-out", &last_count}, std::pair{"sums-out", &last_sum}}) {
    auto out = (*driver)->CreateOutputTopic(topic, StringSerde(), Int64Serde());
    auto list = out.ReadRecordsToList();
    ASSERT_TRUE(list.ok()) << list.status();
    for (const auto& r : *list) {
      (*last)[*r.key] = *r.value;
      if (last == &last_count) ++emits[*r.key];
    }
  }
  EXPECT_EQ(last_count, count);
  EXPECT_EQ(last_sum, sum);
  if (!cached) {
    EXPECT_EQ(emits, count) << "without a cache every update is emitted";
  }
}

TEST(AggregationTest, BatchedAggregationMatchesTheReferenceAndSharedReadsSeeEveryUpdate) {
  CheckBatchedAggregation(21, /*cached=*/true);
  CheckBatchedAggregation(22, /*cached=*/false);
}

}  // namespace
}  // namespace eddy
