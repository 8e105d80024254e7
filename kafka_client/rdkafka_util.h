// Helpers shared by the librdkafka-backed clients: owning handles, building an rd_kafka_conf_t from
// Kafka configs, and translating librdkafka's error codes into absl::Status with Eddy's canonical codes.
#pragma once

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eddy/kafka_client/kafka_client.h"

namespace eddy::kafka_client {

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using EventPtr = std::unique_ptr<rd_kafka_event_t, EventDeleter>;

// ErrorToStatus maps a librdkafka error to Eddy's codes: unknown topic/partition kNotFound, bad input and
// too-large records kInvalidArgument, full queue kResourceExhausted, timeouts kDeadlineExceeded, retriable
// broker errors kUnavailable, fenced or unknown member kFailedPrecondition, offset out of range kOutOfRange,
// corrupt data kDataLoss, existing topic kAlreadyExists. `context` prefixes the message.
absl::Status ErrorToStatus(rd_kafka_resp_err_t err, absl::string_view context, absl::string_view detail = {});

// SetConf sets one config on `conf`; kInvalidArgument with librdkafka's reason if refused.
absl::Status SetConf(rd_kafka_conf_t* conf, absl::string_view name, absl::string_view value);

// NewConf returns a configuration with `mapped` (from Eddy's config structs) and then `kafka` applied.
// kInvalidArgument if bootstrap.servers is missing or a config is refused.
absl::StatusOr<ConfPtr> NewConf(const KafkaConfigs& mapped, const KafkaConfigs& kafka);

// NewHandle creates an rd_kafka_t of `type`, taking ownership of `conf` (also on failure).
absl::StatusOr<HandlePtr> NewHandle(rd_kafka_type_t type, ConfPtr conf);

// ToMs converts a duration to librdkafka's int milliseconds (-1 for infinite).
int ToMs(absl::Duration d);

}  // namespace eddy::kafka_client
