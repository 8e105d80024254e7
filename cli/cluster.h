// Cluster: where a command's Admin, Producers and Consumers come from: the embedded broker on a data
// directory (--data-dir, the default) or a Kafka cluster, such as `eddy broker`, over the Kafka protocol
// (--bootstrap HOST:PORT, through librdkafka). Commands are written once against eddy::Admin, Producer and
// Consumer and work in both modes.
//
// Used from the main thread only. The Cluster must outlive the producers and consumers it created.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/flags.h"
#include "eddy/core/admin.h"
#include "eddy/core/consumer.h"
#include "eddy/core/producer.h"

namespace eddy::cli {

class Cluster {
 public:
  virtual ~Cluster() = default;
  virtual Admin& admin() = 0;
  virtual absl::StatusOr<std::unique_ptr<Producer>> NewProducer(const ProducerConfig& config) = 0;
  virtual absl::StatusOr<std::unique_ptr<Consumer>> NewConsumer(const ConsumerConfig& config) = 0;
  // Close releases the data directory (embedded); nothing to do for a remote cluster.
  virtual absl::Status Close() = 0;
};

// Where to connect: --bootstrap if given, else --data-dir.
struct ClusterFlags {
  std::string data_dir = "./eddy-data";
  std::string bootstrap;  // HOST:PORT[,HOST:PORT...]
};

// AddClusterFlags declares --data-dir and --bootstrap on `flags`.
void AddClusterFlags(FlagSet* flags, ClusterFlags* where);

// OpenCluster opens the data directory, or checks that the cluster at --bootstrap answers (kUnavailable
// naming the address if it does not).
absl::StatusOr<std::unique_ptr<Cluster>> OpenCluster(const ClusterFlags& where);

}  // namespace eddy::cli
