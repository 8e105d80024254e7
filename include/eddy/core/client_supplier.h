// ClientSupplier: where the runtime gets its clients (Kafka Streams' KafkaClientSupplier). eddy::Streams
// asks it for one Consumer and one Producer per stream thread and for the Admin it uses at startup, so the
// same application runs on the embedded broker (EmbeddedClientSupplier, eddy/broker/embedded_client_supplier.h)
// or, later, on a Kafka cluster through a librdkafka-backed supplier.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "eddy/core/admin.h"
#include "eddy/core/consumer.h"
#include "eddy/core/producer.h"

namespace eddy {

// Implementations must be thread-safe: stream threads that replace a failed thread call it concurrently.
// The supplier must outlive every client it returned.
class ClientSupplier {
 public:
  virtual ~ClientSupplier() = default;
  // The admin client, for topic creation and validation. Owned by the supplier.
  virtual absl::StatusOr<Admin*> GetAdmin() = 0;
  virtual absl::StatusOr<std::unique_ptr<Producer>> GetProducer(const ProducerConfig& config) = 0;
  virtual absl::StatusOr<std::unique_ptr<Consumer>> GetConsumer(const ConsumerConfig& config) = 0;
};

}  // namespace eddy
