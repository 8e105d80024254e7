#include "eddy/runtime/test_driver.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "eddy/core/partitioner.h"
#include "eddy/core/record_batch_format.h"
#include "eddy/core/status.h"
#include "eddy/state/state_directory.h"
#include "eddy/state/thread_cache.h"

namespace eddy {
namespace {
const std::vector<StoredRecord> kNoRecords;
}  // namespace

TestDriver::TestDriver(Topology topology, TestDriverConfig config)
    : topology_(std::move(topology)), config_(std::move(config)), wall_clock_ms_(config_.initial_wall_clock_ms) {
  task_config_.application_id = config_.application_id;
  task_config_.deserialization_handler = config_.deserialization_handler;
  task_config_.production_handler = config_.production_handler;
  task_config_.invalid_timestamp_policy = config_.invalid_timestamp_policy;
  task_config_.dead_letter_topic = config_.dead_letter_topic;
  task_config_.log = config_.log;
  task_config_.stream_time_idle_advance_ms = config_.stream_time_idle_advance_ms;
  if (config_.cache_max_bytes > 0) cache_ = std::make_unique<ThreadCache>(config_.cache_max_bytes);
  task_config_.cache = cache_.get();
  task_config_.changelog = static_cast<ChangelogSink*>(this);
}

absl::StatusOr<std::unique_ptr<TestDriver>> TestDriver::Create(Topology topology, TestDriverConfig config) {
  std::unique_ptr<TestDriver> driver(new TestDriver(std::move(topology), std::move(config)));
  EDDY_RETURN_IF_ERROR(driver->Init());
  return driver;
}

TestDriver::~TestDriver() {
  (void)Close();
  if (owns_state_dir_) {
    std::error_code ec;
    std::filesystem::remove_all(state_dir_, ec);
  }
}

absl::Status TestDriver::OpenStateDir() {
  if (state_directory_ != nullptr) return absl::OkStatus();
  state_dir_ = config_.state_dir;
  if (state_dir_.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "eddy-test-driver-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) return absl::InternalError("cannot create a temporary state directory");
    state_dir_ = tmpl;
    owns_state_dir_ = true;
  }
  EDDY_ASSIGN_OR_RETURN(state_directory_, StateDirectory::Open(state_dir_, config_.application_id));
  return absl::OkStatus();
}

int32_t TestDriver::PartitionCount(absl::string_view topic) const {
  auto it = config_.partitions.find(std::string(topic));
  return it != config_.partitions.end() ? it->second : config_.default_partitions;
}

absl::Status TestDriver::Init() {
  const std::string& app = config_.application_id;
  auto partitions_of = [this](const std::string& topic) -> absl::StatusOr<int32_t> {
    const int32_t n = PartitionCount(topic);
    if (n < 1) return absl::InvalidArgumentError(absl::StrCat("topic ", topic, ": partitions must be >= 1"));
    return n;
  };
  EDDY_ASSIGN_OR_RETURN(auto internal, topology_.InternalTopics(app, partitions_of));
  for (const auto& [name, count] : internal) {
    if (!config_.partitions.contains(name)) config_.partitions[name] = count;
  }
  EDDY_ASSIGN_OR_RETURN(auto changelogs, topology_.ChangelogTopics(app, partitions_of));
  for (const ChangelogTopic& t : changelogs) config_.partitions[t.name] = t.partitions;
  for (const auto& group : topology_.CopartitionGroups(app)) {
    for (const std::string& t : group) {
      if (PartitionCount(t) != PartitionCount(group[0])) {
        return absl::InvalidArgumentError(absl::StrCat("co-partitioned topics ", group[0], " (", PartitionCount(group[0]),
                                                       " partitions) and ", t, " (", PartitionCount(t),
                                                       " partitions) must have the same partition count"));
      }
    }
  }
  for (const Subtopology& sub : topology_.subtopologies()) {
    const std::vector<std::string> topics = topology_.SourceTopics(sub.id, app);
    if (topics.empty()) continue;
    const int32_t partitions = PartitionCount(topics[0]);
    for (int32_t p = 0; p < partitions; ++p) {
      std::vector<TopicPartition> tps;
      for (const std::string& t : topics) tps.push_back(TopicPartition{t, p});
      TaskId id{sub.id, p};
      TaskConfig task_config = task_config_;
      const std::vector<const StoreSpec*> stores = topology_.StoresOf(sub.id);
      if (std::any_of(stores.begin(), stores.end(), [](const StoreSpec* s) { return s->persistent; })) {
        EDDY_RETURN_IF_ERROR(OpenStateDir());
        EDDY_ASSIGN_OR_RETURN(TaskDirectoryLock lock, state_directory_->Lock(id.ToString()));
        task_config.task_dir = lock.dir();
        locks_.push_back(std::make_unique<TaskDirectoryLock>(std::move(lock)));
      }
      auto task = std::make_unique<Task>(id, topology_, std::move(tps), std::move(task_config),
                                         static_cast<RecordCollector*>(this));
      EDDY_RETURN_IF_ERROR(task->Initialize(wall_clock_ms_));
      tasks_.emplace(id, std::move(task));
    }
  }
  return absl::OkStatus();
}

TestDriver::TopicLog& TestDriver::Log(absl::string_view topic) {
  auto it = topics_.find(topic);
  if (it == topics_.end()) {
    TopicLog log;
    log.partitions = std::max(1, PartitionCount(topic));
    log.next_offset.assign(log.partitions, 0);
    it = topics_.emplace(std::string(topic), std::move(log)).first;
  }
  return it->second;
}

absl::StatusOr<int32_t> TestDriver::Append(absl::string_view topic, int32_t partition,
                                           std::optional<absl::string_view> key,
                                           std::optional<absl::string_view> value, int64_t timestamp_ms,
                                           absl::Span<const HeaderRef> headers) {
  TopicLog& log = Log(topic);
  if (partition < 0) {
    partition = key ? KeyPartition(*key, log.partitions) : log.round_robin++ % log.partitions;
  }
  if (partition >= log.partitions) {
    return absl::InvalidArgumentError(
        absl::StrCat("topic ", topic, " has ", log.partitions, " partitions; partition ", partition, " is out of range"));
  }
  StoredRecord r;
  if (key) r.key = std::string(*key);
  if (value) r.value = std::string(*value);
  r.timestamp = timestamp_ms;
  for (const HeaderRef& h : headers) {
    r.headers.push_back(TestHeader{std::string(h.key), h.value ? std::optional<std::string>(std::string(*h.value))
                                                               : std::nullopt});
  }
  r.partition = partition;
  r.offset = log.next_offset[partition]++;
  log.records.push_back(std::move(r));
  if (topology_.SubtopologyOf(topic, config_.application_id) >= 0) {
    queue_.emplace_back(std::string(topic), log.records.size() - 1);
  }
  return partition;
}

absl::Status TestDriver::Send(const ProducerRecord& record) {
  const int64_t ts = record.timestamp >= 0 ? record.timestamp : wall_clock_ms_;
  return Append(record.topic, record.partition, record.key, record.value, ts, record.headers).status();
}

absl::Status TestDriver::Send(absl::string_view topic, int32_t partition, absl::string_view key,
                              std::optional<absl::string_view> value, int64_t timestamp) {
  return Append(topic, partition, key, value, timestamp, {}).status();
}

absl::Status TestDriver::PipeRaw(absl::string_view topic, int32_t partition, std::optional<absl::string_view> key,
                                 std::optional<absl::string_view> value, int64_t timestamp_ms,
                                 absl::Span<const HeaderRef> headers) {
  if (closed_) return absl::FailedPreconditionError("the TestDriver is closed");
  EDDY_RETURN_IF_ERROR(Append(topic, partition, key, value, timestamp_ms, headers).status());
  return Drain();
}

absl::Status TestDriver::Drain() {
  if (draining_) return absl::OkStatus();
  absl::Status first = ProcessQueue();
  if (config_.commit_after_each_input) {
    absl::Status st = Commit();
    if (first.ok()) first = st;
  }
  return first;
}

absl::Status TestDriver::ProcessQueue() {
  draining_ = true;
  absl::Status first;
  while (queue_head_ < queue_.size()) {
    auto [topic, index] = queue_[queue_head_++];
    absl::Status st = ProcessOne(topic, index);
    if (first.ok() && !st.ok()) first = st;
  }
  queue_.clear();
  queue_head_ = 0;
  draining_ = false;
  return first;
}

absl::Status TestDriver::Commit() {
  if (closed_) return absl::FailedPreconditionError("the TestDriver is closed");
  // Flushing a task's caches may emit records that other tasks process (and cache): repeat until a round
  // of flushes emits nothing.
  absl::Status first;
  bool emitted = true;
  while (emitted) {
    for (auto& [id, task] : tasks_) {
      absl::Status st = task->FlushStores();
      if (first.ok() && !st.ok()) first = st;
    }
    emitted = queue_head_ < queue_.size();
    absl::Status st = ProcessQueue();
    if (first.ok() && !st.ok()) first = st;
  }
  return first;
}

absl::Status TestDriver::ProcessOne(const std::string& topic, size_t index) {
  const StoredRecord& r = topics_.at(topic).records[index];
  const int sub = topology_.SubtopologyOf(topic, config_.application_id);
  auto it = tasks_.find(TaskId{sub, r.partition});
  if (it == tasks_.end()) {
    return absl::InternalError(absl::StrCat("no task for ", topic, "-", r.partition));
  }
  // Encode the record as a one-record batch, as a consumer would receive it.
  builder_.Reset();
  header_refs_.clear();
  for (const TestHeader& h : r.headers) {
    header_refs_.push_back(HeaderRef{h.key, h.value ? std::optional<absl::string_view>(*h.value) : std::nullopt});
  }
  std::optional<absl::string_view> k, v;
  if (r.key) k = *r.key;
  if (r.value) v = *r.value;
  builder_.Append(r.timestamp, k, v, header_refs_);
  EDDY_ASSIGN_OR_RETURN(absl::Span<char> batch, builder_.Finish());
  batch_.assign(batch.data(), batch.size());
  SetBaseOffset(batch_.data(), r.offset);
  EDDY_ASSIGN_OR_RETURN(RecordIterator iter, RecordIterator::Open(batch_, nullptr));
  iter.set_partition(r.partition);
  RecordView view;
  if (!iter.Next(&view)) return iter.status().ok() ? absl::InternalError("empty test batch") : iter.status();
  return it->second->Process(TopicPartition{topic, r.partition}, view);
}

absl::Status TestDriver::AdvanceWallClockTime(absl::Duration advance) {
  if (closed_) return absl::FailedPreconditionError("the TestDriver is closed");
  wall_clock_ms_ += absl::ToInt64Milliseconds(advance);
  absl::Status first;
  for (auto& [id, task] : tasks_) {
    absl::Status st = task->Punctuate(wall_clock_ms_);
    if (first.ok() && !st.ok()) first = st;
    st = Drain();
    if (first.ok() && !st.ok()) first = st;
  }
  return first;
}

const std::vector<StoredRecord>& TestDriver::TopicRecords(absl::string_view topic) const {
  auto it = topics_.find(topic);
  return it == topics_.end() ? kNoRecords : it->second.records;
}

const StoredRecord* TestDriver::ReadNext(absl::string_view topic) {
  auto it = topics_.find(topic);
  if (it == topics_.end() || it->second.read >= it->second.records.size()) return nullptr;
  return &it->second.records[it->second.read++];
}

int64_t TestDriver::UnreadCount(absl::string_view topic) const {
  auto it = topics_.find(topic);
  if (it == topics_.end()) return 0;
  return static_cast<int64_t>(it->second.records.size() - it->second.read);
}

StateStore* TestDriver::GetStateStore(absl::string_view name, int32_t partition) {
  for (auto& [id, task] : tasks_) {
    if (id.partition != partition) continue;
    if (StateStore* s = task->store(name)) return s;
  }
  return nullptr;
}

KeyValueStore* TestDriver::GetKeyValueStore(absl::string_view name, int32_t partition) {
  return dynamic_cast<KeyValueStore*>(GetStateStore(name, partition));
}

WindowStore* TestDriver::GetWindowStore(absl::string_view name, int32_t partition) {
  return dynamic_cast<WindowStore*>(GetStateStore(name, partition));
}

SessionStore* TestDriver::GetSessionStore(absl::string_view name, int32_t partition) {
  return dynamic_cast<SessionStore*>(GetStateStore(name, partition));
}

std::vector<TaskId> TestDriver::task_ids() const {
  std::vector<TaskId> out;
  for (const auto& [id, task] : tasks_) out.push_back(id);
  return out;
}

Task* TestDriver::task(const TaskId& id) {
  auto it = tasks_.find(id);
  return it == tasks_.end() ? nullptr : it->second.get();
}

absl::Status TestDriver::Close() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  absl::Status first;
  for (auto& [id, task] : tasks_) {
    absl::Status st = task->Close();
    if (first.ok() && !st.ok()) first = st;
  }
  locks_.clear();
  return first;
}

}  // namespace eddy
