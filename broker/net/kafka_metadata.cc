// Metadata, CreateTopics, DeleteTopics and DescribeConfigs: the topic and config APIs.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/log_config.h"
#include "broker/log_manager.h"
#include "broker/net/kafka_handler.h"
#include "broker/net/kafka_response.h"
#include "broker/net/serial_worker.h"

namespace eddy::net {
namespace {

using broker::ErrorCode;
using broker::TopicInfo;

// DescribeConfigs resource types and config sources (Kafka's ConfigResource.Type, DescribeConfigsResponse).
constexpr int8_t kResourceTopic = 2;
constexpr int8_t kResourceBroker = 4;
constexpr int8_t kSourceDynamicTopic = 1;
constexpr int8_t kSourceStaticBroker = 4;
constexpr int8_t kSourceDefault = 5;

kafka::MetadataResponse::MetadataResponseTopic DescribeForMetadata(const TopicInfo& info, int32_t node_id) {
  kafka::MetadataResponse::MetadataResponseTopic t;
  t.name = info.name;
  t.is_internal = info.name == broker::kOffsetsTopic;
  t.partitions.reserve(static_cast<size_t>(info.partitions));
  for (int32_t p = 0; p < info.partitions; ++p) {
    kafka::MetadataResponse::MetadataResponsePartition part;
    part.partition_index = p;
    part.leader_id = node_id;
    part.leader_epoch = 0;
    part.replica_nodes = {node_id};
    part.isr_nodes = {node_id};
    t.partitions.push_back(std::move(part));
  }
  return t;
}

kafka::MetadataResponse::MetadataResponseTopic TopicError(const std::string& name, ErrorCode error) {
  kafka::MetadataResponse::MetadataResponseTopic t;
  t.name = name;
  t.error_code = Code(error);
  return t;
}

// Whether a Metadata request may create the unknown topics it names: the broker allows it and, from v4, the
// client asks for it.
bool MayAutoCreate(bool enabled, int16_t version, const kafka::MetadataRequest& request) {
  return enabled && (version < 4 || request.allow_auto_topic_creation);
}

}  // namespace

void KafkaHandler::HandleMetadata(Call call, kafka::Reader& reader) {
  kafka::MetadataRequest request;
  if (!DecodeBody(call, reader, &request)) return;
  const int16_t version = call.header.request_api_version;
  // Answered here unless a requested topic is missing and will be created: that waits on the disk.
  bool creates = false;
  if (MayAutoCreate(options_.auto_create_topics, version, request) && request.topics.has_value()) {
    for (const auto& requested : *request.topics) {
      const std::string name = requested.name.value_or("");
      if (broker::ValidateTopicName(name).ok() && !broker_->log_manager().DescribeTopic(name).ok()) {
        creates = true;
        break;
      }
    }
  }
  if (!creates) {
    AnswerMetadata(std::move(call), request);
    return;
  }
  RunOnAdminThread([this, call = std::move(call), request = std::move(request)]() mutable {
    AnswerMetadata(std::move(call), request);
  });
}

void KafkaHandler::AnswerMetadata(Call call, const kafka::MetadataRequest& request) {
  const int16_t version = call.header.request_api_version;
  kafka::MetadataResponse response;
  kafka::MetadataResponse::MetadataResponseBroker self;
  self.node_id = options_.node_id;
  self.host = options_.advertised_host;
  self.port = options_.advertised_port;
  response.brokers.push_back(std::move(self));
  response.cluster_id = options_.cluster_id;
  response.controller_id = options_.node_id;

  broker::LogManager& logs = broker_->log_manager();
  // v0: an empty list means every topic; v1+: null means every topic and empty means none.
  const bool all = !request.topics.has_value() || (version == 0 && request.topics->empty());
  if (all) {
    for (const TopicInfo& info : logs.ListTopics()) response.topics.push_back(DescribeForMetadata(info, options_.node_id));
    call.responder.Send(EncodeResponse(call.header, response));
    return;
  }
  const bool may_create = MayAutoCreate(options_.auto_create_topics, version, request);
  for (const auto& requested : *request.topics) {
    const std::string name = requested.name.value_or("");
    absl::StatusOr<TopicInfo> info = logs.DescribeTopic(name);
    if (!info.ok() && absl::IsNotFound(info.status())) {
      if (!broker::ValidateTopicName(name).ok()) {
        response.topics.push_back(TopicError(name, ErrorCode::kInvalidTopicException));
        continue;
      }
      if (!may_create) {
        response.topics.push_back(TopicError(name, ErrorCode::kUnknownTopicOrPartition));
        continue;
      }
      absl::Status created = broker_->CreateTopic(NewTopic{name, -1, {}});
      if (!created.ok() && !absl::IsAlreadyExists(created)) {
        Log(absl::StrCat("cannot auto-create topic '", name, "' for ", call.peer, ": ", created.message()));
        response.topics.push_back(TopicError(
            name, absl::IsInvalidArgument(created) ? ErrorCode::kInvalidTopicException : ErrorCode::kUnknownServerError));
        continue;
      }
      info = logs.DescribeTopic(name);
    }
    if (!info.ok()) {
      // Deleted between create and describe, or an I/O error: the client retries.
      response.topics.push_back(TopicError(name, ErrorCode::kLeaderNotAvailable));
      continue;
    }
    response.topics.push_back(DescribeForMetadata(*info, options_.node_id));
  }
  call.responder.Send(EncodeResponse(call.header, response));
}

void KafkaHandler::HandleCreateTopics(Call call, kafka::Reader& reader) {
  kafka::CreateTopicsRequest request;
  if (!DecodeBody(call, reader, &request)) return;
  RunOnAdminThread([this, call = std::move(call), request = std::move(request)]() mutable {
    CreateTopics(std::move(call), request);
  });
}

void KafkaHandler::CreateTopics(Call call, const kafka::CreateTopicsRequest& request) {
  kafka::CreateTopicsResponse response;
  broker::LogManager& logs = broker_->log_manager();
  for (const auto& topic : request.topics) {
    kafka::CreateTopicsResponse::CreatableTopicResult result;
    result.name = topic.name;
    result.error_message = std::nullopt;
    auto fail = [&](ErrorCode code, std::string message) {
      result.error_code = Code(code);
      result.error_message = std::move(message);
    };
    int32_t partitions = topic.num_partitions;
    std::map<std::string, std::string> configs;
    bool ok = true;
    for (const auto& c : topic.configs) {
      if (!c.value.has_value()) {
        fail(ErrorCode::kInvalidConfig, absl::StrCat("Null value not supported for topic configs: ", c.name));
        ok = false;
        break;
      }
      configs[c.name] = *c.value;
    }
    if (!ok) {
    } else if (absl::Status s = broker::ValidateTopicName(topic.name); !s.ok()) {
      fail(ErrorCode::kInvalidTopicException, std::string(s.message()));
    } else if (logs.DescribeTopic(topic.name).ok()) {
      fail(ErrorCode::kTopicAlreadyExists, absl::StrCat("Topic '", topic.name, "' already exists."));
    } else if (!topic.assignments.empty() && (topic.num_partitions != -1 || topic.replication_factor != -1)) {
      fail(ErrorCode::kInvalidRequest,
           "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.");
    } else if (topic.assignments.empty() && partitions != -1 && partitions < 1) {
      fail(ErrorCode::kInvalidPartitions, "Number of partitions must be larger than 0.");
    } else if (topic.assignments.empty() && topic.replication_factor != -1 && topic.replication_factor != 1) {
      fail(ErrorCode::kInvalidReplicationFactor,
           topic.replication_factor < 1
               ? std::string("Replication factor must be larger than 0.")
               : absl::StrCat("Replication factor: ", topic.replication_factor, " larger than available brokers: 1."));
    } else if (absl::StatusOr<broker::LogConfig> config = broker::LogConfig::FromMap(logs.default_config(), configs);
               !config.ok()) {
      fail(ErrorCode::kInvalidConfig, std::string(config.status().message()));
    } else {
      if (!topic.assignments.empty()) {
        partitions = static_cast<int32_t>(topic.assignments.size());
        for (const auto& a : topic.assignments) {
          if (a.partition_index < 0 || a.partition_index >= partitions || a.broker_ids.size() != 1 ||
              a.broker_ids[0] != options_.node_id) {
            fail(ErrorCode::kInvalidReplicaAssignment,
                 absl::StrCat("partition ", a.partition_index, ": the only broker is ", options_.node_id));
            ok = false;
            break;
          }
        }
      }
      if (ok && !request.validate_only) {
        absl::Status s = broker_->CreateTopic(NewTopic{topic.name, partitions, configs});
        if (absl::IsAlreadyExists(s)) {
          fail(ErrorCode::kTopicAlreadyExists, absl::StrCat("Topic '", topic.name, "' already exists."));
        } else if (absl::IsInvalidArgument(s)) {
          fail(ErrorCode::kInvalidTopicException, std::string(s.message()));
        } else if (!s.ok()) {
          fail(ErrorCode::kUnknownServerError, std::string(s.message()));
        }
      }
    }
    response.topics.push_back(std::move(result));
  }
  call.responder.Send(EncodeResponse(call.header, response));
}

void KafkaHandler::HandleDeleteTopics(Call call, kafka::Reader& reader) {
  kafka::DeleteTopicsRequest request;
  if (!DecodeBody(call, reader, &request)) return;
  RunOnAdminThread([this, call = std::move(call), request = std::move(request)]() mutable {
    DeleteTopics(std::move(call), request);
  });
}

void KafkaHandler::DeleteTopics(Call call, const kafka::DeleteTopicsRequest& request) {
  kafka::DeleteTopicsResponse response;
  for (const std::string& name : request.topic_names) {
    kafka::DeleteTopicsResponse::DeletableTopicResult result;
    result.name = name;
    absl::Status s = broker_->DeleteTopic(name);
    if (absl::IsNotFound(s)) {
      result.error_code = Code(ErrorCode::kUnknownTopicOrPartition);
    } else if (absl::IsInvalidArgument(s)) {
      result.error_code = Code(ErrorCode::kInvalidTopicException);  // the internal offsets topic
    } else if (!s.ok()) {
      result.error_code = Code(ErrorCode::kUnknownServerError);
      Log(absl::StrCat("deleting topic '", name, "' for ", call.peer, ": ", s.message()));
    }
    response.responses.push_back(std::move(result));
  }
  call.responder.Send(EncodeResponse(call.header, response));
}

void KafkaHandler::RunOnAdminThread(absl::AnyInvocable<void() &&> work) {
  admin_->Post([this, work = std::move(work)]() mutable {
    if (options_.before_topic_change) options_.before_topic_change();
    std::move(work)();
  });
}

void KafkaHandler::HandleDescribeConfigs(Call call, kafka::Reader& reader) {
  kafka::DescribeConfigsRequest request;
  if (!DecodeBody(call, reader, &request)) return;
  kafka::DescribeConfigsResponse response;
  for (const auto& resource : request.resources) {
    kafka::DescribeConfigsResponse::DescribeConfigsResult result;
    result.resource_type = resource.resource_type;
    result.resource_name = resource.resource_name;
    result.error_message = std::nullopt;
    std::map<std::string, std::string> values;
    std::map<std::string, std::string> overrides;
    if (resource.resource_type == kResourceTopic) {
      absl::StatusOr<TopicInfo> info = broker_->log_manager().DescribeTopic(resource.resource_name);
      if (!info.ok()) {
        result.error_code = Code(ErrorCode::kUnknownTopicOrPartition);
        result.error_message = absl::StrCat("Topic '", resource.resource_name, "' does not exist.");
        response.results.push_back(std::move(result));
        continue;
      }
      values = info->config.ToMap();
      overrides = info->configs;
    } else if (resource.resource_type == kResourceBroker &&
               (resource.resource_name.empty() || resource.resource_name == absl::StrCat(options_.node_id))) {
      values = options_.broker_configs;
    } else {
      result.error_code = Code(ErrorCode::kInvalidRequest);
      result.error_message = absl::StrCat("unsupported config resource type ", resource.resource_type, " name '",
                                          resource.resource_name, "'");
      response.results.push_back(std::move(result));
      continue;
    }
    for (const auto& [name, value] : values) {
      if (resource.configuration_keys.has_value() && !resource.configuration_keys->empty() &&
          std::find(resource.configuration_keys->begin(), resource.configuration_keys->end(), name) ==
              resource.configuration_keys->end()) {
        continue;
      }
      kafka::DescribeConfigsResponse::DescribeConfigsResourceResult entry;
      entry.name = name;
      entry.value = value;
      const bool overridden = overrides.count(name) > 0;
      entry.read_only = resource.resource_type == kResourceBroker;
      entry.is_default = !overridden && resource.resource_type == kResourceTopic;
      entry.config_source = resource.resource_type == kResourceBroker ? kSourceStaticBroker
                            : overridden                           ? kSourceDynamicTopic
                                                                   : kSourceDefault;
      entry.documentation = std::nullopt;
      result.configs.push_back(std::move(entry));
    }
    response.results.push_back(std::move(result));
  }
  call.responder.Send(EncodeResponse(call.header, response));
}

}  // namespace eddy::net
