// Naming rules, Describe() and DescribeMermaid() output, sub-topologies and Build errors.
#include <string>

#include "eddy/dsl/dsl.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

bool NonEmpty(const std::string&, const std::string& v) { return !v.empty(); }
std::string Bang(const std::string& v) { return v + "!"; }

std::vector<std::string> NodeNames(const Topology& t) {
  std::vector<std::string> names;
  for (const TopologyNode& n : t.nodes()) names.push_back(n.name);
  return names;
}

TEST(TopologyNamingTest, DefaultNamesFollowTheUpstreamChain) {
  StreamsBuilder builder;
  builder.Stream<std::string, std::string>("orders").Filter(NonEmpty).MapValues(Bang).To("shipments");
  auto t = builder.Build();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(NodeNames(*t),
              ElementsAre("orders-source", "orders-filter", "orders-filter-mapvalues", "orders-filter-mapvalues-to-shipments"));
}

TEST(TopologyNamingTest, NamedOverridesAndChildrenDeriveFromIt) {
  StreamsBuilder builder;
  builder.Stream("orders", Consumed(StringSerde(), StringSerde()).WithName("in"))
      .Filter(NonEmpty, Named::As("valid"))
      .MapValues(Bang)
      .To("shipments", Produced(StringSerde(), StringSerde()).WithName("out"));
  auto t = builder.Build();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(NodeNames(*t), ElementsAre("in", "valid", "valid-mapvalues", "out"));
}

TEST(TopologyNamingTest, SiblingsAreNumberedInCreationOrder) {
  StreamsBuilder builder;
  auto orders = builder.Stream<std::string, std::string>("orders");
  orders.Filter(NonEmpty).To("a");
  orders.Filter(NonEmpty).To("b");
  orders.Filter(NonEmpty).To("c");
  auto t = builder.Build();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(NodeNames(*t), ElementsAre("orders-source", "orders-filter", "orders-filter-to-a", "orders-filter-2",
                                         "orders-filter-2-to-b", "orders-filter-3", "orders-filter-3-to-c"));
}

// The property Kafka's counter-based names lack: growing one branch renames nothing in another.
TEST(TopologyNamingTest, AddingAnOperatorToOneBranchRenamesNothingInAnother) {
  auto names = [](bool extra_op) {
    StreamsBuilder builder;
    auto orders = builder.Stream<std::string, std::string>("orders");
    auto a = orders.Filter(NonEmpty);
    if (extra_op) {
      a.MapValues(Bang).Peek([](const std::string&, const std::string&) {}).To("a");
    } else {
      a.To("a");
    }
    orders.MapValues(Bang).Repartition().Filter(NonEmpty).To("b");
    auto t = builder.Build();
    EXPECT_TRUE(t.ok()) << t.status();
    std::vector<std::string> b_side;
    for (const std::string& n : NodeNames(*t)) {
      if (n.rfind("orders-mapvalues", 0) == 0) b_side.push_back(n);
    }
    return std::make_pair(b_side, t->internal_topics()[0].name);
  };
  auto [before, topic_before] = names(false);
  auto [after, topic_after] = names(true);
  EXPECT_EQ(before, after);
  EXPECT_EQ(topic_before, topic_after);
  EXPECT_EQ(topic_before, "orders-mapvalues-repartition");
  EXPECT_THAT(before, ElementsAre("orders-mapvalues", "orders-mapvalues-repartition-sink",
                                  "orders-mapvalues-repartition-source", "orders-mapvalues-repartition-filter",
                                  "orders-mapvalues-repartition-filter-to-b"));
}

TEST(TopologyNamingTest, RepartitionedNameNamesTopicAndNodes) {
  StreamsBuilder builder;
  builder.Stream<std::string, std::string>("orders")
      .Repartition(Repartitioned(StringSerde(), StringSerde()).WithName("by-customer").WithNumberOfPartitions(3))
      .To("out");
  auto t = builder.Build();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(NodeNames(*t), ElementsAre("orders-source", "by-customer-repartition-sink",
                                         "by-customer-repartition-source", "by-customer-repartition-to-out"));
  ASSERT_EQ(t->internal_topics().size(), 1u);
  EXPECT_EQ(t->internal_topics()[0].name, "by-customer-repartition");
  EXPECT_EQ(t->internal_topics()[0].partitions, 3);
  EXPECT_EQ(t->TopicName("by-customer-repartition", "app"), "app-by-customer-repartition");
  EXPECT_THAT(t->AllSourceTopics("app"), ElementsAre("app-by-customer-repartition", "orders"));
}

TEST(TopologyNamingTest, DuplicateNamesFailBuild) {
  StreamsBuilder builder;
  auto s = builder.Stream<std::string, std::string>("orders");
  s.Filter(NonEmpty, Named::As("x")).To("a");
  s.MapValues(Bang, Named::As("x")).To("b");
  auto t = builder.Build();
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr("\"x\""));
}

TEST(TopologyNamingTest, ReadingATopicTwiceFailsBuild) {
  StreamsBuilder builder;
  builder.Stream<std::string, std::string>("orders").To("a");
  builder.Stream("orders", Consumed(StringSerde(), StringSerde()).WithName("again")).To("b");
  auto t = builder.Build();
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("topic orders is read by two sources"));
}

TEST(TopologyNamingTest, UnfinishedSplitFailsBuild) {
  StreamsBuilder builder;
  auto split = builder.Stream<std::string, std::string>("orders").Split().Branch(NonEmpty);
  (void)split;
  auto t = builder.Build();
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("orders-split was not finished"));
}

// A fan-out, a split and a repartition: two sub-topologies.
Topology SmallTopology() {
  StreamsBuilder builder;
  auto orders = builder.Stream<std::string, std::string>("orders");
  auto valid = orders.Filter(NonEmpty);
  valid.MapValues(Bang).To("shipments");
  valid.Repartition().To("audit");
  return *builder.Build();
}

TEST(TopologyDescribeTest, DescribeMatchesKafkasTextShape) {
  const std::string expected =
      "Topologies:\n"
      "   Sub-topology: 0\n"
      "    Source: orders-source (topics: [orders])\n"
      "      --> orders-filter\n"
      "    Processor: orders-filter (stores: [])\n"
      "      --> orders-filter-mapvalues, orders-filter-repartition-sink\n"
      "      <-- orders-source\n"
      "    Processor: orders-filter-mapvalues (stores: [])\n"
      "      --> orders-filter-mapvalues-to-shipments\n"
      "      <-- orders-filter\n"
      "    Sink: orders-filter-mapvalues-to-shipments (topic: shipments)\n"
      "      <-- orders-filter-mapvalues\n"
      "    Sink: orders-filter-repartition-sink (topic: orders-filter-repartition)\n"
      "      <-- orders-filter\n"
      "\n"
      "  Sub-topology: 1\n"
      "    Source: orders-filter-repartition-source (topics: [orders-filter-repartition])\n"
      "      --> orders-filter-repartition-to-audit\n"
      "    Sink: orders-filter-repartition-to-audit (topic: audit)\n"
      "      <-- orders-filter-repartition-source\n"
      "\n";
  EXPECT_EQ(SmallTopology().Describe(), expected);
}

TEST(TopologyDescribeTest, DescribeMermaidDrawsTopicsNodesAndSubtopologies) {
  const std::string expected =
      "flowchart TD\n"
      "    t0[(\"orders\")]\n"
      "    t1[(\"shipments\")]\n"
      "    t2[(\"orders-filter-repartition\")]\n"
      "    t3[(\"audit\")]\n"
      "    subgraph sub0[\"Sub-topology 0\"]\n"
      "        n0([\"orders-source\"])\n"
      "        n1[\"orders-filter\"]\n"
      "        n2[\"orders-filter-mapvalues\"]\n"
      "        n3[/\"orders-filter-mapvalues-to-shipments\"\\]\n"
      "        n4[/\"orders-filter-repartition-sink\"\\]\n"
      "    end\n"
      "    subgraph sub1[\"Sub-topology 1\"]\n"
      "        n5([\"orders-filter-repartition-source\"])\n"
      "        n6[/\"orders-filter-repartition-to-audit\"\\]\n"
      "    end\n"
      "    t0 --> n0\n"
      "    n0 --> n1\n"
      "    n1 --> n2\n"
      "    n1 --> n4\n"
      "    n2 --> n3\n"
      "    n3 --> t1\n"
      "    n4 --> t2\n"
      "    t2 --> n5\n"
      "    n5 --> n6\n"
      "    n6 --> t3\n";
  EXPECT_EQ(SmallTopology().DescribeMermaid(), expected);
}

TEST(TopologyDescribeTest, SubtopologiesSplitAtRepartitionTopics) {
  Topology t = SmallTopology();
  ASSERT_EQ(t.subtopologies().size(), 2u);
  EXPECT_THAT(t.SourceTopics(0, "app"), ElementsAre("orders"));
  EXPECT_THAT(t.SourceTopics(1, "app"), ElementsAre("app-orders-filter-repartition"));
  EXPECT_EQ(t.SubtopologyOf("app-orders-filter-repartition", "app"), 1);
  auto internal = t.InternalTopics("app", [](const std::string& topic) -> absl::StatusOr<int32_t> {
    return topic == "orders" ? 6 : -1;
  });
  ASSERT_TRUE(internal.ok()) << internal.status();
  EXPECT_THAT(*internal, ElementsAre(std::make_pair(std::string("app-orders-filter-repartition"), 6)));
}

TEST(TopologyDescribeTest, MergedSourcesShareASubtopologyAndAreCopartitioned) {
  StreamsBuilder builder;
  auto a = builder.Stream<std::string, std::string>("a");
  auto b = builder.Stream<std::string, std::string>("b");
  a.Merge(b).To("out");
  auto t = builder.Build();
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->subtopologies().size(), 1u);
  EXPECT_THAT(t->CopartitionGroups("app"), ElementsAre(ElementsAre("a", "b")));
  auto tasks = t->GroupPartitions({{"a", 0}, {"b", 0}, {"a", 1}, {"b", 1}, {"other", 0}}, "app");
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_THAT(tasks[(TaskId{0, 1})], ElementsAre(TopicPartition{"a", 1}, TopicPartition{"b", 1}));
}

}  // namespace
}  // namespace eddy
