#include "eddy/state/store_recovery.h"

#include "absl/strings/str_cat.h"

namespace eddy {

RecoveryDecision DecideStoreRecovery(const StoreRecoveryInput& in) {
  const int64_t start = in.changelog_start_offset;
  const int64_t end = in.changelog_end_offset;
  auto restore_all = [&](std::string reason) {
    return RecoveryDecision{start < end ? RecoveryAction::kRestore : RecoveryAction::kUseLocalState, start,
                            std::move(reason)};
  };
  if (!in.logged) return {RecoveryAction::kUseLocalState, 0, "not logged: nothing to restore from"};
  if (!in.persistent) return restore_all("in-memory store: restore the whole changelog");
  std::optional<int64_t> checkpoint = in.checkpoint_offset;
  if (checkpoint.has_value() && *checkpoint < 0) checkpoint.reset();
  if (!checkpoint.has_value()) {
    if (in.has_local_state) {
      return {RecoveryAction::kWipeAndRestore, start,
              "local state without a checkpoint (unclean stop): it may hold changes the changelog lacks"};
    }
    return restore_all("no local state");
  }
  if (!in.has_local_state) return restore_all("checkpoint without local state");
  const int64_t next = *checkpoint + 1;
  if (next > end) {
    return {RecoveryAction::kWipeAndRestore, start,
            absl::StrCat("checkpoint offset ", *checkpoint, " is ahead of the changelog end ", end,
                         ": the changelog was truncated or replaced")};
  }
  if (next < start) {
    return {RecoveryAction::kWipeAndRestore, start,
            absl::StrCat("checkpoint offset ", *checkpoint, " is before the changelog start ", start,
                         ": records the store never saw were deleted")};
  }
  if (next == end) return {RecoveryAction::kUseLocalState, end, "up to date with the changelog"};
  return {RecoveryAction::kRestore, next, absl::StrCat("restore from checkpoint offset ", *checkpoint, " + 1")};
}

}  // namespace eddy
