#include "broker/kafka/frame.h"

#include "absl/strings/str_cat.h"

namespace eddy::kafka {

absl::Status DecodeRequestHeader(Reader& reader, RequestHeader* header) {
  // The api key and version come first in every header version: peek them to pick the version.
  Reader peek(reader.rest());
  int16_t api_key = 0;
  int16_t api_version = 0;
  if (!peek.ReadInt16(&api_key) || !peek.ReadInt16(&api_version)) {
    return absl::InvalidArgumentError(
        absl::StrCat("RequestHeader: need 4 bytes for api key and version, ", reader.remaining(), " remaining"));
  }
  const int16_t header_version = RequestHeaderVersion(api_key, api_version);
  if (header_version < 0) {
    if (absl::Status s = header->Decode(reader, 1); !s.ok()) return s;
    return absl::InvalidArgumentError(absl::StrCat("unknown api key ", api_key));
  }
  return header->Decode(reader, header_version);
}

}  // namespace eddy::kafka
