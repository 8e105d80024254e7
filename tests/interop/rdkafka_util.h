// Helpers for rdkafka_interop, the librdkafka (C API, Debian's librdkafka-dev) test program run by
// tests/interop/*_test.sh against a real `eddy broker`: configuration, topic creation, reading a whole
// topic back, and failing loudly. Single-threaded use; every rd_kafka_t returned is owned by the caller
// (RdKafkaPtr destroys it).
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace eddy::interop {

// Prints "rdkafka_interop: FAIL: <message>" to stderr and exits with code 1.
[[noreturn]] void Fail(const std::string& message);

struct RdKafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using RdKafkaPtr = std::unique_ptr<rd_kafka_t, RdKafkaDeleter>;

using Settings = std::vector<std::pair<std::string, std::string>>;

// NewClient creates a producer or consumer with bootstrap.servers = `bootstrap` and `settings` applied in
// order (an unknown or invalid setting fails the test). `setup` may install callbacks on the conf.
RdKafkaPtr NewClient(rd_kafka_type_t type, const std::string& bootstrap, const Settings& settings,
                     void (*setup)(rd_kafka_conf_t*) = nullptr);

// CreateTopic creates `topic` with `partitions` partitions through the Admin API (CreateTopics).
void CreateTopic(rd_kafka_t* rk, const std::string& topic, int partitions);

// PartitionCount asks the broker for the topic's metadata.
int PartitionCount(rd_kafka_t* rk, const std::string& topic);

struct ReadRecord {
  int64_t offset;
  std::string key;
  std::string value;
};

// ReadAll reads every partition of `topic` from the beginning to its high watermark at the time of the call
// (assign, no group), within 30 s. Returns the records per partition, in the order read.
std::map<int32_t, std::vector<ReadRecord>> ReadAll(const std::string& bootstrap, const std::string& topic);

// KeyOf / ValueOf: the key and value of the test's record number i.
std::string KeyOf(int64_t i);
std::string ValueOf(int64_t i);
// IndexOfKey: i for "key-i", -1 for anything else.
int64_t IndexOfKey(const std::string& key);

// Mode entry points (rdkafka_interop.cc, rdkafka_group.cc). Each returns the process exit code.
int RunGroupTest(const std::string& bootstrap, const std::string& topic, const std::string& strategy);

}  // namespace eddy::interop
