// EmbeddedClientSupplier: the ClientSupplier of an embedded Broker, for running eddy::Streams in-process:
//
//   EDDY_ASSIGN_OR_RETURN(std::unique_ptr<eddy::Broker> broker, eddy::Broker::Open({.data_dir = "data"}));
//   eddy::EmbeddedClientSupplier clients(broker.get());
//   eddy::Streams app(topology, config, &clients);
//
// Thread-safe (the Broker is). Does not own the broker, which must outlive the supplier and its clients.
#pragma once

#include <memory>

#include "eddy/broker/broker.h"
#include "eddy/core/client_supplier.h"

namespace eddy {

class EmbeddedClientSupplier final : public ClientSupplier {
 public:
  explicit EmbeddedClientSupplier(Broker* broker) : broker_(broker) {}

  absl::StatusOr<Admin*> GetAdmin() override { return &broker_->admin(); }
  absl::StatusOr<std::unique_ptr<Producer>> GetProducer(const ProducerConfig& config) override {
    return broker_->NewProducer(config);
  }
  absl::StatusOr<std::unique_ptr<Consumer>> GetConsumer(const ConsumerConfig& config) override {
    return broker_->NewConsumer(config);
  }

 private:
  Broker* const broker_;
};

}  // namespace eddy
