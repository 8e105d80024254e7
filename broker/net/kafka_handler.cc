#include "broker/net/kafka_handler.h"

#include <stdio.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "broker/kafka/supported_apis.h"
#include "broker/net/fetch_purgatory.h"
#include "broker/net/kafka_response.h"
#include "broker/net/serial_worker.h"
#include "broker/group_coordinator.h"
#include "broker/log_manager.h"

namespace eddy::net {

using broker::ErrorCode;
namespace api = kafka::api_keys;

KafkaHandler::KafkaHandler(broker::BrokerImpl* broker, KafkaHandlerOptions options)
    : broker_(broker), options_(std::move(options)) {
  // Producer ids must not repeat across restarts (clients keep theirs, and the logs keep their
  // sequences): start past every id the logs hold, and past the clock in microseconds, which is beyond
  // any earlier run's allocations unless the clock went back.
  next_producer_id_.store(std::max(NowMs() * 1000, broker_->log_manager().MaxProducerId() + 1));
  purgatory_ = std::make_unique<FetchPurgatory>(&broker_->notifier());
  admin_ = std::make_unique<SerialWorker>("eddy-admin");
}

KafkaHandler::~KafkaHandler() { purgatory_->Shutdown(); }

void KafkaHandler::OnShutdown() {
  purgatory_->Shutdown();
  broker_->coordinator().Shutdown();
}

void KafkaHandler::Log(absl::string_view line) const {
  if (options_.log) {
    options_.log(line);
    return;
  }
  fprintf(stderr, "eddy: %.*s\n", static_cast<int>(line.size()), line.data());
}

int64_t KafkaHandler::NowMs() const {
  return options_.now_ms ? options_.now_ms() : absl::ToUnixMillis(absl::Now());
}

void KafkaHandler::Refuse(Call& call, absl::string_view why) {
  Log(absl::StrCat("closing connection from ", call.peer, ": ", why));
  call.responder.Close();
}

void KafkaHandler::Handle(const RequestContext& context, RequestFrame frame, Responder responder) {
  Call call{kafka::RequestHeader(), std::move(frame), std::string(context.peer), std::move(responder)};
  kafka::Reader reader(call.frame.view());
  absl::Status s = kafka::DecodeRequestHeader(reader, &call.header);
  if (!s.ok()) {
    Refuse(call, absl::StrCat("malformed request: ", s.message()));
    return;
  }
  const int16_t key = call.header.request_api_key;
  const int16_t version = call.header.request_api_version;
  if (key == api::kApiVersions) {
    HandleApiVersions(std::move(call), reader);
    return;
  }
  if (kafka::IsRefusedVersion(key, version)) {
    HandleRefused(std::move(call), reader);
    return;
  }
  if (!kafka::IsSupportedVersion(key, version)) {
    const kafka::ApiVersionRange* range = kafka::FindSupportedApi(key);
    Refuse(call, absl::StrCat(kafka::ApiName(key), " v", version, " is not supported (versions ",
                              range == nullptr ? "none" : absl::StrCat(range->min_version, "-", range->max_version),
                              ")"));
    return;
  }
  switch (key) {
    case api::kProduce: return HandleProduce(std::move(call), reader);
    case api::kFetch: return HandleFetch(std::move(call), reader);
    case api::kListOffsets: return HandleListOffsets(std::move(call), reader);
    case api::kMetadata: return HandleMetadata(std::move(call), reader);
    case api::kOffsetCommit: return HandleOffsetCommit(std::move(call), reader);
    case api::kOffsetFetch: return HandleOffsetFetch(std::move(call), reader);
    case api::kFindCoordinator: return HandleFindCoordinator(std::move(call), reader);
    case api::kJoinGroup: return HandleJoinGroup(std::move(call), reader);
    case api::kHeartbeat: return HandleHeartbeat(std::move(call), reader);
    case api::kLeaveGroup: return HandleLeaveGroup(std::move(call), reader);
    case api::kSyncGroup: return HandleSyncGroup(std::move(call), reader);
    case api::kDescribeGroups: return HandleDescribeGroups(std::move(call), reader);
    case api::kListGroups: return HandleListGroups(std::move(call), reader);
    case api::kCreateTopics: return HandleCreateTopics(std::move(call), reader);
    case api::kDeleteTopics: return HandleDeleteTopics(std::move(call), reader);
    case api::kInitProducerId: return HandleInitProducerId(std::move(call), reader);
    case api::kDescribeConfigs: return HandleDescribeConfigs(std::move(call), reader);
    default:
      // IsSupportedVersion is true only for the apis above.
      Refuse(call, absl::StrCat("api key ", key, " has no handler"));
  }
}

void KafkaHandler::HandleApiVersions(Call call, kafka::Reader& reader) {
  kafka::ApiVersionsResponse response;
  for (const kafka::ApiVersionRange& r : kafka::SupportedApis()) {
    kafka::ApiVersionsResponse::ApiVersion v;
    v.api_key = r.api_key;
    v.min_version = kafka::AdvertisedMinVersion(r);
    v.max_version = r.max_version;
    response.api_keys.push_back(v);
  }
  if (!kafka::IsSupportedVersion(api::kApiVersions, call.header.request_api_version)) {
    // Kafka's answer to a client newer than the broker: UNSUPPORTED_VERSION in the v0 shape, with the
    // versions it does serve, so the client retries with one of them.
    response.error_code = Code(ErrorCode::kUnsupportedVersion);
    call.responder.Send(EncodeResponse(call.header, response, /*version=*/0));
    return;
  }
  kafka::ApiVersionsRequest request;
  if (!DecodeBody(call, reader, &request)) return;
  call.responder.Send(EncodeResponse(call.header, response));
}

void KafkaHandler::HandleFindCoordinator(Call call, kafka::Reader& reader) {
  kafka::FindCoordinatorRequest request;
  if (!DecodeBody(call, reader, &request)) return;
  kafka::FindCoordinatorResponse response;
  response.error_message = std::nullopt;
  if (request.key_type != 0) {
    // Transaction coordinators: Eddy has no transactions.
    Log(absl::StrCat("refusing FindCoordinator from ", call.peer, ": key type ", request.key_type, " (key '",
                     request.key, "'), and Eddy has only group coordinators (no transactions)"));
    response.error_code = Code(ErrorCode::kTransactionalIdAuthorizationFailed);
    response.error_message = "Eddy does not support transactions";
    response.node_id = -1;
    response.port = -1;
  } else {
    response.node_id = options_.node_id;
    response.host = options_.advertised_host;
    response.port = options_.advertised_port;
  }
  call.responder.Send(EncodeResponse(call.header, response));
}

void KafkaHandler::HandleInitProducerId(Call call, kafka::Reader& reader) {
  kafka::InitProducerIdRequest request;
  if (!DecodeBody(call, reader, &request)) return;
  kafka::InitProducerIdResponse response;
  if (request.transactional_id.has_value()) {
    Log(absl::StrCat("refusing InitProducerId from ", call.peer, ": transactional id '", *request.transactional_id,
                     "' given, and Eddy does not support transactions"));
    response.error_code = Code(ErrorCode::kTransactionalIdAuthorizationFailed);
    response.producer_id = -1;
    response.producer_epoch = -1;
  } else {
    response.producer_id = next_producer_id_.fetch_add(1);
    response.producer_epoch = 0;
  }
  call.responder.Send(EncodeResponse(call.header, response));
}

}  // namespace eddy::net
