// Task, Topology and TestDriver behaviour with hand-written physical nodes (no DSL: runtime_test links only
// eddy_runtime).
#include <stdexcept>
#include <string>
#include <vector>

#include "eddy/runtime/task.h"
#include "eddy/runtime/test_driver.h"
#include "eddy/runtime/topology.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Copies each raw record to topic "out"; value "fail" fails the record, "throw" throws. Schedules a
// stream-time punctuator every 100 ms that counts its calls.
class CopyNode : public SourceProcessorNode {
 public:
  explicit CopyNode(std::vector<int64_t>* punctuations) : SourceProcessorNode("copy"), punctuations_(punctuations) {}
  absl::Status Init(TaskContext* context) override {
    context_ = context;
    if (punctuations_ != nullptr) {
      context->Schedule(100, PunctuationType::kStreamTime, [this](int64_t ts) { punctuations_->push_back(ts); });
    }
    return absl::OkStatus();
  }
  void Process(const RecordView& r) override {
    if (r.value() == "throw") throw std::runtime_error("boom");
    if (r.value() == "fail") {
      context()->Fail(absl::DataLossError("bad record"));
      return;
    }
    if (!context()->AcceptTimestamp(name(), r.timestamp())) return;
    ProducerRecord out;
    out.topic = "out";
    if (r.has_key()) out.key = r.key();
    out.value = r.value();
    out.timestamp = context()->timestamp();
    context()->Send(name(), out);
  }

 private:
  std::vector<int64_t>* punctuations_;
};

Topology CopyTopology(std::vector<int64_t>* punctuations = nullptr, std::vector<std::string> topics = {"in"}) {
  TopologyDefinition def;
  TopologyNode source{"copy", NodeType::kSource, topics};
  def.nodes.push_back(source);
  TopologyNode sink{"copy-to-out", NodeType::kSink, {"out"}};
  sink.predecessors = {0};
  def.nodes.push_back(sink);
  PhysicalNodeSpec spec;
  spec.logical_node = 0;
  spec.create = [punctuations] { return std::make_unique<CopyNode>(punctuations); };
  spec.source_topics = topics;
  def.physical_nodes.push_back(spec);
  auto t = Topology::Create(std::move(def));
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

// Collects sent records as "topic:key=value@ts".
class VectorCollector : public RecordCollector {
 public:
  absl::Status Send(const ProducerRecord& r) override {
    if (refuse) return absl::NotFoundError("no such topic");
    sent.push_back(absl::StrCat(r.topic, ":", r.key.value_or("null"), "=", r.value.value_or("null"), "@", r.timestamp));
    return absl::OkStatus();
  }
  std::vector<std::string> sent;
  bool refuse = false;
};

// Builds real RecordViews (through a record batch, as a consumer gets them).
class Records {
 public:
  Records& Add(std::string key, std::string value, int64_t ts) {
    builder_.Append(ts, key, value);
    return *this;
  }
  absl::Span<const RecordView> Views(int64_t base_offset, int32_t partition) {
    auto batch = builder_.Finish();
    bytes_.assign(batch->data(), batch->size());
    SetBaseOffset(bytes_.data(), base_offset);
    auto it = RecordIterator::Open(bytes_, nullptr);
    it->set_partition(partition);
    views_.clear();
    RecordView r;
    while (it->Next(&r)) views_.push_back(r);
    return views_;
  }

 private:
  RecordBatchBuilder builder_;
  std::string bytes_;
  std::vector<RecordView> views_;
};

TEST(TaskIdTest, PrintsAndParsesKafkasForm) {
  EXPECT_EQ((TaskId{2, 13}).ToString(), "2_13");
  auto id = TaskId::Parse("2_13");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, (TaskId{2, 13}));
  EXPECT_EQ(TaskId::Parse("2-13").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TaskId::Parse("a_1").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TaskId::Parse("1_-1").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TopologyTest, CreateRejectsDuplicateNamesAndMissingReaders) {
  TopologyDefinition dup;
  dup.nodes.push_back(TopologyNode{"a", NodeType::kSource, {"t"}});
  dup.nodes.push_back(TopologyNode{"a", NodeType::kProcessor});
  EXPECT_THAT(Topology::Create(dup).status().message(), HasSubstr("two nodes are named \"a\""));

  TopologyDefinition orphan;
  orphan.nodes.push_back(TopologyNode{"a", NodeType::kSource, {"t"}});
  orphan.internal_topics.push_back(InternalTopic{"x-repartition", -1});
  EXPECT_THAT(Topology::Create(orphan).status().message(), HasSubstr("internal topic x-repartition has no reader"));
}

TEST(TaskTest, LifecycleIsEnforced) {
  VectorCollector collector;
  Task task(TaskId{0, 0}, CopyTopology(), {{"in", 0}}, TaskConfig{}, &collector);
  Records records;
  auto views = records.Add("k", "v", 1).Views(0, 0);
  EXPECT_EQ(task.Process({"in", 0}, views).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(task.Initialize(0).ok());
  EXPECT_EQ(task.state(), TaskState::kRunning);
  EXPECT_EQ(task.Initialize(0).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(task.Process({"other", 0}, views).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(task.Close().ok());
  ASSERT_TRUE(task.Close().ok());
  EXPECT_EQ(task.state(), TaskState::kClosed);
  EXPECT_EQ(task.Process({"in", 0}, views).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(TaskTest, PartitionsOfAnotherTaskAreRejectedAtInitialize) {
  VectorCollector collector;
  Task task(TaskId{0, 1}, CopyTopology(), {{"in", 0}}, TaskConfig{}, &collector);
  EXPECT_EQ(task.Initialize(0).code(), absl::StatusCode::kInvalidArgument);
}

TEST(TaskTest, CommittableOffsetsAdvanceWithProcessingAndResetOnCommit) {
  VectorCollector collector;
  Task task(TaskId{0, 3}, CopyTopology(), {{"in", 3}}, TaskConfig{}, &collector);
  ASSERT_TRUE(task.Initialize(0).ok());
  EXPECT_FALSE(task.commit_needed());
  Records records;
  ASSERT_TRUE(task.Process({"in", 3}, records.Add("a", "1", 50).Add("b", "2", 40).Views(10, 3)).ok());
  EXPECT_THAT(collector.sent, ElementsAre("out:a=1@50", "out:b=2@40"));
  ASSERT_TRUE(task.commit_needed());
  auto offsets = task.CommittableOffsets();
  ASSERT_EQ(offsets.size(), 1u);
  EXPECT_EQ(offsets[0].tp, (TopicPartition{"in", 3}));
  EXPECT_EQ(offsets[0].offset, 12);
  EXPECT_EQ(offsets[0].metadata, "50");  // partition time
  EXPECT_EQ(task.stream_time(), 50);
  task.MarkCommitted();
  EXPECT_FALSE(task.commit_needed());
  EXPECT_TRUE(task.CommittableOffsets().empty());
  EXPECT_EQ(task.metrics().processed_records, 2);
}

TEST(TaskTest, FailureStopsAtTheRecordAndNamesIt) {
  VectorCollector collector;
  Task task(TaskId{0, 0}, CopyTopology(), {{"in", 0}}, TaskConfig{}, &collector);
  ASSERT_TRUE(task.Initialize(0).ok());
  Records records;
  absl::Status st = task.Process({"in", 0}, records.Add("a", "1", 1).Add("b", "fail", 2).Add("c", "3", 3).Views(0, 0));
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(st.message(), "task 0_0, topic in, partition 0, offset 1: bad record");
  EXPECT_THAT(collector.sent, ElementsAre("out:a=1@1"));
  EXPECT_EQ(task.CommittableOffsets()[0].offset, 1);
}

TEST(TaskTest, ExceptionsFromUserCodeBecomeInternalErrors) {
  VectorCollector collector;
  Task task(TaskId{0, 0}, CopyTopology(), {{"in", 0}}, TaskConfig{}, &collector);
  ASSERT_TRUE(task.Initialize(0).ok());
  Records records;
  absl::Status st = task.Process({"in", 0}, records.Add("a", "throw", 1).Views(7, 0));
  EXPECT_EQ(st.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(st.message(), "task 0_0, topic in, partition 0, offset 7: exception: boom");
  EXPECT_FALSE(task.commit_needed());
}

TEST(TaskTest, RefusedSendFailsByDefault) {
  VectorCollector collector;
  collector.refuse = true;
  Task task(TaskId{0, 0}, CopyTopology(), {{"in", 0}}, TaskConfig{}, &collector);
  ASSERT_TRUE(task.Initialize(0).ok());
  Records records;
  absl::Status st = task.Process({"in", 0}, records.Add("a", "1", 1).Views(0, 0));
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(st.message(), HasSubstr("sending to topic out failed: no such topic"));
}

TEST(TaskTest, ProductionHandlerMayDropRecords) {
  class Skip : public ProductionExceptionHandler {
   public:
    HandlerResponse Handle(const ErrorContext&, const ProducerRecord&, const absl::Status&, bool) override {
      return HandlerResponse::kContinue;
    }
  } skip;
  VectorCollector collector;
  collector.refuse = true;
  TaskConfig config;
  config.production_handler = &skip;
  std::vector<std::string> logs;
  config.log = [&logs](absl::string_view l) { logs.emplace_back(l); };
  Task task(TaskId{0, 0}, CopyTopology(), {{"in", 0}}, config, &collector);
  ASSERT_TRUE(task.Initialize(0).ok());
  Records records;
  ASSERT_TRUE(task.Process({"in", 0}, records.Add("a", "1", 1).Views(0, 0)).ok());
  EXPECT_EQ(task.metrics().production_errors_skipped, 1);
  EXPECT_THAT(logs, ElementsAre(HasSubstr("Dropping output record to out after send error")));
}

TEST(TaskTest, StreamTimePunctuationFollowsRecordTimestamps) {
  std::vector<int64_t> punctuations;
  VectorCollector collector;
  Task task(TaskId{0, 0}, CopyTopology(&punctuations), {{"in", 0}}, TaskConfig{}, &collector);
  ASSERT_TRUE(task.Initialize(0).ok());
  Records records;
  ASSERT_TRUE(task.Process({"in", 0}, records.Add("a", "1", 50).Add("b", "2", 99).Add("c", "3", 100)
                                          .Add("d", "4", 20).Add("e", "5", 450).Views(0, 0)).ok());
  EXPECT_THAT(punctuations, ElementsAre(50, 100, 450));
  EXPECT_EQ(task.metrics().punctuations, 3);
}

TEST(TestDriverTest, CopartitionedTopicsMustHaveEqualPartitionCounts) {
  TestDriverConfig config;
  config.partitions = {{"a", 2}, {"b", 3}};
  auto driver = TestDriver::Create(CopyTopology(nullptr, {"a", "b"}), config);
  ASSERT_FALSE(driver.ok());
  EXPECT_THAT(driver.status().message(), HasSubstr("co-partitioned topics a (2 partitions) and b (3 partitions)"));
}

TEST(TestDriverTest, SharedTaskReadsSamePartitionOfEachTopic) {
  TestDriverConfig config;
  config.partitions = {{"a", 2}, {"b", 2}, {"out", 2}};
  auto driver = TestDriver::Create(CopyTopology(nullptr, {"a", "b"}), config);
  ASSERT_TRUE(driver.ok()) << driver.status();
  EXPECT_THAT((*driver)->task_ids(), ElementsAre(TaskId{0, 0}, TaskId{0, 1}));
  EXPECT_THAT((*driver)->task(TaskId{0, 1})->partitions(), ElementsAre(TopicPartition{"a", 1}, TopicPartition{"b", 1}));
  ASSERT_TRUE((*driver)->PipeRaw("b", 1, "k", "v", 5).ok());
  EXPECT_EQ((*driver)->PipeRaw("b", 2, "k", "v", 5).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE((*driver)->PipeRaw("a", 0, std::nullopt, "w", 6).ok());
  const StoredRecord* first = (*driver)->ReadNext("out");
  const StoredRecord* second = (*driver)->ReadNext("out");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(first->value, "v");
  EXPECT_EQ(second->value, "w");
  EXPECT_FALSE(second->key.has_value());
  EXPECT_EQ((*driver)->ReadNext("out"), nullptr);
  EXPECT_EQ((*driver)->UnreadCount("out"), 0);
}

}  // namespace
}  // namespace eddy
