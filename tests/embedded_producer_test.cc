// End-to-end tests of the embedded broker's Producer, through the public API only: records are sent with
// Producer::Send and checked by reading them back with a Consumer (Assign + Poll).
#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "eddy/core/partitioner.h"
#include "tests/e2e_util.h"

namespace eddy::e2e {
namespace {

using ProducerTest = E2eTest;

// Collects delivery callbacks (which run on the producer's I/O thread).
class Deliveries {
 public:
  DeliveryCallback Callback(int index) {
    return [this, index](const absl::Status& status, const RecordMetadata& md) {
      absl::MutexLock lock(&mu_);
      results_.push_back({index, status, md});
    };
  }
  struct Result {
    int index;
    absl::Status status;
    RecordMetadata metadata;
  };
  std::vector<Result> Take() {
    absl::MutexLock lock(&mu_);
    return results_;
  }

 private:
  absl::Mutex mu_;
  std::vector<Result> results_ ABSL_GUARDED_BY(mu_);
};

std::vector<OwnedRecord> ReadAll(Consumer* consumer, size_t n) {
  std::vector<OwnedRecord> out;
  E2E_EXPECT_OK(PollFor(consumer, n, &out));
  EXPECT_EQ(out.size(), n);
  return out;
}

std::vector<TopicPartition> AllPartitions(const std::string& topic, int32_t n) {
  std::vector<TopicPartition> tps;
  for (int32_t p = 0; p < n; ++p) tps.push_back({topic, p});
  return tps;
}

class ProducerAcksTest : public E2eTest, public ::testing::WithParamInterface<Acks> {};

TEST_P(ProducerAcksTest, CallbacksReportConsecutiveOffsetsPerPartitionAndRecordsArrive) {
  const Acks acks = GetParam();
  CreateTopic("acks", 3);
  ProducerConfig config;
  config.acks = acks;
  std::unique_ptr<Producer> producer = NewProducer(config);
  Deliveries deliveries;
  constexpr int kRecords = 60;
  for (int i = 0; i < kRecords; ++i) {
    const std::string key = absl::StrCat("k", i);
    const std::string value = absl::StrCat("v", i);
    E2E_ASSERT_OK(producer->Send({.topic = "acks", .key = key, .value = value}, deliveries.Callback(i)));
    if (i % 10 == 9) E2E_ASSERT_OK(producer->Flush(kDeadline));  // several batches per partition
  }
  E2E_ASSERT_OK(producer->Flush(kDeadline));

  std::vector<Deliveries::Result> results = deliveries.Take();
  ASSERT_EQ(results.size(), kRecords);
  std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  std::map<int32_t, int64_t> next_offset;
  for (const Deliveries::Result& r : results) {
    EXPECT_TRUE(r.status.ok()) << r.status;
    const int32_t partition = KeyPartition(absl::StrCat("k", r.index), 3);
    EXPECT_EQ(r.metadata.partition, partition) << "record " << r.index;
    if (acks == Acks::kNone) {
      EXPECT_EQ(r.metadata.offset, -1) << "record " << r.index;
    } else {
      EXPECT_EQ(r.metadata.offset, next_offset[partition]++) << "record " << r.index;
    }
  }

  // Whatever the acks, every record reaches the log.
  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign(AllPartitions("acks", 3)));
  std::vector<OwnedRecord> got = ReadAll(consumer.get(), kRecords);
  std::set<std::string> values;
  for (const OwnedRecord& r : got) values.insert(r.value.value_or("<null>"));
  EXPECT_EQ(values.size(), kRecords);
}

INSTANTIATE_TEST_SUITE_P(Acks, ProducerAcksTest, ::testing::Values(Acks::kNone, Acks::kLeader, Acks::kAll),
                         [](const ::testing::TestParamInfo<Acks>& info) {
                           switch (info.param) {
                             case Acks::kNone: return std::string("Acks0");
                             case Acks::kLeader: return std::string("Acks1");
                             case Acks::kAll: return std::string("AcksAll");
                           }
                           return std::string("Unknown");
                         });

TEST_F(ProducerTest, KeyedRecordsLandInMurmur2PartitionInSendOrder) {
  constexpr int32_t kPartitions = 5;
  CreateTopic("keyed", kPartitions);
  std::unique_ptr<Producer> producer = NewProducer();
  constexpr int kRecords = 200;
  for (int i = 0; i < kRecords; ++i) {
    // 20 distinct keys, each sent 10 times: order must hold per key (and per partition).
    const std::string key = absl::StrCat("user-", i % 20);
    const std::string value = absl::StrCat(i);
    E2E_ASSERT_OK(producer->Send({.topic = "keyed", .key = key, .value = value}));
  }
  E2E_ASSERT_OK(producer->Flush(kDeadline));

  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign(AllPartitions("keyed", kPartitions)));
  std::vector<OwnedRecord> got = ReadAll(consumer.get(), kRecords);
  std::map<int32_t, int> last_index;
  std::map<int32_t, int64_t> next_offset;
  for (const OwnedRecord& r : got) {
    ASSERT_TRUE(r.key.has_value());
    EXPECT_EQ(r.partition, KeyPartition(*r.key, kPartitions)) << *r.key;
    const int index = std::stoi(r.value.value());
    auto it = last_index.find(r.partition);
    if (it != last_index.end()) {
      EXPECT_GT(index, it->second) << "partition " << r.partition;
    }
    last_index[r.partition] = index;
    EXPECT_EQ(r.offset, next_offset[r.partition]++);
  }
  // Kafka's murmur2 spreads 20 keys over more than one of 5 partitions.
  EXPECT_GT(last_index.size(), 1u);
}

TEST_F(ProducerTest, NullKeysFillABatchInOnePartitionThenMoveToAnother) {
  constexpr int32_t kPartitions = 4;
  CreateTopic("sticky", kPartitions);
  ProducerConfig config;
  config.batch_size = 1024;   // about 8 of these records
  config.linger_ms = 60000;  // batches are sent because they are full (or by the final Flush)
  std::unique_ptr<Producer> producer = NewProducer(config);
  constexpr int kRecords = 100;
  const std::string padding(100, 'p');
  for (int i = 0; i < kRecords; ++i) {
    const std::string value = absl::StrCat(i, ":", padding);
    E2E_ASSERT_OK(producer->Send({.topic = "sticky", .value = value}));
  }
  E2E_ASSERT_OK(producer->Flush(kDeadline));

  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign(AllPartitions("sticky", kPartitions)));
  std::vector<OwnedRecord> got = ReadAll(consumer.get(), kRecords);
  ASSERT_EQ(got.size(), static_cast<size_t>(kRecords));
  std::vector<int32_t> partition_of(kRecords, -1);
  for (const OwnedRecord& r : got) {
    EXPECT_FALSE(r.key.has_value());
    partition_of[std::stoi(r.value.value())] = r.partition;
  }
  // Runs of consecutive sends that landed in the same partition: one per batch.
  std::vector<int> runs = {1};
  for (int i = 1; i < kRecords; ++i) {
    if (partition_of[i] == partition_of[i - 1]) {
      ++runs.back();
    } else {
      runs.push_back(1);
    }
  }
  EXPECT_GT(runs.size(), 1u) << "null-key records never left partition " << partition_of[0];
  for (size_t r = 0; r + 1 < runs.size(); ++r) {
    EXPECT_GE(runs[r], 4) << "run " << r << ": null-key records were spread before a batch was full";
  }
  EXPECT_LE(runs.size(), static_cast<size_t>(kRecords / 4));
}

TEST_F(ProducerTest, ExplicitPartitionIsHonouredOverTheKey) {
  CreateTopic("explicit", 3);
  std::unique_ptr<Producer> producer = NewProducer();
  for (int i = 0; i < 30; ++i) {
    const std::string key = absl::StrCat("k", i);
    E2E_ASSERT_OK(producer->Send({.topic = "explicit", .partition = 2, .key = key, .value = key}));
  }
  E2E_ASSERT_OK(producer->Flush(kDeadline));

  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign(AllPartitions("explicit", 3)));
  std::vector<OwnedRecord> got = ReadAll(consumer.get(), 30);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].partition, 2);
    EXPECT_EQ(got[i].offset, static_cast<int64_t>(i));
    EXPECT_EQ(got[i].value, absl::StrCat("k", i));
  }
}

TEST_F(ProducerTest, PartitionOutOfRangeIsInvalidArgument) {
  CreateTopic("three", 3);
  std::unique_ptr<Producer> producer = NewProducer();
  EXPECT_EQ(producer->Send({.topic = "three", .partition = 3, .value = "x"}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(producer->Send({.topic = "three", .partition = 1000, .value = "x"}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(producer->Send({.topic = "three", .partition = -2, .value = "x"}).code(),
            absl::StatusCode::kInvalidArgument);
  E2E_EXPECT_OK(producer->Send({.topic = "three", .partition = 2, .value = "x"}));
  E2E_EXPECT_OK(producer->Flush(kDeadline));
}

TEST_F(ProducerTest, UnknownTopicIsNotFound) {
  std::unique_ptr<Producer> producer = NewProducer();
  EXPECT_EQ(producer->Send({.topic = "nope", .value = "x"}).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(producer->PartitionsFor("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(producer->SendAsync({.topic = "nope", .value = "x"}).get().status().code(),
            absl::StatusCode::kNotFound);
  E2E_EXPECT_OK(producer->Flush(kDeadline));
}

TEST_F(ProducerTest, RecordLargerThanMaxRequestSizeIsRejectedAndOthersAreDelivered) {
  CreateTopic("sizes", 1);
  ProducerConfig config;
  config.max_request_size = 1024;
  std::unique_ptr<Producer> producer = NewProducer(config);
  const std::string big(2000, 'b');
  E2E_ASSERT_OK(producer->Send({.topic = "sizes", .value = "before-0"}));
  E2E_ASSERT_OK(producer->Send({.topic = "sizes", .value = "before-1"}));
  EXPECT_EQ(producer->Send({.topic = "sizes", .value = big}).code(), absl::StatusCode::kInvalidArgument);
  E2E_ASSERT_OK(producer->Send({.topic = "sizes", .value = "after-0"}));
  E2E_ASSERT_OK(producer->Send({.topic = "sizes", .value = "after-1"}));
  E2E_EXPECT_OK(producer->Flush(kDeadline));  // the rejected record is not a delivery error

  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign({{"sizes", 0}}));
  std::vector<OwnedRecord> got = ReadAll(consumer.get(), 4);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].value, "before-0");
  EXPECT_EQ(got[1].value, "before-1");
  EXPECT_EQ(got[2].value, "after-0");
  EXPECT_EQ(got[3].value, "after-1");
  EXPECT_EQ(got[3].offset, 3);
}

// Kafka's limit is on the serialized record, batch header included (ensureValidRecordSize): a record whose
// value alone fits in max.request.size but whose batch does not is rejected by Send, not accepted and then
// failed by the broker.
TEST_F(ProducerTest, RecordWhoseBatchExceedsMaxRequestSizeIsRejectedBySend) {
  CreateTopic("limit", 1);
  std::unique_ptr<Producer> producer = NewProducer();  // max.request.size 1 MiB; max.message.bytes 1 MiB + 12
  const std::string value(ProducerConfig().max_request_size - 16, 'v');
  Deliveries deliveries;
  const absl::Status sent = producer->Send({.topic = "limit", .value = value}, deliveries.Callback(0));
  EXPECT_EQ(sent.code(), absl::StatusCode::kInvalidArgument) << sent;
  const absl::Status flushed = producer->Flush(kDeadline);
  if (sent.ok()) {
    // Accepted: then it must be delivered.
    E2E_EXPECT_OK(flushed);
    for (const Deliveries::Result& r : deliveries.Take()) E2E_EXPECT_OK(r.status);
  }
}

// A topic may accept smaller batches than the producer's batch.size. Kafka's producer then splits the
// rejected batch and sends the halves (KIP-126): every record that fits on its own is delivered.
TEST_F(ProducerTest, RecordsThatFitTheTopicAreDeliveredEvenIfTheirBatchWouldNot) {
  CreateTopic("small-batches", 1, {{"max.message.bytes", "1000"}});
  std::unique_ptr<Producer> producer = NewProducer();  // batch.size 16384
  Deliveries deliveries;
  const std::string padding(100, 'p');
  for (int i = 0; i < 50; ++i) {
    const std::string value = absl::StrCat(i, ":", padding);
    E2E_ASSERT_OK(producer->Send({.topic = "small-batches", .value = value}, deliveries.Callback(i)));
  }
  E2E_EXPECT_OK(producer->Flush(kDeadline));
  int failed = 0;
  for (const Deliveries::Result& r : deliveries.Take()) failed += r.status.ok() ? 0 : 1;
  ASSERT_EQ(failed, 0) << "records were failed instead of sent in smaller batches";
  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign({{"small-batches", 0}}));
  std::vector<OwnedRecord> got = ReadAll(consumer.get(), 50);
  ASSERT_EQ(got.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(got[i].value, absl::StrCat(i, ":", padding));
}

TEST_F(ProducerTest, RecordsBufferedForATopicThatIsDeletedFailThroughTheirCallbacks) {
  CreateTopic("vanishing", 2);
  ProducerConfig config;
  config.linger_ms = 3'600'000;
  std::unique_ptr<Producer> producer = NewProducer(config);
  Deliveries deliveries;
  for (int i = 0; i < 4; ++i) {
    E2E_ASSERT_OK(producer->Send({.topic = "vanishing", .partition = i % 2, .value = "x"}, deliveries.Callback(i)));
  }
  E2E_ASSERT_OK(admin().DeleteTopic("vanishing"));
  EXPECT_FALSE(producer->Flush(kDeadline).ok());
  std::vector<Deliveries::Result> results = deliveries.Take();
  EXPECT_EQ(results.size(), 4u);
  for (const Deliveries::Result& r : results) {
    EXPECT_FALSE(r.status.ok()) << "record " << r.index << " acknowledged at offset " << r.metadata.offset;
  }
  // The producer goes on working for other topics.
  CreateTopic("other", 1);
  ProduceValues(producer.get(), "other", 0, {"fine"});
}

TEST_F(ProducerTest, SendAfterCloseIsFailedPrecondition) {
  CreateTopic("closing", 1);
  std::unique_ptr<Producer> producer = NewProducer();
  Deliveries deliveries;
  E2E_ASSERT_OK(producer->Send({.topic = "closing", .value = "last"}, deliveries.Callback(0)));
  E2E_ASSERT_OK(producer->Close(kDeadline));
  ASSERT_EQ(deliveries.Take().size(), 1u);  // Close flushed it
  EXPECT_EQ(producer->Send({.topic = "closing", .value = "too late"}).code(),
            absl::StatusCode::kFailedPrecondition);
  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign({{"closing", 0}}));
  std::vector<OwnedRecord> got = ReadAll(consumer.get(), 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].value, "last");
}

// buffer.memory counts records in open and unacknowledged batches. A delivery callback that blocks keeps the
// first batch unacknowledged (callbacks run on the producer's I/O thread), so the buffer fills up.
ProducerConfig SmallBufferConfig() {
  ProducerConfig config;
  config.acks = Acks::kLeader;
  config.linger_ms = 0;
  config.batch_size = 512;
  config.buffer_memory = 4096;
  config.max_block_ms = 200;
  return config;
}

// Sends "first" with a callback that holds the producer's I/O thread until `release`, and waits until it
// does.
void SendFirstAndHoldItsCallback(Producer* producer, const std::string& topic, absl::Notification* release) {
  absl::Notification in_callback;
  E2E_ASSERT_OK(producer->Send({.topic = topic, .value = "first"}, [&in_callback, release](const absl::Status&,
                                                                                          const RecordMetadata&) {
    in_callback.Notify();
    release->WaitForNotification();
  }));
  ASSERT_TRUE(in_callback.WaitForNotificationWithTimeout(kDeadline));
}

TEST_F(ProducerTest, SendBlockedOnAFullBufferFailsAfterMaxBlockMsAndEarlierRecordsArrive) {
  CreateTopic("full", 1);
  std::unique_ptr<Producer> producer = NewProducer(SmallBufferConfig());
  absl::Notification release;
  SendFirstAndHoldItsCallback(producer.get(), "full", &release);
  if (HasFatalFailure()) return;
  const std::string value(100, 'v');
  absl::Status s;
  int accepted = 0;
  for (; accepted < 1000; ++accepted) {
    s = producer->Send({.topic = "full", .value = value});
    if (!s.ok()) break;
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_LT(accepted, 1000);
  release.Notify();
  E2E_ASSERT_OK(producer->Flush(kDeadline));
  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign({{"full", 0}}));
  std::vector<OwnedRecord> got = ReadAll(consumer.get(), 1 + accepted);
  ASSERT_EQ(got.size(), static_cast<size_t>(1 + accepted));
  EXPECT_EQ(got[0].value, "first");
}

TEST_F(ProducerTest, SendBlockedOnAFullBufferGoesOnOnceABatchCompletes) {
  CreateTopic("drains", 1);
  ProducerConfig config = SmallBufferConfig();
  config.max_block_ms = 60000;
  std::unique_ptr<Producer> producer = NewProducer(config);
  absl::Notification release;
  SendFirstAndHoldItsCallback(producer.get(), "drains", &release);
  if (HasFatalFailure()) return;
  // Fill the buffer from another thread; it blocks inside Send once the buffer is full.
  std::atomic<int> sent{0};
  std::thread sender([&] {
    const std::string value(100, 'v');
    for (int i = 0; i < 200; ++i) {
      E2E_EXPECT_OK(producer->Send({.topic = "drains", .value = value}));
      sent.fetch_add(1);
    }
  });
  // It stops well short of 200 records (4096 bytes hold about 30) until the callback returns.
  absl::SleepFor(absl::Milliseconds(300));
  const int before_release = sent.load();
  EXPECT_LT(before_release, 200);
  release.Notify();
  sender.join();
  EXPECT_EQ(sent.load(), 200);
  E2E_ASSERT_OK(producer->Flush(kDeadline));
  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign({{"drains", 0}}));
  EXPECT_EQ(ReadAll(consumer.get(), 201).size(), 201u);
}

// With acks=all a batch completes on the log's flusher thread. A Close whose timeout passes first returns,
// and the producer must then not be destroyed under that completion: the destructor waits for it.
TEST_F(ProducerTest, DestroyingAProducerWhoseCloseTimedOutWaitsForItsLastCompletion) {
  CreateTopic("slow-ack", 1);
  ProducerConfig config;
  config.acks = Acks::kAll;
  config.linger_ms = 0;
  std::unique_ptr<Producer> producer = NewProducer(config);
  absl::Notification release;
  SendFirstAndHoldItsCallback(producer.get(), "slow-ack", &release);
  if (HasFatalFailure()) return;
  EXPECT_EQ(producer->Close(absl::Milliseconds(50)).code(), absl::StatusCode::kDeadlineExceeded);
  std::atomic<bool> released{false};
  std::thread releaser([&] {
    absl::SleepFor(absl::Milliseconds(200));
    released.store(true);
    release.Notify();
  });
  producer.reset();
  EXPECT_TRUE(released.load()) << "the producer was destroyed while its last batch was still being completed";
  releaser.join();
}

// Every codec must round trip everything a record can hold: null and empty keys and values, headers with
// null and empty values, explicit timestamps.
class ProducerCompressionTest : public E2eTest, public ::testing::WithParamInterface<Compression> {};

TEST_P(ProducerCompressionTest, RoundTripsKeysValuesHeadersAndTimestamps) {
  CreateTopic("codec", 1);
  ProducerConfig config;
  config.compression = GetParam();
  std::unique_ptr<Producer> producer = NewProducer(config);

  constexpr int kRecords = 300;
  constexpr int64_t kBaseTimestamp = 1'600'000'000'000;
  std::vector<OwnedRecord> want;
  for (int i = 0; i < kRecords; ++i) {
    OwnedRecord r;
    r.partition = 0;
    r.offset = i;
    r.timestamp = kBaseTimestamp + i * 7;
    if (i % 7 == 1) {
      r.key = "";  // empty, not null
    } else if (i % 7 != 0) {
      r.key = absl::StrCat("key-", i);
    }
    if (i % 5 == 1) {
      r.value = "";
    } else if (i % 5 != 0) {  // i % 5 == 0: a tombstone
      std::string v;
      for (int j = 0; j <= i % 20; ++j) absl::StrAppend(&v, "value-", i, "-");
      r.value = v;
    }
    if (i % 3 == 1) {
      r.headers = {{"trace", absl::StrCat("t", i)}, {"null-valued", std::nullopt}};
    } else if (i % 3 == 2) {
      r.headers = {{"", ""}, {"h2", "xyz"}, {"h2", "duplicate keys are allowed"}};
    }
    want.push_back(r);

    std::vector<HeaderRef> headers;
    for (const auto& [k, v] : r.headers) {
      headers.push_back({k, v ? std::optional<absl::string_view>(*v) : std::nullopt});
    }
    ProducerRecord pr{.topic = "codec", .timestamp = r.timestamp, .headers = headers};
    if (r.key) pr.key = *r.key;
    if (r.value) pr.value = *r.value;
    E2E_ASSERT_OK(producer->Send(pr));
    if (i % 100 == 99) E2E_ASSERT_OK(producer->Flush(kDeadline));
  }
  E2E_ASSERT_OK(producer->Flush(kDeadline));

  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign({{"codec", 0}}));
  std::vector<OwnedRecord> got = ReadAll(consumer.get(), kRecords);
  ASSERT_EQ(got.size(), want.size());
  for (int i = 0; i < kRecords; ++i) {
    SCOPED_TRACE(absl::StrCat("record ", i));
    EXPECT_EQ(got[i].partition, want[i].partition);
    EXPECT_EQ(got[i].offset, want[i].offset);
    EXPECT_EQ(got[i].timestamp, want[i].timestamp);
    EXPECT_EQ(got[i].key, want[i].key);
    EXPECT_EQ(got[i].value, want[i].value);
    EXPECT_EQ(got[i].headers, want[i].headers);
  }

  // Reading from the middle of a compressed batch starts at exactly that record.
  std::unique_ptr<Consumer> seeker = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(seeker->Assign({{"codec", 0}}));
  E2E_ASSERT_OK(seeker->Seek({"codec", 0}, 150));
  std::vector<OwnedRecord> tail = ReadAll(seeker.get(), kRecords - 150);
  ASSERT_FALSE(tail.empty());
  EXPECT_EQ(tail.front().offset, 150);
  EXPECT_EQ(tail.front().value, want[150].value);
  EXPECT_EQ(tail.back().offset, kRecords - 1);
}

INSTANTIATE_TEST_SUITE_P(Codecs, ProducerCompressionTest,
                         ::testing::Values(Compression::kNone, Compression::kGzip, Compression::kSnappy,
                                           Compression::kLz4, Compression::kZstd),
                         [](const ::testing::TestParamInfo<Compression>& info) {
                           switch (info.param) {
                             case Compression::kNone: return std::string("None");
                             case Compression::kGzip: return std::string("Gzip");
                             case Compression::kSnappy: return std::string("Snappy");
                             case Compression::kLz4: return std::string("Lz4");
                             case Compression::kZstd: return std::string("Zstd");
                           }
                           return std::string("Unknown");
                         });

TEST_F(ProducerTest, SendAsyncFuturesResolveWithOffsets) {
  CreateTopic("async", 1);
  std::unique_ptr<Producer> producer = NewProducer();
  std::vector<std::future<absl::StatusOr<RecordMetadata>>> futures;
  for (int i = 0; i < 20; ++i) {
    const std::string value = absl::StrCat(i);
    futures.push_back(producer->SendAsync({.topic = "async", .value = value}));
  }
  E2E_ASSERT_OK(producer->Flush(kDeadline));
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(futures[i].wait_for(std::chrono::seconds(15)), std::future_status::ready);
    absl::StatusOr<RecordMetadata> md = futures[i].get();
    ASSERT_TRUE(md.ok()) << md.status();
    EXPECT_EQ(md->partition, 0);
    EXPECT_EQ(md->offset, i);
  }
}

TEST_F(ProducerTest, FlushDeliversARecordWaitingForALongLinger) {
  CreateTopic("linger", 1);
  ProducerConfig config;
  config.linger_ms = 3'600'000;  // an hour: only Flush can send it within the test
  std::unique_ptr<Producer> producer = NewProducer(config);
  Deliveries deliveries;
  E2E_ASSERT_OK(producer->Send({.topic = "linger", .value = "patient"}, deliveries.Callback(0)));
  E2E_ASSERT_OK(producer->Flush(kDeadline));
  std::vector<Deliveries::Result> results = deliveries.Take();
  ASSERT_EQ(results.size(), 1u);
  E2E_EXPECT_OK(results[0].status);
  EXPECT_EQ(results[0].metadata.offset, 0);

  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign({{"linger", 0}}));
  std::vector<OwnedRecord> got = ReadAll(consumer.get(), 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].value, "patient");
}

// Values "<thread>:<i>": each seen once, and each thread's in increasing i within a partition.
void ExpectEachRecordOnceInPerThreadOrder(const std::vector<OwnedRecord>& got, size_t expected) {
  std::set<std::string> seen;
  std::map<std::pair<int32_t, int>, int> last_i;  // (partition, thread) -> last i
  for (const OwnedRecord& r : got) {
    ASSERT_TRUE(r.value.has_value());
    EXPECT_TRUE(seen.insert(*r.value).second) << "duplicate " << *r.value;
    const size_t colon = r.value->find(':');
    const int t = std::stoi(r.value->substr(0, colon));
    const int i = std::stoi(r.value->substr(colon + 1));
    auto [it, inserted] = last_i.try_emplace({r.partition, t}, i);
    if (!inserted) {
      EXPECT_GT(i, it->second) << "thread " << t << " reordered in partition " << r.partition;
      it->second = i;
    }
  }
  EXPECT_EQ(seen.size(), expected);
}

TEST_F(ProducerTest, ConcurrentSendersDeliverEveryRecordExactlyOnceInPerThreadOrder) {
  constexpr int32_t kPartitions = 3;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2500;
  CreateTopic("threads", kPartitions);
  ProducerConfig config;
  config.acks = Acks::kLeader;
  std::unique_ptr<Producer> producer = NewProducer(config);
  std::atomic<int> acked{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Key by thread and i % 10, so every thread writes to several partitions.
        const std::string key = absl::StrCat("t", t, "-", i % 10);
        const std::string value = absl::StrCat(t, ":", i);
        absl::Status s = producer->Send({.topic = "threads", .key = key, .value = value},
                                        [&](const absl::Status& status, const RecordMetadata&) {
                                          (status.ok() ? acked : failed).fetch_add(1);
                                        });
        if (!s.ok()) {
          ADD_FAILURE() << s;
          return;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  E2E_ASSERT_OK(producer->Flush(kDeadline));
  EXPECT_EQ(acked.load(), kThreads * kPerThread);
  EXPECT_EQ(failed.load(), 0);

  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign(AllPartitions("threads", kPartitions)));
  ExpectEachRecordOnceInPerThreadOrder(ReadAll(consumer.get(), kThreads * kPerThread), kThreads * kPerThread);
}

// Send bursts (a stream thread's batch of records) hold the producer's lock across many Sends. Threads
// bursting at once, nested bursts, and Flush and PartitionsFor inside a burst (which must let the lock go
// for the sender thread, or Flush would wait for ever) deliver every record once, in per-thread order.
TEST_F(ProducerTest, SendBurstsFromSeveralThreadsDeliverEveryRecordOnceInOrderWithFlushesInside) {
  constexpr int32_t kPartitions = 3;
  constexpr int kThreads = 3;
  constexpr int kPerThread = 3000;
  CreateTopic("bursts", kPartitions);
  ProducerConfig config;
  config.acks = Acks::kLeader;
  config.linger_ms = 1;  // the sender takes the lock at linger deadlines, during others' bursts
  std::unique_ptr<Producer> producer = NewProducer(config);
  std::atomic<int> acked{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread;) {
        SendBurst burst(producer.get());
        for (int j = 0; j < 100 && i < kPerThread; ++j, ++i) {
          const std::string key = absl::StrCat("t", t, "-", i % 10);
          const std::string value = absl::StrCat(t, ":", i);
          std::optional<SendBurst> nested;
          if (i % 7 == 0) nested.emplace(producer.get());
          E2E_EXPECT_OK(producer->Send({.topic = "bursts", .key = key, .value = value},
                                       [&](const absl::Status& status, const RecordMetadata&) {
                                         if (status.ok()) acked.fetch_add(1);
                                       }));
          if (i % 250 == 0) {
            absl::StatusOr<int32_t> n = producer->PartitionsFor("bursts");
            EXPECT_TRUE(n.ok() && *n == kPartitions) << n.status();
          }
          if (i % 1000 == 999) E2E_EXPECT_OK(producer->Flush(kDeadline));
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  E2E_ASSERT_OK(producer->Flush(kDeadline));
  EXPECT_EQ(acked.load(), kThreads * kPerThread);

  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign(AllPartitions("bursts", kPartitions)));
  ExpectEachRecordOnceInPerThreadOrder(ReadAll(consumer.get(), kThreads * kPerThread), kThreads * kPerThread);
}

// A linger deadline that passes during a burst does not stop the sender thread: batches sealed by size
// are delivered while the burst goes on, and the open one once it ends.
TEST_F(ProducerTest, BatchesSealedDuringALongBurstAreDeliveredBeforeItEnds) {
  CreateTopic("long-burst", 1);
  ProducerConfig config;
  config.acks = Acks::kLeader;
  config.linger_ms = 1;
  config.batch_size = 512;
  std::unique_ptr<Producer> producer = NewProducer(config);
  std::atomic<int> acked{0};
  const std::string value(100, 'v');
  {
    SendBurst burst(producer.get());
    E2E_ASSERT_OK(producer->Send({.topic = "long-burst", .value = value},
                                 [&](const absl::Status& s, const RecordMetadata&) { acked += s.ok(); }));
    absl::SleepFor(absl::Milliseconds(20));  // the first batch's linger passes while the burst holds on
    for (int i = 1; i < 100; ++i) {
      E2E_ASSERT_OK(producer->Send({.topic = "long-burst", .value = value},
                                   [&](const absl::Status& s, const RecordMetadata&) { acked += s.ok(); }));
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (acked.load() < 90 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
    EXPECT_GE(acked.load(), 90) << "batches sealed by size waited for the burst to end";
  }
  E2E_ASSERT_OK(producer->Flush(kDeadline));
  EXPECT_EQ(acked.load(), 100);
}

// A burst that fills buffer.memory waits for completions with the lock let go (the sender delivers
// meanwhile), and a Close inside a burst delivers what was sent and then refuses Sends.
TEST_F(ProducerTest, ABurstWaitsForBufferMemoryAndCloseInsideABurstDeliversWhatWasSent) {
  CreateTopic("burst-buffer", 1);
  ProducerConfig config = SmallBufferConfig();
  config.max_block_ms = 60000;
  std::unique_ptr<Producer> producer = NewProducer(config);
  const std::string value(100, 'v');
  {
    SendBurst burst(producer.get());
    for (int i = 0; i < 200; ++i) E2E_ASSERT_OK(producer->Send({.topic = "burst-buffer", .value = value}));
    E2E_ASSERT_OK(producer->Close(kDeadline));
    EXPECT_EQ(producer->Send({.topic = "burst-buffer", .value = value}).code(),
              absl::StatusCode::kFailedPrecondition);
  }
  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign({{"burst-buffer", 0}}));
  EXPECT_EQ(ReadAll(consumer.get(), 200).size(), 200u);
}

TEST_F(ProducerTest, CallbacksReportTheExplicitOrSendTimeTimestamp) {
  CreateTopic("times", 1);
  std::unique_ptr<Producer> producer = NewProducer();
  Deliveries deliveries;
  constexpr int64_t kExplicit = 1'234'567'890'123;
  E2E_ASSERT_OK(producer->Send({.topic = "times", .value = "explicit", .timestamp = kExplicit},
                               deliveries.Callback(0)));
  const int64_t before = NowMs();
  E2E_ASSERT_OK(producer->Send({.topic = "times", .value = "implicit"}, deliveries.Callback(1)));
  const int64_t after = NowMs();
  E2E_ASSERT_OK(producer->Flush(kDeadline));

  std::vector<Deliveries::Result> results = deliveries.Take();
  ASSERT_EQ(results.size(), 2u);
  std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  EXPECT_EQ(results[0].metadata.timestamp, kExplicit);
  EXPECT_GE(results[1].metadata.timestamp, before);
  EXPECT_LE(results[1].metadata.timestamp, after);

  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign({{"times", 0}}));
  std::vector<OwnedRecord> got = ReadAll(consumer.get(), 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].timestamp, kExplicit);
  EXPECT_EQ(got[1].timestamp, results[1].metadata.timestamp);
}

TEST_F(ProducerTest, LogAppendTimeTopicStampsRecordsWithTheBrokerClock) {
  CreateTopic("appendtime", 1, {{"message.timestamp.type", "LogAppendTime"}});
  std::unique_ptr<Producer> producer = NewProducer();
  Deliveries deliveries;
  constexpr int64_t kAncient = 1000;  // the producer's CreateTime, to be replaced
  const int64_t before = NowMs();
  for (int i = 0; i < 3; ++i) {
    E2E_ASSERT_OK(producer->Send({.topic = "appendtime", .value = "x", .timestamp = kAncient + i},
                                 deliveries.Callback(i)));
  }
  E2E_ASSERT_OK(producer->Flush(kDeadline));
  const int64_t after = NowMs();

  std::vector<Deliveries::Result> results = deliveries.Take();
  ASSERT_EQ(results.size(), 3u);
  for (const Deliveries::Result& r : results) {
    E2E_EXPECT_OK(r.status);
    EXPECT_GE(r.metadata.timestamp, before);
    EXPECT_LE(r.metadata.timestamp, after);
  }

  std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
  E2E_ASSERT_OK(consumer->Assign({{"appendtime", 0}}));
  std::vector<OwnedRecord> got = ReadAll(consumer.get(), 3);
  std::map<int64_t, int64_t> callback_timestamp;  // offset -> timestamp
  for (const Deliveries::Result& r : results) callback_timestamp[r.metadata.offset] = r.metadata.timestamp;
  for (const OwnedRecord& r : got) {
    EXPECT_GE(r.timestamp, before);
    EXPECT_LE(r.timestamp, after);
    EXPECT_EQ(r.timestamp, callback_timestamp[r.offset]) << "offset " << r.offset;
  }
}

}  // namespace
}  // namespace eddy::e2e
