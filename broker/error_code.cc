#include "broker/error_code.h"

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace eddy::broker {
namespace {
constexpr absl::string_view kKafkaErrorPayload = "type.eddy.dev/kafka-error-code";
}  // namespace

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

absl::Status WithKafkaError(absl::Status status, ErrorCode code) {
  status.SetPayload(kKafkaErrorPayload, absl::Cord(absl::StrCat(static_cast<int>(code))));
  return status;
}

std::optional<ErrorCode> KafkaErrorOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kKafkaErrorPayload);
  int code = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &code)) return std::nullopt;
  return static_cast<ErrorCode>(code);
}

}  // namespace eddy::broker
