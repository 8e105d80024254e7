// The factories of eddy/kafka_client/kafka_client.h.
#include "eddy/kafka_client/kafka_client.h"

#include "kafka_client/kafka_admin.h"
#include "kafka_client/kafka_consumer.h"
#include "kafka_client/kafka_producer.h"

namespace eddy {

absl::StatusOr<std::unique_ptr<Producer>> NewKafkaProducer(const ProducerConfig& config, const KafkaConfigs& kafka) {
  return kafka_client::KafkaProducer::Create(config, kafka);
}

absl::StatusOr<std::unique_ptr<Consumer>> NewKafkaConsumer(const ConsumerConfig& config, const KafkaConfigs& kafka) {
  return kafka_client::KafkaConsumer::Create(config, kafka);
}

absl::StatusOr<std::unique_ptr<Admin>> NewKafkaAdmin(const KafkaConfigs& kafka, int timeout_ms) {
  return kafka_client::KafkaAdmin::Create(kafka, timeout_ms);
}

}  // namespace eddy
