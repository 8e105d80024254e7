// Fetch (v4-11) and ListOffsets (v1-3). A fetch takes whole batches from each partition's log (at least one
// for the first partition with data, as Kafka does) as file ranges of its segments (PartitionLog::ReadSlices),
// which the connection sends with sendfile(2): record data is never read into user space. With
// zero_copy_fetch off, each partition's bytes are read into a string of their own instead (still never
// copied into the encoded buffer). With fewer than
// min_bytes available it parks in the FetchPurgatory until data arrives or max_wait_ms passes.
// Transactions do not exist here, so read_committed sees everything: last_stable_offset = high watermark.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "broker/net/fetch_purgatory.h"
#include "broker/net/kafka_handler.h"
#include "broker/net/kafka_response.h"
#include "broker/partition_log.h"

namespace eddy::net {
namespace {

using broker::ErrorCode;

// One fetch request being answered, perhaps parked and re-evaluated on the purgatory thread.
struct FetchJob {
  kafka::RequestHeader header;
  kafka::FetchRequest request;
  Responder responder;
  // Per partition, in request order: the log, or null with the error to report.
  std::vector<std::shared_ptr<broker::PartitionLog>> logs;
  std::vector<ErrorCode> errors;
  bool zero_copy = true;

  // Whether some partition has data at or past its fetch offset (or an error to report).
  bool MayHaveData() const {
    size_t i = 0;
    for (const auto& topic : request.topics) {
      for (const auto& p : topic.partitions) {
        const broker::PartitionLog* log = logs[i].get();
        if (errors[i] != ErrorCode::kNone || (log != nullptr && log->log_end_offset() != p.fetch_offset)) return true;
        ++i;
      }
    }
    return false;
  }

  // Reads one partition's batches into *data: file ranges, or bytes without zero_copy.
  absl::StatusOr<broker::ReadResult> Read(const broker::PartitionLog& log, int64_t offset, int32_t max_bytes,
                                          std::vector<broker::FileSlice>* slices, Response* data) const {
    if (!zero_copy) {
      std::string bytes;
      absl::StatusOr<broker::ReadResult> read = log.Read(offset, max_bytes, &bytes);
      data->Append(std::move(bytes));
      return read;
    }
    slices->clear();
    absl::StatusOr<broker::ReadResult> read = log.ReadSlices(offset, max_bytes, slices);
    for (broker::FileSlice& s : *slices) {
      const int fd = s.segment->log_fd();
      data->AppendFile(FileRange{std::move(s.segment), fd, s.position, s.length});
    }
    return read;
  }

  // Reads every partition and answers if the result holds min_bytes, an error, or `force`. Returns whether
  // it answered.
  bool TryAnswer(bool force) {
    kafka::FetchResponse response;
    std::vector<Response> records;
    std::vector<broker::FileSlice> slices;
    int64_t total = 0;
    bool any_error = false;
    size_t i = 0;
    for (const auto& topic : request.topics) {
      kafka::FetchResponse::FetchableTopicResponse tr;
      tr.topic = topic.topic;
      tr.topic_id = topic.topic_id;
      for (const auto& p : topic.partitions) {
        kafka::FetchResponse::PartitionData pd;
        pd.partition_index = p.partition;
        pd.high_watermark = -1;
        ErrorCode error = errors[i];
        if (error == ErrorCode::kNone) {
          broker::PartitionLog& log = *logs[i];
          const int64_t remaining = int64_t{request.max_bytes} - total;
          Response data;
          absl::StatusOr<broker::ReadResult> read;
          if (remaining <= 0 && total > 0) {
            // The response is full: report the offsets only (Kafka does the same).
            read = broker::ReadResult{0, log.log_end_offset(), log.log_start_offset()};
          } else {
            const int32_t max = static_cast<int32_t>(std::min<int64_t>(p.partition_max_bytes, std::max<int64_t>(remaining, 1)));
            read = Read(log, p.fetch_offset, max, &slices, &data);
          }
          if (read.ok()) {
            pd.high_watermark = read->high_watermark;
            pd.last_stable_offset = read->high_watermark;
            pd.log_start_offset = read->log_start_offset;
            if (read->bytes > 0) {
              total += read->bytes;
              pd.records = kafka::RecordsRef::External(static_cast<uint32_t>(read->bytes), records.size());
              records.push_back(std::move(data));
            }
          } else {
            error = TopicErrorCode(read.status());
            pd.log_start_offset = log.log_start_offset();
          }
        }
        if (error != ErrorCode::kNone) {
          pd.error_code = Code(error);
          any_error = true;
        }
        tr.partitions.push_back(std::move(pd));
        ++i;
      }
      response.responses.push_back(std::move(tr));
    }
    if (!force && !any_error && total < request.min_bytes) return false;
    responder.Send(EncodeResponseWithRecords(header, response, &records));
    return true;
  }
};

}  // namespace

void KafkaHandler::HandleFetch(Call call, kafka::Reader& reader) {
  auto job = std::make_unique<FetchJob>();
  if (!DecodeBody(call, reader, &job->request)) return;
  job->header = call.header;
  job->zero_copy = options_.zero_copy_fetch;
  const kafka::FetchRequest& request = job->request;
  if (request.session_id != 0 || request.session_epoch > 0) {
    // Incremental fetch sessions (KIP-227) are not kept: the client falls back to full fetches.
    kafka::FetchResponse response;
    response.error_code = Code(ErrorCode::kFetchSessionIdNotFound);
    call.responder.Send(EncodeResponse(call.header, response));
    return;
  }
  for (const auto& topic : request.topics) {
    for (const auto& p : topic.partitions) {
      absl::StatusOr<std::shared_ptr<broker::PartitionLog>> log = broker_->GetLog(topic.topic, p.partition);
      job->logs.push_back(log.ok() ? *std::move(log) : nullptr);
      job->errors.push_back(log.ok() ? ErrorCode::kNone : ErrorCode::kUnknownTopicOrPartition);
    }
  }
  job->responder = std::move(call.responder);
  const uint64_t version = broker_->notifier().version();
  const bool wait = request.max_wait_ms > 0 && request.min_bytes > 0;
  if (job->TryAnswer(/*force=*/!wait)) return;
  const absl::Time deadline = absl::Now() + absl::Milliseconds(request.max_wait_ms);
  purgatory_->Park(version, deadline, [job = std::move(job)](bool deadline_passed) {
    if (!deadline_passed && !job->MayHaveData()) return false;
    return job->TryAnswer(deadline_passed);
  });
}

void KafkaHandler::HandleListOffsets(Call call, kafka::Reader& reader) {
  kafka::ListOffsetsRequest request;
  if (!DecodeBody(call, reader, &request)) return;
  kafka::ListOffsetsResponse response;
  for (const auto& topic : request.topics) {
    kafka::ListOffsetsResponse::ListOffsetsTopicResponse tr;
    tr.name = topic.name;
    for (const auto& p : topic.partitions) {
      kafka::ListOffsetsResponse::ListOffsetsPartitionResponse pr;
      pr.partition_index = p.partition_index;
      absl::StatusOr<std::shared_ptr<broker::PartitionLog>> log = broker_->GetLog(topic.name, p.partition_index);
      if (!log.ok()) {
        pr.error_code = Code(ErrorCode::kUnknownTopicOrPartition);
      } else if (absl::StatusOr<broker::OffsetAndTimestamp> found = (*log)->OffsetForTimestamp(p.timestamp);
                 !found.ok()) {
        pr.error_code = Code(absl::IsInvalidArgument(found.status()) ? ErrorCode::kInvalidRequest
                                                                      : TopicErrorCode(found.status()));
      } else {
        pr.offset = found->offset;
        pr.timestamp = found->timestamp;
      }
      tr.partitions.push_back(std::move(pr));
    }
    response.topics.push_back(std::move(tr));
  }
  call.responder.Send(EncodeResponse(call.header, response));
}

}  // namespace eddy::net
