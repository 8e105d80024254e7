// Produce (v3-7): appends each partition's record batches with PartitionLog::Append (which checks sizes,
// framing, CRC-32C and the idempotent producer's sequences, assigns offsets and names the Kafka error of a
// refusal), and answers per acks: 1 after the appends, -1 (all) once every appended partition is fsynced
// (LogManager::RequestFlush, group commit), 0 never (a failed acks=0 produce closes the connection, as
// Kafka does, so the producer notices).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "broker/log_manager.h"
#include "broker/net/kafka_handler.h"
#include "broker/net/kafka_response.h"
#include "broker/partition_log.h"
#include "eddy/core/record_batch_format.h"

namespace eddy::net {
namespace {

using broker::ErrorCode;
namespace bf = ::eddy::batch_format;

// What only the protocol layer can check, per batch: zstd only from Produce v7, and no transactional
// batches. Everything else (sizes, framing, CRC, sequences) is PartitionLog::Append's, which says which
// Kafka error a refusal is. A batch whose framing is broken stops the walk: Append reports it.
ErrorCode CheckProtocolRules(absl::string_view records, int16_t version, std::string* why) {
  for (size_t at = 0; records.size() - at >= static_cast<size_t>(bf::kHeaderSize);) {
    const BatchHeaderView h(records.data() + at);
    const int64_t size = h.size_in_bytes();
    if (size < bf::kHeaderSize || static_cast<size_t>(size) > records.size() - at) break;
    if (h.compression() == Compression::kZstd && version < 7) {
      *why = absl::StrCat("zstd-compressed batch in a Produce v", version, " request (zstd needs v7)");
      return ErrorCode::kUnsupportedCompressionType;
    }
    if (h.is_transactional()) {
      *why = "transactional record batch (Eddy does not support transactions)";
      return ErrorCode::kTransactionalIdAuthorizationFailed;
    }
    at += static_cast<size_t>(size);
  }
  return ErrorCode::kNone;
}

// An acks=all produce waiting for its partitions to be fsynced.
struct PendingProduce {
  absl::Mutex mu;
  int pending ABSL_GUARDED_BY(mu) = 0;
  kafka::ProduceResponse response ABSL_GUARDED_BY(mu);
  kafka::RequestHeader header;
  Responder responder;
};

}  // namespace

void KafkaHandler::HandleProduce(Call call, kafka::Reader& reader) {
  kafka::ProduceRequest request;
  if (!DecodeBody(call, reader, &request)) return;
  const int16_t version = call.header.request_api_version;
  const int16_t acks = request.acks;
  const bool acks_valid = acks == -1 || acks == 0 || acks == 1;
  const int64_t now = NowMs();

  kafka::ProduceResponse response;
  struct ToFlush {
    std::shared_ptr<broker::PartitionLog> log;
    int64_t last_offset;
    size_t topic;
    size_t partition;
  };
  std::vector<ToFlush> to_flush;
  std::string first_error;
  bool appended = false;
  for (auto& topic : request.topic_data) {
    kafka::ProduceResponse::TopicProduceResponse tr;
    tr.name = topic.name;
    for (auto& data : topic.partition_data) {
      kafka::ProduceResponse::PartitionProduceResponse pr;
      pr.index = data.index;
      pr.base_offset = -1;
      pr.log_append_time_ms = -1;
      pr.log_start_offset = -1;
      std::string why;
      ErrorCode error = ErrorCode::kNone;
      std::shared_ptr<broker::PartitionLog> log;
      if (!acks_valid) {
        error = ErrorCode::kInvalidRequiredAcks;
        why = absl::StrCat("acks=", acks, " (must be -1, 0 or 1)");
      } else if (request.transactional_id.has_value()) {
        error = ErrorCode::kTransactionalIdAuthorizationFailed;
        why = "transactional produce (Eddy does not support transactions)";
      } else if (topic.name == broker::kOffsetsTopic) {
        error = ErrorCode::kInvalidTopicException;
        why = "cannot append to the internal topic __consumer_offsets";
      } else if (absl::StatusOr<std::shared_ptr<broker::PartitionLog>> got = broker_->GetLog(topic.name, data.index);
                 !got.ok()) {
        error = ErrorCode::kUnknownTopicOrPartition;
        why = std::string(got.status().message());
      } else {
        log = *std::move(got);
        error = CheckProtocolRules(data.records.bytes(), version, &why);
      }
      if (error == ErrorCode::kNone) {
        // The batches are views into the request frame, which this handler owns: the log stamps offsets
        // into them in place.
        absl::string_view bytes = data.records.bytes();
        absl::Span<char> batches(const_cast<char*>(bytes.data()), bytes.size());
        absl::StatusOr<broker::AppendResult> result = log->Append(batches, now, /*verify_crc=*/true);
        if (!result.ok()) {
          error = TopicErrorCode(result.status());
          why = std::string(result.status().message());
        } else {
          // A retry (result->duplicate) is answered as the original was, once that is durable for acks=all.
          appended |= !result->duplicate;
          pr.base_offset = result->first_offset;
          pr.log_append_time_ms = result->log_append_time;
          pr.log_start_offset = result->log_start_offset;
          if (acks == -1) {
            to_flush.push_back(ToFlush{log, result->last_offset, response.responses.size(), tr.partition_responses.size()});
          }
        }
      }
      if (error != ErrorCode::kNone) {
        pr.error_code = Code(error);
        const std::string line = absl::StrCat("refusing produce to ", topic.name, "-", data.index, " from ", call.peer,
                                              ": ", broker::ErrorName(error), ": ", why);
        if (first_error.empty()) first_error = line;
        // Out-of-order and unknown-producer answers are part of the idempotent protocol, not refusals.
        if (error != ErrorCode::kOutOfOrderSequenceNumber && error != ErrorCode::kUnknownProducerId) Log(line);
      }
      tr.partition_responses.push_back(std::move(pr));
    }
    response.responses.push_back(std::move(tr));
  }
  if (appended) broker_->notifier().Notify();

  if (acks == 0) {
    if (first_error.empty()) {
      call.responder.SendNothing();
    } else {
      Refuse(call, "acks=0 produce failed");
    }
    return;
  }
  if (to_flush.empty()) {
    call.responder.Send(EncodeResponse(call.header, response));
    return;
  }
  auto pending = std::make_shared<PendingProduce>();
  pending->header = call.header;
  pending->responder = std::move(call.responder);
  {
    absl::MutexLock lock(&pending->mu);
    pending->pending = static_cast<int>(to_flush.size());
    pending->response = std::move(response);
  }
  broker::LogManager& logs = broker_->log_manager();
  for (ToFlush& f : to_flush) {
    logs.RequestFlush(std::move(f.log), f.last_offset, [pending, t = f.topic, p = f.partition](absl::Status s) {
      kafka::ProduceResponse done;
      {
        absl::MutexLock lock(&pending->mu);
        if (!s.ok()) {
          pending->response.responses[t].partition_responses[p].error_code = Code(ErrorCode::kKafkaStorageError);
        }
        if (--pending->pending > 0) return;
        done = std::move(pending->response);
      }
      pending->responder.Send(EncodeResponse(pending->header, done));
    });
  }
}

}  // namespace eddy::net
