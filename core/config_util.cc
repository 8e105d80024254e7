#include "core/config_util.h"

namespace eddy::config_util {

absl::Status ParseBool(absl::string_view name, absl::string_view value, bool* out) {
  if (value == "true") {
    *out = true;
  } else if (value == "false") {
    *out = false;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("invalid value '", value, "' for ", name, ": expected true or false"));
  }
  return absl::OkStatus();
}

}  // namespace eddy::config_util
