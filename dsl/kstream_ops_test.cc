// Every KStream operation, run through the TestDriver.
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "eddy/dsl/dsl.h"
#include "eddy/runtime/test_driver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

std::unique_ptr<TestDriver> MakeDriver(const StreamsBuilder& builder, TestDriverConfig config = {}) {
  absl::StatusOr<Topology> topology = builder.Build();
  EXPECT_TRUE(topology.ok()) << topology.status();
  auto driver = TestDriver::Create(*std::move(topology), std::move(config));
  EXPECT_TRUE(driver.ok()) << driver.status();
  return *std::move(driver);
}

template <typename Out>
std::vector<std::pair<std::string, typename Out::V>> ReadAll(Out& out) {
  std::vector<std::pair<std::string, typename Out::V>> result;
  auto list = out.ReadKeyValuesToList();
  EXPECT_TRUE(list.ok()) << list.status();
  for (auto& kv : *list) result.emplace_back(kv.key, kv.value);
  return result;
}

TEST(KStreamOpsTest, FilterKeepsMatchingRecords) {
  StreamsBuilder builder;
  builder.Stream<std::string, int64_t>("in")
      .Filter([](const std::string&, const int64_t& v) { return v % 2 == 0; })
      .To("out");
  auto driver = MakeDriver(builder);
  auto in = driver->CreateInputTopic<std::string, int64_t>("in");
  auto out = driver->CreateOutputTopic<std::string, int64_t>("out");
  for (int64_t i = 0; i < 5; ++i) ASSERT_TRUE(in.PipeInput("k" + std::to_string(i), i, 100 + i).ok());
  EXPECT_THAT(ReadAll(out), ElementsAre(Pair("k0", 0), Pair("k2", 2), Pair("k4", 4)));
}

TEST(KStreamOpsTest, FilterNotDropsMatchingRecords) {
  StreamsBuilder builder;
  builder.Stream<std::string, int64_t>("in")
      .FilterNot([](const std::string&, const int64_t& v) { return v % 2 == 0; })
      .To("out");
  auto driver = MakeDriver(builder);
  auto in = driver->CreateInputTopic<std::string, int64_t>("in");
  auto out = driver->CreateOutputTopic<std::string, int64_t>("out");
  for (int64_t i = 0; i < 4; ++i) ASSERT_TRUE(in.PipeInput("k", i, 1).ok());
  EXPECT_THAT(ReadAll(out), ElementsAre(Pair("k", 1), Pair("k", 3)));
}

TEST(KStreamOpsTest, MapValuesChangesValueTypeAndKeepsTimestamp) {
  StreamsBuilder builder;
  builder.Stream<std::string, int64_t>("in")
      .MapValues([](const int64_t& v) { return std::to_string(v * 10); })
      .MapValues([](const std::string& k, const std::string& v) { return k + ":" + v; })
      .To("out");
  auto driver = MakeDriver(builder);
  auto in = driver->CreateInputTopic<std::string, int64_t>("in");
  auto out = driver->CreateOutputTopic<std::string, std::string>("out");
  ASSERT_TRUE(in.PipeInput("a", 7, 1234).ok());
  auto r = out.ReadRecord();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r->key, "a");
  EXPECT_EQ(*r->value, "a:70");
  EXPECT_EQ(r->timestamp, 1234);
}

TEST(KStreamOpsTest, MapChangesKeyAndValue) {
  StreamsBuilder builder;
  builder.Stream<std::string, int64_t>("in")
      .Map([](const std::string& k, const int64_t& v) { return KeyValue<int64_t, std::string>{v, k}; })
      .Map([](const int64_t& k, const std::string& v) { return std::make_pair(v + "!", k + 1); })
      .To("out");
  auto driver = MakeDriver(builder);
  auto in = driver->CreateInputTopic<std::string, int64_t>("in");
  auto out = driver->CreateOutputTopic<std::string, int64_t>("out");
  ASSERT_TRUE(in.PipeInput("x", 41, 1).ok());
  EXPECT_THAT(ReadAll(out), ElementsAre(Pair("x!", 42)));
}

TEST(KStreamOpsTest, SelectKeyReplacesKey) {
  StreamsBuilder builder;
  builder.Stream<std::string, std::string>("in")
      .SelectKey([](const std::string&, const std::string& v) { return v.substr(0, 1); })
      .To("out");
  auto driver = MakeDriver(builder);
  auto in = driver->CreateInputTopic<std::string, std::string>("in");
  auto out = driver->CreateOutputTopic<std::string, std::string>("out");
  ASSERT_TRUE(in.PipeInput("k", "hello", 1).ok());
  EXPECT_THAT(ReadAll(out), ElementsAre(Pair("h", "hello")));
}

TEST(KStreamOpsTest, FlatMapEmitsEveryPair) {
  StreamsBuilder builder;
  builder.Stream<std::string, int64_t>("in")
      .FlatMap([](const std::string& k, const int64_t& n) {
        std::vector<KeyValue<std::string, int64_t>> out;
        for (int64_t i = 0; i < n; ++i) out.push_back({k + std::to_string(i), i});
        return out;
      })
      .To("out");
  auto driver = MakeDriver(builder);
  auto in = driver->CreateInputTopic<std::string, int64_t>("in");
  auto out = driver->CreateOutputTopic<std::string, int64_t>("out");
  ASSERT_TRUE(in.PipeInput("a", 3, 1).ok());
  ASSERT_TRUE(in.PipeInput("b", 0, 2).ok());
  EXPECT_THAT(ReadAll(out), ElementsAre(Pair("a0", 0), Pair("a1", 1), Pair("a2", 2)));
}

TEST(KStreamOpsTest, FlatMapValuesAcceptsFixedSizeRanges) {
  StreamsBuilder builder;
  builder.Stream<std::string, int64_t>("in")
      .FlatMapValues([](const int64_t& v) { return std::array<int64_t, 2>{v, -v}; })
      .To("out");
  auto driver = MakeDriver(builder);
  auto in = driver->CreateInputTopic<std::string, int64_t>("in");
  auto out = driver->CreateOutputTopic<std::string, int64_t>("out");
  ASSERT_TRUE(in.PipeInput("a", 5, 1).ok());
  EXPECT_THAT(ReadAll(out), ElementsAre(Pair("a", 5), Pair("a", -5)));
}

TEST(KStreamOpsTest, PeekSeesEveryRecordAndPassesItOn) {
  StreamsBuilder builder;
  std::vector<std::string> seen;
  builder.Stream<std::string, std::string>("in")
      .Peek([&seen](const std::string& k, const std::string& v) { seen.push_back(k + "=" + v); })
      .To("out");
  auto driver = MakeDriver(builder);
  auto in = driver->CreateInputTopic<std::string, std::string>("in");
  auto out = driver->CreateOutputTopic<std::string, std::string>("out");
  ASSERT_TRUE(in.PipeInput("a", "1", 1).ok());
  ASSERT_TRUE(in.PipeInput("b", "2", 2).ok());
  EXPECT_THAT(seen, ElementsAre("a=1", "b=2"));
  EXPECT_EQ(out.QueueSize(), 2);
}

TEST(KStreamOpsTest, ForeachEndsTheStream) {
  StreamsBuilder builder;
  int64_t sum = 0;
  builder.Stream<std::string, int64_t>("in").Foreach([&sum](const std::string&, const int64_t& v) { sum += v; });
  auto driver = MakeDriver(builder);
  auto in = driver->CreateInputTopic<std::string, int64_t>("in");
  ASSERT_TRUE(in.PipeInput("a", 2, 1).ok());
  ASSERT_TRUE(in.PipeInput("a", 3, 1).ok());
  EXPECT_EQ(sum, 5);
}

TEST(KStreamOpsTest, SplitRoutesToFirstMatchingBranchOrDefault) {
  StreamsBuilder builder;
  auto branches = builder.Stream<std::string, int64_t>("in")
                      .Split(Named::As("sign"))
                      .Branch([](const std::string&, const int64_t& v) { return v < 0; }, Branched::As("negative"))
                      .Branch([](const std::string&, const int64_t& v) { return v < 10; })
                      .DefaultBranch(Branched::As("big"));
  ASSERT_EQ(branches.size(), 3u);
  branches.at("sign-negative").To("neg");
  branches.at("sign-2").To("small");
  branches.at("sign-big").To("big");
  auto driver = MakeDriver(builder);
  auto in = driver->CreateInputTopic<std::string, int64_t>("in");
  auto neg = driver->CreateOutputTopic<std::string, int64_t>("neg");
  auto small = driver->CreateOutputTopic<std::string, int64_t>("small");
  auto big = driver->CreateOutputTopic<std::string, int64_t>("big");
  for (int64_t v : {-5, 3, 50, -1, 9}) ASSERT_TRUE(in.PipeInput("k", v, 1).ok());
  EXPECT_THAT(ReadAll(neg), ElementsAre(Pair("k", -5), Pair("k", -1)));
  EXPECT_THAT(ReadAll(small), ElementsAre(Pair("k", 3), Pair("k", 9)));
  EXPECT_THAT(ReadAll(big), ElementsAre(Pair("k", 50)));
}

TEST(KStreamOpsTest, SplitWithoutDefaultDropsUnmatched) {
  StreamsBuilder builder;
  auto branches = builder.Stream<std::string, int64_t>("in")
                      .Split()
                      .Branch([](const std::string&, const int64_t& v) { return v > 0; })
                      .NoDefaultBranch();
  ASSERT_EQ(branches.size(), 1u);
  EXPECT_EQ(branches.begin()->first, "in-split-1");
  branches.begin()->second.To("pos");
  auto driver = MakeDriver(builder);
  auto in = driver->CreateInputTopic<std::string, int64_t>("in");
  auto pos = driver->CreateOutputTopic<std::string, int64_t>("pos");
  for (int64_t v : {1, -1, 2}) ASSERT_TRUE(in.PipeInput("k", v, 1).ok());
  EXPECT_THAT(ReadAll(pos), ElementsAre(Pair("k", 1), Pair("k", 2)));
}

TEST(KStreamOpsTest, MergeCombinesTwoStreams) {
  StreamsBuilder builder;
  auto a = builder.Stream<std::string, int64_t>("a");
  auto b = builder.Stream<std::string, int64_t>("b").MapValues([](const int64_t& v) { return v * 100; });
  a.Merge(b).To("out");
  auto driver = MakeDriver(builder);
  auto in_a = driver->CreateInputTopic<std::string, int64_t>("a");
  auto in_b = driver->CreateInputTopic<std::string, int64_t>("b");
  auto out = driver->CreateOutputTopic<std::string, int64_t>("out");
  ASSERT_TRUE(in_a.PipeInput("x", 1, 1).ok());
  ASSERT_TRUE(in_b.PipeInput("y", 2, 2).ok());
  ASSERT_TRUE(in_a.PipeInput("z", 3, 3).ok());
  EXPECT_THAT(ReadAll(out), ElementsAre(Pair("x", 1), Pair("y", 200), Pair("z", 3)));
}

TEST(KStreamOpsTest, ToWithExtractorChoosesTopicPerRecord) {
  StreamsBuilder builder;
  builder.Stream<std::string, std::string>("in").To(
      [](const std::string& k, const std::string&) { return "out-" + k; },
      Produced(StringSerde(), StringSerde()));
  auto driver = MakeDriver(builder);
  auto in = driver->CreateInputTopic<std::string, std::string>("in");
  auto a = driver->CreateOutputTopic<std::string, std::string>("out-a");
  auto b = driver->CreateOutputTopic<std::string, std::string>("out-b");
  ASSERT_TRUE(in.PipeInput("a", "1", 1).ok());
  ASSERT_TRUE(in.PipeInput("b", "2", 1).ok());
  ASSERT_TRUE(in.PipeInput("a", "3", 1).ok());
  EXPECT_THAT(ReadAll(a), ElementsAre(Pair("a", "1"), Pair("a", "3")));
  EXPECT_THAT(ReadAll(b), ElementsAre(Pair("b", "2")));
}

TEST(KStreamOpsTest, SinkForwardsInputHeaders) {
  StreamsBuilder builder;
  builder.Stream<std::string, std::string>("in").MapValues([](const std::string& v) { return v + v; }).To("out");
  auto driver = MakeDriver(builder);
  auto in = driver->CreateInputTopic<std::string, std::string>("in");
  auto out = driver->CreateOutputTopic<std::string, std::string>("out");
  TestRecord<std::string, std::string> r;
  r.key = "k";
  r.value = "v";
  r.timestamp = 9;
  r.headers = {{"trace", "abc"}, {"nullable", std::nullopt}};
  ASSERT_TRUE(in.PipeRecord(r).ok());
  auto got = out.ReadRecord();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got->value, "vv");
  EXPECT_EQ(got->headers, r.headers);
}

}  // namespace
}  // namespace eddy
