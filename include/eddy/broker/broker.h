// Broker: Eddy's single-node log broker, embedded in the application's process. Owns a data directory
// (topics, partitions as segment files in Kafka's record-batch format, committed group offsets) and hands
// out Producers, Consumers and an Admin that talk to it directly, without a network.
//
//   EDDY_ASSIGN_OR_RETURN(std::unique_ptr<eddy::Broker> broker, eddy::Broker::Open({.data_dir = "data"}));
//   EDDY_RETURN_IF_ERROR(broker->admin().CreateTopic({.name = "orders", .partitions = 4}));
//   std::unique_ptr<eddy::Producer> producer = broker->NewProducer({});
//
// Thread-safe. The Broker must outlive every Producer and Consumer it created. One process at a time may
// open a data directory (others get kFailedPrecondition).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eddy/core/admin.h"
#include "eddy/core/consumer.h"
#include "eddy/core/producer.h"

namespace eddy {

struct BrokerOptions {
  std::string data_dir = "./eddy-data";
  // Broker configs by Kafka name: num.partitions, auto.create.topics.enable (false here: the embedded API
  // creates topics explicitly), and topic defaults under their broker names (log.retention.ms,
  // log.retention.bytes, log.segment.bytes, log.roll.ms, message.max.bytes, log.index.interval.bytes,
  // log.retention.check.interval.ms, log.flush.offset.checkpoint.interval.ms), the log cleaner's
  // log.cleaner.enable, .threads, .backoff.ms, .dedupe.buffer.size, .io.buffer.size, .delete.retention.ms,
  // .min.compaction.lag.ms, .max.compaction.lag.ms, .min.cleanable.ratio, and the group coordinator's
  // group.initial.rebalance.delay.ms (0 here: see broker/group_coordinator.h), group.min.session.timeout.ms
  // and group.max.session.timeout.ms. An unknown name or a bad value fails Open with kInvalidArgument.
  std::map<std::string, std::string> configs;
};

class Broker {
 public:
  // Open locks and opens (or creates) the data directory, recovering the log after an unclean shutdown.
  // In a release build it also turns off Abseil's mutex deadlock detection for the process, once
  // (Debian's Abseil enables it: a lock-graph update under one process-wide spinlock on every Lock,
  // bench/mutex_bench.cc); EDDY_ABSL_DEADLOCK_DETECTION=1 in the environment keeps it on, as the tests do.
  static absl::StatusOr<std::unique_ptr<Broker>> Open(const BrokerOptions& options);
  virtual ~Broker() = default;

  virtual Admin& admin() = 0;
  virtual std::unique_ptr<Producer> NewProducer(const ProducerConfig& config) = 0;
  virtual absl::StatusOr<std::unique_ptr<Consumer>> NewConsumer(const ConsumerConfig& config) = 0;

  // Close flushes everything, marks the shutdown clean (the next Open skips recovery) and releases the
  // data directory. Also done by the destructor.
  virtual absl::Status Close() = 0;
};

}  // namespace eddy
