// Streams' state-store side (streams.h): changelog topics and state.dir at Start, and the interactive
// queries' access to the stream threads' stores.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/core/status.h"
#include "eddy/runtime/state_manager.h"
#include "eddy/runtime/streams.h"
#include "eddy/state/key_value_store.h"
#include "eddy/state/session_store.h"
#include "eddy/state/window_store.h"
#include "runtime/stream_thread.h"

namespace eddy {

using runtime_internal::StreamThread;
using runtime_internal::ThreadState;

absl::Status Streams::PrepareState(Admin& admin) {
  const std::string& app = config_.application_id;
  stores_.clear();
  state_directory_.reset();
  const Topology::PartitionsOf partitions_of = [&admin](const std::string& topic) -> absl::StatusOr<int32_t> {
    EDDY_ASSIGN_OR_RETURN(TopicDescription d, admin.DescribeTopic(topic));
    return static_cast<int32_t>(d.partitions.size());
  };
  // Every source topic exists by now (ValidateTopics created the internal ones): a sub-topology has as
  // many tasks as its largest source topic has partitions.
  for (const Subtopology& sub : topology_.subtopologies()) {
    if (sub.stores.empty()) continue;
    int32_t partitions = 0;
    for (const std::string& topic : topology_.SourceTopics(sub.id, app)) {
      EDDY_ASSIGN_OR_RETURN(int32_t n, partitions_of(topic));
      partitions = std::max(partitions, n);
    }
    for (const std::string& store : sub.stores) stores_[store] = StoreInfo{sub.id, partitions};
  }
  if (stores_.empty()) return absl::OkStatus();
  EDDY_ASSIGN_OR_RETURN(std::vector<ChangelogTopic> changelogs, topology_.ChangelogTopics(app, partitions_of));
  std::vector<ChangelogTopicSpec> specs;
  for (ChangelogTopic& t : changelogs) specs.push_back({std::move(t.name), t.partitions, std::move(t.configs)});
  EDDY_RETURN_IF_ERROR(EnsureChangelogTopics(admin, specs));
  EDDY_ASSIGN_OR_RETURN(state_directory_, StateDirectory::Open(config_.state_dir, app));
  return absl::OkStatus();
}

absl::Status Streams::WithStores(absl::string_view name, int32_t partition,
                                 absl::FunctionRef<absl::Status(int32_t, StateStore&)> fn) const {
  auto info = stores_.find(name);
  if (info == stores_.end()) return absl::NotFoundError(absl::StrCat("no state store ", name));
  std::vector<StreamThread*> threads;  // alive until the Streams is destroyed
  auto unavailable = [&](StreamsState state) {
    return absl::UnavailableError(absl::StrCat("state store ", name, " is not available: the application is ",
                                               ToString(state), " (queries need RUNNING)"));
  };
  {
    absl::MutexLock lock(&mu_);
    if (state_ != StreamsState::kRunning) return unavailable(state_);
    for (const auto& t : threads_) {
      if (t->state() != ThreadState::kDead) threads.push_back(t.get());
    }
  }
  int found = 0;
  for (StreamThread* t : threads) {
    EDDY_RETURN_IF_ERROR(t->WithStores(name, info->second.subtopology, partition, fn, &found));
  }
  // A rebalance that started meanwhile may have taken tasks away: what was read may be incomplete.
  const StreamsState now = state();
  if (now != StreamsState::kRunning) return unavailable(now);
  return absl::OkStatus();
}

template <typename S>
absl::StatusOr<int32_t> Streams::QueryableStore(absl::string_view name) const {
  if (!started_.load(std::memory_order_acquire)) {
    return absl::FailedPreconditionError(absl::StrCat("state store ", name, ": the application is not started"));
  }
  auto info = stores_.find(name);
  const StoreSpec* spec = topology_.FindStore(name);
  if (info == stores_.end() || spec == nullptr) {
    return absl::NotFoundError(absl::StrCat("no state store ", name, " in the topology (or no processor uses it)"));
  }
  // An instance that is never Init'ed (no files, no I/O) tells the store's type.
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<StateStore> probe, spec->build());
  if (dynamic_cast<S*>(probe.get()) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("state store ", name, " is not of the queried type"));
  }
  return info->second.partitions;
}

absl::StatusOr<ReadOnlyKeyValueStore> Streams::QueryableKeyValueStore(absl::string_view name) const {
  EDDY_ASSIGN_OR_RETURN(int32_t partitions, QueryableStore<KeyValueStore>(name));
  return ReadOnlyKeyValueStore(store_provider_, std::string(name), partitions);
}

absl::StatusOr<ReadOnlyWindowStore> Streams::QueryableWindowStore(absl::string_view name) const {
  EDDY_ASSIGN_OR_RETURN(int32_t partitions, QueryableStore<WindowStore>(name));
  return ReadOnlyWindowStore(store_provider_, std::string(name), partitions);
}

absl::StatusOr<ReadOnlySessionStore> Streams::QueryableSessionStore(absl::string_view name) const {
  EDDY_ASSIGN_OR_RETURN(int32_t partitions, QueryableStore<SessionStore>(name));
  return ReadOnlySessionStore(store_provider_, std::string(name), partitions);
}

}  // namespace eddy
