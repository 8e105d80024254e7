// The rules for trusting a store's local state when its task starts, as Kafka Streams applies them
// (ProcessorStateManager, StoreChangelogReader), in one pure function the runtime calls per store:
//
//   not logged                                   nothing to restore; persistent keeps its files
//   logged, in memory                            restore the whole changelog
//   logged, persistent, no checkpoint entry:
//     no local files                             restore the whole changelog
//     local files                                wipe and restore: a clean close always writes the
//                                                checkpoint, so the last owner stopped uncleanly and the
//                                                store may hold changes the changelog does not
//   logged, persistent, checkpoint offset c (the last changelog record the store holds):
//     no local files                             restore the whole changelog (the checkpoint is stale)
//     c + 1 > changelog end                      wipe and restore: the changelog was truncated or replaced
//                                                under the store (e.g. the broker's data was lost)
//     c + 1 < changelog start                    wipe and restore: records the store never saw were
//                                                deleted from the changelog
//     c + 1 == changelog end                     up to date
//     otherwise                                  restore from c + 1
//
// Never trusted blindly; what it cannot detect: a changelog deleted and recreated with at least as many
// records as before (offsets alone cannot tell; topic ids could, later).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace eddy {

struct StoreRecoveryInput {
  bool persistent = true;
  bool logged = true;
  // The store's changelog partition's entry in the task's checkpoint, nullopt if none (negative values,
  // such as OffsetCheckpoint::kOffsetUnknown, count as none).
  std::optional<int64_t> checkpoint_offset;
  // Whether the persistent store has files on disk (StateDirectory::StoreHasLocalState).
  bool has_local_state = false;
  // The changelog partition's log start offset and log end offset (the next offset to be written), as
  // ListOffsets reports them now.
  int64_t changelog_start_offset = 0;
  int64_t changelog_end_offset = 0;
};

enum class RecoveryAction {
  kUseLocalState,   // up to date, or not logged: open and process
  kRestore,         // restore [restore_from, changelog end) over what is there
  kWipeAndRestore,  // delete the store's files (StateDirectory::WipeStore), then restore from restore_from
};

struct RecoveryDecision {
  RecoveryAction action = RecoveryAction::kUseLocalState;
  int64_t restore_from = 0;  // first changelog offset to read
  std::string reason;        // for the log line
};

// DecideStoreRecovery applies the rules above. Pure; thread-safe.
RecoveryDecision DecideStoreRecovery(const StoreRecoveryInput& in);

}  // namespace eddy
