// Tests of Produce, Fetch and ListOffsets over real sockets: acks 0/1/all, per-partition errors, the
// idempotent producer's checks, fetching the exact bytes that were produced, long polls woken by appends
// or answered at their deadline, and ListOffsets.
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "broker/error_code.h"
#include "broker/log_manager.h"
#include "broker/log_test_util.h"
#include "broker/net/kafka_test_util.h"
#include "eddy/core/record_batch.h"
#include "gtest/gtest.h"

namespace eddy::net {
namespace {

using broker::ErrorCode;
using broker::testing_util::MakeBatch;
using testing::KafkaServerTest;

int16_t E(ErrorCode e) { return static_cast<int16_t>(e); }

class KafkaProduceFetchTest : public KafkaServerTest {
 protected:
  void SetUp() override {
    KafkaServerTest::SetUp();
    ASSERT_TRUE(broker_->CreateTopic({"t", 2, {}}).ok());
  }

  // A produce request with `records` for each (topic, partition).
  static kafka::ProduceRequest Produce(int16_t acks, std::vector<std::tuple<std::string, int32_t, const std::string*>> parts) {
    kafka::ProduceRequest r;
    r.acks = acks;
    r.timeout_ms = 30000;
    for (auto& [topic, partition, records] : parts) {
      if (r.topic_data.empty() || r.topic_data.back().name != topic) {
        r.topic_data.emplace_back();
        r.topic_data.back().name = topic;
      }
      r.topic_data.back().partition_data.emplace_back();
      r.topic_data.back().partition_data.back().index = partition;
      r.topic_data.back().partition_data.back().records = kafka::RecordsRef::Inline(*records);
    }
    return r;
  }

  static kafka::FetchRequest Fetch(const std::string& topic, int32_t partition, int64_t offset, int32_t max_wait_ms = 0,
                                   int32_t min_bytes = 1) {
    kafka::FetchRequest r;
    r.max_wait_ms = max_wait_ms;
    r.min_bytes = min_bytes;
    r.max_bytes = 50 << 20;
    r.isolation_level = 1;  // read_committed, librdkafka's default
    r.topics.emplace_back();
    r.topics.back().topic = topic;
    r.topics.back().partitions.emplace_back();
    r.topics.back().partitions.back().partition = partition;
    r.topics.back().partitions.back().fetch_offset = offset;
    r.topics.back().partitions.back().partition_max_bytes = 1 << 20;
    return r;
  }

  // Produces `records` to topic-partition on `c` and returns the partition's answer.
  static kafka::ProduceResponse::PartitionProduceResponse ProduceTo(testing::KafkaClient& c, int16_t acks,
                                                                    const std::string& topic, int32_t partition,
                                                                    const std::string& records) {
    kafka::ProduceResponse r = c.Call<kafka::ProduceResponse>(7, Produce(acks, {{topic, partition, &records}}));
    return r.responses.at(0).partition_responses.at(0);
  }

  int64_t EndOffset(const std::string& topic, int32_t partition) {
    return (*broker_->GetLog(topic, partition))->log_end_offset();
  }
};

// The stored form of a produced batch: baseOffset and partitionLeaderEpoch set by the broker.
std::string Stored(std::string batch, int64_t base_offset) {
  SetBaseOffset(batch.data(), base_offset);
  SetPartitionLeaderEpoch(batch.data(), 0);
  return batch;
}

TEST_F(KafkaProduceFetchTest, ProducedBatchesAreFetchedByteForByte) {
  auto c = Connect();
  const std::string a = MakeBatch(3, 10, 1000);
  const std::string b = MakeBatch(2, 10, 2000, -1, Compression::kLz4);
  kafka::ProduceResponse r1 = c->Call<kafka::ProduceResponse>(7, Produce(1, {{"t", 1, &a}}));
  kafka::ProduceResponse r2 = c->Call<kafka::ProduceResponse>(3, Produce(1, {{"t", 1, &b}}));
  ASSERT_EQ(r1.responses.size(), 1u);
  EXPECT_EQ(r1.responses[0].partition_responses[0].error_code, 0);
  EXPECT_EQ(r1.responses[0].partition_responses[0].base_offset, 0);
  EXPECT_EQ(r1.responses[0].partition_responses[0].log_start_offset, 0);
  EXPECT_EQ(r2.responses[0].partition_responses[0].base_offset, 3);

  for (int16_t v : {4, 11}) {
    std::string raw;
    const int32_t id = c->Send(v, Fetch("t", 1, 0));
    kafka::FetchResponse f = c->Receive<kafka::FetchResponse>(v, id, &raw);
    ASSERT_EQ(f.responses.size(), 1u);
    const auto& p = f.responses[0].partitions[0];
    EXPECT_EQ(p.error_code, 0);
    EXPECT_EQ(p.high_watermark, 5);
    EXPECT_EQ(p.last_stable_offset, 5);
    EXPECT_EQ(p.log_start_offset, v >= 5 ? 0 : -1);  // a v5 field
    EXPECT_EQ(std::string(p.records.bytes()), Stored(a, 0) + Stored(b, 3)) << "v" << v;
  }
  // From offset 4: the batch holding it (offsets 3-4) comes whole.
  kafka::FetchResponse mid = c->Call<kafka::FetchResponse>(11, Fetch("t", 1, 4));
  EXPECT_EQ(std::string(mid.responses[0].partitions[0].records.bytes()), Stored(b, 3));
}

TEST_F(KafkaProduceFetchTest, AcksAllAnswersOnceTheDataIsFlushed) {
  auto c = Connect();
  const std::string a = MakeBatch(4, 100, 1000);
  kafka::ProduceResponse r = c->Call<kafka::ProduceResponse>(7, Produce(-1, {{"t", 0, &a}, {"t", 1, &a}}));
  ASSERT_EQ(r.responses[0].partition_responses.size(), 2u);
  for (const auto& p : r.responses[0].partition_responses) EXPECT_EQ(p.error_code, 0);
  EXPECT_GE((*broker_->GetLog("t", 0))->flushed_offset(), 4);
  EXPECT_GE((*broker_->GetLog("t", 1))->flushed_offset(), 4);
}

TEST_F(KafkaProduceFetchTest, AcksZeroSendsNoResponseAndKeepsThePipelineInOrder) {
  auto c = Connect();
  const std::string a = MakeBatch(2, 10, 1000);
  c->Send(7, Produce(0, {{"t", 0, &a}}));
  const int32_t id = c->Send(1, kafka::MetadataRequest());
  // The next response is the Metadata one.
  kafka::MetadataResponse m = c->Receive<kafka::MetadataResponse>(1, id);
  EXPECT_EQ(m.brokers.size(), 1u);
  EXPECT_EQ(EndOffset("t", 0), 2);
}

TEST_F(KafkaProduceFetchTest, FailedAcksZeroProduceClosesTheConnection) {
  auto c = Connect();
  const std::string a = MakeBatch(2, 10, 1000);
  c->Send(7, Produce(0, {{"missing-topic", 0, &a}}));
  EXPECT_TRUE(c->raw().AtEof());
}

TEST_F(KafkaProduceFetchTest, ProduceErrorsAreReportedPerPartitionWithKafkasCodes) {
  ASSERT_TRUE(broker_->CreateTopic({"small", 1, {{"max.message.bytes", "200"}}}).ok());
  auto c = Connect();
  const std::string good = MakeBatch(1, 10, 1000);
  std::string corrupt = MakeBatch(1, 10, 1000);
  corrupt.back() ^= 1;  // breaks the CRC
  const std::string big = MakeBatch(10, 100, 1000);
  const std::string zstd = MakeBatch(2, 10, 1000, -1, Compression::kZstd);
  kafka::ProduceResponse r = c->Call<kafka::ProduceResponse>(
      6, Produce(1, {{"t", 0, &good}, {"t", 1, &corrupt}, {"t", 9, &good}, {"small", 0, &big},
                     {"t", 0, &zstd}}));
  std::vector<int16_t> codes;
  for (const auto& t : r.responses) {
    for (const auto& p : t.partition_responses) codes.push_back(p.error_code);
  }
  EXPECT_EQ(codes, (std::vector<int16_t>{0, E(ErrorCode::kCorruptMessage), E(ErrorCode::kUnknownTopicOrPartition),
                                         E(ErrorCode::kMessageTooLarge), E(ErrorCode::kUnsupportedCompressionType)}));
  EXPECT_EQ(EndOffset("t", 0), 1);
  EXPECT_EQ(EndOffset("t", 1), 0);
  std::vector<std::string> lines = log();
  ASSERT_EQ(lines.size(), 4u);  // one line per refused partition
  EXPECT_TRUE(absl::StrContains(lines[0], "refusing produce to t-1 from 127.0.0.1:")) << lines[0];
  EXPECT_TRUE(absl::StrContains(lines[0], "CORRUPT_MESSAGE")) << lines[0];

  kafka::ProduceResponse bad_acks = c->Call<kafka::ProduceResponse>(7, Produce(2, {{"t", 0, &good}}));
  EXPECT_EQ(bad_acks.responses[0].partition_responses[0].error_code, E(ErrorCode::kInvalidRequiredAcks));
}

TEST_F(KafkaProduceFetchTest, IdempotentProducerRetriesAreNotAppendedTwiceAndGapsAreRefused) {
  auto c = Connect();
  kafka::InitProducerIdRequest init;
  init.transactional_id = std::nullopt;
  const int64_t pid = c->Call<kafka::InitProducerIdResponse>(1, init).producer_id;
  auto batch = [&](int64_t producer, int32_t sequence, int count) {
    RecordBatchBuilder b;
    b.SetProducer(producer, 0, sequence);
    for (int i = 0; i < count; ++i) b.Append(1000 + i, "k", "v");
    absl::Span<char> s = *b.Finish();
    return std::string(s.data(), s.size());
  };
  auto produce = [&](const std::string& records) {
    kafka::ProduceResponse r = c->Call<kafka::ProduceResponse>(7, Produce(-1, {{"t", 0, &records}}));
    return r.responses[0].partition_responses[0];
  };
  const std::string first = batch(pid, 0, 3);
  EXPECT_EQ(produce(first).base_offset, 0);
  const std::string second = batch(pid, 3, 2);
  EXPECT_EQ(produce(second).base_offset, 3);
  // A retry of the first batch: success with its original offset, nothing appended.
  auto retry = produce(first);
  EXPECT_EQ(retry.error_code, 0);
  EXPECT_EQ(retry.base_offset, 0);
  EXPECT_EQ(EndOffset("t", 0), 5);
  // A gap in the sequence, and an unknown producer that does not start at 0.
  EXPECT_EQ(produce(batch(pid, 9, 1)).error_code, E(ErrorCode::kOutOfOrderSequenceNumber));
  EXPECT_EQ(produce(batch(pid + 1000, 4, 1)).error_code, E(ErrorCode::kUnknownProducerId));
  EXPECT_EQ(produce(batch(pid, 5, 1)).base_offset, 5);
  // kafkajs' non-idempotent batches: producer id -1 with base sequence 0, accepted every time.
  EXPECT_EQ(produce(batch(-1, 0, 1)).error_code, 0);
  EXPECT_EQ(produce(batch(-1, 0, 1)).error_code, 0);
  EXPECT_EQ(EndOffset("t", 0), 8);
}

TEST_F(KafkaProduceFetchTest, IdempotentStateAndProducerIdsSurviveABrokerRestart) {
  auto c = Connect();
  kafka::InitProducerIdRequest init;
  init.transactional_id = std::nullopt;
  const int64_t pid = c->Call<kafka::InitProducerIdResponse>(1, init).producer_id;
  auto batch = [&](int32_t sequence) {
    RecordBatchBuilder b;
    b.SetProducer(pid, 0, sequence);
    for (int i = 0; i < 2; ++i) b.Append(1000 + i, "k", "v");
    absl::Span<char> s = *b.Finish();
    return std::string(s.data(), s.size());
  };
  const std::string first = batch(0), second = batch(2);
  EXPECT_EQ(ProduceTo(*c, -1, "t", 0, first).base_offset, 0);
  EXPECT_EQ(ProduceTo(*c, -1, "t", 0, second).base_offset, 2);
  c.reset();
  Stop();
  // The clock went back: producer ids must still not repeat the one the log remembers.
  now_ms_ = [] { return int64_t{1}; };
  Start();
  c = Connect();
  EXPECT_GT(c->Call<kafka::InitProducerIdResponse>(1, init).producer_id, pid);
  kafka::ProduceResponse::PartitionProduceResponse retry = ProduceTo(*c, -1, "t", 0, second);
  EXPECT_EQ(retry.error_code, 0);
  EXPECT_EQ(retry.base_offset, 2);
  const std::string gap = batch(9);
  EXPECT_EQ(ProduceTo(*c, -1, "t", 0, gap).error_code, E(ErrorCode::kOutOfOrderSequenceNumber));
  EXPECT_EQ(EndOffset("t", 0), 4);
}

TEST_F(KafkaProduceFetchTest, FetchSendsTheSameBytesFromTheSegmentFilesAsTheCopyingPath) {
  ASSERT_TRUE(broker_->CreateTopic({"small", 1, {{"segment.bytes", "1024"}}}).ok());
  auto c = Connect();
  for (int i = 0; i < 40; ++i) {
    const std::string b = MakeBatch(4, 60, 1000);
    ASSERT_EQ(ProduceTo(*c, 1, "small", 0, b).error_code, 0);
  }
  ASSERT_GT((*broker_->GetLog("small", 0))->segment_count(), 5);
  auto fetch_all = [&] {
    std::string body;
    const int32_t id = c->Send(11, Fetch("small", 0, 0));
    kafka::FetchResponse r = c->Receive<kafka::FetchResponse>(11, id, &body);
    return std::string(r.responses[0].partitions[0].records.bytes());
  };
  const std::string zero_copy = fetch_all();
  c.reset();
  Stop();
  zero_copy_fetch_ = false;
  Start();
  c = Connect();
  const std::string copied = fetch_all();
  EXPECT_EQ(zero_copy.size(), 40u * MakeBatch(4, 60, 1000).size());
  EXPECT_EQ(zero_copy, copied);
}

TEST_F(KafkaProduceFetchTest, LongPollFetchIsWokenByAProduceOnAnotherConnection) {
  auto consumer = Connect();
  auto producer = Connect();
  // Waits up to 60 s: only the append can make it answer within the client's 30 s read timeout.
  const int32_t id = consumer->Send(11, Fetch("t", 0, 0, /*max_wait_ms=*/60000));
  ASSERT_TRUE(testing::Eventually([&] { return server_->stats().requests == 1; }));
  const std::string a = MakeBatch(2, 10, 1000);
  EXPECT_EQ(producer->Call<kafka::ProduceResponse>(7, Produce(1, {{"t", 0, &a}})).responses[0].partition_responses[0].error_code, 0);
  std::string raw;
  kafka::FetchResponse f = consumer->Receive<kafka::FetchResponse>(11, id, &raw);
  EXPECT_EQ(std::string(f.responses[0].partitions[0].records.bytes()), Stored(a, 0));
  EXPECT_EQ(f.responses[0].partitions[0].high_watermark, 2);
}

TEST_F(KafkaProduceFetchTest, LongPollFetchWithoutDataAnswersEmptyAtItsDeadline) {
  auto c = Connect();
  kafka::FetchResponse f = c->Call<kafka::FetchResponse>(11, Fetch("t", 0, 0, /*max_wait_ms=*/20));
  ASSERT_EQ(f.responses.size(), 1u);
  EXPECT_EQ(f.responses[0].partitions[0].error_code, 0);
  EXPECT_EQ(f.responses[0].partitions[0].records.size(), 0u);
  EXPECT_EQ(f.responses[0].partitions[0].high_watermark, 0);
}

TEST_F(KafkaProduceFetchTest, ParkedFetchIsAnsweredAtOnceWhenTheServerShutsDown) {
  auto c = Connect();
  const int32_t id = c->Send(11, Fetch("t", 0, 0, /*max_wait_ms=*/600000));
  ASSERT_TRUE(testing::Eventually([&] { return server_->stats().requests == 1; }));
  std::thread stop([&] { server_->Shutdown(); });
  kafka::FetchResponse f = c->Receive<kafka::FetchResponse>(11, id);
  EXPECT_EQ(f.responses[0].partitions[0].error_code, 0);
  EXPECT_TRUE(c->raw().AtEof());
  stop.join();
}

TEST_F(KafkaProduceFetchTest, FetchReportsOffsetOutOfRangeAndUnknownPartitions) {
  auto c = Connect();
  kafka::FetchRequest request = Fetch("t", 0, 5);
  request.topics.emplace_back();
  request.topics.back().topic = "nope";
  request.topics.back().partitions.emplace_back();
  kafka::FetchResponse f = c->Call<kafka::FetchResponse>(11, request);
  ASSERT_EQ(f.responses.size(), 2u);
  EXPECT_EQ(f.responses[0].partitions[0].error_code, E(ErrorCode::kOffsetOutOfRange));
  EXPECT_EQ(f.responses[1].partitions[0].error_code, E(ErrorCode::kUnknownTopicOrPartition));
}

TEST_F(KafkaProduceFetchTest, ListOffsetsFindsEarliestLatestAndByTimestamp) {
  auto c = Connect();
  const std::string a = MakeBatch(3, 10, 1000);  // timestamps 1000..1002
  const std::string b = MakeBatch(3, 10, 5000);  // timestamps 5000..5002
  c->Call<kafka::ProduceResponse>(7, Produce(1, {{"t", 0, &a}}));
  c->Call<kafka::ProduceResponse>(7, Produce(1, {{"t", 0, &b}}));
  kafka::ListOffsetsRequest request;
  request.replica_id = -1;
  request.topics.emplace_back();
  request.topics.back().name = "t";
  for (int64_t ts : {-2, -1, 4000, 9999}) {
    request.topics.back().partitions.emplace_back();
    request.topics.back().partitions.back().partition_index = 0;
    request.topics.back().partitions.back().timestamp = ts;
  }
  for (int16_t v : {1, 3}) {
    kafka::ListOffsetsResponse r = c->Call<kafka::ListOffsetsResponse>(v, request);
    const auto& p = r.topics[0].partitions;
    ASSERT_EQ(p.size(), 4u);
    EXPECT_EQ(p[0].offset, 0);
    EXPECT_EQ(p[1].offset, 6);
    EXPECT_EQ(p[2].offset, 3);
    EXPECT_EQ(p[2].timestamp, 5000);
    EXPECT_EQ(p[3].offset, -1);
    for (const auto& x : p) EXPECT_EQ(x.error_code, 0);
  }
}

}  // namespace
}  // namespace eddy::net
