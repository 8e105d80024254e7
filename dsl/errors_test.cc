// Deserialization handler modes (fail, continue, dead letter), invalid timestamps and a timestamp extractor
// reading a JSON field, through the DSL and the TestDriver.
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "eddy/core/json_serde.h"
#include "eddy/core/status.h"
#include "eddy/dsl/dsl.h"
#include "eddy/runtime/test_driver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Event {
  std::string id;
  std::string time;  // RFC 3339, e.g. "2024-01-15T10:30:00Z"
};
void ToJson(json::Writer& w, const Event& e) {
  w.BeginObject();
  w.Key("id");
  w.String(e.id);
  w.Key("time");
  w.String(e.time);
  w.EndObject();
}
absl::Status FromJson(simdjson::ondemand::value v, Event* e) {
  std::string_view s;
  EDDY_RETURN_IF_ERROR(json::Get(v["id"].get_string(), &s, "id"));
  e->id = std::string(s);
  EDDY_RETURN_IF_ERROR(json::Get(v["time"].get_string(), &s, "time"));
  e->time = std::string(s);
  return absl::OkStatus();
}

// The event's own time, in ms since the epoch; -1 (invalid) if it does not parse.
int64_t EventTime(const std::string&, const Event& e, const RecordView&, int64_t) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, e.time, &t, &err)) return -1;
  return absl::ToUnixMillis(t);
}

Topology Passthrough() {
  StreamsBuilder builder;
  builder.Stream<std::string, int64_t>("in").To("out");
  return *builder.Build();
}

struct Harness {
  explicit Harness(TestDriverConfig config, Topology topology = Passthrough()) {
    config.log = [this](absl::string_view line) { logs.emplace_back(line); };
    auto d = TestDriver::Create(std::move(topology), std::move(config));
    EXPECT_TRUE(d.ok()) << d.status();
    driver = *std::move(d);
  }
  absl::Status PipeGood(int64_t v) {
    std::string bytes;
    Int64Serde().Serialize(v, &bytes);
    return driver->PipeRaw("in", 0, "k", bytes, 100);
  }
  absl::Status PipeBad() { return driver->PipeRaw("in", 0, "k", "xyz", 100); }
  std::vector<std::string> logs;
  std::unique_ptr<TestDriver> driver;
};

TEST(DeserializationErrorTest, DefaultHandlerFailsNamingTopicPartitionOffset) {
  Harness h({});
  ASSERT_TRUE(h.PipeGood(1).ok());
  absl::Status st = h.PipeBad();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("task 0_0, topic in, partition 0, offset 1"));
  EXPECT_THAT(st.message(), HasSubstr("cannot deserialize the value"));
  EXPECT_THAT(h.logs, Contains(HasSubstr("failing the task")));
  Task* task = h.driver->task(TaskId{0, 0});
  EXPECT_EQ(task->CommittableOffsets()[0].offset, 1);
  EXPECT_EQ(h.driver->TopicRecords("out").size(), 1u);
}

TEST(DeserializationErrorTest, LogAndContinueDropsTheRecord) {
  LogAndContinueExceptionHandler handler;
  TestDriverConfig config;
  config.deserialization_handler = &handler;
  Harness h(config);
  ASSERT_TRUE(h.PipeGood(1).ok());
  ASSERT_TRUE(h.PipeBad().ok());
  ASSERT_TRUE(h.PipeGood(2).ok());
  EXPECT_EQ(h.driver->TopicRecords("out").size(), 2u);
  Task* task = h.driver->task(TaskId{0, 0});
  EXPECT_EQ(task->metrics().dropped_records, 1);
  EXPECT_EQ(task->metrics().processed_records, 2);
  EXPECT_EQ(task->CommittableOffsets()[0].offset, 3);  // the dropped record is committed past
  EXPECT_THAT(h.logs, ElementsAre(HasSubstr("Skipping record after deserialization error (task 0_0, node "
                                            "in-source, topic in, partition 0, offset 1)")));
}

TEST(DeserializationErrorTest, DeadLetterTopicGetsTheRawRecordWithErrorHeaders) {
  LogAndContinueExceptionHandler handler;
  TestDriverConfig config;
  config.deserialization_handler = &handler;
  config.dead_letter_topic = "in-dlq";
  Harness h(config);
  HeaderRef original{"trace", absl::string_view("t-1")};
  ASSERT_TRUE(h.driver->PipeRaw("in", 0, "k", "xyz", 100, absl::MakeConstSpan(&original, 1)).ok());
  auto dlq = h.driver->CreateOutputTopic("in-dlq", BytesSerde(), BytesSerde());
  auto r = dlq.ReadRecord();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r->key, "k");
  EXPECT_EQ(*r->value, "xyz");
  EXPECT_EQ(r->timestamp, 100);
  ASSERT_EQ(r->headers.size(), 6u);
  EXPECT_EQ(r->headers[0], (TestHeader{"trace", "t-1"}));
  EXPECT_EQ(r->headers[1], (TestHeader{"__streams.errors.exception", "INVALID_ARGUMENT"}));
  EXPECT_EQ(r->headers[2].key, "__streams.errors.message");
  EXPECT_THAT(*r->headers[2].value, HasSubstr("Int64Serde"));
  EXPECT_EQ(r->headers[3], (TestHeader{"__streams.errors.topic", "in"}));
  EXPECT_EQ(r->headers[4], (TestHeader{"__streams.errors.partition", "0"}));
  EXPECT_EQ(r->headers[5], (TestHeader{"__streams.errors.offset", "0"}));
  EXPECT_EQ(h.driver->task(TaskId{0, 0})->metrics().dead_lettered_records, 1);
  EXPECT_TRUE(h.driver->TopicRecords("out").empty());
}

TEST(InvalidTimestampTest, DefaultFailsWithLocation) {
  Harness h({});
  std::string bytes;
  Int64Serde().Serialize(1, &bytes);
  absl::Status st = h.driver->PipeRaw("in", 0, "k", bytes, -1);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("topic in, partition 0, offset 0"));
  EXPECT_THAT(st.message(), HasSubstr("invalid (negative) timestamp -1"));
}

TEST(InvalidTimestampTest, LogAndSkipDropsTheRecord) {
  TestDriverConfig config;
  config.invalid_timestamp_policy = InvalidTimestampPolicy::kLogAndSkip;
  Harness h(config);
  std::string bytes;
  Int64Serde().Serialize(1, &bytes);
  ASSERT_TRUE(h.driver->PipeRaw("in", 0, "k", bytes, -1).ok());
  ASSERT_TRUE(h.driver->PipeRaw("in", 0, "k", bytes, 5).ok());
  EXPECT_EQ(h.driver->TopicRecords("out").size(), 1u);
  EXPECT_EQ(h.driver->task(TaskId{0, 0})->metrics().dropped_records, 1);
  EXPECT_THAT(h.logs, ElementsAre(HasSubstr("Skipping record with invalid timestamp -1")));
}

TEST(InvalidTimestampTest, UsePartitionTimeTakesTheHighestTimestampSoFar) {
  TestDriverConfig config;
  config.invalid_timestamp_policy = InvalidTimestampPolicy::kUsePartitionTime;
  Harness h(config);
  std::string bytes;
  Int64Serde().Serialize(1, &bytes);
  EXPECT_FALSE(h.driver->PipeRaw("in", 0, "k", bytes, -1).ok());  // no partition time yet
  ASSERT_TRUE(h.driver->PipeRaw("in", 0, "k", bytes, 50).ok());
  ASSERT_TRUE(h.driver->PipeRaw("in", 0, "k", bytes, 20).ok());
  ASSERT_TRUE(h.driver->PipeRaw("in", 0, "k", bytes, -1).ok());
  const auto& out = h.driver->TopicRecords("out");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].timestamp, 50);
  Task* task = h.driver->task(TaskId{0, 0});
  EXPECT_EQ(task->stream_time(), 50);
  EXPECT_EQ(task->partition_time(TopicPartition{"in", 0}), 50);
}

TEST(TimestampExtractorTest, ExtractsEventTimeFromAJsonField) {
  StreamsBuilder builder;
  builder.Stream("events", Consumed(StringSerde(), JsonSerde<Event>()).WithTimestampExtractor(EventTime))
      .MapValues([](const Event& e) { return e.id; })
      .To("ids", Produced(StringSerde(), StringSerde()));
  auto t = builder.Build();
  ASSERT_TRUE(t.ok()) << t.status();
  TestDriverConfig config;
  config.invalid_timestamp_policy = InvalidTimestampPolicy::kLogAndSkip;
  Harness h(config, *t);
  auto in = h.driver->CreateInputTopic("events", StringSerde(), JsonSerde<Event>());
  ASSERT_TRUE(in.PipeInput("e1", Event{"e1", "2024-01-15T10:30:00Z"}, /*record timestamp=*/7).ok());
  ASSERT_TRUE(in.PipeInput("e2", Event{"e2", "not a time"}, 8).ok());
  auto out = h.driver->CreateOutputTopic("ids", StringSerde(), StringSerde());
  auto records = out.ReadRecordsToList();
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ(*(*records)[0].value, "e1");
  EXPECT_EQ((*records)[0].timestamp, 1705314600000);  // 2024-01-15T10:30:00Z
  EXPECT_EQ(h.driver->task(TaskId{0, 0})->stream_time(), 1705314600000);
}

TEST(TimestampExtractorTest, RawExtractorSeesThePartitionTime) {
  std::vector<int64_t> partition_times;
  StreamsBuilder builder;
  builder.Stream("in", Consumed(StringSerde(), Int64Serde()).WithTimestampExtractor(
                           [&partition_times](const RecordView& r, int64_t partition_time) {
                             partition_times.push_back(partition_time);
                             return r.timestamp() + 1000;
                           }))
      .To("out", Produced(StringSerde(), Int64Serde()));
  Harness h({}, *builder.Build());
  ASSERT_TRUE(h.PipeGood(1).ok());
  ASSERT_TRUE(h.PipeGood(2).ok());
  EXPECT_THAT(partition_times, ElementsAre(-1, 1100));
  EXPECT_EQ(h.driver->TopicRecords("out")[0].timestamp, 1100);
}

}  // namespace
}  // namespace eddy
