// TaskStateHarness: a task's state as the runtime holds it (a StateStoreContext, stores built from their
// builders, a StateManager), opened, restored, committed and closed in the runtime's order. For
// tests/state_manager_test.cc and bench/state_manager_bench.cc; uses only public headers, no gtest.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/status.h"
#include "eddy/runtime/changelog_sink.h"
#include "eddy/runtime/state_manager.h"
#include "eddy/state/state_directory.h"
#include "eddy/state/state_store.h"

namespace eddy::state_harness {

using StoreFactory = std::function<absl::StatusOr<std::unique_ptr<StateStore>>()>;

// A factory from a store builder value (KeyValueStoreBuilder, WindowStoreBuilder, SessionStoreBuilder).
template <typename Builder>
StoreFactory FactoryOf(Builder builder) {
  return [builder]() -> absl::StatusOr<std::unique_ptr<StateStore>> {
    EDDY_ASSIGN_OR_RETURN(auto store, builder.Build());
    return std::unique_ptr<StateStore>(std::move(store));
  };
}

// What the harness borrows (none owned; all must outlive it).
struct TaskStateDeps {
  std::string application_id = "app";
  int32_t partition = 0;
  const StateDirectory* state_directory = nullptr;
  Admin* admin = nullptr;
  Consumer* restore_consumer = nullptr;
  ProducerChangelogSink* sink = nullptr;
  StateRestoreListener* listener = nullptr;
  RestoreOptions restore_options;
  LogSink log;  // the manager's lines; null: stderr
};

// One task's stores and state manager. Thread-compatible.
class TaskStateHarness {
 public:
  TaskStateHarness(TaskStateDeps deps, std::vector<StoreFactory> factories)
      : deps_(std::move(deps)), factories_(std::move(factories)) {
    context_.application_id = deps_.application_id;
    context_.task_id = absl::StrCat("0_", deps_.partition);
    context_.partition = deps_.partition;
    context_.changelog = deps_.sink;
  }
  ~TaskStateHarness() { (void)Close(/*clean=*/false); }

  const std::string& task_id() const { return context_.task_id; }
  // The timestamp of "the record being processed": stamped on the changelog records of the next writes.
  void set_record_timestamp(int64_t ms) { context_.record.timestamp = ms; }
  StateManager* manager() { return manager_.get(); }

  // Open: StateManager::Open, build and Init the stores, RegisterStores. Restoration is left to the caller.
  absl::Status Open() {
    StateManagerConfig config;
    config.application_id = deps_.application_id;
    config.task_id = context_.task_id;
    config.partition = deps_.partition;
    config.state_directory = deps_.state_directory;
    config.admin = deps_.admin;
    config.restore_consumer = deps_.restore_consumer;
    config.changelog_sink = deps_.sink;
    config.restore_listener = deps_.listener;
    config.restore_options = deps_.restore_options;
    config.log = deps_.log;
    EDDY_ASSIGN_OR_RETURN(manager_, StateManager::Open(std::move(config)));
    EDDY_ASSIGN_OR_RETURN(context_.task_dir, deps_.state_directory->TaskDir(context_.task_id));
    std::vector<StateStore*> stores;
    for (const StoreFactory& factory : factories_) {
      EDDY_ASSIGN_OR_RETURN(std::unique_ptr<StateStore> store, factory());
      EDDY_RETURN_IF_ERROR(store->Init(&context_));
      stores.push_back(store.get());
      stores_[store->name()] = std::move(store);
    }
    return manager_->RegisterStores(stores, [this](StateStore* closed) { return Replace(closed); });
  }
  absl::Status OpenAndRestore() {
    EDDY_RETURN_IF_ERROR(Open());
    return manager_->RestoreAll();
  }

  // Commit: the runtime's commit sequence for the state (no input offsets here).
  absl::Status Commit() {
    for (auto& [name, store] : stores_) EDDY_RETURN_IF_ERROR(store->Flush());
    EDDY_RETURN_IF_ERROR(deps_.sink->Flush());
    return manager_->Checkpoint();
  }

  // Close: clean flushes and checkpoints; unclean (a failed task) skips both. Then closes the stores.
  absl::Status Close(bool clean) {
    if (manager_ == nullptr) return absl::OkStatus();
    absl::Status status;
    if (clean) {
      for (auto& [name, store] : stores_) {
        if (status.ok()) status = store->Flush();
      }
      if (status.ok()) status = deps_.sink->Flush();
    }
    const absl::Status closed = manager_->Close(clean && status.ok());
    if (status.ok()) status = closed;
    for (auto& [name, store] : stores_) {
      const absl::Status s = store->Close();
      if (status.ok()) status = s;
    }
    stores_.clear();
    manager_.reset();
    return status;
  }

  template <typename T>
  T* store(const std::string& name) {
    auto it = stores_.find(name);
    return it == stores_.end() ? nullptr : static_cast<T*>(it->second.get());
  }

 private:
  absl::StatusOr<StateStore*> Replace(StateStore* closed) {
    const std::string name = closed->name();
    stores_.erase(name);
    for (const StoreFactory& factory : factories_) {
      EDDY_ASSIGN_OR_RETURN(std::unique_ptr<StateStore> fresh, factory());
      if (fresh->name() != name) continue;
      EDDY_RETURN_IF_ERROR(fresh->Init(&context_));
      StateStore* out = fresh.get();
      stores_[name] = std::move(fresh);
      return out;
    }
    return absl::NotFoundError(absl::StrCat("no factory for store ", name));
  }

  TaskStateDeps deps_;
  std::vector<StoreFactory> factories_;
  StateStoreContext context_;
  std::unique_ptr<StateManager> manager_;
  std::map<std::string, std::unique_ptr<StateStore>> stores_;
};

}  // namespace eddy::state_harness
