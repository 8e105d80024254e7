#include "eddy/state/stores.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "eddy/core/status.h"
#include "state/core_store.h"

namespace eddy {
namespace {

using state_internal::StoreKind;
using state_internal::StoreOptions;

// Store names become parts of topic and directory names: Kafka's legal topic characters.
absl::Status ValidateName(const std::string& name) {
  if (name.empty() || name.size() > 200 || name == "." || name == "..") {
    return absl::InvalidArgumentError(absl::StrCat("invalid store name '", name, "'"));
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("store name '", name, "' has a character outside [a-zA-Z0-9._-]"));
    }
  }
  return absl::OkStatus();
}

template <typename Builder>
StoreOptions BaseOptions(const Builder& b, StoreKind kind) {
  StoreOptions o;
  o.name = b.name();
  o.kind = kind;
  o.persistent = b.persistent();
  o.caching = b.caching_enabled();
  o.logging = b.logging_enabled();
  o.changelog_config = b.changelog_config();
  return o;
}

// Kafka's default segment interval: max(retention / 2, 60 s).
absl::StatusOr<int64_t> SegmentInterval(const std::string& name, int64_t retention_ms, absl::Duration chosen) {
  if (chosen == absl::ZeroDuration()) return std::max<int64_t>(retention_ms / 2, 60000);
  const int64_t ms = absl::ToInt64Milliseconds(chosen);
  if (ms < 1) return absl::InvalidArgumentError(absl::StrCat("store ", name, ": segment interval under 1 ms"));
  return ms;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KeyValueStore>> KeyValueStoreBuilder::Build() const {
  EDDY_RETURN_IF_ERROR(ValidateName(name_));
  return state_internal::NewKeyValueStore(BaseOptions(*this, StoreKind::kKeyValue));
}

absl::StatusOr<std::unique_ptr<WindowStore>> WindowStoreBuilder::Build() const {
  EDDY_RETURN_IF_ERROR(ValidateName(name_));
  StoreOptions o = BaseOptions(*this, StoreKind::kWindow);
  o.retention_ms = absl::ToInt64Milliseconds(retention_);
  o.window_size_ms = absl::ToInt64Milliseconds(window_size_);
  if (o.retention_ms < 0 || o.window_size_ms < 0) {
    return absl::InvalidArgumentError(absl::StrCat("window store ", name_, ": negative retention or window size"));
  }
  if (o.retention_ms < o.window_size_ms) {
    return absl::InvalidArgumentError(absl::StrCat("window store ", name_, ": retention (", o.retention_ms,
                                                   " ms) is shorter than the window size (", o.window_size_ms,
                                                   " ms)"));
  }
  EDDY_ASSIGN_OR_RETURN(o.segment_interval_ms, SegmentInterval(name_, o.retention_ms, segment_interval_));
  o.retain_duplicates = retain_duplicates_;
  if (o.retain_duplicates) o.caching = false;
  return state_internal::NewWindowStore(std::move(o));
}

absl::StatusOr<std::unique_ptr<SessionStore>> SessionStoreBuilder::Build() const {
  EDDY_RETURN_IF_ERROR(ValidateName(name_));
  StoreOptions o = BaseOptions(*this, StoreKind::kSession);
  o.retention_ms = absl::ToInt64Milliseconds(retention_);
  if (o.retention_ms < 0) {
    return absl::InvalidArgumentError(absl::StrCat("session store ", name_, ": negative retention"));
  }
  EDDY_ASSIGN_OR_RETURN(o.segment_interval_ms, SegmentInterval(name_, o.retention_ms, segment_interval_));
  return state_internal::NewSessionStore(std::move(o));
}

}  // namespace eddy
