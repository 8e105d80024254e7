// Kafka clients backed by librdkafka: eddy::Producer, eddy::Consumer and eddy::Admin talking to a Kafka
// cluster (or `eddy broker`) over the Kafka protocol. The same application code runs against the embedded
// broker (eddy/broker/broker.h) or a remote cluster: only the factory differs.
//
//   eddy::KafkaConfigs kafka = {{"bootstrap.servers", "localhost:9092"}};
//   EDDY_ASSIGN_OR_RETURN(std::unique_ptr<eddy::Producer> producer, eddy::NewKafkaProducer({}, kafka));
//
// Configs: the ProducerConfig/ConsumerConfig fields are mapped to librdkafka's names (acks, linger.ms,
// batch.size, compression.type, group.id, auto.offset.reset, ...); `kafka` is passed to librdkafka as is
// after them, so it may set anything librdkafka knows (bootstrap.servers is required; security.protocol,
// enable.idempotence, queue.buffering.max.messages, ...) and overrides the mapped values. Defaults follow
// Kafka's Java client where librdkafka differs: partitioner=murmur2_random (keys land where the Java client
// puts them), and the consumer reads read_uncommitted as Eddy has no transactions.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "eddy/core/admin.h"
#include "eddy/core/consumer.h"
#include "eddy/core/producer.h"

namespace eddy {

// librdkafka configs by name, e.g. {"bootstrap.servers", "host:9092"}.
using KafkaConfigs = std::map<std::string, std::string>;

// NewKafkaProducer creates a producer with its own librdkafka handle and one thread serving delivery
// reports (callbacks run there). kInvalidArgument names a config librdkafka refused. The returned producer
// is thread-safe.
absl::StatusOr<std::unique_ptr<Producer>> NewKafkaProducer(const ProducerConfig& config,
                                                           const KafkaConfigs& kafka);

// NewKafkaConsumer creates a consumer (librdkafka's high-level KafkaConsumer). Without group.id it can only
// Assign. Thread-compatible, as Consumer.
absl::StatusOr<std::unique_ptr<Consumer>> NewKafkaConsumer(const ConsumerConfig& config,
                                                           const KafkaConfigs& kafka);

// NewKafkaAdmin creates an admin client (Kafka's AdminClient operations through librdkafka's Admin API,
// Metadata and ListOffsets). Thread-safe. `timeout_ms` bounds each operation (Kafka's
// default.api.timeout.ms, 60 s).
absl::StatusOr<std::unique_ptr<Admin>> NewKafkaAdmin(const KafkaConfigs& kafka, int timeout_ms = 60000);

}  // namespace eddy
