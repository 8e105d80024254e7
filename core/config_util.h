// Parsing of Kafka-style string configs ("linger.ms" = "5") into typed fields, shared by the client configs.
#pragma once

#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace eddy::config_util {

// ParseInt parses `value` as an integer in [min, max] into *out; kInvalidArgument names the key otherwise.
template <typename T>
absl::Status ParseInt(absl::string_view name, absl::string_view value, int64_t min, int64_t max, T* out) {
  int64_t v;
  if (!absl::SimpleAtoi(value, &v) || v < min || v > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid value '", value, "' for ", name, ": expected an integer in [", min, ", ", max, "]"));
  }
  *out = static_cast<T>(v);
  return absl::OkStatus();
}

absl::Status ParseBool(absl::string_view name, absl::string_view value, bool* out);

}  // namespace eddy::config_util
