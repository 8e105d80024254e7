// Stream time across polls, restarts and rebalances on the embedded broker: Poll shares max.poll.records
// among the partitions with a backlog (so a task does not see its partitions in long runs), commit
// metadata round-trips through the group coordinator and a broker restart, and a restarted windowed app
// starts from the partition time committed with its offsets, so a late record arriving first is dropped.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "eddy/broker/embedded_client_supplier.h"
#include "eddy/dsl/dsl.h"
#include "eddy/runtime/streams.h"
#include "tests/e2e_util.h"

namespace eddy {
namespace {

using e2e::kDeadline;

class StreamTimeTest : public e2e::E2eTest {
 protected:
  void SetUp() override {
    e2e::E2eTest::SetUp();
    clients_ = std::make_unique<EmbeddedClientSupplier>(broker_.get());
  }
  std::unique_ptr<EmbeddedClientSupplier> clients_;
};

TEST_F(StreamTimeTest, PollSharesMaxPollRecordsAmongPartitionsWithABacklog) {
  constexpr int kPartitions = 4;
  constexpr int kBatch = 10;
  CreateTopic("backlog", kPartitions);
  std::unique_ptr<Producer> producer = NewProducer();
  // Partition 3 has a short backlog: its share goes to the others.
  for (int p = 0; p < kPartitions; ++p) {
    const int batches = p == 3 ? 1 : 20;
    for (int b = 0; b < batches; ++b) {
      ProduceValues(producer.get(), "backlog", p, e2e::Numbered(absl::StrCat("p", p, "-"), b * kBatch, kBatch));
    }
  }
  ConsumerConfig config = EarliestConfig();
  config.max_poll_records = 100;
  std::unique_ptr<Consumer> consumer = NewConsumer(config);
  E2E_ASSERT_OK(consumer->Assign({{"backlog", 0}, {"backlog", 1}, {"backlog", 2}, {"backlog", 3}}));

  ConsumerRecords records;
  E2E_ASSERT_OK(consumer->Poll(kDeadline, &records));
  std::map<int32_t, int64_t> per_partition;
  for (const ConsumerRecords::PartitionRange& r : records.partitions()) {
    per_partition[r.tp.partition] += r.next_offset - r.first_offset;
  }
  // Shares: partition 3 takes its 10, the others (100 - 10) / 3 = 30 each, in whole batches of 10.
  EXPECT_EQ(per_partition, (std::map<int32_t, int64_t>{{0, 30}, {1, 30}, {2, 30}, {3, 10}}));

  // Until the backlogs drain, every poll reads every partition that still has records.
  int64_t total = records.count();
  while (total < 3 * 200 + 10) {
    E2E_ASSERT_OK(consumer->Poll(kDeadline, &records));
    ASSERT_FALSE(records.empty());
    total += records.count();
    if (total < 3 * 200) {
      EXPECT_EQ(records.partitions().size(), 3u) << "after " << total << " records";
    }
  }
  EXPECT_EQ(total, 3 * 200 + 10);
}

TEST_F(StreamTimeTest, CommitMetadataRoundTripsThroughTheCoordinatorAndABrokerRestart) {
  CreateTopic("meta", 2);
  {
    std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig("g"));
    E2E_ASSERT_OK(consumer->Assign({{"meta", 0}, {"meta", 1}}));
    E2E_ASSERT_OK(consumer->CommitSync({{{"meta", 0}, 0, "1700000000123"}}));
    absl::StatusOr<std::vector<TopicPartitionOffset>> committed =
        consumer->CommittedOffsets({{"meta", 0}, {"meta", 1}});
    E2E_ASSERT_OK(committed.status());
    ASSERT_EQ(committed->size(), 1u) << "partition 1 has no commit";
    EXPECT_EQ((*committed)[0].tp, (TopicPartition{"meta", 0}));
    EXPECT_EQ((*committed)[0].offset, 0);
    EXPECT_EQ((*committed)[0].metadata, "1700000000123");
  }
  ReopenBroker();
  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig("g"));
  absl::StatusOr<std::vector<TopicPartitionOffset>> committed = consumer->CommittedOffsets({{"meta", 0}});
  E2E_ASSERT_OK(committed.status());
  ASSERT_EQ(committed->size(), 1u);
  EXPECT_EQ((*committed)[0].metadata, "1700000000123");
  EXPECT_EQ(consumer->Committed({"meta", 0}).value_or(std::nullopt), 0);
}

// Counts per 10 s window (no grace), every update emitted (no cache).
Topology WindowCounts() {
  StreamsBuilder builder;
  const TimeWindows w = TimeWindows::OfSizeWithNoGrace(absl::Seconds(10));
  builder.Stream<std::string, std::string>("in")
      .GroupByKey()
      .WindowedBy(w)
      .Count(Materialized::As("counts"))
      .ToStream()
      .To("out", Produced(TimeWindowedSerde<StringSerde>(StringSerde(), w.size_ms), Int64Serde()));
  return *builder.Build();
}

TEST_F(StreamTimeTest, RestartedWindowedAppDropsALateRecordThatArrivesFirst) {
  CreateTopic("in", 1);
  CreateTopic("out", 1);
  StreamsConfig config;
  config.application_id = "late";
  config.commit_interval_ms = 100;
  config.statestore_cache_max_bytes = 0;
  config.state_dir = dir_.path() + "/state";
  config.log = [](absl::string_view) {};
  // Recent timestamps (retention), aligned to a window.
  const int64_t base = e2e::NowMs() / 10000 * 10000;
  std::unique_ptr<Producer> producer = NewProducer();
  auto send = [&](int64_t ts) {
    E2E_ASSERT_OK(producer->Send({.topic = "in", .partition = 0, .key = "k", .value = "v", .timestamp = ts}));
    E2E_ASSERT_OK(producer->Flush(kDeadline));
  };
  std::unique_ptr<Consumer> group = NewConsumer(EarliestConfig("late"));
  auto committed_at = [&](int64_t offset) {
    const absl::Time end = absl::Now() + kDeadline;
    while (absl::Now() < end) {
      if (group->Committed({"in", 0}).value_or(std::nullopt) == offset) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  };

  send(base + 1000);   // window [base, base + 10 s)
  send(base + 25000);  // stream time base + 25 s: that window is closed
  {
    Streams app(WindowCounts(), config, clients_.get());
    E2E_ASSERT_OK(app.Start());
    ASSERT_TRUE(committed_at(2));
    E2E_ASSERT_OK(app.Close());
  }
  absl::StatusOr<std::vector<TopicPartitionOffset>> committed = group->CommittedOffsets({{"in", 0}});
  E2E_ASSERT_OK(committed.status());
  ASSERT_EQ(committed->size(), 1u);
  EXPECT_EQ((*committed)[0].metadata, absl::StrCat(base + 25000)) << "the partition time";

  send(base + 2000);  // late for the closed window, and the first record the restarted app sees
  Streams app(WindowCounts(), config, clients_.get());
  E2E_ASSERT_OK(app.Start());
  ASSERT_TRUE(committed_at(3));
  E2E_ASSERT_OK(app.Close());
  int64_t dropped = 0;
  for (const ThreadMetricsSnapshot& t : app.metrics()) dropped += t.dropped_records;
  EXPECT_EQ(dropped, 1);

  std::unique_ptr<Consumer> reader = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(reader->Assign({{"out", 0}}));
  std::vector<e2e::OwnedRecord> out;
  E2E_ASSERT_OK(e2e::PollFor(reader.get(), 3, &out, absl::Seconds(1)));
  EXPECT_EQ(out.size(), 2u) << "one count per window, none re-emitted for the closed one";
}

}  // namespace
}  // namespace eddy
