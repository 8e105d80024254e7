#include "eddy/runtime/error_handlers.h"

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "eddy/runtime/task_id.h"

namespace eddy {

std::string TaskId::ToString() const { return absl::StrCat(subtopology, "_", partition); }

absl::StatusOr<TaskId> TaskId::Parse(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '_');
  TaskId id;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &id.subtopology) ||
      !absl::SimpleAtoi(parts[1], &id.partition) || id.subtopology < 0 || id.partition < 0) {
    return absl::InvalidArgumentError(absl::StrCat("not a task id (<subtopology>_<partition>): \"", text, "\""));
  }
  return id;
}

std::string ToString(const ErrorContext& c) {
  std::string out = absl::StrCat("task ", c.task_id.ToString(), ", node ", c.node);
  if (!c.topic.empty()) absl::StrAppend(&out, ", topic ", c.topic, ", partition ", c.partition, ", offset ", c.offset);
  return out;
}

void LogLine(const LogSink& sink, absl::string_view line) {
  if (sink) {
    sink(line);
    return;
  }
  std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
}

HandlerResponse LogAndFailExceptionHandler::Handle(const ErrorContext& context, const RecordView&,
                                                   const absl::Status& error) {
  return HandlerResponse::kFail;
}

HandlerResponse LogAndContinueExceptionHandler::Handle(const ErrorContext& context, const RecordView&,
                                                       const absl::Status& error) {
  return HandlerResponse::kContinue;
}

HandlerResponse DefaultProductionExceptionHandler::Handle(const ErrorContext&, const ProducerRecord&,
                                                          const absl::Status&, bool) {
  return HandlerResponse::kFail;
}

}  // namespace eddy
