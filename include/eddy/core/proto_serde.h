// ProtoSerde<M>: a serde for a protobuf message type, in protobuf's binary wire format (what Kafka users'
// protobuf serializers write, minus any schema-registry framing).
#pragma once

#include <climits>
#include <concepts>
#include <string>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "eddy/core/serde.h"

namespace eddy {

// Stateless, so thread-safe. Serialize fails (kInvalidArgument) when M is not initialized (a proto2 required
// field is missing) or too large for protobuf (2 GiB); Deserialize fails (kInvalidArgument) on bytes that do
// not parse as M. Serialize returns absl::Status, so generic code calls it through SerializeWith().
template <typename M>
  requires std::derived_from<M, google::protobuf::Message>
class ProtoSerde {
 public:
  using Type = M;

  [[nodiscard]] absl::Status Serialize(const M& v, std::string* out) const {
    // Checked first: SerializeToString CHECK-fails (aborts) on a message missing required fields.
    if (!v.IsInitialized()) {
      out->clear();
      return absl::InvalidArgumentError(absl::StrCat("cannot serialize ", v.GetTypeName(),
                                                     ": missing required fields: ", v.InitializationErrorString()));
    }
    if (!v.SerializeToString(out)) {  // replaces *out
      out->clear();
      return absl::InvalidArgumentError(absl::StrCat("cannot serialize ", v.GetTypeName(), ": over 2 GiB"));
    }
    return absl::OkStatus();
  }

  absl::Status Deserialize(absl::string_view in, M* out) const {
    // ParsePartial + IsInitialized rather than ParseFromArray, which also logs every failure.
    if (in.size() > static_cast<size_t>(INT_MAX) ||
        !out->ParsePartialFromArray(in.data(), static_cast<int>(in.size()))) {
      return absl::InvalidArgumentError(absl::StrCat("cannot parse ", in.size(), " bytes as ", out->GetTypeName()));
    }
    if (!out->IsInitialized()) {
      return absl::InvalidArgumentError(absl::StrCat("parsed ", out->GetTypeName(),
                                                     " is missing required fields: ", out->InitializationErrorString()));
    }
    return absl::OkStatus();
  }
};

}  // namespace eddy
