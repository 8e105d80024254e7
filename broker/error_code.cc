#include "broker/error_code.h"

#include "absl/strings/str_cat.h"

namespace eddy::broker {

const char* ErrorName(ErrorCode code) {
  switch (code) {
#define EDDY_KAFKA_ERROR_NAME_(name, number, kafka_name, status) \
  case ErrorCode::name:                                          \
    return kafka_name;
    EDDY_KAFKA_ERRORS(EDDY_KAFKA_ERROR_NAME_)
#undef EDDY_KAFKA_ERROR_NAME_
  }
  return "UNKNOWN_ERROR_CODE";
}

bool IsKnownErrorCode(int16_t code) {
  switch (static_cast<ErrorCode>(code)) {
#define EDDY_KAFKA_ERROR_KNOWN_(name, number, kafka_name, status) case ErrorCode::name:
    EDDY_KAFKA_ERRORS(EDDY_KAFKA_ERROR_KNOWN_)
#undef EDDY_KAFKA_ERROR_KNOWN_
    return true;
  }
  return false;
}

absl::Status ToStatus(ErrorCode code, absl::string_view context) {
  absl::StatusCode status_code = absl::StatusCode::kInternal;
  switch (code) {
#define EDDY_KAFKA_ERROR_STATUS_(name, number, kafka_name, status) \
  case ErrorCode::name:                                            \
    status_code = absl::StatusCode::status;                        \
    break;
    EDDY_KAFKA_ERRORS(EDDY_KAFKA_ERROR_STATUS_)
#undef EDDY_KAFKA_ERROR_STATUS_
  }
  if (status_code == absl::StatusCode::kOk) return absl::OkStatus();
  return absl::Status(status_code, absl::StrCat(context, context.empty() ? "" : ": ", ErrorName(code), " (",
                                                static_cast<int>(code), ")"));
}

}  // namespace eddy::broker
