#include "broker/kafka/request_check.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "broker/kafka/frame.h"
#include "broker/kafka/supported_apis.h"

namespace eddy::kafka {
namespace {

// Encodes `m`, decodes the bytes, encodes the result: both must match.
template <typename Message>
absl::Status CheckRoundTrip(const Message& m, int16_t version) {
  std::string first;
  Writer w1(&first);
  m.Encode(w1, version);
  Reader r(first);
  Message again;
  if (absl::Status s = again.Decode(r, version); !s.ok()) {
    return absl::InternalError(absl::StrCat("re-decoding an encoded message failed: ", s.message()));
  }
  if (r.remaining() != 0) return absl::InternalError(absl::StrCat(Message::kName, ": re-decode left bytes"));
  if (!(again == m)) return absl::InternalError(absl::StrCat(Message::kName, " changed in a round trip"));
  std::string second;
  Writer w2(&second);
  again.Encode(w2, version);
  if (second != first) return absl::InternalError(absl::StrCat(Message::kName, ": encoding is not stable"));
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckRequestFrame(absl::string_view frame) {
  Reader reader(frame);
  RequestHeader header;
  if (absl::Status s = DecodeRequestHeader(reader, &header); !s.ok()) return s;
  const int16_t version = header.request_api_version;
  if (!IsSupportedVersion(header.request_api_key, version)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported api ", header.request_api_key, " v", version));
  }
  const absl::string_view body = reader.rest();
  absl::Status result;
  VisitApi(header.request_api_key, [&](auto api) {
    // The client side: the same bytes as a response body. Only its safety matters here.
    typename decltype(api)::Response response;
    Reader response_reader(body);
    if (response.Decode(response_reader, version).ok()) {
      if (absl::Status s = CheckRoundTrip(response, version); !s.ok()) {
        result = s;
        return;
      }
    }
    typename decltype(api)::Request request;
    result = request.Decode(reader, version);
    if (result.ok()) result = CheckRoundTrip(request, version);
  });
  if (result.ok()) {
    const int16_t header_version = RequestHeaderVersion(header.request_api_key, version);
    return CheckRoundTrip(header, header_version);
  }
  return result;
}

}  // namespace eddy::kafka
