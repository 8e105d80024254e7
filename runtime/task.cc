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
    case TaskState::kRestoring:
      return "RESTORING";
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

Task::~Task() { (void)Close(); }

absl::Status Task::InitializeStores() {
  if (state_ != TaskState::kCreated) {
    return absl::FailedPreconditionError(absl::StrCat("task ", id().ToString(), " is ", ToString(state_)));
  }
  const TaskId& tid = id();
  if (tid.subtopology < 0 || tid.subtopology >= static_cast<int>(topology_.subtopologies().size())) {
    return absl::InvalidArgumentError(absl::StrCat("task ", tid.ToString(), ": no such sub-topology"));
  }
  StateStoreContext& sc = *context_.store_context();
  sc.application_id = config_.application_id;
  sc.task_id = tid.ToString();
  sc.partition = tid.partition;
  sc.task_dir = config_.task_dir;
  sc.changelog = config_.changelog;
  sc.cache = config_.cache;
  sc.block_cache = config_.block_cache;
  for (const StoreSpec* spec : topology_.StoresOf(tid.subtopology)) {
    absl::Status st;
    if (spec->persistent && config_.task_dir.empty()) {
      st = absl::InvalidArgumentError("a persistent store needs a task directory (TaskConfig::task_dir)");
    }
    std::unique_ptr<StateStore> store;
    if (st.ok()) {
      absl::StatusOr<std::unique_ptr<StateStore>> built = spec->build();
      if (built.ok() && (*built == nullptr || (*built)->name() != spec->name)) {
        built = absl::InvalidArgumentError("its builder returned no store or a store of another name");
      }
      if (built.ok()) {
        store = std::move(*built);
        st = store->Init(&sc);
      } else {
        st = built.status();
      }
    }
    if (!st.ok()) {
      (void)CloseStores();
      return absl::Status(st.code(),
                          absl::StrCat("task ", tid.ToString(), ", store ", spec->name, ": ", st.message()));
    }
    context_.store_ptrs_.push_back(store.get());
    stores_.push_back(std::move(store));
  }
  state_ = TaskState::kRestoring;
  return absl::OkStatus();
}

absl::Status Task::SetInitialPartitionTime(const TopicPartition& tp, int64_t partition_time_ms) {
  if (state_ != TaskState::kCreated && state_ != TaskState::kRestoring) {
    return absl::FailedPreconditionError(absl::StrCat("task ", id().ToString(), " is ", ToString(state_)));
  }
  if (!std::binary_search(partitions_.begin(), partitions_.end(), tp)) {
    return absl::InvalidArgumentError(
        absl::StrCat("task ", id().ToString(), " does not read partition ", eddy::ToString(tp)));
  }
  initial_partition_times_.emplace_back(tp, partition_time_ms);
  return absl::OkStatus();
}

absl::Status Task::Initialize(int64_t wall_clock_ms) {
  if (state_ == TaskState::kCreated) EDDY_RETURN_IF_ERROR(InitializeStores());
  if (state_ != TaskState::kRestoring) {
    return absl::FailedPreconditionError(absl::StrCat("task ", id().ToString(), " is ", ToString(state_)));
  }
  const TaskId& tid = id();
  context_.wall_clock_ms_ = wall_clock_ms;
  idle_mark_ms_ = wall_clock_ms;
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
  // Restored partition times, before the nodes' Init: stream-time punctuators are scheduled from the
  // stream time.
  for (const auto& [tp, time] : initial_partition_times_) {
    Input* in = FindInput(tp);
    if (in == nullptr || time <= in->partition_time) continue;
    in->partition_time = time;
    context_.stream_time_ = std::max(context_.stream_time_, time);
  }
  initial_partition_times_.clear();
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
  const int64_t dropped_before = m.dropped_records - m.late_records_dropped;
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
  // What the batch's records left held goes to the stores now, before a commit or a query can see them.
  if (absl::Status held = WriteBackHeld(); !held.ok() && error.ok()) error = held;
  // Records [0, i) were processed (or dropped); record i failed if error is set.
  const size_t done = i;
  if (done > 0) {
    in->next_offset = records[done - 1].offset() + 1;
    idle_mark_ms_ = context_.wall_clock_ms_;
  }
  m.processed_records +=
      static_cast<int64_t>(done) - (m.dropped_records - m.late_records_dropped - dropped_before);
  if (!error.ok()) return record_failed ? WithLocation(error, in, &records[i]) : error;
  return absl::OkStatus();
}

absl::Status Task::WriteBackHeld() {
  absl::Status st;
  try {
    for (HeldWrites* h : context_.held_writes_) {
      if (h->pending()) st.Update(h->WriteBack());
    }
  } catch (const std::exception& e) {
    st.Update(absl::InternalError(absl::StrCat("exception while writing back held writes: ", e.what())));
  }
  // A write back may flush a cache, whose changes go downstream, where a node may fail.
  if (context_.failed()) st.Update(context_.TakeError());
  context_.EndRecord();
  if (!st.ok()) return WithLocation(st, nullptr, nullptr);
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
  absl::Status st = MaybeAdvanceIdleStreamTime();
  if (st.ok()) {
    try {
      st = context_.RunPunctuators(PunctuationType::kWallClockTime, context_.wall_clock_ms_);
    } catch (const std::exception& e) {
      context_.EndRecord();
      (void)context_.TakeError();
      st = absl::InternalError(absl::StrCat("exception in a wall-clock punctuator: ", e.what()));
    }
    if (!st.ok()) st = WithLocation(st, nullptr, nullptr);
  }
  // Punctuators may forward records into nodes that hold writes: nothing stays held after them either.
  if (absl::Status held = WriteBackHeld(); !held.ok() && st.ok()) st = held;
  return st;
}

absl::Status Task::MaybeAdvanceIdleStreamTime() {
  const int64_t idle = config_.stream_time_idle_advance_ms;
  const int64_t now = context_.wall_clock_ms_;
  if (idle <= 0 || context_.stream_time_ < 0 || now - idle_mark_ms_ < idle) return absl::OkStatus();
  context_.stream_time_ += now - idle_mark_ms_;
  idle_mark_ms_ = now;
  return MaybePunctuateStreamTime();
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

absl::Status Task::FlushStores() {
  if (state_ == TaskState::kClosed) {
    return absl::FailedPreconditionError(absl::StrCat("task ", id().ToString(), " is ", ToString(state_)));
  }
  if (stores_.empty()) return absl::OkStatus();
  // What the caches flush runs downstream as a punctuation would: no input record, the stream time as the
  // default timestamp (the DSL stamps each change with its own).
  absl::Status first;
  for (auto& store : stores_) {
    context_.BeginPunctuation(context_.stream_time_);
    absl::Status st;
    try {
      st = store->Flush();
    } catch (const std::exception& e) {
      st = absl::InternalError(absl::StrCat("exception while flushing: ", e.what()));
    }
    context_.EndRecord();
    absl::Status downstream = context_.TakeError();
    if (st.ok()) st = downstream;
    if (!st.ok() && first.ok()) {
      first = absl::Status(st.code(),
                           absl::StrCat("task ", id().ToString(), ", store ", store->name(), ": ", st.message()));
    }
  }
  return first;
}

absl::StatusOr<StateStore*> Task::ReplaceStore(absl::string_view store_name) {
  // A copy: callers pass the closed store's own name, which dies with it below.
  const std::string name(store_name);
  if (state_ != TaskState::kRestoring) {
    return absl::FailedPreconditionError(absl::StrCat("task ", id().ToString(), " is ", ToString(state_)));
  }
  const StoreSpec* spec = topology_.FindStore(name);
  size_t i = 0;
  while (i < stores_.size() && stores_[i]->name() != name) ++i;
  if (spec == nullptr || i == stores_.size()) {
    return absl::NotFoundError(absl::StrCat("task ", id().ToString(), " has no store ", name));
  }
  (void)stores_[i]->Close();  // the caller closed it already; Close is then a no-op
  stores_[i].reset();
  absl::StatusOr<std::unique_ptr<StateStore>> built = spec->build();
  absl::Status st = built.status();
  if (st.ok() && (*built == nullptr || (*built)->name() != name)) {
    st = absl::InvalidArgumentError("its builder returned no store or a store of another name");
  }
  if (st.ok()) st = (*built)->Init(context_.store_context());
  if (!st.ok()) {
    stores_.erase(stores_.begin() + static_cast<std::ptrdiff_t>(i));
    context_.store_ptrs_.erase(context_.store_ptrs_.begin() + static_cast<std::ptrdiff_t>(i));
    return absl::Status(st.code(), absl::StrCat("task ", id().ToString(), ", store ", name, ": ", st.message()));
  }
  stores_[i] = *std::move(built);
  context_.store_ptrs_[i] = stores_[i].get();
  return stores_[i].get();
}

absl::Status Task::CloseStores() {
  absl::Status first;
  for (auto& store : stores_) {
    absl::Status st = store->Close();
    if (!st.ok() && first.ok()) {
      first = absl::Status(st.code(),
                           absl::StrCat("task ", id().ToString(), ", store ", store->name(), ": ", st.message()));
    }
  }
  context_.store_ptrs_.clear();
  stores_.clear();
  return first;
}

absl::Status Task::Close() {
  if (state_ == TaskState::kClosed) return absl::OkStatus();
  const bool was_running = state_ == TaskState::kRunning;
  // Flush first, while the nodes can still take what the caches forward downstream (Kafka's clean close:
  // commit, then close the topology, then the stores).
  absl::Status first = was_running ? FlushStores() : absl::OkStatus();
  state_ = TaskState::kClosed;
  if (!was_running) return CloseStores();
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
  absl::Status st = CloseStores();
  if (first.ok()) first = st;
  return first;
}

}  // namespace eddy
