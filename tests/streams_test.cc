// eddy::Streams on the embedded broker: states, startup validation, commits across restarts, the uncaught
// exception handler's two responses, dead-letter headers, co-partitioned assignment over two threads, and
// a Close that leaves the group so another instance takes over at once.
#include "eddy/runtime/streams.h"

#include <atomic>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/synchronization/mutex.h"
#include "eddy/broker/embedded_client_supplier.h"
#include "eddy/dsl/dsl.h"
#include "gmock/gmock.h"
#include "tests/e2e_util.h"

namespace eddy {
namespace {

using e2e::kDeadline;
using ::testing::HasSubstr;

// Waits until pred() holds or the deadline passes; returns pred().
template <typename Pred>
bool Eventually(Pred pred, absl::Duration deadline = kDeadline) {
  const absl::Time end = absl::Now() + deadline;
  while (!pred() && absl::Now() < end) absl::SleepFor(absl::Milliseconds(10));
  return pred();
}

// in -> upper-case value -> out.
Topology Uppercase() {
  StreamsBuilder builder;
  builder.Stream<std::string, std::string>("in")
      .MapValues([](const std::string& v) { return absl::AsciiStrToUpper(v); })
      .To("out");
  return *builder.Build();
}

class StreamsTest : public e2e::E2eTest {
 protected:
  StreamsConfig Config(int threads = 1) {
    StreamsConfig config;
    config.application_id = "app";
    config.num_stream_threads = threads;
    config.commit_interval_ms = 100;
    config.log = [](absl::string_view) {};
    return config;
  }
  // Every record of `topic` from the beginning (all partitions), up to `n` or the deadline.
  std::vector<e2e::OwnedRecord> ReadAll(const std::string& topic, size_t n, absl::Duration wait = kDeadline) {
    std::unique_ptr<Consumer> c = NewConsumer(EarliestConfig());
    absl::StatusOr<TopicDescription> d = admin().DescribeTopic(topic);
    std::vector<TopicPartition> tps;
    for (const auto& p : d->partitions) tps.push_back({topic, p.partition});
    EXPECT_TRUE(c->Assign(tps).ok());
    std::vector<e2e::OwnedRecord> out;
    EXPECT_TRUE(e2e::PollFor(c.get(), n, &out, wait).ok());
    return out;
  }
  int64_t EndOffsets(const std::string& topic) {
    int64_t n = 0;
    const absl::StatusOr<TopicDescription> d = admin().DescribeTopic(topic);
    if (!d.ok()) return -1;
    for (const auto& p : d->partitions) n += p.log_end_offset;
    return n;
  }
  static bool Running(const Streams& app) { return app.state() == StreamsState::kRunning; }

  void SetUp() override {
    e2e::E2eTest::SetUp();
    clients_ = std::make_unique<EmbeddedClientSupplier>(broker_.get());
  }
  std::unique_ptr<EmbeddedClientSupplier> clients_;
};

TEST_F(StreamsTest, GoesThroughKafkasStatesFromStartToClose) {
  CreateTopic("in", 2);
  CreateTopic("out", 2);
  Streams app(Uppercase(), Config(), clients_.get());
  absl::Mutex mu;
  std::vector<std::string> transitions;
  ASSERT_TRUE(app.SetStateListener([&](StreamsState now, StreamsState before) {
                   absl::MutexLock lock(&mu);
                   transitions.push_back(absl::StrCat(ToString(before), "->", ToString(now)));
                 }).ok());
  EXPECT_EQ(app.state(), StreamsState::kCreated);
  E2E_ASSERT_OK(app.Start());
  ASSERT_TRUE(Eventually([&] { return Running(app); }));
  EXPECT_EQ(app.Start().code(), absl::StatusCode::kFailedPrecondition);
  E2E_ASSERT_OK(app.Close());
  EXPECT_EQ(app.state(), StreamsState::kNotRunning);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(transitions, (std::vector<std::string>{"CREATED->REBALANCING", "REBALANCING->RUNNING",
                                                   "RUNNING->PENDING_SHUTDOWN", "PENDING_SHUTDOWN->NOT_RUNNING"}));
}

TEST_F(StreamsTest, CoPartitionedTopicsWithDifferentPartitionCountsDoNotStart) {
  CreateTopic("a", 4);
  CreateTopic("b", 3);
  CreateTopic("out", 4);
  StreamsBuilder builder;
  builder.Stream<std::string, std::string>("a").Merge(builder.Stream<std::string, std::string>("b")).To("out");
  Streams app(*builder.Build(), Config(), clients_.get());
  absl::Status st = app.Start();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("a (4 partitions) and b (3 partitions)"));
  EXPECT_EQ(app.state(), StreamsState::kCreated);
}

TEST_F(StreamsTest, MissingSourceTopicsAreNamedAtStart) {
  StreamsBuilder builder;
  builder.Stream<std::string, std::string>("x").Merge(builder.Stream<std::string, std::string>("y")).To("out");
  Streams app(*builder.Build(), Config(), clients_.get());
  absl::Status st = app.Start();
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(st.message(), HasSubstr("missing source topics x, y"));
}

TEST_F(StreamsTest, ARestartedApplicationResumesAfterTheLastCommit) {
  CreateTopic("in", 2);
  CreateTopic("out", 2);
  std::unique_ptr<Producer> producer = NewProducer();
  for (int p = 0; p < 2; ++p) ProduceValues(producer.get(), "in", p, e2e::Numbered("a", 0, 50));
  {
    Streams app(Uppercase(), Config(), clients_.get());
    E2E_ASSERT_OK(app.Start());
    ASSERT_TRUE(Eventually([&] { return EndOffsets("out") == 100; }));
    E2E_ASSERT_OK(app.Close());
  }
  for (int p = 0; p < 2; ++p) ProduceValues(producer.get(), "in", p, e2e::Numbered("b", 0, 10));
  Streams app(Uppercase(), Config(), clients_.get());
  E2E_ASSERT_OK(app.Start());
  ASSERT_TRUE(Eventually([&] { return EndOffsets("out") >= 120; }));
  ASSERT_TRUE(Eventually([&] { return Running(app); }));
  E2E_ASSERT_OK(app.Close());
  std::vector<e2e::OwnedRecord> out = ReadAll("out", 120);
  ASSERT_EQ(out.size(), 120u);  // nothing processed twice
  EXPECT_EQ(EndOffsets("out"), 120);
  EXPECT_EQ(*out.back().value, "B9");
}

// Throws once, on the value "boom".
Topology ThrowsOnce(std::atomic<bool>* thrown) {
  StreamsBuilder builder;
  builder.Stream<std::string, std::string>("in")
      .MapValues([thrown](const std::string& v) {
        if (v == "boom" && !thrown->exchange(true)) throw std::runtime_error("boom!");
        return absl::AsciiStrToUpper(v);
      })
      .To("out");
  return *builder.Build();
}

TEST_F(StreamsTest, ReplaceThreadStartsANewThreadThatResumesFromTheLastCommit) {
  CreateTopic("in", 1);
  CreateTopic("out", 1);
  std::unique_ptr<Producer> producer = NewProducer();
  ProduceValues(producer.get(), "in", 0, {"a", "b", "boom", "c"});
  std::atomic<bool> thrown{false};
  Streams app(ThrowsOnce(&thrown), Config(), clients_.get());
  absl::Mutex mu;
  std::vector<std::string> errors;
  ASSERT_TRUE(app.SetUncaughtExceptionHandler([&](const absl::Status& error) {
                   absl::MutexLock lock(&mu);
                   errors.push_back(std::string(error.message()));
                   return StreamThreadExceptionResponse::kReplaceThread;
                 }).ok());
  E2E_ASSERT_OK(app.Start());
  std::vector<e2e::OwnedRecord> out = ReadAll("out", 4);
  ASSERT_TRUE(Eventually([&] { return Running(app); }));
  EXPECT_EQ(app.thread_names(), std::vector<std::string>{"app-StreamThread-2"});
  E2E_ASSERT_OK(app.Close());
  std::set<std::string> values;
  for (const auto& r : out) values.insert(*r.value);
  EXPECT_EQ(values, (std::set<std::string>{"A", "B", "BOOM", "C"}));
  absl::MutexLock lock(&mu);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("task 0_0, topic in, partition 0, offset 2"));
  EXPECT_THAT(errors[0], HasSubstr("boom!"));
}

TEST_F(StreamsTest, ShutdownClientStopsEveryThreadAndEndsInError) {
  CreateTopic("in", 2);
  CreateTopic("out", 2);
  std::unique_ptr<Producer> producer = NewProducer();
  ProduceValues(producer.get(), "in", 1, {"a", "boom"});
  std::atomic<bool> thrown{false};
  Streams app(ThrowsOnce(&thrown), Config(2), clients_.get());  // default handler: SHUTDOWN_CLIENT
  E2E_ASSERT_OK(app.Start());
  ASSERT_TRUE(Eventually([&] { return app.state() == StreamsState::kError; }));
  EXPECT_THAT(app.error().message(), HasSubstr("task 0_1, topic in, partition 1, offset 1"));
  E2E_ASSERT_OK(app.Close());
  EXPECT_EQ(app.state(), StreamsState::kError);
  EXPECT_TRUE(app.thread_names().empty());
}

TEST_F(StreamsTest, DeadLettersUndeserializableRecordsWithKafkasHeaders) {
  CreateTopic("in", 1);
  CreateTopic("out", 1);
  CreateTopic("dlq", 1);
  std::unique_ptr<Producer> producer = NewProducer();
  const std::string eight(8, '\0');
  ProduceValues(producer.get(), "in", 0, {eight, "bad", eight});
  StreamsBuilder builder;
  builder.Stream<std::string, int64_t>("in").MapValues([](int64_t v) { return v + 1; }).To("out");
  StreamsConfig config = Config();
  ASSERT_TRUE(config.Set("errors.dead.letter.queue.topic.name", "dlq").ok());
  ASSERT_TRUE(config.Set("default.deserialization.exception.handler", "LogAndContinueExceptionHandler").ok());
  Streams app(*builder.Build(), config, clients_.get());
  E2E_ASSERT_OK(app.Start());
  std::vector<e2e::OwnedRecord> dlq = ReadAll("dlq", 1);
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(*dlq[0].value, "bad");
  std::map<std::string, std::string> headers;
  for (const auto& [k, v] : dlq[0].headers) headers[k] = v.value_or("");
  EXPECT_EQ(headers["__streams.errors.topic"], "in");
  EXPECT_EQ(headers["__streams.errors.partition"], "0");
  EXPECT_EQ(headers["__streams.errors.offset"], "1");
  EXPECT_EQ(headers["__streams.errors.exception"], "INVALID_ARGUMENT");
  EXPECT_EQ(ReadAll("out", 2).size(), 2u);  // processing went on
  ASSERT_TRUE(Eventually([&] {
    int64_t dead = 0;
    for (const auto& t : app.metrics()) dead += t.dead_lettered_records;
    return dead == 1;
  }));
  E2E_ASSERT_OK(app.Close());
}

// Two threads over two co-partitioned topics: the range assignor keeps partition p of both on one thread,
// so each task exists exactly once.
TEST_F(StreamsTest, CoPartitionedTopicsStayTogetherAcrossThreads) {
  CreateTopic("a", 4);
  CreateTopic("b", 4);
  CreateTopic("out", 4);
  StreamsBuilder builder;
  builder.Stream<std::string, std::string>("a").Merge(builder.Stream<std::string, std::string>("b")).To("out");
  Streams app(*builder.Build(), Config(2), clients_.get());
  E2E_ASSERT_OK(app.Start());
  std::multiset<std::string> tasks;
  ASSERT_TRUE(Eventually([&] {
    tasks.clear();
    if (!Running(app)) return false;
    for (const auto& t : app.metrics()) {
      for (const auto& task : t.tasks) tasks.insert(task.task_id.ToString());
    }
    return tasks.size() == 4;
  }));
  EXPECT_EQ(tasks, (std::multiset<std::string>{"0_0", "0_1", "0_2", "0_3"}));
  for (const auto& t : app.metrics()) EXPECT_EQ(t.tasks.size(), 2u) << t.thread_name;
  E2E_ASSERT_OK(app.Close());
}

// Two threads, one partition: the thread that gets nothing is still told the rebalance is over (an empty
// OnPartitionsAssigned), so the application reaches RUNNING.
TEST_F(StreamsTest, AThreadWithoutPartitionsStillLetsTheApplicationRun) {
  CreateTopic("in", 1);
  CreateTopic("out", 1);
  Streams app(Uppercase(), Config(2), clients_.get());
  E2E_ASSERT_OK(app.Start());
  ASSERT_TRUE(Eventually([&] { return Running(app); }));
  size_t tasks = 0;
  for (const auto& t : app.metrics()) tasks += t.tasks.size();
  EXPECT_LE(tasks, 1u);
  E2E_ASSERT_OK(app.Close());
}

// With session.timeout.ms at 60 s, only a LeaveGroup lets the second instance take every partition within
// the test's deadline.
TEST_F(StreamsTest, CloseLeavesTheGroupSoAnotherInstanceTakesOverPromptly) {
  CreateTopic("in", 4);
  CreateTopic("out", 4);
  StreamsConfig config = Config();
  ASSERT_TRUE(config.Set("consumer.session.timeout.ms", "60000").ok());
  Streams first(Uppercase(), config, clients_.get());
  E2E_ASSERT_OK(first.Start());
  ASSERT_TRUE(Eventually([&] { return Running(first); }));
  Streams second(Uppercase(), config, clients_.get());
  E2E_ASSERT_OK(second.Start());
  auto task_count = [](const Streams& app) {
    size_t n = 0;
    for (const auto& t : app.metrics()) n += t.tasks.size();
    return n;
  };
  ASSERT_TRUE(Eventually([&] { return Running(first) && Running(second) && task_count(second) == 2; }));
  E2E_ASSERT_OK(first.Close());
  EXPECT_TRUE(Eventually([&] { return Running(second) && task_count(second) == 4; }));
  E2E_ASSERT_OK(second.Close());
}

}  // namespace
}  // namespace eddy
