#include "kafka_client/rdkafka_util.h"

#include <algorithm>
#include <climits>

#include "absl/strings/str_cat.h"

namespace eddy::kafka_client {

absl::Status ErrorToStatus(rd_kafka_resp_err_t err, absl::string_view context, absl::string_view detail) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  std::string message = absl::StrCat(context, context.empty() ? "" : ": ",
                                     detail.empty() ? rd_kafka_err2str(err) : detail, " (",
                                     rd_kafka_err2name(err), ")");
  switch (err) {
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND:
      return absl::NotFoundError(message);
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
    case RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
      return absl::InvalidArgumentError(message);
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
      return absl::AlreadyExistsError(message);
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
      return absl::ResourceExhaustedError(message);
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      return absl::DeadlineExceededError(message);
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
      return absl::OutOfRangeError(message);
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR__STATE:
    case RD_KAFKA_RESP_ERR__DESTROY:
      return absl::FailedPreconditionError(message);
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR__BAD_MSG:
    case RD_KAFKA_RESP_ERR__BAD_COMPRESSION:
      return absl::DataLossError(message);
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
      return absl::PermissionDeniedError(message);
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
    case RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED:
      return absl::UnimplementedError(message);
    default:
      break;
  }
  // Broker errors librdkafka retries by itself (leader moves, coordinator loading, transport failures).
  if (err < 0 || err == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION ||
      err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE || err == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE ||
      err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR || err == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS ||
      err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS || err == RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS ||
      err == RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION || err == RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR) {
    return absl::UnavailableError(message);
  }
  return absl::UnknownError(message);
}

absl::Status SetConf(rd_kafka_conf_t* conf, absl::string_view name, absl::string_view value) {
  char err[512];
  const std::string n(name), v(value);
  if (rd_kafka_conf_set(conf, n.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
    return absl::InvalidArgumentError(absl::StrCat("config ", n, "=", v, ": ", err));
  }
  return absl::OkStatus();
}

absl::StatusOr<ConfPtr> NewConf(const KafkaConfigs& mapped, const KafkaConfigs& kafka) {
  if (kafka.find("bootstrap.servers") == kafka.end() && kafka.find("metadata.broker.list") == kafka.end()) {
    return absl::InvalidArgumentError("bootstrap.servers is required");
  }
  ConfPtr conf(rd_kafka_conf_new());
  for (const auto* configs : {&mapped, &kafka}) {
    for (const auto& [name, value] : *configs) {
      absl::Status s = SetConf(conf.get(), name, value);
      if (!s.ok()) return s;
    }
  }
  return conf;
}

absl::StatusOr<HandlePtr> NewHandle(rd_kafka_type_t type, ConfPtr conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), err, sizeof(err));
  if (rk == nullptr) return absl::InvalidArgumentError(absl::StrCat("cannot create a Kafka client: ", err));
  conf.release();  // rd_kafka_new owns it now
  return HandlePtr(rk);
}

int ToMs(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return -1;
  return static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 0, INT_MAX));
}

}  // namespace eddy::kafka_client
