// Fusion: which nodes become physical, that a shared prefix runs once per record, long chains, the
// type-erased KStream<K, V>, and the compile-time checks of operation arguments.
#include <string>
#include <type_traits>
#include <utility>

#include "eddy/dsl/dsl.h"
#include "eddy/runtime/test_driver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

using ::testing::ElementsAre;

// ---- Compile-time checks: a callable of the wrong shape is rejected (the call would end in a
// static_assert naming the operation; see dsl/testdata/filter_type_error.cc for the message). ----
using Source = decltype(std::declval<StreamsBuilder&>().Stream<std::string, int64_t>("t"));

template <typename S, typename F>
concept CanFilter = requires(const S& s, F f) {
  { s.Filter(f) } -> dsl_internal::IsKStream;
};
template <typename S, typename F>
concept CanMapValues = requires(const S& s, F f) {
  { s.MapValues(f) } -> dsl_internal::IsKStream;
};
template <typename S, typename F>
concept CanMap = requires(const S& s, F f) {
  { s.Map(f) } -> dsl_internal::IsKStream;
};
template <typename S, typename F>
concept CanFlatMapValues = requires(const S& s, F f) {
  { s.FlatMapValues(f) } -> dsl_internal::IsKStream;
};

auto good_pred = [](const std::string&, const int64_t& v) { return v > 0; };
auto swapped_pred = [](const int64_t&, const std::string&) { return true; };
auto string_value_pred = [](const std::string&, const std::string&) { return true; };
auto void_pred = [](const std::string&, const int64_t&) {};
static_assert(CanFilter<Source, decltype(good_pred)>);
static_assert(!CanFilter<Source, decltype(swapped_pred)>);
static_assert(!CanFilter<Source, decltype(string_value_pred)>);
static_assert(!CanFilter<Source, decltype(void_pred)>);
static_assert(!FilterPredicate<decltype(swapped_pred), std::string, int64_t>);

auto value_mapper = [](const int64_t& v) { return std::to_string(v); };
auto key_value_mapper = [](const std::string& k, const int64_t& v) { return k + std::to_string(v); };
auto wrong_mapper = [](const std::string& v) { return v; };
static_assert(CanMapValues<Source, decltype(value_mapper)>);
static_assert(CanMapValues<Source, decltype(key_value_mapper)>);
static_assert(!CanMapValues<Source, decltype(wrong_mapper)>);

auto pair_mapper = [](const std::string& k, const int64_t& v) { return std::make_pair(v, k); };
auto not_a_pair_mapper = [](const std::string& k, const int64_t&) { return k; };
static_assert(CanMap<Source, decltype(pair_mapper)>);
static_assert(!CanMap<Source, decltype(not_a_pair_mapper)>);

auto not_a_range = [](const int64_t& v) { return v; };
static_assert(!CanFlatMapValues<Source, decltype(not_a_range)>);

// ---- Fusion. ----
bool Positive(const std::string&, const int64_t& v) { return v > 0; }
int64_t Double(const int64_t& v) { return 2 * v; }

TEST(FusionTest, StatelessChainIsOnePhysicalNode) {
  StreamsBuilder builder;
  builder.Stream<std::string, int64_t>("in").Filter(Positive).MapValues(Double).MapValues(Double).To("out");
  auto t = builder.Build();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->nodes().size(), 5u);
  ASSERT_EQ(t->physical_nodes().size(), 1u);  // source, filter, both maps and the sink in one node
  EXPECT_THAT(t->physical_nodes()[0].source_topics, ElementsAre("in"));
}

TEST(FusionTest, SharedPrefixRunsOncePerRecord) {
  StreamsBuilder builder;
  int peeks = 0;
  auto counted = builder.Stream<std::string, int64_t>("in").Peek([&peeks](const std::string&, const int64_t&) {
    ++peeks;
  });
  counted.MapValues(Double).To("doubled");
  counted.Filter(Positive).To("positive");
  counted.Foreach([](const std::string&, const int64_t&) {});
  auto t = builder.Build();
  ASSERT_TRUE(t.ok()) << t.status();
  // The peek (with the source) is physical because it fans out; each branch is one node.
  EXPECT_EQ(t->physical_nodes().size(), 4u);
  auto driver = TestDriver::Create(*t);
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto in = (*driver)->CreateInputTopic<std::string, int64_t>("in");
  for (int64_t v : {1, -2, 3}) ASSERT_TRUE(in.PipeInput("k", v, 1).ok());
  EXPECT_EQ(peeks, 3);
  EXPECT_EQ((*driver)->TopicRecords("doubled").size(), 3u);
  EXPECT_EQ((*driver)->TopicRecords("positive").size(), 2u);
}

TEST(FusionTest, SourceUsedTwiceIsReadOnce) {
  StreamsBuilder builder;
  auto in = builder.Stream<std::string, int64_t>("in");
  in.Filter(Positive).To("a");
  in.MapValues(Double).To("b");
  auto t = builder.Build();
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->physical_nodes().size(), 3u);
  EXPECT_THAT(t->physical_nodes()[0].source_topics, ElementsAre("in"));
  EXPECT_TRUE(t->physical_nodes()[1].source_topics.empty());
  EXPECT_TRUE(t->physical_nodes()[2].source_topics.empty());
}

TEST(FusionTest, ChainsLongerThanTheFusionLimitStillRunEveryOperator) {
  StreamsBuilder builder;
  auto s = builder.Stream<std::string, int64_t>("in");
  auto add1 = [](const int64_t& v) { return v + 1; };
  s.MapValues(add1).MapValues(add1).MapValues(add1).MapValues(add1).MapValues(add1).MapValues(add1)
      .MapValues(add1).MapValues(add1).MapValues(add1).MapValues(add1).MapValues(add1).MapValues(add1)
      .MapValues(add1).MapValues(add1).MapValues(add1).MapValues(add1).MapValues(add1).MapValues(add1)
      .MapValues(add1).MapValues(add1)
      .To("out");
  auto t = builder.Build();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->physical_nodes().size(), 2u);  // cut once, after 16 operators
  auto driver = TestDriver::Create(*t);
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto in = (*driver)->CreateInputTopic<std::string, int64_t>("in");
  auto out = (*driver)->CreateOutputTopic<std::string, int64_t>("out");
  ASSERT_TRUE(in.PipeInput("k", 0, 1).ok());
  auto v = out.ReadValue();
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, 20);
}

// A helper taking the type-erased stream type, as application code would.
void WriteDoubled(const KStream<std::string, int64_t>& s, const std::string& topic) { s.MapValues(Double).To(topic); }

TEST(FusionTest, TypeErasedKStreamWorksAsAParameter) {
  StreamsBuilder builder;
  auto positive = builder.Stream<std::string, int64_t>("in").Filter(Positive);
  WriteDoubled(positive, "out");
  positive.To("raw");
  auto t = builder.Build();
  ASSERT_TRUE(t.ok()) << t.status();
  auto driver = TestDriver::Create(*t);
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto in = (*driver)->CreateInputTopic<std::string, int64_t>("in");
  auto out = (*driver)->CreateOutputTopic<std::string, int64_t>("out");
  for (int64_t v : {5, -5}) ASSERT_TRUE(in.PipeInput("k", v, 1).ok());
  auto values = out.ReadValuesToList();
  ASSERT_TRUE(values.ok());
  EXPECT_THAT(*values, ElementsAre(10));
  EXPECT_EQ((*driver)->TopicRecords("raw").size(), 1u);
}

TEST(FusionTest, DanglingPeekStillRuns) {
  StreamsBuilder builder;
  int peeks = 0;
  builder.Stream<std::string, int64_t>("in").Peek([&peeks](const std::string&, const int64_t&) { ++peeks; });
  auto t = builder.Build();
  ASSERT_TRUE(t.ok()) << t.status();
  auto driver = TestDriver::Create(*t);
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto in = (*driver)->CreateInputTopic<std::string, int64_t>("in");
  ASSERT_TRUE(in.PipeInput("k", 1, 1).ok());
  EXPECT_EQ(peeks, 1);
}

// Split branches merged back, a fan-out after the merge, a processor's output used twice: every operator
// still runs once per record and every record lands where it should.
class Tag : public Processor<std::string, int64_t, std::string, std::string> {
 public:
  absl::Status Init(ProcessorContext<std::string, std::string>& c) override {
    context_ = &c;
    return absl::OkStatus();
  }
  absl::Status Process(const Record<std::string, int64_t>& r) override {
    const std::string tagged = "big:" + std::to_string(r.value());
    context_->Forward(r.WithValue(tagged));
    return absl::OkStatus();
  }

 private:
  ProcessorContext<std::string, std::string>* context_ = nullptr;
};

TEST(FusionTest, ComplexGraphRunsEachOperatorOncePerRecord) {
  StreamsBuilder builder;
  int source_peeks = 0, merged_peeks = 0;
  auto branches = builder.Stream<std::string, int64_t>("in")
                      .Peek([&](const std::string&, const int64_t&) { ++source_peeks; })
                      .Split()
                      .Branch([](const std::string&, const int64_t& v) { return v < 0; }, Branched::As("neg"))
                      .Branch([](const std::string&, const int64_t& v) { return v < 100; }, Branched::As("small"))
                      .DefaultBranch(Branched::As("big"));
  auto neg = branches.at("in-peek-split-neg").MapValues([](const int64_t& v) { return -v; });
  auto merged = neg.Merge(branches.at("in-peek-split-small")).Peek([&](const std::string&, const int64_t&) {
    ++merged_peeks;
  });
  merged.To("abs");
  merged.Filter([](const std::string&, const int64_t& v) { return v % 2 == 0; }).To("even");
  auto tagged = branches.at("in-peek-split-big").Process([] { return std::make_unique<Tag>(); });
  tagged.To("tagged");
  tagged.MapValues([](const std::string& v) { return v.size(); }).MapValues([](const size_t& n) {
    return static_cast<int64_t>(n);
  }).To("lengths");
  auto t = builder.Build();
  ASSERT_TRUE(t.ok()) << t.status();
  auto driver = TestDriver::Create(*t);
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto in = (*driver)->CreateInputTopic<std::string, int64_t>("in");
  for (int64_t v : {-4, 3, 250, -7, 8, 1000}) ASSERT_TRUE(in.PipeInput("k", v, 1).ok());
  EXPECT_EQ(source_peeks, 6);
  EXPECT_EQ(merged_peeks, 4);
  auto values = [&](const std::string& topic) {
    auto out = (*driver)->CreateOutputTopic<std::string, int64_t>(topic);
    return *out.ReadValuesToList();
  };
  EXPECT_THAT(values("abs"), ElementsAre(4, 3, 7, 8));
  EXPECT_THAT(values("even"), ElementsAre(4, 8));
  EXPECT_THAT(values("lengths"), ElementsAre(7, 8));
  auto tagged_out = (*driver)->CreateOutputTopic<std::string, std::string>("tagged");
  EXPECT_THAT(*tagged_out.ReadValuesToList(), ElementsAre("big:250", "big:1000"));
}

}  // namespace
}  // namespace eddy
