// The APIs Eddy refuses with Kafka's error codes instead of serving them (kafka::RefusedApis, never
// advertised in ApiVersions): SASL on this plaintext-only broker, and transactions. Each refusal logs one
// line naming the peer. docs/kafka-protocol.md lists them with their codes.
//   SaslHandshake      UNSUPPORTED_SASL_MECHANISM (33) with an empty list of enabled mechanisms
//   SaslAuthenticate   ILLEGAL_SASL_STATE (34): no handshake can have succeeded
//   AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit
//                      TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53), per partition where the response has
//                      partitions, as InitProducerId with a transactional id and FindCoordinator for a
//                      transaction coordinator already answer: a fatal error for the client, which stops
//                      at once instead of retrying a coordinator that will never exist.
//   DescribeClientQuotas, AlterClientQuotas
//                      UNSUPPORTED_VERSION (35), per entry for Alter, with a message: quotas are not
//                      enforced, and Kafka's admin clients report 35 as "the broker does not support" the API.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "broker/net/kafka_handler.h"
#include "broker/net/kafka_response.h"

namespace eddy::net {
namespace {

using broker::ErrorCode;

constexpr ErrorCode kNoTransactions = ErrorCode::kTransactionalIdAuthorizationFailed;
constexpr absl::string_view kNoQuotas = "Eddy does not support client quotas (none are enforced)";

template <typename TopicIn, typename TopicOut>
void RefuseTopics(const std::vector<TopicIn>& in, std::vector<TopicOut>* out) {
  for (const TopicIn& t : in) {
    TopicOut r;
    r.name = t.name;
    for (int32_t p : t.partitions) {
      r.results_by_partition.emplace_back();
      r.results_by_partition.back().partition_index = p;
      r.results_by_partition.back().partition_error_code = Code(kNoTransactions);
    }
    out->push_back(std::move(r));
  }
}

}  // namespace

void KafkaHandler::HandleRefused(Call call, kafka::Reader& reader) {
  const int16_t key = call.header.request_api_key;
  const std::string what = absl::StrCat(kafka::ApiName(key), " v", call.header.request_api_version);
  switch (key) {
    case kafka::api_keys::kSaslHandshake: {
      kafka::SaslHandshakeRequest request;
      if (!DecodeBody(call, reader, &request)) return;
      Log(absl::StrCat("refusing ", what, " from ", call.peer, ": SASL mechanism '", request.mechanism,
                       "' requested, and this listener is PLAINTEXT (no SASL mechanisms)"));
      kafka::SaslHandshakeResponse response;
      response.error_code = Code(ErrorCode::kUnsupportedSaslMechanism);
      call.responder.Send(EncodeResponse(call.header, response));
      return;
    }
    case kafka::api_keys::kSaslAuthenticate: {
      kafka::SaslAuthenticateRequest request;
      if (!DecodeBody(call, reader, &request)) return;
      Log(absl::StrCat("refusing ", what, " from ", call.peer, ": no SASL handshake (this listener is PLAINTEXT)"));
      kafka::SaslAuthenticateResponse response;
      response.error_code = Code(ErrorCode::kIllegalSaslState);
      response.error_message = "Eddy's listener is PLAINTEXT: SASL is not supported";
      call.responder.Send(EncodeResponse(call.header, response));
      return;
    }
    case kafka::api_keys::kDescribeClientQuotas: {
      kafka::DescribeClientQuotasRequest request;
      if (!DecodeBody(call, reader, &request)) return;
      Log(absl::StrCat("refusing ", what, " from ", call.peer, ": Eddy does not support client quotas"));
      kafka::DescribeClientQuotasResponse response;
      response.error_code = Code(ErrorCode::kUnsupportedVersion);
      response.error_message = std::string(kNoQuotas);
      response.entries = std::nullopt;
      call.responder.Send(EncodeResponse(call.header, response));
      return;
    }
    case kafka::api_keys::kAlterClientQuotas: {
      kafka::AlterClientQuotasRequest request;
      if (!DecodeBody(call, reader, &request)) return;
      Log(absl::StrCat("refusing ", what, " from ", call.peer, ": Eddy does not support client quotas"));
      kafka::AlterClientQuotasResponse response;
      for (const auto& e : request.entries) {
        response.entries.emplace_back();
        response.entries.back().error_code = Code(ErrorCode::kUnsupportedVersion);
        response.entries.back().error_message = std::string(kNoQuotas);
        for (const auto& entity : e.entity) {
          response.entries.back().entity.emplace_back();
          response.entries.back().entity.back().entity_type = entity.entity_type;
          response.entries.back().entity.back().entity_name = entity.entity_name;
        }
      }
      call.responder.Send(EncodeResponse(call.header, response));
      return;
    }
    default:
      break;
  }
  Log(absl::StrCat("refusing ", what, " from ", call.peer, ": Eddy does not support transactions"));
  switch (key) {
    case kafka::api_keys::kAddPartitionsToTxn: {
      kafka::AddPartitionsToTxnRequest request;
      if (!DecodeBody(call, reader, &request)) return;
      kafka::AddPartitionsToTxnResponse response;
      RefuseTopics(request.v3_and_below_topics, &response.results_by_topic_v3_and_below);
      for (const auto& txn : request.transactions) {
        response.results_by_transaction.emplace_back();
        response.results_by_transaction.back().transactional_id = txn.transactional_id;
        RefuseTopics(txn.topics, &response.results_by_transaction.back().topic_results);
      }
      call.responder.Send(EncodeResponse(call.header, response));
      return;
    }
    case kafka::api_keys::kAddOffsetsToTxn: {
      kafka::AddOffsetsToTxnRequest request;
      if (!DecodeBody(call, reader, &request)) return;
      kafka::AddOffsetsToTxnResponse response;
      response.error_code = Code(kNoTransactions);
      call.responder.Send(EncodeResponse(call.header, response));
      return;
    }
    case kafka::api_keys::kEndTxn: {
      kafka::EndTxnRequest request;
      if (!DecodeBody(call, reader, &request)) return;
      kafka::EndTxnResponse response;
      response.error_code = Code(kNoTransactions);
      call.responder.Send(EncodeResponse(call.header, response));
      return;
    }
    case kafka::api_keys::kTxnOffsetCommit: {
      kafka::TxnOffsetCommitRequest request;
      if (!DecodeBody(call, reader, &request)) return;
      kafka::TxnOffsetCommitResponse response;
      for (const auto& t : request.topics) {
        response.topics.emplace_back();
        response.topics.back().name = t.name;
        for (const auto& p : t.partitions) {
          response.topics.back().partitions.emplace_back();
          response.topics.back().partitions.back().partition_index = p.partition_index;
          response.topics.back().partitions.back().error_code = Code(kNoTransactions);
        }
      }
      call.responder.Send(EncodeResponse(call.header, response));
      return;
    }
    default:
      // IsRefusedVersion is true only for the apis above.
      Refuse(call, absl::StrCat("api key ", key, " has no handler"));
  }
}

}  // namespace eddy::net
