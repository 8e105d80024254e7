// The Processor API through KStream::Process (context, metadata, punctuators), Repartition through the
// TestDriver, and multi-partition inputs.
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
using ::testing::Pair;

// Forwards value * 2, and on each punctuation forwards ("<type>", records seen so far) at the punctuation
// time. Records the metadata it saw.
class DoublingProcessor : public Processor<std::string, int64_t, std::string, int64_t> {
 public:
  struct Log {
    std::vector<std::string> metadata;       // "topic/partition/offset" or "none"
    std::vector<int64_t> stream_punctuations;
    std::vector<int64_t> wall_punctuations;
    int closes = 0;
  };
  explicit DoublingProcessor(Log* log) : log_(log) {}

  absl::Status Init(ProcessorContext<std::string, int64_t>& context) override {
    context_ = &context;
    context.Schedule(absl::Milliseconds(10), PunctuationType::kStreamTime, [this](int64_t ts) {
      log_->stream_punctuations.push_back(ts);
      Note();
      const std::string key = "stream";
      context_->Forward(Record<std::string, int64_t>(key, seen_, ts));
    });
    wall_ = context.Schedule(absl::Milliseconds(100), PunctuationType::kWallClockTime, [this](int64_t ts) {
      log_->wall_punctuations.push_back(ts);
      if (log_->wall_punctuations.size() == 2) wall_.Cancel();
    });
    return absl::OkStatus();
  }
  absl::Status Process(const Record<std::string, int64_t>& record) override {
    ++seen_;
    Note();
    if (record.value() < 0) return absl::InvalidArgumentError("negative values are not allowed");
    const int64_t doubled = record.value() * 2;
    context_->Forward(record.WithValue(doubled));
    return absl::OkStatus();
  }
  void Close() override { ++log_->closes; }

 private:
  void Note() {
    auto md = context_->record_metadata();
    log_->metadata.push_back(md ? absl::StrCat(md->topic, "/", md->partition, "/", md->offset) : "none");
  }
  Log* log_;
  ProcessorContext<std::string, int64_t>* context_ = nullptr;
  Cancellable wall_;
  int64_t seen_ = 0;
};

TEST(ProcessTest, ProcessorForwardsAndPunctuatesOnStreamTime) {
  DoublingProcessor::Log log;
  StreamsBuilder builder;
  builder.Stream<std::string, int64_t>("in")
      .Process([&log] { return std::make_unique<DoublingProcessor>(&log); })
      .To("out");
  auto t = builder.Build();
  ASSERT_TRUE(t.ok()) << t.status();
  auto driver = TestDriver::Create(*t);
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto in = (*driver)->CreateInputTopic<std::string, int64_t>("in");
  auto out = (*driver)->CreateOutputTopic<std::string, int64_t>("out");
  ASSERT_TRUE(in.PipeInput("a", 1, 5).ok());   // stream time 5: first punctuation (aligned to 0)
  ASSERT_TRUE(in.PipeInput("b", 2, 12).ok());  // passes 10
  ASSERT_TRUE(in.PipeInput("c", 3, 15).ok());  // nothing due (next at 20)
  ASSERT_TRUE(in.PipeInput("d", 4, 35).ok());  // 20 and 30 missed: fires once, next at 40
  EXPECT_THAT(log.stream_punctuations, ElementsAre(5, 12, 35));
  auto records = out.ReadRecordsToList();
  ASSERT_TRUE(records.ok());
  std::vector<std::string> got;
  for (const auto& r : *records) got.push_back(absl::StrCat(*r.key, "=", *r.value, "@", r.timestamp));
  EXPECT_THAT(got, ElementsAre("a=2@5", "stream=1@5", "b=4@12", "stream=2@12", "c=6@15", "d=8@35", "stream=4@35"));
  EXPECT_THAT(log.metadata, ElementsAre("in/0/0", "none", "in/0/1", "none", "in/0/2", "in/0/3", "none"));
}

TEST(ProcessTest, WallClockPunctuatorsFollowAdvanceAndCanBeCancelled) {
  DoublingProcessor::Log log;
  StreamsBuilder builder;
  builder.Stream<std::string, int64_t>("in").Process([&log] { return std::make_unique<DoublingProcessor>(&log); });
  auto t = builder.Build();
  ASSERT_TRUE(t.ok()) << t.status();
  TestDriverConfig config;
  config.initial_wall_clock_ms = 1000;
  auto driver = TestDriver::Create(*t, config);
  ASSERT_TRUE(driver.ok()) << driver.status();
  ASSERT_TRUE((*driver)->AdvanceWallClockTime(absl::Milliseconds(50)).ok());
  EXPECT_TRUE(log.wall_punctuations.empty());
  ASSERT_TRUE((*driver)->AdvanceWallClockTime(absl::Milliseconds(60)).ok());  // 1110 >= 1100
  ASSERT_TRUE((*driver)->AdvanceWallClockTime(absl::Milliseconds(250)).ok());  // 1360: once, not twice
  ASSERT_TRUE((*driver)->AdvanceWallClockTime(absl::Seconds(10)).ok());        // cancelled after two
  EXPECT_THAT(log.wall_punctuations, ElementsAre(1110, 1360));
  EXPECT_TRUE(log.stream_punctuations.empty());  // no record: stream time unknown
  ASSERT_TRUE((*driver)->Close().ok());
  EXPECT_EQ(log.closes, 1);
}

TEST(ProcessTest, ProcessorErrorFailsTheRecordWithItsLocation) {
  DoublingProcessor::Log log;
  StreamsBuilder builder;
  builder.Stream<std::string, int64_t>("in")
      .Process([&log] { return std::make_unique<DoublingProcessor>(&log); }, Named::As("doubler"))
      .To("out");
  auto t = builder.Build();
  ASSERT_TRUE(t.ok()) << t.status();
  auto driver = TestDriver::Create(*t);
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto in = (*driver)->CreateInputTopic<std::string, int64_t>("in");
  ASSERT_TRUE(in.PipeInput("a", 1, 1).ok());
  absl::Status st = in.PipeInput("a", -1, 2);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "task 0_0, topic in, partition 0, offset 1: processor doubler: negative values are not allowed");
  Task* task = (*driver)->task(TaskId{0, 0});
  ASSERT_NE(task, nullptr);
  auto offsets = task->CommittableOffsets();
  ASSERT_EQ(offsets.size(), 1u);
  EXPECT_EQ(offsets[0].offset, 1);  // the failed record is not committable
}

TEST(ProcessTest, KeysGoToTheirMurmur2PartitionAndEachPartitionHasItsTask) {
  StreamsBuilder builder;
  std::map<std::string, std::string> where;  // key -> "task:partition"
  builder.Stream<std::string, int64_t>("in")
      .Process([&where] {
        class Recorder : public Processor<std::string, int64_t, std::string, int64_t> {
         public:
          explicit Recorder(std::map<std::string, std::string>* where) : where_(where) {}
          absl::Status Init(ProcessorContext<std::string, int64_t>& c) override {
            context_ = &c;
            return absl::OkStatus();
          }
          absl::Status Process(const Record<std::string, int64_t>& r) override {
            (*where_)[r.key()] = absl::StrCat(context_->task_id().ToString(), ":", context_->record_metadata()->partition);
            context_->Forward(r);
            return absl::OkStatus();
          }
          std::map<std::string, std::string>* where_;
          ProcessorContext<std::string, int64_t>* context_ = nullptr;
        };
        return std::make_unique<Recorder>(&where);
      })
      .To("out");
  auto t = builder.Build();
  ASSERT_TRUE(t.ok()) << t.status();
  TestDriverConfig config;
  config.partitions = {{"in", 4}, {"out", 3}};
  auto driver = TestDriver::Create(*t, config);
  ASSERT_TRUE(driver.ok()) << driver.status();
  EXPECT_THAT((*driver)->task_ids(), ElementsAre(TaskId{0, 0}, TaskId{0, 1}, TaskId{0, 2}, TaskId{0, 3}));
  auto in = (*driver)->CreateInputTopic<std::string, int64_t>("in");
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(in.PipeInput(absl::StrCat("key-", i), i, i).ok());
  ASSERT_TRUE(in.PipeInput("explicit", 0, 0, /*partition=*/2).ok());
  for (int i = 0; i < 20; ++i) {
    const std::string key = absl::StrCat("key-", i);
    const int32_t p = KeyPartition(key, 4);
    EXPECT_EQ(where[key], absl::StrCat("0_", p, ":", p)) << key;
  }
  EXPECT_EQ(where["explicit"], "0_2:2");
  for (const StoredRecord& r : (*driver)->TopicRecords("out")) EXPECT_EQ(r.partition, KeyPartition(*r.key, 3));
}

TEST(ProcessTest, RepartitionRoutesByNewKeyThroughTheInternalTopic) {
  StreamsBuilder builder;
  std::vector<std::string> seen;
  builder.Stream<std::string, std::string>("in")
      .SelectKey([](const std::string&, const std::string& v) { return v; })
      .Repartition(Repartitioned(StringSerde(), StringSerde()).WithName("by-value").WithNumberOfPartitions(4))
      .Peek([&seen](const std::string& k, const std::string&) { seen.push_back(k); })
      .To("out");
  auto t = builder.Build();
  ASSERT_TRUE(t.ok()) << t.status();
  TestDriverConfig config;
  config.application_id = "app";
  auto driver = TestDriver::Create(*t, config);
  ASSERT_TRUE(driver.ok()) << driver.status();
  EXPECT_EQ((*driver)->PartitionCount("app-by-value-repartition"), 4);
  EXPECT_EQ((*driver)->task_ids().size(), 1u + 4u);
  auto in = (*driver)->CreateInputTopic<std::string, std::string>("in");
  auto out = (*driver)->CreateOutputTopic<std::string, std::string>("out");
  ASSERT_TRUE(in.PipeInput("k1", "red", 10).ok());
  ASSERT_TRUE(in.PipeInput("k2", "blue", 20).ok());
  EXPECT_THAT(seen, ElementsAre("red", "blue"));  // processed before PipeInput returned
  const auto& internal = (*driver)->TopicRecords("app-by-value-repartition");
  ASSERT_EQ(internal.size(), 2u);
  EXPECT_EQ(internal[0].partition, KeyPartition("red", 4));
  EXPECT_EQ(internal[1].partition, KeyPartition("blue", 4));
  auto kvs = out.ReadKeyValuesToList();
  ASSERT_TRUE(kvs.ok());
  ASSERT_EQ(kvs->size(), 2u);
  EXPECT_EQ((*kvs)[0].key, "red");
  auto records = (*driver)->TopicRecords("out");
  EXPECT_EQ(records[1].timestamp, 20);
}

}  // namespace
}  // namespace eddy

namespace eddy {
namespace {
class NoopProcessor : public Processor<std::string, int64_t, std::string, int64_t> {
 public:
  absl::Status Process(const Record<std::string, int64_t>&) override { return absl::OkStatus(); }
};
// A source with several children (two sinks, an aggregation and a processor, two processors, an operator
// and a processor) builds and runs: its children get deserialized records (this failed before 2026-12-07).
TEST(ProcessTest, ASourceFeedsSeveralChildren) {
  for (int variant = 0; variant < 5; ++variant) {
    StreamsBuilder builder;
    auto s = builder.Stream<std::string, int64_t>("in");
    if (variant == 0) { s.To("x"); s.Process([] { return std::make_unique<NoopProcessor>(); }); }
    if (variant == 1) { s.GroupByKey().Count(); s.Process([] { return std::make_unique<NoopProcessor>(); }); }
    if (variant == 2) { s.Process([] { return std::make_unique<NoopProcessor>(); }); s.Process([] { return std::make_unique<NoopProcessor>(); }); }
    if (variant == 3) { s.To("x"); s.To("y"); }
    if (variant == 4) { s.Filter([](const std::string&, const int64_t&) { return true; }).To("x"); s.Process([] { return std::make_unique<NoopProcessor>(); }); }
    auto t = builder.Build();
    ASSERT_TRUE(t.ok()) << t.status();
    auto d = TestDriver::Create(*t);
    EXPECT_TRUE(d.ok()) << variant << " " << d.status();
  }
}
}  // namespace
}  // namespace eddy
