// Out-of-line error paths of the serdes in serde.h (keeps absl::StrCat out of the header).
#include "eddy/core/serde.h"

#include "absl/strings/str_cat.h"

namespace eddy::serde_internal {

absl::Status WrongSize(absl::string_view serde, size_t want, size_t got) {
  return absl::InvalidArgumentError(absl::StrCat(serde, ": expected ", want, " bytes, got ", got));
}

}  // namespace eddy::serde_internal
