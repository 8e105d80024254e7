// State stores in tasks: the Processor API with stores (StreamsBuilder::AddStateStore, Process(supplier,
// {"store"}), ProcessorContext::GetStateStore), what the Topology says about stores (Describe, changelog
// topics, ownership), and the TestDriver's stores and captured changelogs.
#include <filesystem>
#include <string>
#include <vector>

#include "eddy/core/partitioner.h"
#include "eddy/core/status.h"
#include "eddy/dsl/dsl.h"
#include "eddy/runtime/test_driver.h"
#include "eddy/state/stores.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Counts records per key in the store "counts" and forwards (key, count).
class CountingProcessor : public Processor<std::string, std::string, std::string, int64_t> {
 public:
  absl::Status Init(ProcessorContext<std::string, int64_t>& context) override {
    context_ = &context;
    auto store = context.GetStateStore<KeyValueStore>("counts");
    if (!store.ok()) return store.status();
    store_ = *store;
    // Wrong type and unknown names are errors, not crashes.
    if (context.GetStateStore<WindowStore>("counts").status().code() != absl::StatusCode::kInvalidArgument) {
      return absl::InternalError("GetStateStore of the wrong type did not fail");
    }
    if (context.GetStateStore<KeyValueStore>("nope").status().code() != absl::StatusCode::kNotFound) {
      return absl::InternalError("GetStateStore of an unknown store did not fail");
    }
    return absl::OkStatus();
  }
  absl::Status Process(const Record<std::string, std::string>& record) override {
    std::string bytes;
    EDDY_ASSIGN_OR_RETURN(bool found, store_->Get(record.key(), &bytes));
    int64_t count = 0;
    if (found) EDDY_RETURN_IF_ERROR(Int64Serde().Deserialize(bytes, &count));
    ++count;
    EDDY_RETURN_IF_ERROR(SerializeWith(Int64Serde(), count, &bytes));
    EDDY_RETURN_IF_ERROR(store_->Put(record.key(), bytes));
    context_->Forward(record.WithValue(count));
    return absl::OkStatus();
  }

 private:
  ProcessorContext<std::string, int64_t>* context_ = nullptr;
  KeyValueStore* store_ = nullptr;
};

absl::StatusOr<Topology> CountingTopology(bool persistent) {
  StreamsBuilder builder;
  builder.AddStateStore(persistent ? Stores::PersistentKeyValueStore("counts") : Stores::InMemoryKeyValueStore("counts"));
  builder.Stream<std::string, std::string>("words")
      .Process([] { return std::make_unique<CountingProcessor>(); }, {"counts"}, Named::As("counter"))
      .To("counted", Produced(StringSerde(), Int64Serde()));
  return builder.Build();
}

int64_t StoredCount(KeyValueStore* store, const std::string& key) {
  std::string bytes;
  auto found = store->Get(key, &bytes);
  if (!found.ok() || !*found) return -1;
  int64_t v = 0;
  if (!Int64Serde().Deserialize(bytes, &v).ok()) return -2;
  return v;
}

TEST(StateProcessTest, ProcessorCountsInAPersistentStoreAndItsChangesAreLogged) {
  auto topology = CountingTopology(/*persistent=*/true);
  ASSERT_TRUE(topology.ok()) << topology.status();
  TestDriverConfig config;
  config.application_id = "wc";
  auto driver = TestDriver::Create(*topology, config);
  ASSERT_TRUE(driver.ok()) << driver.status();
  const std::string dir = (*driver)->state_dir();
  ASSERT_FALSE(dir.empty());
  EXPECT_TRUE(std::filesystem::exists(dir + "/wc/0_0/rocksdb/counts"));

  auto words = (*driver)->CreateInputTopic("words", StringSerde(), StringSerde());
  ASSERT_TRUE(words.PipeInput("a", "x", 10).ok());
  ASSERT_TRUE(words.PipeInput("b", "x", 20).ok());
  ASSERT_TRUE(words.PipeInput("a", "x", 30).ok());
  auto counted = (*driver)->CreateOutputTopic("counted", StringSerde(), Int64Serde());
  auto out = counted.ReadKeyValuesToList();
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(KeyValue<std::string, int64_t>{"a", 1}, KeyValue<std::string, int64_t>{"b", 1},
                                KeyValue<std::string, int64_t>{"a", 2}));

  KeyValueStore* store = (*driver)->GetKeyValueStore("counts");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(StoredCount(store, "a"), 2);
  EXPECT_EQ(StoredCount(store, "b"), 1);
  EXPECT_EQ((*driver)->GetWindowStore("counts"), nullptr);

  // Caching is off (Stores' default): every put is logged, with the record's timestamp.
  auto changelog = (*driver)->CreateOutputTopic("wc-counts-changelog", StringSerde(), Int64Serde());
  auto records = changelog.ReadRecordsToList();
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ(*(*records)[2].key, "a");
  EXPECT_EQ(*(*records)[2].value, 2);
  EXPECT_EQ((*records)[2].timestamp, 30);

  driver->reset();
  EXPECT_FALSE(std::filesystem::exists(dir)) << "the driver's temporary state directory is removed";
}

TEST(StateProcessTest, PersistentStoreSurvivesADriverRestartInAGivenStateDir) {
  const std::string dir = (std::filesystem::temp_directory_path() / "eddy-state-process-test").string();
  std::filesystem::remove_all(dir);
  auto topology = CountingTopology(/*persistent=*/true);
  ASSERT_TRUE(topology.ok());
  TestDriverConfig config;
  config.state_dir = dir;
  for (int run = 1; run <= 2; ++run) {
    auto driver = TestDriver::Create(*topology, config);
    ASSERT_TRUE(driver.ok()) << driver.status();
    auto words = (*driver)->CreateInputTopic("words", StringSerde(), StringSerde());
    ASSERT_TRUE(words.PipeInput("a", "x", run).ok());
    EXPECT_EQ(StoredCount((*driver)->GetKeyValueStore("counts"), "a"), run);
  }
  EXPECT_TRUE(std::filesystem::exists(dir)) << "a given state directory is kept";
  std::filesystem::remove_all(dir);
}

TEST(StateProcessTest, EachPartitionHasItsOwnStore) {
  auto topology = CountingTopology(/*persistent=*/false);
  ASSERT_TRUE(topology.ok());
  TestDriverConfig config;
  config.default_partitions = 2;
  auto driver = TestDriver::Create(*topology, config);
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto words = (*driver)->CreateInputTopic("words", StringSerde(), StringSerde());
  ASSERT_TRUE(words.PipeInput("k", "x", 1, /*partition=*/0).ok());
  ASSERT_TRUE(words.PipeInput("k", "x", 2, /*partition=*/1).ok());
  ASSERT_TRUE(words.PipeInput("k", "x", 3, /*partition=*/1).ok());
  EXPECT_EQ(StoredCount((*driver)->GetKeyValueStore("counts", 0), "k"), 1);
  EXPECT_EQ(StoredCount((*driver)->GetKeyValueStore("counts", 1), "k"), 2);
  // The changelog has one partition per task; each task logs to its own.
  const auto& log = (*driver)->TopicRecords("eddy-test-counts-changelog");
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].partition, 0);
  EXPECT_EQ(log[2].partition, 1);
}

TEST(StateProcessTest, DescribeListsTheStoresOfProcessors) {
  auto topology = CountingTopology(/*persistent=*/false);
  ASSERT_TRUE(topology.ok());
  EXPECT_THAT(topology->Describe(), HasSubstr("Processor: counter (stores: [counts])"));
  EXPECT_THAT(topology->DescribeMermaid(), HasSubstr("s0[[\"counts\"]]"));
  EXPECT_THAT(topology->DescribeMermaid(), HasSubstr(" -.- s0"));
  ASSERT_EQ(topology->StoresOf(0).size(), 1u);
  EXPECT_EQ(topology->StoresOf(0)[0]->name, "counts");
  EXPECT_EQ(topology->subtopologies()[0].stores, std::vector<std::string>{"counts"});
}

TEST(StateProcessTest, ChangelogTopicsHaveTheTaskCountOfTheOwningSubtopology) {
  StreamsBuilder builder;
  builder.AddStateStore(Stores::InMemoryKeyValueStore("counts").WithLoggingEnabled({{"min.insync.replicas", "2"}}));
  builder.AddStateStore(Stores::InMemoryKeyValueStore("scratch").WithLoggingDisabled());
  builder.Stream<std::string, std::string>("words")
      .Repartition(Repartitioned(StringSerde(), StringSerde()).WithName("by-word"))
      .Process([] { return std::make_unique<CountingProcessor>(); }, {"counts", "scratch"})
      .To("counted", Produced(StringSerde(), Int64Serde()));
  auto topology = builder.Build();
  ASSERT_TRUE(topology.ok()) << topology.status();
  auto topics = topology->ChangelogTopics("app", [](const std::string& t) -> absl::StatusOr<int32_t> {
    if (t == "words") return 6;
    return absl::NotFoundError(t);
  });
  ASSERT_TRUE(topics.ok()) << topics.status();
  ASSERT_EQ(topics->size(), 1u) << "unlogged stores have no changelog";
  EXPECT_EQ((*topics)[0].name, "app-counts-changelog");
  EXPECT_EQ((*topics)[0].store, "counts");
  EXPECT_EQ((*topics)[0].partitions, 6) << "through the repartition topic, sized from words";
  EXPECT_EQ((*topics)[0].configs.at("cleanup.policy"), "compact");
  EXPECT_EQ((*topics)[0].configs.at("min.insync.replicas"), "2");
}

TEST(StateProcessTest, AStoreUsedOnBothSidesOfARepartitionIsRejected) {
  StreamsBuilder builder;
  builder.AddStateStore(Stores::InMemoryKeyValueStore("counts"));
  auto words = builder.Stream<std::string, std::string>("words");
  words.Process([] { return std::make_unique<CountingProcessor>(); }, {"counts"});
  words.Repartition().Process([] { return std::make_unique<CountingProcessor>(); }, {"counts"});
  auto topology = builder.Build();
  ASSERT_FALSE(topology.ok());
  EXPECT_THAT(topology.status().message(), HasSubstr("is used on both sides of it"));
}

TEST(StateProcessTest, UnknownStoresAndBadBuildersFailTheBuild) {
  {
    StreamsBuilder builder;
    builder.Stream<std::string, std::string>("words").Process([] { return std::make_unique<CountingProcessor>(); },
                                                              {"counts"});
    auto topology = builder.Build();
    ASSERT_FALSE(topology.ok());
    EXPECT_THAT(topology.status().message(), HasSubstr("uses state store \"counts\", which was not added"));
  }
  {
    StreamsBuilder builder;
    builder.AddStateStore(Stores::InMemoryKeyValueStore("bad name!"));
    EXPECT_EQ(builder.Build().status().code(), absl::StatusCode::kInvalidArgument);
  }
  {
    StreamsBuilder builder;
    builder.AddStateStore(Stores::InMemoryKeyValueStore("twice"));
    builder.AddStateStore(Stores::InMemoryKeyValueStore("twice"));
    EXPECT_THAT(builder.Build().status().message(), HasSubstr("two state stores are named \"twice\""));
  }
}

TEST(StateProcessTest, ProcessorWithoutTheStoreConnectedFailsItsInit) {
  StreamsBuilder builder;
  builder.AddStateStore(Stores::InMemoryKeyValueStore("counts"));
  builder.Stream<std::string, std::string>("words").Process([] { return std::make_unique<CountingProcessor>(); });
  auto topology = builder.Build();
  ASSERT_TRUE(topology.ok());
  auto driver = TestDriver::Create(*topology);
  ASSERT_FALSE(driver.ok());
  EXPECT_EQ(driver.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace eddy
