#include "eddy/runtime/task.h"

#include <algorithm>
#include <exception>

#include "absl/strings/str_cat.h"
#include "eddy/core/status.h"

namespace eddy {

const char* ToString(TaskState state) {
  switch (state) {
    case TaskState::kCreated:
      return "CREATED";
    case TaskState::kRunning:
      return "RUNNING";
    case TaskState::kClosed:
      return "CLOSED";
  }
  return "?";
}

Task::Task(TaskId id, Topology topology, std::vector<TopicPartition> partitions, TaskConfig config,
           RecordCollector* collector)
    : topology_(std::move(topology)),
      partitions_(std::move(partitions)),
      config_(std::move(config)),
      context_(id, &config_, collector) {
  std::sort(partitions_.begin(), partitions_.end());
}

Task::~Task() {
  if (state_ == TaskState::kRunning) (void)Close();
}

absl::Status Task::Initialize(int64_t wall_clock_ms) {
  if (state_ != TaskState::kCreated) {
    return absl::FailedPreconditionError(absl::StrCat("task ", id().ToString(), " is ", ToString(state_)));
  }
  const TaskId& tid = id();
  if (tid.subtopology < 0 || tid.subtopology >= static_cast<int>(topology_.subtopologies().size())) {
    return absl::InvalidArgumentError(absl::StrCat("task ", tid.ToString(), ": no such sub-topology"));
  }
  context_.wall_clock_ms_ = wall_clock_ms;
  const Subtopology& sub = topology_.subtopologies()[tid.subtopology];
  const auto& specs = topology_.physical_nodes();
  const auto& logical = topology_.nodes();
  std::vector<int> index(specs.size(), -1);  // physical spec -> position in nodes_
  for (int p : sub.physical_nodes) {
    const PhysicalNodeSpec& spec = specs[p];
    std::unique_ptr<ProcessorNode> node = spec.create();
    if (node == nullptr) {
      return absl::InternalError(absl::StrCat("node ", logical[spec.logical_node].name, " could not be created"));
    }
    for (const PhysicalNodeSpec::Input& in : spec.inputs) {
      if (in.parent < 0 || in.parent >= p || index[in.parent] < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("node ", node->name(), ": input from a node outside its sub-topology"));
      }
      EDDY_RETURN_IF_ERROR(nodes_[index[in.parent]]->Connect(in.port, node.get()));
    }
    if (!spec.source_topics.empty()) {
      auto* source = dynamic_cast<SourceProcessorNode*>(node.get());
      if (source == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("node ", node->name(), " reads topics but is not a source"));
      }
      for (const std::string& raw : spec.source_topics) {
        const std::string topic = topology_.TopicName(raw, config_.application_id);
        for (const TopicPartition& tp : partitions_) {
          if (tp.topic == topic) inputs_.push_back(Input{tp, source});
        }
      }
    }
    index[p] = static_cast<int>(nodes_.size());
    nodes_.push_back(std::move(node));
  }
  if (inputs_.size() != partitions_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("task ", tid.ToString(), ": some of its partitions are not sources of "
                                                   "sub-topology ", tid.subtopology));
  }
  for (const TopicPartition& tp : partitions_) {
    if (tp.partition != tid.partition) {
      return absl::InvalidArgumentError(
          absl::StrCat("task ", tid.ToString(), " cannot process partition ", eddy::ToString(tp)));
    }
  }
  for (auto& node : nodes_) {
    absl::Status st;
    try {
      st = node->Init(&context_);
    } catch (const std::exception& e) {
      st = absl::InternalError(absl::StrCat("exception in Init: ", e.what()));
    }
    if (!st.ok()) {
      return absl::Status(st.code(), absl::StrCat("task ", tid.ToString(), ", node ", node->name(), ": ", st.message()));
    }
  }
  state_ = TaskState::kRunning;
  return absl::OkStatus();
}

Task::Input* Task::FindInput(const TopicPartition& tp) {
  for (Input& in : inputs_) {
    if (in.tp == tp) return &in;
  }
  return nullptr;
}

absl::Status Task::WithLocation(const absl::Status& error, const Input* input, const RecordView* record) const {
  std::string where = absl::StrCat("task ", id().ToString());
  if (input != nullptr && record != nullptr) {
    absl::StrAppend(&where, ", topic ", input->tp.topic, ", partition ", input->tp.partition, ", offset ",
                    record->offset());
  }
  return absl::Status(error.code(), absl::StrCat(where, ": ", error.message()));
}

absl::Status Task::Process(const TopicPartition& tp, absl::Span<const RecordView> records) {
  if (state_ != TaskState::kRunning) {
    return absl::FailedPreconditionError(absl::StrCat("task ", id().ToString(), " is ", ToString(state_)));
  }
  Input* in = FindInput(tp);
  if (in == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("task ", id().ToString(), " does not read partition ", eddy::ToString(tp)));
  }
  // The per-record path: one virtual call (the source node), no allocation. Exceptions from user code are
  // caught around the whole loop (free when none is thrown); `i` tells which record threw.
  TaskMetrics& m = context_.metrics_;
  const int64_t dropped_before = m.dropped_records;
  size_t i = 0;
  absl::Status error;
  bool record_failed = false;  // else a punctuator failed, after record i - 1
  context_.BeginInput(&in->tp.topic, tp.partition, &in->partition_time);
  try {
    for (; i < records.size(); ++i) {
      const RecordView& r = records[i];
      context_.SetRecord(&r);
      in->source->Process(r);
      if (context_.failed()) [[unlikely]] {
        error = context_.TakeError();
        record_failed = true;
        break;
      }
      if (context_.stream_time_ >= context_.next_stream_punctuation()) [[unlikely]] {
        in->next_offset = r.offset() + 1;
        context_.EndRecord();
        error = MaybePunctuateStreamTime();
        context_.BeginInput(&in->tp.topic, tp.partition, &in->partition_time);
        if (!error.ok()) {
          ++i;  // the record itself was processed
          break;
        }
      }
    }
  } catch (const std::exception& e) {
    (void)context_.TakeError();
    error = absl::InternalError(absl::StrCat("exception: ", e.what()));
    record_failed = true;
  } catch (...) {
    (void)context_.TakeError();
    error = absl::InternalError("unknown exception");
    record_failed = true;
  }
  context_.EndRecord();
  // Records [0, i) were processed (or dropped); record i failed if error is set.
  const size_t done = i;
  if (done > 0) in->next_offset = records[done - 1].offset() + 1;
  m.processed_records += static_cast<int64_t>(done) - (m.dropped_records - dropped_before);
  if (!error.ok()) return record_failed ? WithLocation(error, in, &records[i]) : error;
  return absl::OkStatus();
}

absl::Status Task::MaybePunctuateStreamTime() {
  absl::Status st;
  try {
    st = context_.RunPunctuators(PunctuationType::kStreamTime, context_.stream_time_);
  } catch (const std::exception& e) {
    context_.EndRecord();
    (void)context_.TakeError();
    st = absl::InternalError(absl::StrCat("exception in a stream-time punctuator: ", e.what()));
  }
  if (!st.ok()) return WithLocation(st, nullptr, nullptr);
  return absl::OkStatus();
}

absl::Status Task::Punctuate(int64_t wall_clock_ms) {
  if (state_ != TaskState::kRunning) {
    return absl::FailedPreconditionError(absl::StrCat("task ", id().ToString(), " is ", ToString(state_)));
  }
  if (wall_clock_ms > context_.wall_clock_ms_) context_.wall_clock_ms_ = wall_clock_ms;
  absl::Status st;
  try {
    st = context_.RunPunctuators(PunctuationType::kWallClockTime, context_.wall_clock_ms_);
  } catch (const std::exception& e) {
    context_.EndRecord();
    (void)context_.TakeError();
    st = absl::InternalError(absl::StrCat("exception in a wall-clock punctuator: ", e.what()));
  }
  if (!st.ok()) return WithLocation(st, nullptr, nullptr);
  return absl::OkStatus();
}

std::vector<TopicPartitionOffset> Task::CommittableOffsets() const {
  std::vector<TopicPartitionOffset> out;
  for (const Input& in : inputs_) {
    if (in.next_offset >= 0 && in.next_offset != in.committed_offset) {
      out.push_back(TopicPartitionOffset{in.tp, in.next_offset, absl::StrCat(in.partition_time)});
    }
  }
  return out;
}

bool Task::commit_needed() const {
  for (const Input& in : inputs_) {
    if (in.next_offset >= 0 && in.next_offset != in.committed_offset) return true;
  }
  return false;
}

void Task::MarkCommitted() {
  for (Input& in : inputs_) in.committed_offset = in.next_offset;
}

int64_t Task::partition_time(const TopicPartition& tp) const {
  for (const Input& in : inputs_) {
    if (in.tp == tp) return in.partition_time;
  }
  return -1;
}

absl::Status Task::Close() {
  if (state_ == TaskState::kClosed) return absl::OkStatus();
  const bool was_running = state_ == TaskState::kRunning;
  state_ = TaskState::kClosed;
  if (!was_running) return absl::OkStatus();
  absl::Status first;
  for (auto& node : nodes_) {
    try {
      node->Close();
    } catch (const std::exception& e) {
      if (first.ok()) {
        first = absl::InternalError(absl::StrCat("task ", id().ToString(), ", node ", node->name(),
                                                 ": exception in Close: ", e.what()));
      }
    }
  }
  return first;
}

}  // namespace eddy
