// Request and response framing on top of the generated messages: how the network layer turns a frame into
// a request header and body, and a response body into a frame.
//
// A Kafka frame is an int32 size followed by that many bytes. Requests: header (RequestHeader v1 or v2, see
// RequestHeaderVersion) then the body. Responses: header (ResponseHeader v0 or v1; ApiVersions always v0)
// then the body. Decoding a request:
//
//   Reader reader(frame);                       // the bytes after the size prefix
//   RequestHeader header;
//   EDDY_RETURN_IF_ERROR(DecodeRequestHeader(reader, &header));
//   if (!IsSupportedVersion(header.request_api_key, header.request_api_version)) ...  // supported_apis.h
//   VisitApi(header.request_api_key, [&](auto api) {
//     typename decltype(api)::Request request;
//     absl::Status s = request.Decode(reader, header.request_api_version);  // records: views into frame
//     ...
//   });
//
// Bytes left after the body are the caller's call (reader.remaining()). Functions only: thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "broker/kafka/reader.h"
#include "broker/kafka/writer.h"
#include "broker/kafka/kafka_messages.h"

namespace eddy::kafka {

// Reads the request header at the start of `reader` (a frame without its size prefix), in the header
// version its api key and version call for, and leaves `reader` at the body. For an api without codecs
// it still reads the v1 layout (key, version, correlation id, client id) so the caller can log and close,
// and returns kInvalidArgument "unknown api key N". Truncated or malformed input: kInvalidArgument.
[[nodiscard]] absl::Status DecodeRequestHeader(Reader& reader, RequestHeader* header);

// Appends a whole request frame (size, header in the right version, body): what a client sends. Used by
// tests and the fuzzer; the network layer only needs it for its own client side.
template <typename Request>
void EncodeRequestFrame(const RequestHeader& header, const Request& body, Writer& writer) {
  const size_t frame = writer.BeginFrame();
  header.Encode(writer, RequestHeaderVersion(Request::kApiKey, header.request_api_version));
  body.Encode(writer, header.request_api_version);
  writer.EndFrame(frame);
}

// Appends a whole response frame: size, ResponseHeader{correlation_id} in the version the api and
// `api_version` call for, and `body` at `api_version`. External records in the body become the writer's
// splices (writer.h), and the size counts them.
template <typename Response>
void EncodeResponseFrame(int32_t correlation_id, int16_t api_version, const Response& body, Writer& writer) {
  const size_t frame = writer.BeginFrame();
  ResponseHeader header;
  header.correlation_id = correlation_id;
  header.Encode(writer, ResponseHeaderVersion(Response::kApiKey, api_version));
  body.Encode(writer, api_version);
  writer.EndFrame(frame);
}

}  // namespace eddy::kafka
