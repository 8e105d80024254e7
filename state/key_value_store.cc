// The key-value store: keys are store keys as they are, in segment 0 (store_key_format.h).
#include "eddy/state/key_value_store.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eddy/core/status.h"
#include "state/core_store.h"

namespace eddy {

std::string ChangelogTopicName(absl::string_view application_id, absl::string_view store_name) {
  return absl::StrCat(application_id, "-", store_name, "-changelog");
}

absl::StatusOr<std::optional<std::string>> KeyValueStore::Get(absl::string_view key) {
  std::string value;
  EDDY_ASSIGN_OR_RETURN(bool found, Get(key, &value));
  if (!found) return std::nullopt;
  return value;
}

namespace state_internal {
namespace {

class KeyValueStoreImpl final : public CoreStore<KeyValueStore> {
 public:
  using CoreStore::CoreStore;
  using KeyValueStore::Get;

  absl::StatusOr<bool> Get(absl::string_view key, std::string* value) override {
    EDDY_RETURN_IF_ERROR(WriteBackHeld());
    return core_.Get(-1, key, value, /*read_through=*/true);
  }
  absl::Status Put(absl::string_view key, absl::string_view value) override {
    EDDY_RETURN_IF_ERROR(WriteBackHeld());
    return core_.Write(-1, key, value);
  }
  absl::StatusOr<bool> PutIfAbsent(absl::string_view key, absl::string_view value) override {
    EDDY_RETURN_IF_ERROR(WriteBackHeld());
    EDDY_ASSIGN_OR_RETURN(bool found, core_.Get(-1, key, &scratch_, /*read_through=*/true));
    if (found) return false;
    EDDY_RETURN_IF_ERROR(core_.Write(-1, key, value));
    return true;
  }
  absl::Status PutAll(absl::Span<const KeyValueEntry> entries) override {
    EDDY_RETURN_IF_ERROR(WriteBackHeld());
    return core_.WriteAll(entries);
  }
  absl::Status Delete(absl::string_view key) override {
    EDDY_RETURN_IF_ERROR(WriteBackHeld());
    return core_.Write(-1, key, std::nullopt);
  }

  std::unique_ptr<KeyValueIterator> Range(absl::string_view from, absl::string_view to) override {
    if (absl::Status st = WriteBackHeld(); !st.ok()) return std::make_unique<EmptyIterator>(st);
    if (from > to) return std::make_unique<EmptyIterator>(core_.CheckOpen());
    std::string upper(to);
    upper.push_back('\0');  // the smallest key after `to`: the range is inclusive
    return core_.Range(0, 0, std::string(from), std::move(upper));
  }
  std::unique_ptr<KeyValueIterator> All() override {
    if (absl::Status st = WriteBackHeld(); !st.ok()) return std::make_unique<EmptyIterator>(st);
    return core_.Range(0, 0, std::string(), std::nullopt);
  }
  bool SetHeldWrites(HeldWrites* held) override { return AcceptHeldWrites(held); }
  absl::StatusOr<uint64_t> ApproximateNumEntries() override { return core_.ApproximateNumEntries(); }

  void SetFlushListener(KeyValueFlushListener listener, bool send_old_values) override {
    if (listener == nullptr) {
      core_.SetListener(nullptr, false);
      return;
    }
    core_.SetListener(
        [this, listener = std::move(listener)](absl::Span<const RawChange> raw) {
          changes_.clear();
          for (const RawChange& r : raw) changes_.push_back({r.store_key, r.new_value, r.old_value, r.timestamp});
          return listener(changes_);
        },
        send_old_values);
  }

 private:
  std::string scratch_;
  std::vector<KeyValueChange> changes_;
};

}  // namespace

std::unique_ptr<KeyValueStore> NewKeyValueStore(StoreOptions options) {
  return std::make_unique<KeyValueStoreImpl>(std::move(options));
}

}  // namespace state_internal
}  // namespace eddy
