// End-to-end tests of the embedded broker's Consumer used without group membership (Assign), through the
// public API only: what Poll returns, Seek, offset reset, long polling, max.poll.records, commits of a
// "simple consumer" (Assign + group.id), and what survives a broker restart and retention.
#include <atomic>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e_util.h"

namespace eddy::e2e {
namespace {

using ConsumerTest = E2eTest;

TEST_F(ConsumerTest, PollReturnsPartitionOffsetKeyValueTimestampAndHeaders) {
  CreateTopic("fields", 2);
  std::unique_ptr<Producer> producer = NewProducer();
  const std::vector<HeaderRef> headers = {{"source", "test"}, {"nothing", std::nullopt}};
  for (int i = 0; i < 6; ++i) {
    const std::string key = absl::StrCat("key", i);
    const std::string value = absl::StrCat("value", i);
    E2E_ASSERT_OK(producer->Send({.topic = "fields",
                                  .partition = i % 2,
                                  .key = key,
                                  .value = value,
                                  .timestamp = 1'700'000'000'000 + i,
                                  .headers = headers}));
  }
  E2E_ASSERT_OK(producer->Flush(kDeadline));

  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign({{"fields", 0}, {"fields", 1}}));
  EXPECT_EQ(consumer->Assignment(), (std::vector<TopicPartition>{{"fields", 0}, {"fields", 1}}));
  std::vector<OwnedRecord> got;
  E2E_ASSERT_OK(PollFor(consumer.get(), 6, &got));
  ASSERT_EQ(got.size(), 6u);
  std::set<int> seen;
  for (const OwnedRecord& r : got) {
    const int i = std::stoi(r.value.value().substr(5));
    seen.insert(i);
    EXPECT_EQ(r.partition, i % 2);
    EXPECT_EQ(r.offset, i / 2);
    EXPECT_EQ(r.key, absl::StrCat("key", i));
    EXPECT_EQ(r.timestamp, 1'700'000'000'000 + i);
    using Header = std::pair<std::string, std::optional<std::string>>;
    EXPECT_EQ(r.headers, (std::vector<Header>{{"source", "test"}, {"nothing", std::nullopt}}));
  }
  EXPECT_EQ(seen.size(), 6u);
}

TEST_F(ConsumerTest, OneConsumerRecordsIsRefilledByEachPollWithoutStaleRecords) {
  CreateTopic("reuse", 2);
  std::unique_ptr<Producer> producer = NewProducer();
  for (int batch = 0; batch < 5; ++batch) {
    for (int p = 0; p < 2; ++p) ProduceValues(producer.get(), "reuse", p, Numbered(absl::StrCat("p", p, "-"), batch * 10, 10));
  }
  ConsumerConfig config = EarliestConfig();
  config.max_poll_records = 10;
  std::unique_ptr<Consumer> consumer = NewConsumer(config);
  E2E_ASSERT_OK(consumer->Assign({{"reuse", 0}, {"reuse", 1}}));

  ConsumerRecords records;
  std::set<std::pair<int32_t, int64_t>> seen;
  const absl::Time end = absl::Now() + kDeadline;
  while (seen.size() < 100 && absl::Now() < end) {
    E2E_ASSERT_OK(consumer->Poll(absl::Milliseconds(100), &records));
    std::vector<OwnedRecord> via_for_each;
    E2E_ASSERT_OK(AppendRecords(records, &via_for_each));
    EXPECT_EQ(static_cast<int64_t>(via_for_each.size()), records.count());
    // Range-for sees the same records as ForEach.
    size_t i = 0;
    for (const RecordView& r : records) {
      ASSERT_LT(i, via_for_each.size());
      EXPECT_EQ(r.offset(), via_for_each[i].offset);
      EXPECT_EQ(r.partition(), via_for_each[i].partition);
      ++i;
    }
    E2E_EXPECT_OK(records.status());
    EXPECT_EQ(i, via_for_each.size());
    // Each partition's records in this poll are exactly [first_offset, next_offset).
    for (const ConsumerRecords::PartitionRange& range : records.partitions()) {
      int64_t expected = range.first_offset;
      for (const OwnedRecord& r : via_for_each) {
        if (r.partition != range.tp.partition) continue;
        EXPECT_EQ(r.offset, expected++);
      }
      EXPECT_EQ(expected, range.next_offset);
    }
    for (const OwnedRecord& r : via_for_each) {
      EXPECT_EQ(r.value, absl::StrCat("p", r.partition, "-", r.offset));
      EXPECT_TRUE(seen.insert({r.partition, r.offset}).second) << "returned twice: " << r.partition << "/"
                                                               << r.offset;
    }
  }
  EXPECT_EQ(seen.size(), 100u);
  // A poll without data leaves the reused object empty.
  E2E_ASSERT_OK(consumer->Poll(absl::Milliseconds(50), &records));
  EXPECT_TRUE(records.empty());
  EXPECT_EQ(records.count(), 0);
  int iterated = 0;
  E2E_EXPECT_OK(records.ForEach([&](const RecordView&) { ++iterated; }));
  EXPECT_EQ(iterated, 0);
}

TEST_F(ConsumerTest, SeekIntoTheMiddleOfABatchStartsAtExactlyThatOffset) {
  CreateTopic("seek", 1);
  std::unique_ptr<Producer> producer = NewProducer();
  ProduceValues(producer.get(), "seek", 0, Numbered("v", 0, 10));  // one batch
  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  const TopicPartition tp{"seek", 0};
  E2E_ASSERT_OK(consumer->Assign({tp}));
  E2E_ASSERT_OK(consumer->Seek(tp, 4));
  EXPECT_EQ(consumer->Position(tp).value_or(-1), 4);

  ConsumerRecords records;
  const absl::Time end = absl::Now() + kDeadline;
  while (records.empty() && absl::Now() < end) E2E_ASSERT_OK(consumer->Poll(absl::Milliseconds(100), &records));
  std::vector<OwnedRecord> got;
  E2E_ASSERT_OK(AppendRecords(records, &got));
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.front().offset, 4);
  EXPECT_EQ(got.front().value, "v4");
  ASSERT_EQ(records.partitions().size(), 1u);
  EXPECT_EQ(records.partitions()[0].first_offset, 4);
  E2E_ASSERT_OK(PollFor(consumer.get(), 6, &got));
  ASSERT_EQ(got.size(), 6u);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].offset, static_cast<int64_t>(4 + i));
  EXPECT_EQ(consumer->Position(tp).value_or(-1), 10);
}

TEST_F(ConsumerTest, SeekRejectsNegativeOffsetsAndUnassignedPartitions) {
  CreateTopic("seek", 2);
  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign({{"seek", 0}}));
  EXPECT_EQ(consumer->Seek({"seek", 0}, -5).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(consumer->Seek({"seek", 1}, 0).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(consumer->Position({"seek", 1}).status().code(), absl::StatusCode::kFailedPrecondition);
}

// Kafka answers a fetch past the log end with OFFSET_OUT_OF_RANGE and the consumer resets as
// auto.offset.reset says (here: earliest), instead of waiting for offsets that may never come.
TEST_F(ConsumerTest, SeekPastTheLogEndResetsPerAutoOffsetReset) {
  CreateTopic("seek", 1);
  std::unique_ptr<Producer> producer = NewProducer();
  ProduceValues(producer.get(), "seek", 0, Numbered("v", 0, 5));
  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  const TopicPartition tp{"seek", 0};
  E2E_ASSERT_OK(consumer->Assign({tp}));
  E2E_ASSERT_OK(consumer->Seek(tp, 1000));
  std::vector<OwnedRecord> got;
  E2E_ASSERT_OK(PollFor(consumer.get(), 5, &got, absl::Seconds(2)));
  ASSERT_EQ(got.size(), 5u) << "position " << consumer->Position(tp).value_or(-1);
  EXPECT_EQ(got[0].offset, 0);
}

TEST_F(ConsumerTest, SeekToBeginningRereadsAndSeekToEndWaitsForNewRecords) {
  CreateTopic("ends", 1);
  std::unique_ptr<Producer> producer = NewProducer();
  ProduceValues(producer.get(), "ends", 0, Numbered("v", 0, 5));
  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  const TopicPartition tp{"ends", 0};
  E2E_ASSERT_OK(consumer->Assign({tp}));
  std::vector<OwnedRecord> got;
  E2E_ASSERT_OK(PollFor(consumer.get(), 5, &got));
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(consumer->Position(tp).value_or(-1), 5);

  E2E_ASSERT_OK(consumer->SeekToBeginning({tp}));
  EXPECT_EQ(consumer->Position(tp).value_or(-1), 0);
  got.clear();
  E2E_ASSERT_OK(PollFor(consumer.get(), 5, &got));
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].offset, 0);
  EXPECT_EQ(got[0].value, "v0");

  E2E_ASSERT_OK(consumer->SeekToBeginning({tp}));
  E2E_ASSERT_OK(consumer->SeekToEnd({tp}));
  EXPECT_EQ(consumer->Position(tp).value_or(-1), 5);
  absl::StatusOr<ConsumerRecords> none = consumer->Poll(absl::Milliseconds(50));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
  ProduceValues(producer.get(), "ends", 0, {"v5"});
  got.clear();
  E2E_ASSERT_OK(PollFor(consumer.get(), 1, &got));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].offset, 5);
  EXPECT_EQ(got[0].value, "v5");
}

TEST_F(ConsumerTest, AutoOffsetResetEarliestStartsAtTheLogStart) {
  CreateTopic("reset", 1);
  std::unique_ptr<Producer> producer = NewProducer();
  ProduceValues(producer.get(), "reset", 0, Numbered("v", 0, 5));
  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign({{"reset", 0}}));
  EXPECT_EQ(consumer->Position({"reset", 0}).value_or(-1), 0);
  std::vector<OwnedRecord> got;
  E2E_ASSERT_OK(PollFor(consumer.get(), 5, &got));
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].value, "v0");
}

TEST_F(ConsumerTest, AutoOffsetResetLatestSkipsExistingRecords) {
  CreateTopic("reset", 1);
  std::unique_ptr<Producer> producer = NewProducer();
  ProduceValues(producer.get(), "reset", 0, Numbered("v", 0, 5));
  ConsumerConfig config = EarliestConfig();
  config.auto_offset_reset = OffsetReset::kLatest;
  std::unique_ptr<Consumer> consumer = NewConsumer(config);
  E2E_ASSERT_OK(consumer->Assign({{"reset", 0}}));
  EXPECT_EQ(consumer->Position({"reset", 0}).value_or(-1), 5);
  absl::StatusOr<ConsumerRecords> none = consumer->Poll(absl::Milliseconds(50));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
  ProduceValues(producer.get(), "reset", 0, {"v5"});
  std::vector<OwnedRecord> got;
  E2E_ASSERT_OK(PollFor(consumer.get(), 1, &got));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].offset, 5);
  EXPECT_EQ(got[0].value, "v5");
}

TEST_F(ConsumerTest, AutoOffsetResetNoneFailsPollWithOutOfRange) {
  CreateTopic("reset", 1);
  std::unique_ptr<Producer> producer = NewProducer();
  ProduceValues(producer.get(), "reset", 0, Numbered("v", 0, 5));
  ConsumerConfig config = EarliestConfig();
  config.auto_offset_reset = OffsetReset::kNone;
  std::unique_ptr<Consumer> consumer = NewConsumer(config);
  E2E_ASSERT_OK(consumer->Assign({{"reset", 0}}));
  ConsumerRecords records;
  EXPECT_EQ(consumer->Poll(absl::Milliseconds(50), &records).code(), absl::StatusCode::kOutOfRange);
  // A position set by the application is enough.
  E2E_ASSERT_OK(consumer->Seek({"reset", 0}, 3));
  std::vector<OwnedRecord> got;
  E2E_ASSERT_OK(PollFor(consumer.get(), 2, &got));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].value, "v3");
}

TEST_F(ConsumerTest, PollWaitingForDataReturnsRecordsProducedMeanwhile) {
  CreateTopic("longpoll", 1);
  ConsumerConfig config = EarliestConfig();
  config.auto_offset_reset = OffsetReset::kLatest;
  std::unique_ptr<Consumer> consumer = NewConsumer(config);
  E2E_ASSERT_OK(consumer->Assign({{"longpoll", 0}}));
  ASSERT_EQ(consumer->Position({"longpoll", 0}).value_or(-1), 0);  // resolves "latest" before producing
  std::unique_ptr<Producer> producer = NewProducer();
  std::thread writer([&] {
    absl::SleepFor(absl::Milliseconds(300));
    ProduceValues(producer.get(), "longpoll", 0, {"wake-up"});
  });
  constexpr absl::Duration kTimeout = absl::Seconds(10);
  const absl::Time start = absl::Now();
  ConsumerRecords records;
  const absl::Status polled = consumer->Poll(kTimeout, &records);
  const absl::Duration waited = absl::Now() - start;
  writer.join();
  E2E_ASSERT_OK(polled);
  std::vector<OwnedRecord> got;
  E2E_ASSERT_OK(AppendRecords(records, &got));
  ASSERT_EQ(got.size(), 1u) << "Poll returned without the record produced while it waited";
  EXPECT_EQ(got[0].value, "wake-up");
  EXPECT_LT(waited, kTimeout) << "Poll was not woken by the append";
}

TEST_F(ConsumerTest, WakeupEndsAWaitingPollAndAnEarlyWakeupTheNextOne) {
  CreateTopic("woken", 1);
  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign({{"woken", 0}}));
  constexpr absl::Duration kTimeout = absl::Seconds(20);
  std::atomic<bool> polling{false};
  std::thread waker([&] {
    while (!polling.load()) absl::SleepFor(absl::Milliseconds(1));
    absl::SleepFor(absl::Milliseconds(200));  // let Poll reach its wait
    consumer->Wakeup();
  });
  ConsumerRecords records;
  absl::Time start = absl::Now();
  polling.store(true);
  absl::Status polled = consumer->Poll(kTimeout, &records);
  absl::Duration waited = absl::Now() - start;
  waker.join();
  E2E_ASSERT_OK(polled);
  EXPECT_TRUE(records.empty());
  EXPECT_LT(waited, absl::Seconds(10)) << "Poll was not woken by Wakeup";

  // A Wakeup while no Poll runs ends the next Poll at once; the one after waits again.
  consumer->Wakeup();
  start = absl::Now();
  E2E_ASSERT_OK(consumer->Poll(kTimeout, &records));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  start = absl::Now();
  E2E_ASSERT_OK(consumer->Poll(absl::Milliseconds(300), &records));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(250)) << "a Wakeup ended more than one Poll";
}

TEST_F(ConsumerTest, MaxPollRecordsBoundsEachPollUpToOneBatch) {
  CreateTopic("bounded", 1);
  std::unique_ptr<Producer> producer = NewProducer();
  constexpr int kBatch = 10;
  for (int b = 0; b < 10; ++b) ProduceValues(producer.get(), "bounded", 0, Numbered("v", b * kBatch, kBatch));
  ConsumerConfig config = EarliestConfig();
  config.max_poll_records = 25;
  std::unique_ptr<Consumer> consumer = NewConsumer(config);
  E2E_ASSERT_OK(consumer->Assign({{"bounded", 0}}));
  ConsumerRecords records;
  int64_t next = 0;
  int polls = 0;
  const absl::Time end = absl::Now() + kDeadline;
  while (next < 100 && absl::Now() < end) {
    E2E_ASSERT_OK(consumer->Poll(absl::Milliseconds(100), &records));
    if (records.empty()) continue;
    ++polls;
    EXPECT_LE(records.count(), config.max_poll_records + kBatch);
    E2E_ASSERT_OK(records.ForEach([&](const RecordView& r) { EXPECT_EQ(r.offset(), next++); }));
  }
  EXPECT_EQ(next, 100);
  EXPECT_GE(polls, 3);
}

// One read serves several polls (a read-ahead, as Kafka's fetch buffer). Records of an earlier poll held
// in their own ConsumerRecords stay intact while later polls use up the read-ahead and read again, and a
// Seek back or forward inside what was read ahead returns exactly from the offset sought.
TEST_F(ConsumerTest, ReadAheadKeepsEarlierPollsIntactAndHonoursSeeksInsideIt) {
  CreateTopic("ahead", 1);
  std::unique_ptr<Producer> producer = NewProducer();
  constexpr int kRecords = 4000;  // 200-byte values: about 900 KB, several reads ahead
  auto value_of = [](int i) { return absl::StrCat(i, ":", std::string(200, static_cast<char>('a' + i % 26))); };
  for (int i = 0; i < kRecords; ++i) {
    const std::string v = value_of(i);
    E2E_ASSERT_OK(producer->Send({.topic = "ahead", .partition = 0, .value = v}));
  }
  E2E_ASSERT_OK(producer->Flush(kDeadline));
  ConsumerConfig config = EarliestConfig();
  config.max_poll_records = 50;
  std::unique_ptr<Consumer> consumer = NewConsumer(config);
  E2E_ASSERT_OK(consumer->Assign({{"ahead", 0}}));
  ConsumerRecords first;
  E2E_ASSERT_OK(consumer->Poll(kDeadline, &first));
  ASSERT_FALSE(first.empty());
  auto expect_from = [&](const ConsumerRecords& records, int64_t offset) {
    int64_t next = offset;
    E2E_EXPECT_OK(records.ForEach([&](const RecordView& r) {
      EXPECT_EQ(r.offset(), next);
      EXPECT_EQ(r.value(), value_of(static_cast<int>(next)));
      ++next;
    }));
    return next;
  };
  EXPECT_EQ(expect_from(first, 0), first.count());

  ConsumerRecords later;
  int64_t next = first.count();
  while (next < kRecords) {
    E2E_ASSERT_OK(consumer->Poll(kDeadline, &later));
    ASSERT_FALSE(later.empty()) << "no records at offset " << next;
    next = expect_from(later, next);
  }
  EXPECT_EQ(expect_from(first, 0), first.count()) << "an earlier poll's records changed under it";

  // Back to 1000 (read afresh), then forward to 1020, inside what that read brought in.
  E2E_ASSERT_OK(consumer->Seek({"ahead", 0}, 1000));
  E2E_ASSERT_OK(consumer->Poll(kDeadline, &later));
  ASSERT_FALSE(later.empty());
  expect_from(later, 1000);
  E2E_ASSERT_OK(consumer->Seek({"ahead", 0}, 1020));
  E2E_ASSERT_OK(consumer->Poll(kDeadline, &later));
  ASSERT_FALSE(later.empty());
  expect_from(later, 1020);
}

// KIP-74: a fetch returns the first batch even when it is larger than max.partition.fetch.bytes (and
// fetch.max.bytes), so that a consumer never gets stuck behind a large record.
TEST_F(ConsumerTest, ABatchLargerThanTheFetchLimitsIsStillReturned) {
  CreateTopic("large", 1);
  std::unique_ptr<Producer> producer = NewProducer();
  ProduceValues(producer.get(), "large", 0, {std::string(5000, 'x')});
  ProduceValues(producer.get(), "large", 0, {std::string(5000, 'y')});
  ConsumerConfig config = EarliestConfig();
  config.max_partition_fetch_bytes = 100;
  config.fetch_max_bytes = 200;
  std::unique_ptr<Consumer> consumer = NewConsumer(config);
  E2E_ASSERT_OK(consumer->Assign({{"large", 0}}));
  std::vector<OwnedRecord> got;
  E2E_ASSERT_OK(PollFor(consumer.get(), 2, &got, absl::Seconds(2)));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].value, std::string(5000, 'x'));
  EXPECT_EQ(got[1].value, std::string(5000, 'y'));
}

TEST_F(ConsumerTest, SimpleConsumerCommitsAndReadsCommittedOffsetsWithoutJoiningTheGroup) {
  CreateTopic("simple", 2);
  std::unique_ptr<Producer> producer = NewProducer();
  ProduceValues(producer.get(), "simple", 0, Numbered("a", 0, 10));
  ProduceValues(producer.get(), "simple", 1, Numbered("b", 0, 4));
  const TopicPartition p0{"simple", 0};
  const TopicPartition p1{"simple", 1};
  {
    std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig("simple-group"));
    E2E_ASSERT_OK(consumer->Assign({p0, p1}));
    absl::StatusOr<std::optional<int64_t>> committed = consumer->Committed(p0);
    ASSERT_TRUE(committed.ok()) << committed.status();
    EXPECT_EQ(*committed, std::nullopt);
    std::vector<OwnedRecord> got;
    E2E_ASSERT_OK(PollFor(consumer.get(), 14, &got));
    ASSERT_EQ(got.size(), 14u);
    E2E_ASSERT_OK(consumer->CommitSync(kDeadline));
    EXPECT_EQ(consumer->Committed(p0).value_or(std::nullopt), 10);
    EXPECT_EQ(consumer->Committed(p1).value_or(std::nullopt), 4);
    // Explicit offsets: the next record to read.
    E2E_ASSERT_OK(consumer->CommitSync({{.tp = p0, .offset = 3}}, kDeadline));
    EXPECT_EQ(consumer->Committed(p0).value_or(std::nullopt), 3);
    EXPECT_EQ(consumer->Committed(p1).value_or(std::nullopt), 4);
    E2E_ASSERT_OK(consumer->Close());
  }
  // A new consumer of the group starts where the group committed, not at auto.offset.reset.
  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig("simple-group"));
  E2E_ASSERT_OK(consumer->Assign({p0, p1}));
  std::vector<OwnedRecord> got;
  E2E_ASSERT_OK(PollFor(consumer.get(), 7, &got));
  ASSERT_EQ(got.size(), 7u);
  for (const OwnedRecord& r : got) {
    EXPECT_EQ(r.partition, 0);
    EXPECT_GE(r.offset, 3);
  }
  EXPECT_EQ(consumer->Position(p1).value_or(-1), 4);
}

TEST_F(ConsumerTest, CommitAsyncCallbackRunsDuringALaterPoll) {
  CreateTopic("async-commit", 1);
  std::unique_ptr<Producer> producer = NewProducer();
  ProduceValues(producer.get(), "async-commit", 0, Numbered("v", 0, 5));
  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig("async-group"));
  const TopicPartition tp{"async-commit", 0};
  E2E_ASSERT_OK(consumer->Assign({tp}));
  std::vector<OwnedRecord> got;
  E2E_ASSERT_OK(PollFor(consumer.get(), 5, &got));
  ASSERT_EQ(got.size(), 5u);

  std::atomic<bool> called{false};
  absl::Status commit_status = absl::UnknownError("not called");
  consumer->CommitAsync([&](const absl::Status& status) {
    commit_status = status;
    called.store(true);
  });
  const absl::Time end = absl::Now() + kDeadline;
  ConsumerRecords records;
  while (!called.load() && absl::Now() < end) E2E_ASSERT_OK(consumer->Poll(absl::Milliseconds(50), &records));
  ASSERT_TRUE(called.load());
  E2E_EXPECT_OK(commit_status);
  EXPECT_EQ(consumer->Committed(tp).value_or(std::nullopt), 5);
}

TEST_F(ConsumerTest, RestartedBrokerKeepsRecordsAndCommittedOffsets) {
  CreateTopic("durable", 2, {{"segment.bytes", "1024"}});  // several segments
  const TopicPartition p0{"durable", 0};
  const TopicPartition p1{"durable", 1};
  {
    std::unique_ptr<Producer> producer = NewProducer();
    for (int b = 0; b < 10; ++b) {
      ProduceValues(producer.get(), "durable", 0, Numbered("a", b * 10, 10));
      ProduceValues(producer.get(), "durable", 1, Numbered("b", b * 10, 10));
    }
    std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig("durable-group"));
    E2E_ASSERT_OK(consumer->Assign({p0, p1}));
    E2E_ASSERT_OK(consumer->CommitSync({{.tp = p0, .offset = 42}, {.tp = p1, .offset = 7}}, kDeadline));
    E2E_ASSERT_OK(consumer->Close());
    E2E_ASSERT_OK(producer->Close(kDeadline));
  }
  ReopenBroker();
  if (HasFatalFailure()) return;

  absl::StatusOr<TopicDescription> topic = admin().DescribeTopic("durable");
  ASSERT_TRUE(topic.ok()) << topic.status();
  ASSERT_EQ(topic->partitions.size(), 2u);
  EXPECT_EQ(topic->partitions[0].log_end_offset, 100);
  EXPECT_EQ(topic->partitions[1].log_end_offset, 100);
  EXPECT_EQ(topic->configs.at("segment.bytes"), "1024");

  std::unique_ptr<Consumer> group_consumer = NewConsumer(EarliestConfig("durable-group"));
  E2E_ASSERT_OK(group_consumer->Assign({p0, p1}));
  EXPECT_EQ(group_consumer->Committed(p0).value_or(std::nullopt), 42);
  EXPECT_EQ(group_consumer->Committed(p1).value_or(std::nullopt), 7);
  std::vector<OwnedRecord> got;
  E2E_ASSERT_OK(PollFor(group_consumer.get(), 58 + 93, &got));
  EXPECT_EQ(got.size(), 58u + 93u);

  // Everything is still there, and the logs continue at the old end.
  std::unique_ptr<Producer> producer = NewProducer();
  ProduceValues(producer.get(), "durable", 0, {"after-restart"});
  std::unique_ptr<Consumer> reader = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(reader->Assign({p0, p1}));
  got.clear();
  E2E_ASSERT_OK(PollFor(reader.get(), 201, &got));
  ASSERT_EQ(got.size(), 201u);
  std::vector<int64_t> next(2, 0);
  for (const OwnedRecord& r : got) {
    EXPECT_EQ(r.offset, next[r.partition]++);
    if (r.partition == 0 && r.offset == 100) {
      EXPECT_EQ(r.value, "after-restart");
    } else {
      EXPECT_EQ(r.value, absl::StrCat(r.partition == 0 ? "a" : "b", r.offset));
    }
  }
}

// Retention deletes the segments whose records are all older than retention.ms; a consumer positioned
// before the new log start then resets as auto.offset.reset says.
class ConsumerRetentionTest : public E2eTest {
 protected:
  // Ten old records (each its own segment) then five new ones; returns the log start once retention has
  // deleted all ten old segments (it may take them over several passes: reading the log start before it
  // settles made the consumer race the cleaner).
  int64_t ProduceAndWaitForRetention() {
    CreateTopic("expiring", 1, {{"retention.ms", "3600000"}, {"segment.bytes", "100"}});
    std::unique_ptr<Producer> producer = NewProducer();
    const int64_t old_ts = NowMs() - 2 * 3600 * 1000;
    for (int i = 0; i < 15; ++i) {
      const std::string value = absl::StrCat("v", i);
      E2E_EXPECT_OK(producer->Send(
          {.topic = "expiring", .partition = 0, .value = value, .timestamp = i < 10 ? old_ts + i : NowMs()}));
      E2E_EXPECT_OK(producer->Flush(kDeadline));  // one batch, and so (segment.bytes=100) one segment each
    }
    int64_t log_start = 0;
    const absl::Time end = absl::Now() + kDeadline;
    while (log_start < 10 && absl::Now() < end) {
      absl::SleepFor(absl::Milliseconds(50));
      absl::StatusOr<TopicDescription> topic = admin().DescribeTopic("expiring");
      if (!topic.ok()) {
        ADD_FAILURE() << topic.status();
        return 0;
      }
      log_start = topic->partitions.at(0).log_start_offset;
    }
    EXPECT_EQ(log_start, 10) << "retention did not delete exactly the ten old segments";
    return log_start;
  }
};

TEST_F(ConsumerRetentionTest, EarliestResetsToTheNewLogStart) {
  const int64_t log_start = ProduceAndWaitForRetention();
  ASSERT_GT(log_start, 0);
  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  const TopicPartition tp{"expiring", 0};
  E2E_ASSERT_OK(consumer->Assign({tp}));
  E2E_ASSERT_OK(consumer->Seek(tp, 0));
  std::vector<OwnedRecord> got;
  E2E_ASSERT_OK(PollFor(consumer.get(), 15 - log_start, &got));
  ASSERT_EQ(got.size(), static_cast<size_t>(15 - log_start));
  EXPECT_EQ(got[0].offset, log_start);
  EXPECT_EQ(got[0].value, absl::StrCat("v", log_start));
  EXPECT_EQ(got.back().value, "v14");
}

TEST_F(ConsumerRetentionTest, LatestResetsToTheLogEnd) {
  const int64_t log_start = ProduceAndWaitForRetention();
  ASSERT_GT(log_start, 0);
  ConsumerConfig config = EarliestConfig();
  config.auto_offset_reset = OffsetReset::kLatest;
  std::unique_ptr<Consumer> consumer = NewConsumer(config);
  const TopicPartition tp{"expiring", 0};
  E2E_ASSERT_OK(consumer->Assign({tp}));
  E2E_ASSERT_OK(consumer->Seek(tp, 0));
  absl::StatusOr<ConsumerRecords> records = consumer->Poll(absl::Milliseconds(100));
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_TRUE(records->empty());
  EXPECT_EQ(consumer->Position(tp).value_or(-1), 15);
}

TEST_F(ConsumerRetentionTest, NoneFailsPollWithOutOfRange) {
  const int64_t log_start = ProduceAndWaitForRetention();
  ASSERT_GT(log_start, 0);
  ConsumerConfig config = EarliestConfig();
  config.auto_offset_reset = OffsetReset::kNone;
  std::unique_ptr<Consumer> consumer = NewConsumer(config);
  const TopicPartition tp{"expiring", 0};
  E2E_ASSERT_OK(consumer->Assign({tp}));
  E2E_ASSERT_OK(consumer->Seek(tp, 0));
  ConsumerRecords records;
  EXPECT_EQ(consumer->Poll(absl::Milliseconds(100), &records).code(), absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace eddy::e2e
