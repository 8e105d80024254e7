// KTable through the TestDriver: builder.Table (tombstones), Filter, MapValues, ToStream, and the
// stream-table Join and LeftJoin.
#include <optional>
#include <string>
#include <vector>

#include "eddy/dsl/dsl.h"
#include "eddy/runtime/test_driver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using KV = KeyValue<std::string, std::string>;

TEST(KTableTest, TableFilterMapValuesToStreamWithTombstones) {
  StreamsBuilder builder;
  builder.Table("prices", Consumed(StringSerde(), Int64Serde()), Materialized::As("prices-store"))
      .Filter([](const std::string&, int64_t p) { return p > 10; })
      .MapValues([](int64_t p) { return std::to_string(p) + " EUR"; })
      .ToStream()
      .To("expensive", Produced(StringSerde(), StringSerde()));
  auto topology = builder.Build();
  ASSERT_TRUE(topology.ok()) << topology.status();
  EXPECT_THAT(topology->Describe(), HasSubstr("Processor: prices-table (stores: [prices-store])"));
  auto driver = TestDriver::Create(*topology);
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto prices = (*driver)->CreateInputTopic("prices", StringSerde(), Int64Serde());
  ASSERT_TRUE(prices.PipeInput("tea", 5, 1).ok());
  ASSERT_TRUE(prices.PipeInput("wine", 20, 2).ok());
  ASSERT_TRUE(prices.PipeInput("tea", 12, 3).ok());
  TestRecord<std::string, int64_t> tombstone;
  tombstone.key = "wine";
  tombstone.timestamp = 4;
  ASSERT_TRUE(prices.PipeRecord(tombstone).ok());
  auto out = (*driver)->CreateOutputTopic("expensive", StringSerde(), StringSerde()).ReadKeyValuesToList();
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(KV{"wine", "20 EUR"}, KV{"tea", "12 EUR"}));
  KeyValueStore* store = (*driver)->GetKeyValueStore("prices-store");
  ASSERT_NE(store, nullptr);
  auto wine = store->Get("wine");
  ASSERT_TRUE(wine.ok());
  EXPECT_FALSE(wine->has_value()) << "the tombstone deleted the key";
  // The tombstone reached the changelog too.
  const auto& log = (*driver)->TopicRecords("eddy-test-prices-store-changelog");
  ASSERT_EQ(log.size(), 4u);
  EXPECT_FALSE(log[3].value.has_value());
}


absl::StatusOr<std::unique_ptr<TestDriver>> JoinDriver(bool left, int32_t partitions) {
  StreamsBuilder builder;
  auto users = builder.Table("users", Consumed(StringSerde(), StringSerde()), Materialized::As("users"));
  auto clicks = builder.Stream<std::string, std::string>("clicks");
  if (left) {
    clicks
        .LeftJoin(users, [](const std::string& page, const std::optional<std::string>& region) {
          return page + "@" + region.value_or("unknown");
        })
        .To("enriched", Produced(StringSerde(), StringSerde()));
  } else {
    clicks.Join(users, [](const std::string& page, const std::string& region) { return page + "@" + region; })
        .To("enriched", Produced(StringSerde(), StringSerde()));
  }
  auto topology = builder.Build();
  if (!topology.ok()) return topology.status();
  TestDriverConfig config;
  config.default_partitions = partitions;
  return TestDriver::Create(*topology, config);
}

TEST(StreamTableJoinTest, JoinDropsUnmatchedRecordsAndFollowsTableUpdatesAndTombstones) {
  auto driver = JoinDriver(/*left=*/false, /*partitions=*/2);
  ASSERT_TRUE(driver.ok()) << driver.status();
  EXPECT_EQ((*driver)->topology().subtopologies().size(), 1u) << "the join runs beside its table";
  auto users = (*driver)->CreateInputTopic("users", StringSerde(), StringSerde());
  auto clicks = (*driver)->CreateInputTopic("clicks", StringSerde(), StringSerde());
  ASSERT_TRUE(clicks.PipeInput("alice", "/early", 1).ok());  // no match yet: dropped
  ASSERT_TRUE(users.PipeInput("alice", "eu", 2).ok());
  ASSERT_TRUE(users.PipeInput("bob", "us", 3).ok());
  ASSERT_TRUE(clicks.PipeInput("alice", "/a", 4).ok());
  ASSERT_TRUE(clicks.PipeInput("bob", "/b", 5).ok());
  ASSERT_TRUE(users.PipeInput("alice", "asia", 6).ok());
  ASSERT_TRUE(clicks.PipeInput("alice", "/c", 7).ok());
  TestRecord<std::string, std::string> tombstone;
  tombstone.key = "bob";
  tombstone.timestamp = 8;
  ASSERT_TRUE(users.PipeRecord(tombstone).ok());
  ASSERT_TRUE(clicks.PipeInput("bob", "/gone", 9).ok());  // bob deleted: dropped
  auto out = (*driver)->CreateOutputTopic("enriched", StringSerde(), StringSerde()).ReadKeyValuesToList();
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(KV{"alice", "/a@eu"}, KV{"bob", "/b@us"}, KV{"alice", "/c@asia"}));
}

TEST(StreamTableJoinTest, LeftJoinKeepsUnmatchedRecordsWithAnEmptyTableValue) {
  auto driver = JoinDriver(/*left=*/true, /*partitions=*/1);
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto users = (*driver)->CreateInputTopic("users", StringSerde(), StringSerde());
  auto clicks = (*driver)->CreateInputTopic("clicks", StringSerde(), StringSerde());
  ASSERT_TRUE(clicks.PipeInput("alice", "/a", 1).ok());
  ASSERT_TRUE(users.PipeInput("alice", "eu", 2).ok());
  ASSERT_TRUE(clicks.PipeInput("alice", "/b", 3).ok());
  TestRecord<std::string, std::string> tombstone;
  tombstone.key = "alice";
  tombstone.timestamp = 4;
  ASSERT_TRUE(users.PipeRecord(tombstone).ok());
  ASSERT_TRUE(clicks.PipeInput("alice", "/c", 5).ok());
  auto out = (*driver)->CreateOutputTopic("enriched", StringSerde(), StringSerde()).ReadKeyValuesToList();
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(KV{"alice", "/a@unknown"}, KV{"alice", "/b@eu"}, KV{"alice", "/c@unknown"}));
}

TEST(StreamTableJoinTest, JoinRequiresCoPartitionedInputs) {
  StreamsBuilder builder;
  auto users = builder.Table("users", Consumed(StringSerde(), StringSerde()));
  builder.Stream<std::string, std::string>("clicks")
      .Join(users, [](const std::string& a, const std::string& b) { return a + b; })
      .To("enriched", Produced(StringSerde(), StringSerde()));
  TestDriverConfig config;
  config.partitions = {{"users", 2}, {"clicks", 3}};
  auto driver = TestDriver::Create(builder.Build().value(), config);
  ASSERT_FALSE(driver.ok());
  EXPECT_THAT(driver.status().message(), HasSubstr("must have the same partition count"));
}

TEST(StreamTableJoinTest, JoinWithAFilteredAggregationReadsThroughTheFilter) {
  StreamsBuilder builder;
  auto counts = builder.Stream<std::string, std::string>("logins")
                    .GroupByKey()
                    .Count(Materialized::As("login-counts"))
                    .Filter([](const std::string&, int64_t n) { return n >= 2; });
  builder.Stream<std::string, std::string>("orders")
      .Join(counts, [](const std::string& order, int64_t n) { return order + "/" + std::to_string(n); })
      .To("trusted-orders", Produced(StringSerde(), StringSerde()));
  auto driver = TestDriver::Create(builder.Build().value());
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto logins = (*driver)->CreateInputTopic("logins", StringSerde(), StringSerde());
  auto orders = (*driver)->CreateInputTopic("orders", StringSerde(), StringSerde());
  ASSERT_TRUE(logins.PipeInput("u", "x", 1).ok());
  ASSERT_TRUE(orders.PipeInput("u", "o1", 2).ok());  // 1 login: filtered out
  ASSERT_TRUE(logins.PipeInput("u", "x", 3).ok());
  ASSERT_TRUE(orders.PipeInput("u", "o2", 4).ok());
  auto out = (*driver)->CreateOutputTopic("trusted-orders", StringSerde(), StringSerde()).ReadValuesToList();
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre("o2/2"));
}

}  // namespace
}  // namespace eddy
