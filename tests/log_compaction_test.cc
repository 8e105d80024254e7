// End-to-end tests of log compaction on the embedded broker: records produced and consumed through the
// public API (eddy/broker/broker.h), the cleaner driven through the broker's LogManager (RunCleanerNow).
// What they check: the latest value of every key survives cleaning at the offset it was produced at,
// tombstones go after delete.retention.ms (and the deleted values never come back), and a consumer that
// reads the topic while it is being cleaned never misses the latest record of a key.
//
// The broker's own cleaner thread may also run (it wakes every log.cleaner.backoff.ms): every assertion
// holds whoever did the cleaning.
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "broker/broker_impl.h"
#include "broker/log_manager.h"
#include "gmock/gmock.h"
#include "tests/e2e_util.h"

namespace eddy::e2e {
namespace {

// What a producer stored at one offset.
struct Produced {
  std::string key;
  std::optional<std::string> value;
};

class LogCompactionTest : public E2eTest {
 protected:
  broker::LogManager& logs() { return static_cast<broker::BrokerImpl&>(*broker_).log_manager(); }

  void CreateCompacted(const std::string& name, std::map<std::string, std::string> configs = {}) {
    configs.emplace("cleanup.policy", "compact");
    configs.emplace("segment.bytes", "4096");
    configs.emplace("min.cleanable.dirty.ratio", "0.01");
    CreateTopic(name, 1, std::move(configs));
  }

  // Sends `records` (key, value; nullopt = tombstone) to partition 0 and records each one's offset.
  void Produce(Producer* producer, const std::string& topic,
               const std::vector<std::pair<std::string, std::optional<std::string>>>& records) {
    for (const auto& [key, value] : records) {
      E2E_ASSERT_OK(producer->Send({.topic = topic, .partition = 0, .key = key, .value = value},
                                   [this, key = key, value = value](const absl::Status& s, const RecordMetadata& md) {
                                     ASSERT_TRUE(s.ok()) << s;
                                     std::lock_guard<std::mutex> l(mu_);
                                     produced_[md.offset] = Produced{key, value};
                                   }));
    }
    E2E_ASSERT_OK(producer->Flush(kDeadline));
  }

  // Cleans until the cleaner finds nothing more to do.
  void CleanFully() {
    for (int i = 0; i < 5; ++i) {
      absl::StatusOr<int> n = logs().RunCleanerNow();
      ASSERT_TRUE(n.ok()) << n.status();
      if (*n == 0) return;
    }
  }

  // Every record of partition 0 from the beginning to the current end, through a consumer.
  std::vector<OwnedRecord> ConsumeAll(const std::string& topic) {
    std::vector<OwnedRecord> out;
    std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
    EXPECT_TRUE(consumer->Assign({{topic, 0}}).ok());
    const int64_t end = (*logs().GetLog(topic, 0))->log_end_offset();
    ConsumerRecords records;
    const absl::Time deadline = absl::Now() + kDeadline;
    while (*consumer->Position({topic, 0}) < end && absl::Now() < deadline) {
      EXPECT_TRUE(consumer->Poll(absl::Milliseconds(100), &records).ok());
      EXPECT_TRUE(AppendRecords(records, &out).ok());
    }
    EXPECT_GE(*consumer->Position({topic, 0}), end);
    return out;
  }

  // The latest record of each key among offsets below `end`.
  std::map<std::string, int64_t> LatestBelow(int64_t end) {
    std::lock_guard<std::mutex> l(mu_);
    std::map<std::string, int64_t> latest;
    for (auto it = produced_.begin(); it != produced_.end() && it->first < end; ++it)
      latest[it->second.key] = it->first;
    return latest;
  }

  // Checks a consumed record against what was produced at its offset.
  ::testing::AssertionResult IsProduced(const OwnedRecord& r) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = produced_.find(r.offset);
    if (it == produced_.end()) return ::testing::AssertionFailure() << "offset " << r.offset << " was not produced";
    if (!r.key || *r.key != it->second.key || r.value != it->second.value) {
      return ::testing::AssertionFailure() << "offset " << r.offset << " holds another record than was produced";
    }
    return ::testing::AssertionSuccess();
  }

  std::mutex mu_;
  std::map<int64_t, Produced> produced_;
};

TEST_F(LogCompactionTest, TheLatestValueOfEveryKeySurvivesAtItsOffset) {
  CreateCompacted("changelog");
  std::unique_ptr<Producer> producer = NewProducer();
  std::mt19937 rng(42);
  std::vector<std::pair<std::string, std::optional<std::string>>> records;
  for (int i = 0; i < 6000; ++i) records.push_back({absl::StrCat("key-", rng() % 100), absl::StrCat("value-", i)});
  Produce(producer.get(), "changelog", records);
  std::shared_ptr<broker::PartitionLog> log = *logs().GetLog("changelog", 0);
  const int64_t size = log->size_bytes(), end = log->log_end_offset();
  CleanFully();
  EXPECT_LT(log->size_bytes(), size / 4);
  EXPECT_EQ(log->log_end_offset(), end);
  EXPECT_EQ(log->log_start_offset(), 0);
  ASSERT_GT(logs().CleanerFirstDirtyOffset({"changelog", 0}).value_or(0), 0);

  const std::vector<OwnedRecord> got = ConsumeAll("changelog");
  std::map<std::string, int64_t> last_seen;
  for (const OwnedRecord& r : got) {
    ASSERT_TRUE(IsProduced(r));
    last_seen[*r.key] = r.offset;
  }
  EXPECT_EQ(last_seen, LatestBelow(end));
  // Below the part the cleaner may not touch (the active segment) each key appears once.
  const int64_t active = log->segments()->back()->base_offset();
  std::set<std::string> keys;
  for (const OwnedRecord& r : got) {
    if (r.offset < active) {
      EXPECT_TRUE(keys.insert(*r.key).second) << *r.key << " twice below " << active;
    }
  }
  // And it is all still there after a restart.
  producer.reset();
  log.reset();
  ReopenBroker();
  const std::vector<OwnedRecord> again = ConsumeAll("changelog");
  ASSERT_EQ(again.size(), got.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(again[i].offset, got[i].offset);
}

TEST_F(LogCompactionTest, TombstonesGoAfterDeleteRetentionAndDeletedValuesNeverComeBack) {
  CreateCompacted("short", {{"delete.retention.ms", "0"}});
  CreateCompacted("long", {{"delete.retention.ms", "86400000"}});
  std::unique_ptr<Producer> producer = NewProducer();
  for (const std::string topic : {"short", "long"}) {
    std::vector<std::pair<std::string, std::optional<std::string>>> records;
    for (int round = 0; round < 3; ++round) {
      for (int k = 0; k < 50; ++k) records.push_back({absl::StrCat("key-", k), absl::StrCat("v", round)});
    }
    for (int k = 0; k < 25; ++k) records.push_back({absl::StrCat("key-", k), std::nullopt});
    // Later traffic on other keys, so that the tombstones are in sealed (cleanable) segments.
    for (int i = 0; i < 400; ++i) records.push_back({absl::StrCat("other-", i % 20), std::string(40, 'x')});
    Produce(producer.get(), topic, records);
  }
  // The first cleaning keeps tombstones and sets their delete horizon (now + delete.retention.ms); a
  // cleaning after the horizon removes them.
  CleanFully();
  CleanFully();
  for (const std::string topic : {"short", "long"}) {
    std::map<std::string, OwnedRecord> last;
    for (const OwnedRecord& r : ConsumeAll(topic)) {
      ASSERT_TRUE(IsProduced(r));
      last[*r.key] = r;
    }
    for (int k = 0; k < 50; ++k) {
      const std::string key = absl::StrCat("key-", k);
      if (k >= 25) {
        ASSERT_TRUE(last.count(key)) << topic << " " << key;
        EXPECT_EQ(last[key].value, "v2");
      } else if (topic == "short") {
        EXPECT_FALSE(last.count(key)) << key << " should be gone from " << topic;
      } else {
        ASSERT_TRUE(last.count(key)) << key;
        EXPECT_FALSE(last[key].value.has_value()) << key << ": its tombstone must stay for a day";
      }
    }
  }
}

TEST_F(LogCompactionTest, AConsumerReadingDuringCleaningNeverMissesTheLatestRecordOfAKey) {
  CreateCompacted("state", {{"delete.retention.ms", "86400000"}});
  std::unique_ptr<Producer> producer = NewProducer();
  std::atomic<int64_t> published_end{0};  // everything below was produced and acknowledged
  std::atomic<bool> done{false};
  std::atomic<int> passes{0};
  std::atomic<int> failures{0};

  // The reader: passes from the beginning up to the end published when the pass started. At the end of a
  // pass it must have seen, for every key, the latest record below that end, or a later record of the same
  // key: while the pass reads, the producer goes on and the cleaner may remove a record below the end
  // that a record past the end supersedes (Kafka's guarantee is the final state of every key, not every
  // record below some offset). So the pass reads on past the end until each key is accounted for.
  std::thread reader([&] {
    std::unique_ptr<Consumer> consumer = NewConsumer(EarliestConfig());
    if (!consumer->Assign({{"state", 0}}).ok()) {
      ++failures;
      return;
    }
    ConsumerRecords records;
    for (bool last_pass = false; !last_pass;) {
      last_pass = done.load();
      const int64_t end = published_end.load();
      const std::map<std::string, int64_t> latest = LatestBelow(end);
      if (!consumer->SeekToBeginning({{"state", 0}}).ok()) ++failures;
      std::map<std::string, int64_t> seen;  // the last offset read of each key, past `end` too
      size_t accounted = 0;                 // keys of `latest` whose latest record or a later one was read
      int64_t previous = -1;
      const absl::Time deadline = absl::Now() + kDeadline;
      while ((*consumer->Position({"state", 0}) < end || accounted < latest.size()) && absl::Now() < deadline) {
        if (!consumer->Poll(absl::Milliseconds(100), &records).ok()) ++failures;
        std::vector<OwnedRecord> got;
        if (!AppendRecords(records, &got).ok()) ++failures;
        for (const OwnedRecord& r : got) {
          // Past `end` the producer's callbacks may not have recorded the offset yet: order only.
          if (r.offset <= previous || (r.offset < end && !IsProduced(r))) {
            ADD_FAILURE() << "offset " << r.offset << " after " << previous;
            ++failures;
          }
          previous = r.offset;
          auto want = latest.find(*r.key);
          auto [it, inserted] = seen.try_emplace(*r.key, r.offset);
          const bool was_accounted = !inserted && want != latest.end() && it->second >= want->second;
          it->second = r.offset;
          if (want != latest.end() && r.offset >= want->second && !was_accounted) ++accounted;
          if (r.offset < end && want != latest.end() && r.offset > want->second) {
            ADD_FAILURE() << *r.key << ": offset " << r.offset << " below " << end << " is later than its latest "
                          << want->second;
            ++failures;
          }
        }
      }
      for (const auto& [key, offset] : latest) {
        auto it = seen.find(key);
        if (it == seen.end() || it->second < offset) {
          ADD_FAILURE() << key << ": latest below " << end << " is " << offset << ", the pass read "
                        << (it == seen.end() ? std::string("no record") : absl::StrCat("offset ", it->second))
                        << " and stopped at " << *consumer->Position({"state", 0});
          ++failures;
        }
      }
      ++passes;
    }
  });

  std::mt19937 rng(7);
  for (int round = 0; round < 80 && failures.load() == 0; ++round) {
    std::vector<std::pair<std::string, std::optional<std::string>>> records;
    for (int i = 0; i < 300; ++i) {
      std::optional<std::string> value;
      if (rng() % 10 != 0) value = absl::StrCat("r", round, "-", i, std::string(rng() % 40, 'v'));
      records.push_back({absl::StrCat("key-", rng() % 150), value});
    }
    Produce(producer.get(), "state", records);
    published_end = (*logs().GetLog("state", 0))->log_end_offset();
    absl::StatusOr<int> cleaned = logs().RunCleanerNow();
    ASSERT_TRUE(cleaned.ok()) << cleaned.status();
  }
  done = true;
  reader.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GE(passes.load(), 2);
  EXPECT_GT(logs().CleanerFirstDirtyOffset({"state", 0}).value_or(0), 0);  // cleanings did happen
}

TEST_F(LogCompactionTest, AProducerCannotSendARecordWithoutKeyToACompactedTopic) {
  CreateCompacted("keyed");
  std::unique_ptr<Producer> producer = NewProducer();
  absl::Status delivered;
  E2E_ASSERT_OK(producer->Send({.topic = "keyed", .partition = 0, .value = "no key"},
                               [&](const absl::Status& s, const RecordMetadata&) { delivered = s; }));
  EXPECT_FALSE(producer->Flush(kDeadline).ok());
  EXPECT_EQ(delivered.code(), absl::StatusCode::kInvalidArgument) << delivered;
  EXPECT_THAT(delivered.message(), ::testing::HasSubstr("compacted topic keyed requires keys"));
}

}  // namespace
}  // namespace eddy::e2e
