#include "eddy/runtime/state_manager.h"

#include <algorithm>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/core/status.h"

namespace eddy {

namespace fs = std::filesystem;

// One registered store and where its restoration stands.
struct StateManager::Store {
  StateStore* store = nullptr;
  TopicPartition changelog;  // meaningful when logged
  bool logged = false;
  RecoveryDecision decision;
  int64_t end_offset = 0;  // the changelog's end when registered: restoration reads up to it
  // The offset of the last changelog record the store durably holds: what the checkpoint may say.
  std::optional<int64_t> offset;
  std::unique_ptr<StateRestorer> restorer;  // while restoring
};

absl::StatusOr<std::unique_ptr<StateManager>> StateManager::Open(StateManagerConfig config) {
  if (config.state_directory == nullptr) return absl::InvalidArgumentError("StateManager: no state directory");
  EDDY_ASSIGN_OR_RETURN(TaskDirectoryLock lock, config.state_directory->Lock(config.task_id));
  absl::StatusOr<std::map<TopicPartition, int64_t>> checkpoint =
      config.state_directory->ReadCheckpoint(config.task_id);
  if (checkpoint.status().code() == absl::StatusCode::kDataLoss) {
    // Kafka treats a corrupt checkpoint as a corrupted task: nothing local is trusted.
    LogLine(config.log, absl::StrCat("task ", config.task_id, ": ignoring corrupt checkpoint: ",
                                     checkpoint.status().message()));
    checkpoint = std::map<TopicPartition, int64_t>{};
  }
  EDDY_RETURN_IF_ERROR(checkpoint.status());
  std::set<std::string> local;
  std::error_code ec;
  for (fs::directory_iterator it(fs::path(lock.dir()) / "rocksdb", ec), end; !ec && it != end;
       it.increment(ec)) {
    local.insert(it->path().filename().string());
  }
  return std::unique_ptr<StateManager>(
      new StateManager(std::move(config), std::move(lock), *std::move(checkpoint), std::move(local)));
}

StateManager::StateManager(StateManagerConfig config, TaskDirectoryLock lock,
                           std::map<TopicPartition, int64_t> checkpoint, std::set<std::string> local_stores)
    : config_(std::move(config)),
      lock_(std::move(lock)),
      checkpoint_(std::move(checkpoint)),
      local_stores_(std::move(local_stores)) {}

StateManager::~StateManager() { (void)Close(/*clean=*/false); }

absl::Status StateManager::RegisterStores(std::vector<StateStore*> stores, StoreReplacer replace) {
  if (registered_ || closed_) return absl::FailedPreconditionError("StateManager: stores already registered");
  std::set<std::string> names;
  for (StateStore* store : stores) {
    if (store == nullptr || !store->is_open()) {
      return absl::InvalidArgumentError("StateManager: stores must be Init'ed before RegisterStores");
    }
    if (!names.insert(store->name()).second) {
      return absl::InvalidArgumentError(absl::StrCat("StateManager: two stores named ", store->name()));
    }
    auto s = std::make_unique<Store>();
    s->store = store;
    s->logged = store->logging_enabled();
    s->changelog = TopicPartition{ChangelogTopicName(config_.application_id, store->name()), config_.partition};
    stores_.push_back(std::move(s));
  }
  for (std::unique_ptr<Store>& s : stores_) EDDY_RETURN_IF_ERROR(RegisterOne(*s, replace));
  registered_ = true;
  if (ready()) LogLine(config_.log, absl::StrCat("task ", config_.task_id, ": state up to date"));
  return absl::OkStatus();
}

absl::Status StateManager::RegisterOne(Store& s, StoreReplacer& replace) {
  StoreRecoveryInput in;
  in.persistent = s.store->persistent();
  in.logged = s.logged;
  if (auto it = checkpoint_.find(s.changelog); it != checkpoint_.end() && it->second >= 0) {
    in.checkpoint_offset = it->second;
  }
  in.has_local_state = in.persistent && local_stores_.contains(s.store->name());
  if (s.logged) {
    if (config_.admin == nullptr || config_.restore_consumer == nullptr || config_.changelog_sink == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("StateManager: store ", s.store->name(),
                                                     " is logged: admin, restore consumer and sink are required"));
    }
    EDDY_ASSIGN_OR_RETURN(OffsetAndTimestamp start, config_.admin->ListOffsets(s.changelog, kEarliestTimestamp));
    EDDY_ASSIGN_OR_RETURN(OffsetAndTimestamp end, config_.admin->ListOffsets(s.changelog, kLatestTimestamp));
    in.changelog_start_offset = start.offset;
    in.changelog_end_offset = end.offset;
    s.end_offset = end.offset;
    config_.changelog_sink->ResetPartition(s.changelog);
  }
  s.decision = DecideStoreRecovery(in);
  if (in.persistent && s.decision.action != RecoveryAction::kWipeAndRestore) s.offset = in.checkpoint_offset;
  if (s.decision.action != RecoveryAction::kUseLocalState || !s.decision.reason.empty()) {
    LogLine(config_.log, absl::StrCat("task ", config_.task_id, ": store ", s.store->name(), ": ", s.decision.reason));
  }
  if (s.decision.action == RecoveryAction::kWipeAndRestore) {
    // Wiping needs the store closed; its replacement is a fresh, empty store.
    const std::string name = s.store->name();
    (void)s.store->Close();  // unusable afterwards whatever it returns; its files go next
    EDDY_RETURN_IF_ERROR(config_.state_directory->WipeStore(lock_, name));
    // The entry goes before the replacement creates files: "checkpoint c + local files" would trust them.
    if (checkpoint_.erase(s.changelog) > 0) {
      EDDY_RETURN_IF_ERROR(config_.state_directory->WriteCheckpoint(lock_, checkpoint_));
    }
    EDDY_ASSIGN_OR_RETURN(StateStore* fresh, replace(s.store));
    if (fresh == nullptr || !fresh->is_open() || fresh->name() != name) {
      return absl::InternalError(absl::StrCat("StateManager: the replacement of store ", name,
                                              " is not an open store of that name"));
    }
    s.store = fresh;
  }
  if (s.decision.action != RecoveryAction::kUseLocalState && s.decision.restore_from < s.end_offset) {
    restore_queue_.push_back(&s);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> StateManager::Restore(int64_t max_records) {
  if (!registered_ || closed_) return absl::FailedPreconditionError("StateManager: not restoring");
  int64_t polled = 0;
  while (!ready() && polled < max_records) {
    Store& s = *restore_queue_[next_restore_];
    if (s.restorer == nullptr) EDDY_RETURN_IF_ERROR(StartRestore(s));
    if (!s.restorer->done()) EDDY_RETURN_IF_ERROR(PollInto(s, &polled));
    if (s.restorer->done()) {
      EDDY_RETURN_IF_ERROR(FinishRestore(s));
      ++next_restore_;
      if (ready()) {
        EDDY_RETURN_IF_ERROR(config_.restore_consumer->Assign({}));
        records_ = ConsumerRecords();  // the fetch buffers are not needed again
        batch_ = {};
        EDDY_RETURN_IF_ERROR(WriteCheckpoint());
        LogLine(config_.log, absl::StrCat("task ", config_.task_id, ": restoration complete"));
      }
    } else if (absl::Now() - last_progress_ > config_.restore_stall_timeout) {
      return absl::DeadlineExceededError(absl::StrCat(
          "restoring store ", s.store->name(), " of task ", config_.task_id, ": no record from ",
          ToString(s.changelog), " for ", absl::FormatDuration(config_.restore_stall_timeout),
          " while its end offset ", s.end_offset, " is not reached"));
    }
  }
  return ready();
}

absl::Status StateManager::RestoreAll() {
  while (true) {
    EDDY_ASSIGN_OR_RETURN(bool done, Restore(INT64_MAX));
    if (done) return absl::OkStatus();
  }
}

absl::Status StateManager::StartRestore(Store& s) {
  s.restorer = std::make_unique<StateRestorer>(s.store, s.changelog, s.decision.restore_from, s.end_offset,
                                               config_.restore_listener, config_.restore_options);
  EDDY_RETURN_IF_ERROR(s.restorer->Begin());
  last_progress_ = absl::Now();
  return absl::OkStatus();
}

absl::Status StateManager::PollInto(Store& s, int64_t* polled) {
  Consumer& consumer = *config_.restore_consumer;
  // The consumer may have served another task since the last call: take it back where this one stopped.
  const std::vector<TopicPartition> assignment = consumer.Assignment();
  if (assignment.size() != 1 || assignment[0] != s.changelog) {
    EDDY_RETURN_IF_ERROR(consumer.Assign({s.changelog}));
    EDDY_RETURN_IF_ERROR(consumer.Seek(s.changelog, s.restorer->restored_offset() + 1));
  }
  EDDY_RETURN_IF_ERROR(consumer.Poll(config_.poll_timeout, &records_));
  int64_t position = s.restorer->restored_offset() + 1;
  for (const ConsumerRecords::PartitionRange& range : records_.partitions()) {
    if (range.tp == s.changelog) position = std::max(position, range.next_offset);
  }
  // Records past the end noted at registration belong to a later owner's writes (there should be none
  // while this task owns the partition): restoration stops at the end it announced.
  position = std::min(position, s.end_offset);
  batch_.clear();
  bool keyless = false;
  EDDY_RETURN_IF_ERROR(records_.ForEach([&](const RecordView& r) {
    if (r.offset() >= s.end_offset) return;
    if (!r.has_key()) keyless = true;
    ChangelogRecord c{r.key(), std::nullopt, r.timestamp(), r.offset()};
    if (r.has_value()) c.value = r.value();
    batch_.push_back(c);
  }));
  if (keyless) {
    return absl::DataLossError(absl::StrCat("changelog ", ToString(s.changelog), " of store ", s.store->name(),
                                            " holds a record without a key"));
  }
  EDDY_RETURN_IF_ERROR(s.restorer->Restore(batch_, position));
  if (!batch_.empty() || records_.count() > 0) last_progress_ = absl::Now();
  *polled += static_cast<int64_t>(std::max<size_t>(batch_.size(), 1));
  return absl::OkStatus();
}

absl::Status StateManager::FinishRestore(Store& s) {
  EDDY_RETURN_IF_ERROR(s.restorer->End());
  if (s.store->persistent() && s.restorer->restored_offset() >= 0) s.offset = s.restorer->restored_offset();
  s.restorer.reset();
  return absl::OkStatus();
}

absl::Status StateManager::Checkpoint() {
  if (closed_ || !registered_) {
    // Without the stores, the checkpoint written would be empty, which deletes the file.
    return absl::FailedPreconditionError("StateManager: checkpoint before RegisterStores or after Close");
  }
  ProducerChangelogSink* sink = config_.changelog_sink;
  if (sink != nullptr) EDDY_RETURN_IF_ERROR(sink->status());
  for (std::unique_ptr<Store>& s : stores_) {
    if (!s->logged || sink == nullptr) continue;
    if (sink->Pending(s->changelog) > 0) {
      return absl::FailedPreconditionError(absl::StrCat("checkpoint of task ", config_.task_id, ": ",
                                                        sink->Pending(s->changelog), " records to ",
                                                        ToString(s->changelog), " not yet acknowledged"));
    }
    if (std::optional<int64_t> acked = sink->AckedOffset(s->changelog);
        acked.has_value() && s->store->persistent() && s->restorer == nullptr) {
      s->offset = std::max(s->offset.value_or(-1), *acked);
    }
  }
  return WriteCheckpoint();
}

absl::Status StateManager::WriteCheckpoint() {
  std::map<TopicPartition, int64_t> offsets;
  for (const std::unique_ptr<Store>& s : stores_) {
    if (s->logged && s->offset.has_value()) offsets[s->changelog] = *s->offset;
  }
  return config_.state_directory->WriteCheckpoint(lock_, offsets);
}

absl::Status StateManager::Close(bool clean) {
  if (closed_) return absl::OkStatus();
  absl::Status status;
  if (clean && registered_) {
    if (!ready()) {
      Store& s = *restore_queue_[next_restore_];
      if (s.restorer != nullptr) status = FinishRestore(s);
    }
    if (status.ok()) status = Checkpoint();
  }
  // Unregistered, nothing was touched (a wipe rewrites the checkpoint at once): keep what is there.
  if (registered_ && (!clean || !status.ok())) {
    const absl::Status deleted = config_.state_directory->DeleteCheckpoint(lock_);
    if (status.ok()) status = deleted;
  }
  if (registered_ && !ready()) {
    const std::vector<TopicPartition> assignment = config_.restore_consumer->Assignment();
    if (assignment.size() == 1 && assignment[0] == restore_queue_[next_restore_]->changelog) {
      (void)config_.restore_consumer->Assign({});
    }
  }
  lock_.Unlock();
  closed_ = true;
  return status;
}

std::vector<StateStore*> StateManager::stores() const {
  std::vector<StateStore*> out;
  for (const std::unique_ptr<Store>& s : stores_) out.push_back(s->store);
  return out;
}

std::optional<RecoveryDecision> StateManager::decision(absl::string_view store) const {
  for (const std::unique_ptr<Store>& s : stores_) {
    if (s->store->name() == store) return s->decision;
  }
  return std::nullopt;
}

}  // namespace eddy
