// CoreStore<Interface>: the StateStore half of every store type, forwarded to its StoreCore; the typed stores
// (key_value_store.cc, window_store.cc, session_store.cc) derive from it and add their API. Also the
// factories that stores.cc calls. Internal to state/.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "eddy/core/status.h"
#include "eddy/state/key_value_store.h"
#include "eddy/state/session_store.h"
#include "eddy/state/state_store.h"
#include "eddy/state/window_store.h"
#include "state/store_core.h"

namespace eddy::state_internal {

template <typename Interface>
class CoreStore : public Interface {
 public:
  explicit CoreStore(StoreOptions options) : core_(std::move(options)) {}

  const std::string& name() const override { return core_.options().name; }
  bool persistent() const override { return core_.options().persistent; }
  bool logging_enabled() const override { return core_.options().logging; }
  bool caching_enabled() const override { return core_.options().caching; }
  std::map<std::string, std::string> changelog_config() const override { return core_.ChangelogConfig(); }
  absl::Status Init(StateStoreContext* context) override { return core_.Init(context); }
  bool is_open() const override { return core_.is_open(); }
  absl::Status Flush() override {
    EDDY_RETURN_IF_ERROR(WriteBackHeld());
    return core_.Flush();
  }
  absl::Status Close() override {
    absl::Status st = WriteBackHeld();
    held_ = nullptr;
    absl::Status closed = core_.Close();
    return st.ok() ? closed : st;
  }
  absl::Status BeginRestore(const RestoreOptions& options) override { return core_.BeginRestore(options); }
  absl::Status RestoreBatch(absl::Span<const ChangelogRecord> records) override {
    return core_.RestoreBatch(records);
  }
  absl::Status EndRestore() override { return core_.EndRestore(); }

 protected:
  // For the stores whose every read and write calls WriteBackHeld first (key-value, window).
  bool AcceptHeldWrites(HeldWrites* held) {
    if (held != nullptr && !(core_.is_open() && core_.has_cache())) return false;
    held_ = held;
    return true;
  }
  absl::Status WriteBackHeld() {
    if (held_ == nullptr || !held_->pending()) [[likely]] return absl::OkStatus();
    return held_->WriteBack();
  }

  StoreCore core_;
  HeldWrites* held_ = nullptr;  // not owned
};

// REQUIRES: options validated by the builder (stores.cc).
std::unique_ptr<KeyValueStore> NewKeyValueStore(StoreOptions options);
std::unique_ptr<WindowStore> NewWindowStore(StoreOptions options);
std::unique_ptr<SessionStore> NewSessionStore(StoreOptions options);

}  // namespace eddy::state_internal
