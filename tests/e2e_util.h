// Helpers for the end-to-end tests of the embedded broker (tests/embedded_*_test.cc, consumer_group_test.cc,
// broker_admin_test.cc). They use only the public API (eddy/broker/broker.h and eddy/core/*.h):
//
//   E2eTest      a gtest fixture that opens a Broker in a fresh temporary directory (removed afterwards),
//                with helpers to create topics, produce and consume;
//   OwnedRecord  a consumed record copied out of its ConsumerRecords, so tests can keep and compare it;
//   PollFor      polls a consumer until it has returned a number of records, or a deadline passes.
//
// Waiting is always "until a condition holds, or fail after a generous deadline": no test asserts how long
// anything takes.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "eddy/broker/broker.h"
#include "eddy/core/admin.h"
#include "eddy/core/consumer.h"
#include "eddy/core/consumer_records.h"
#include "eddy/core/producer.h"
#include "eddy/core/record.h"
#include "gtest/gtest.h"

#define E2E_ASSERT_OK(expr)                                   \
  do {                                                        \
    const ::absl::Status e2e_status_ = (expr);                \
    ASSERT_TRUE(e2e_status_.ok()) << #expr << ": " << e2e_status_; \
  } while (0)
#define E2E_EXPECT_OK(expr)                                   \
  do {                                                        \
    const ::absl::Status e2e_status_ = (expr);                \
    EXPECT_TRUE(e2e_status_.ok()) << #expr << ": " << e2e_status_; \
  } while (0)

namespace eddy::e2e {

// A generous bound for "eventually": only reached when something is broken.
inline constexpr absl::Duration kDeadline = absl::Seconds(15);

inline int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

// A record as the consumer returned it, owning its bytes.
struct OwnedRecord {
  int32_t partition = -1;
  int64_t offset = -1;
  int64_t timestamp = -1;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;

  static OwnedRecord From(const RecordView& r) {
    OwnedRecord o;
    o.partition = r.partition();
    o.offset = r.offset();
    o.timestamp = r.timestamp();
    if (r.has_key()) o.key = std::string(r.key());
    if (r.has_value()) o.value = std::string(r.value());
    r.ForEachHeader([&](const HeaderRef& h) {
      o.headers.emplace_back(std::string(h.key),
                             h.value ? std::optional<std::string>(std::string(*h.value)) : std::nullopt);
    });
    return o;
  }
};

// Appends every record of `records` to *out; fails on a malformed record.
inline absl::Status AppendRecords(const ConsumerRecords& records, std::vector<OwnedRecord>* out) {
  return records.ForEach([&](const RecordView& r) { out->push_back(OwnedRecord::From(r)); });
}

// PollFor polls `consumer` (Poll(100ms) at a time) until *out holds at least `n` records or `deadline`
// passes. Returns the first Poll error. Does not fail on the deadline: the caller checks out->size().
inline absl::Status PollFor(Consumer* consumer, size_t n, std::vector<OwnedRecord>* out,
                            absl::Duration deadline = kDeadline) {
  ConsumerRecords records;
  const absl::Time end = absl::Now() + deadline;
  while (out->size() < n && absl::Now() < end) {
    absl::Status s = consumer->Poll(absl::Milliseconds(100), &records);
    if (!s.ok()) return s;
    s = AppendRecords(records, out);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// A fresh directory under /tmp, removed with everything in it by the destructor.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "eddy-e2e-XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    if (p != nullptr) path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Fixture: a broker in its own temporary data directory. Producers and consumers a test creates must be
// destroyed before the broker, i.e. held as locals of the test body (or reset before ReopenBroker).
class E2eTest : public ::testing::Test {
 protected:
  // Broker configs every test gets: the broker applies retention often enough for a test to see it.
  static std::map<std::string, std::string> DefaultBrokerConfigs() {
    return {{"log.retention.check.interval.ms", "100"}};
  }

  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
    OpenBroker(DefaultBrokerConfigs());
  }
  void TearDown() override {
    if (broker_ != nullptr) E2E_EXPECT_OK(broker_->Close());
    broker_.reset();
  }

  void OpenBroker(std::map<std::string, std::string> configs) {
    configs_ = std::move(configs);
    absl::StatusOr<std::unique_ptr<Broker>> broker = Broker::Open({.data_dir = dir_.path(), .configs = configs_});
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
  }
  // Closes the broker and opens it again on the same directory, with the same configs or with `configs`
  // added to them.
  void ReopenBroker(const std::map<std::string, std::string>& configs = {}) {
    ASSERT_NE(broker_, nullptr);
    E2E_ASSERT_OK(broker_->Close());
    broker_.reset();
    std::map<std::string, std::string> all = configs_;
    for (const auto& [k, v] : configs) all[k] = v;
    OpenBroker(std::move(all));
  }

  Admin& admin() { return broker_->admin(); }

  void CreateTopic(const std::string& name, int32_t partitions, std::map<std::string, std::string> configs = {}) {
    E2E_ASSERT_OK(admin().CreateTopic({.name = name, .partitions = partitions, .configs = std::move(configs)}));
  }

  std::unique_ptr<Producer> NewProducer(ProducerConfig config = {}) { return broker_->NewProducer(config); }

  // A consumer for Assign-style reading, from the earliest offset and without auto-commit unless told.
  std::unique_ptr<Consumer> NewConsumer(ConsumerConfig config) {
    absl::StatusOr<std::unique_ptr<Consumer>> c = broker_->NewConsumer(config);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }
  static ConsumerConfig EarliestConfig(std::string group_id = "") {
    ConsumerConfig config;
    config.group_id = std::move(group_id);
    config.auto_offset_reset = OffsetReset::kEarliest;
    config.enable_auto_commit = false;
    return config;
  }

  // Sends `values` to topic/partition (value "v", no key), one Flush at the end (so one batch if they fit).
  void ProduceValues(Producer* producer, const std::string& topic, int32_t partition,
                     const std::vector<std::string>& values) {
    for (const std::string& v : values) {
      E2E_ASSERT_OK(producer->Send({.topic = topic, .partition = partition, .value = v}));
    }
    E2E_ASSERT_OK(producer->Flush(kDeadline));
  }

  TempDir dir_;
  std::map<std::string, std::string> configs_;
  std::unique_ptr<Broker> broker_;
};

// "prefix-0", "prefix-1", ... as values.
inline std::vector<std::string> Numbered(const std::string& prefix, int from, int count) {
  std::vector<std::string> out;
  out.reserve(count);
  for (int i = from; i < from + count; ++i) out.push_back(absl::StrCat(prefix, i));
  return out;
}

}  // namespace eddy::e2e
