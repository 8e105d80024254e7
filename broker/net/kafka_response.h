// Helpers shared by the Kafka API handlers: encoding a generated response struct into a net::Response
// (with record bytes spliced in as their own parts, never copied into the encoded buffer), Kafka error
// codes from Eddy's statuses, and small conversions.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "broker/error_code.h"
#include "broker/kafka/frame.h"
#include "broker/net/request_handler.h"

namespace eddy::net {

// EncodeResponse: the response frame (size, response header, body) to the request with `header`.
template <typename Body>
Response EncodeResponse(const kafka::RequestHeader& header, const Body& body, int16_t version) {
  std::string out;
  kafka::Writer writer(&out);
  kafka::EncodeResponseFrame(header.correlation_id, version, body, writer);
  return Response::WithSizePrefix(std::move(out));
}
template <typename Body>
Response EncodeResponse(const kafka::RequestHeader& header, const Body& body) {
  return EncodeResponse(header, body, header.request_api_version);
}

// EncodeResponseWithRecords: as EncodeResponse, for a body whose records fields are
// RecordsRef::External(records[i].size(), i): the parts of each records[i] (bytes or file ranges) are
// moved in at its place, never copied into the encoded buffer.
template <typename Body>
Response EncodeResponseWithRecords(const kafka::RequestHeader& header, const Body& body,
                                   std::vector<Response>* records) {
  std::string out;
  kafka::Writer writer(&out);
  kafka::EncodeResponseFrame(header.correlation_id, header.request_api_version, body, writer);
  std::vector<kafka::Writer::Splice> splices = writer.splices();
  if (splices.empty()) return Response::WithSizePrefix(std::move(out));
  std::sort(splices.begin(), splices.end(),
            [](const kafka::Writer::Splice& a, const kafka::Writer::Splice& b) { return a.offset < b.offset; });
  // The encoded pieces after the first splice are small (partition headers); the first piece keeps `out`'s
  // buffer, truncated, so the bulk of the encoding is not copied either.
  std::vector<std::string> tails;
  for (size_t i = 0; i < splices.size(); ++i) {
    const size_t begin = splices[i].offset;
    const size_t end = i + 1 < splices.size() ? splices[i + 1].offset : out.size();
    tails.push_back(out.substr(begin, end - begin));
  }
  out.resize(splices[0].offset);
  Response response = Response::WithSizePrefix(std::move(out));
  for (size_t i = 0; i < splices.size(); ++i) {
    response.AppendParts(std::move((*records)[splices[i].token]));
    response.Append(std::move(tails[i]));
  }
  return response;
}

inline int16_t Code(broker::ErrorCode e) { return static_cast<int16_t>(e); }

// The client's host as Kafka reports it in group descriptions: "/127.0.0.1" (the peer without its port).
inline std::string ClientHost(absl::string_view peer) {
  size_t colon = peer.rfind(':');
  absl::string_view host = colon == absl::string_view::npos ? peer : peer.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return absl::StrCat("/", host);
}

// Kafka's error for a failed topic lookup or partition operation: the code the status carries
// (broker::WithKafkaError, as PartitionLog::Append attaches), else one derived from its canonical code.
inline broker::ErrorCode TopicErrorCode(const absl::Status& s) {
  if (std::optional<broker::ErrorCode> code = broker::KafkaErrorOf(s); code.has_value()) return *code;
  switch (s.code()) {
    case absl::StatusCode::kOk:
      return broker::ErrorCode::kNone;
    case absl::StatusCode::kNotFound:
      return broker::ErrorCode::kUnknownTopicOrPartition;
    case absl::StatusCode::kOutOfRange:
      return broker::ErrorCode::kOffsetOutOfRange;
    case absl::StatusCode::kDataLoss:
      return broker::ErrorCode::kCorruptMessage;
    case absl::StatusCode::kResourceExhausted:
      return broker::ErrorCode::kKafkaStorageError;
    case absl::StatusCode::kInvalidArgument:
      return broker::ErrorCode::kInvalidRecord;
    case absl::StatusCode::kFailedPrecondition:  // the log is closed: the broker is shutting down
      return broker::ErrorCode::kNotLeaderOrFollower;
    default:
      return broker::ErrorCode::kUnknownServerError;
  }
}

}  // namespace eddy::net
