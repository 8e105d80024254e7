#include "cli/cluster.h"

#include "absl/strings/str_cat.h"
#include "cli/common.h"
#include "eddy/core/status.h"
#include "eddy/kafka_client/kafka_client.h"

namespace eddy::cli {
namespace {

class EmbeddedCluster final : public Cluster {
 public:
  explicit EmbeddedCluster(std::unique_ptr<Broker> broker) : broker_(std::move(broker)) {}
  Admin& admin() override { return broker_->admin(); }
  absl::StatusOr<std::unique_ptr<Producer>> NewProducer(const ProducerConfig& config) override {
    return broker_->NewProducer(config);
  }
  absl::StatusOr<std::unique_ptr<Consumer>> NewConsumer(const ConsumerConfig& config) override {
    return broker_->NewConsumer(config);
  }
  absl::Status Close() override { return broker_->Close(); }

 private:
  std::unique_ptr<Broker> broker_;
};

class RemoteCluster final : public Cluster {
 public:
  RemoteCluster(KafkaConfigs kafka, std::unique_ptr<Admin> admin)
      : kafka_(std::move(kafka)), admin_(std::move(admin)) {}
  Admin& admin() override { return *admin_; }
  absl::StatusOr<std::unique_ptr<Producer>> NewProducer(const ProducerConfig& config) override {
    return NewKafkaProducer(config, kafka_);
  }
  absl::StatusOr<std::unique_ptr<Consumer>> NewConsumer(const ConsumerConfig& config) override {
    return NewKafkaConsumer(config, kafka_);
  }
  absl::Status Close() override { return absl::OkStatus(); }

 private:
  const KafkaConfigs kafka_;
  std::unique_ptr<Admin> admin_;
};

}  // namespace

void AddClusterFlags(FlagSet* flags, ClusterFlags* where) {
  AddDataDirFlag(flags, &where->data_dir);
  flags->AddString("bootstrap", &where->bootstrap, "HOST:PORT",
                   "talk to a Kafka cluster (e.g. eddy broker) at this address instead of --data-dir");
}

absl::StatusOr<std::unique_ptr<Cluster>> OpenCluster(const ClusterFlags& where) {
  if (where.bootstrap.empty()) {
    EDDY_ASSIGN_OR_RETURN(std::unique_ptr<Broker> broker, OpenBroker(where.data_dir));
    return std::unique_ptr<Cluster>(new EmbeddedCluster(std::move(broker)));
  }
  // Quiet librdkafka's own logging below errors: the command reports failures itself.
  KafkaConfigs kafka = {{"bootstrap.servers", where.bootstrap}, {"log_level", "2"}};
  // Fail fast when nothing answers, rather than after Kafka's 60 s default.
  absl::StatusOr<std::unique_ptr<Admin>> admin = NewKafkaAdmin(kafka, /*timeout_ms=*/10000);
  EDDY_RETURN_IF_ERROR(Annotate(admin.status(), absl::StrCat("cannot connect to ", where.bootstrap)));
  absl::StatusOr<std::vector<std::string>> probe = (*admin)->ListTopics();
  if (!probe.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot reach a Kafka broker at ", where.bootstrap, ": ",
                                               probe.status().message()));
  }
  return std::unique_ptr<Cluster>(new RemoteCluster(std::move(kafka), *std::move(admin)));
}

}  // namespace eddy::cli
