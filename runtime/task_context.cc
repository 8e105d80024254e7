#include "eddy/runtime/task_context.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "eddy/core/status.h"

namespace eddy {
namespace {

LogAndFailExceptionHandler default_deserialization_handler;
DefaultProductionExceptionHandler default_production_handler;

}  // namespace

void Cancellable::Cancel() {
  if (context_ == nullptr) return;
  for (auto& s : context_->schedules_) {
    if (s->id == id_) s->cancelled = true;
  }
  context_->RecomputeNextStreamPunctuation();
}

TaskContext::TaskContext(TaskId id, const TaskConfig* config, RecordCollector* collector)
    : id_(id), config_(config), collector_(collector) {
  store_context_.record.timestamp = -1;
}

StateStore* TaskContext::GetStateStore(absl::string_view name) const {
  for (StateStore* s : store_ptrs_) {
    if (s->name() == name) return s;
  }
  return nullptr;
}

std::string TaskContext::InternalTopicName(absl::string_view name) const {
  return absl::StrCat(config_->application_id, "-", name);
}

std::optional<InputRecordMetadata> TaskContext::record_metadata() const {
  if (raw_ == nullptr) return std::nullopt;
  return InputRecordMetadata{*topic_, partition_, raw_->offset()};
}

void TaskContext::DecodeHeaders() {
  decoded_headers_.clear();
  if (raw_ != nullptr) raw_->ForEachHeader([this](const HeaderRef& h) { decoded_headers_.push_back(h); });
  headers_ = decoded_headers_;
  headers_ready_ = true;
}

ErrorContext TaskContext::MakeErrorContext(absl::string_view node) const {
  ErrorContext c;
  c.task_id = id_;
  c.node = node;
  if (raw_ != nullptr) {
    c.topic = *topic_;
    c.partition = partition_;
    c.offset = raw_->offset();
  }
  return c;
}

void TaskContext::BeginPunctuation(int64_t timestamp_ms) {
  raw_ = nullptr;
  topic_ = nullptr;
  partition_ = -1;
  partition_time_ = nullptr;
  store_context_.record.timestamp = timestamp_ms;
  headers_ = {};
  headers_ready_ = true;
}

absl::Status TaskContext::TakeError() {
  absl::Status st = std::move(error_);
  error_ = absl::OkStatus();
  return st;
}

void TaskContext::Fail(absl::Status error) {
  if (error_.ok()) error_ = std::move(error);
}

bool TaskContext::HandleDeserializationError(absl::string_view node, const absl::Status& error) {
  const ErrorContext where = MakeErrorContext(node);
  if (!config_->dead_letter_topic.empty() && raw_ != nullptr) {
    const absl::Span<const HeaderRef> original = headers();
    std::vector<HeaderRef> dlq_headers(original.begin(), original.end());
    const std::string code = absl::StatusCodeToString(error.code());
    const std::string message(error.message());
    const std::string partition = absl::StrCat(partition_);
    const std::string offset = absl::StrCat(raw_->offset());
    dlq_headers.push_back({kDlqHeaderException, code});
    dlq_headers.push_back({kDlqHeaderMessage, message});
    dlq_headers.push_back({kDlqHeaderTopic, *topic_});
    dlq_headers.push_back({kDlqHeaderPartition, partition});
    dlq_headers.push_back({kDlqHeaderOffset, offset});
    ProducerRecord dlq;
    dlq.topic = config_->dead_letter_topic;
    if (raw_->has_key()) dlq.key = raw_->key();
    if (raw_->has_value()) dlq.value = raw_->value();
    dlq.timestamp = raw_->timestamp() >= 0 ? raw_->timestamp() : wall_clock_ms_;
    dlq.headers = dlq_headers;
    absl::Status st = collector_->Send(dlq);
    if (!st.ok()) {
      Fail(absl::Status(st.code(), absl::StrCat("cannot write to dead-letter topic ", config_->dead_letter_topic,
                                                " (", ToString(where), "): ", st.message())));
      return false;
    }
    ++metrics_.dead_lettered_records;
  }
  DeserializationExceptionHandler* handler = config_->deserialization_handler != nullptr
                                                 ? config_->deserialization_handler
                                                 : &default_deserialization_handler;
  static const RecordView kEmpty;
  const HandlerResponse response = handler->Handle(where, raw_ != nullptr ? *raw_ : kEmpty, error);
  if (response == HandlerResponse::kContinue) {
    Log(absl::StrCat("Skipping record after deserialization error (", ToString(where), "): ", error.message()));
    ++metrics_.dropped_records;
    return true;
  }
  Log(absl::StrCat("Deserialization error, failing the task (", ToString(where), "): ", error.message()));
  Fail(absl::Status(error.code(), absl::StrCat("deserialization error: ", error.message())));
  return false;
}

bool TaskContext::AcceptInvalidTimestamp(absl::string_view node, int64_t timestamp_ms) {
  const ErrorContext where = MakeErrorContext(node);
  switch (config_->invalid_timestamp_policy) {
    case InvalidTimestampPolicy::kLogAndSkip:
      Log(absl::StrCat("Skipping record with invalid timestamp ", timestamp_ms, " (", ToString(where), ")"));
      ++metrics_.dropped_records;
      return false;
    case InvalidTimestampPolicy::kUsePartitionTime:
      if (partition_time_ != nullptr && *partition_time_ >= 0) return AcceptTimestamp(node, *partition_time_);
      [[fallthrough]];
    case InvalidTimestampPolicy::kFail:
      break;
  }
  Fail(absl::InvalidArgumentError(
      absl::StrCat("invalid (negative) timestamp ", timestamp_ms,
                   "; the timestamp extractor must return a timestamp >= 0, or choose invalid timestamp policy "
                   "LogAndSkipOnInvalidTimestamp or UsePartitionTimeOnInvalidTimestamp")));
  return false;
}

void TaskContext::SendFailed(absl::string_view node, const ProducerRecord& record, const absl::Status& st) {
  ProductionExceptionHandler* handler =
      config_->production_handler != nullptr ? config_->production_handler : &default_production_handler;
  const ErrorContext where = MakeErrorContext(node);
  if (handler->Handle(where, record, st, /*serialization=*/false) == HandlerResponse::kContinue) {
    Log(absl::StrCat("Dropping output record to ", record.topic, " after send error (", ToString(where),
                     "): ", st.message()));
    ++metrics_.production_errors_skipped;
    return;
  }
  Fail(absl::Status(st.code(), absl::StrCat("sending to topic ", record.topic, " failed: ", st.message())));
}

void TaskContext::ReportSerializationError(absl::string_view node, const ProducerRecord& partial,
                                           const absl::Status& error) {
  ProductionExceptionHandler* handler =
      config_->production_handler != nullptr ? config_->production_handler : &default_production_handler;
  const ErrorContext where = MakeErrorContext(node);
  if (handler->Handle(where, partial, error, /*serialization=*/true) == HandlerResponse::kContinue) {
    Log(absl::StrCat("Dropping output record after serialization error (", ToString(where), "): ", error.message()));
    ++metrics_.production_errors_skipped;
    return;
  }
  Fail(absl::Status(error.code(), absl::StrCat("serialization error: ", error.message())));
}

Cancellable TaskContext::Schedule(int64_t interval_ms, PunctuationType type, Punctuator punctuator) {
  auto s = std::make_unique<PunctuationSchedule>();
  s->id = next_schedule_id_++;
  s->type = type;
  s->interval_ms = std::max<int64_t>(1, interval_ms);
  // Kafka: stream-time schedules are aligned to 0 (fire as soon as stream time is known); wall-clock
  // schedules fire one interval from now.
  s->next_ms = type == PunctuationType::kStreamTime ? 0 : wall_clock_ms_ + s->interval_ms;
  if (type == PunctuationType::kStreamTime && stream_time_ >= 0) {
    s->next_ms = stream_time_ - stream_time_ % s->interval_ms;
  }
  s->punctuator = std::move(punctuator);
  const int64_t id = s->id;
  schedules_.push_back(std::move(s));
  RecomputeNextStreamPunctuation();
  return Cancellable(this, id);
}

void TaskContext::RecomputeNextStreamPunctuation() {
  int64_t next = INT64_MAX;
  for (const auto& s : schedules_) {
    if (!s->cancelled && s->type == PunctuationType::kStreamTime) next = std::min(next, s->next_ms);
  }
  next_stream_punctuation_ = next;
}

absl::Status TaskContext::RunPunctuators(PunctuationType type, int64_t now_ms) {
  if (type == PunctuationType::kStreamTime && now_ms < 0) return absl::OkStatus();
  // Index loop: punctuators may add schedules (appended: they fire from the next call on).
  const size_t n = schedules_.size();
  for (size_t i = 0; i < n; ++i) {
    PunctuationSchedule* s = schedules_[i].get();
    if (s->cancelled || s->type != type || s->next_ms > now_ms) continue;
    // Kafka's PunctuationSchedule.next: after missed intervals, fire once and skip to the next future slot.
    const int64_t missed = (now_ms - s->next_ms) / s->interval_ms;
    s->next_ms += (missed + 1) * s->interval_ms;
    BeginPunctuation(now_ms);
    ++metrics_.punctuations;
    s->punctuator(now_ms);
    EndRecord();
    if (failed()) break;
  }
  schedules_.erase(std::remove_if(schedules_.begin(), schedules_.end(), [](const auto& s) { return s->cancelled; }),
                   schedules_.end());
  RecomputeNextStreamPunctuation();
  return TakeError();
}

}  // namespace eddy
