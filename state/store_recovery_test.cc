// The wipe-or-restore decision for each store when its task starts.
#include "eddy/state/store_recovery.h"

#include "eddy/state/offset_checkpoint.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

StoreRecoveryInput Persistent(std::optional<int64_t> checkpoint, bool local, int64_t start, int64_t end) {
  StoreRecoveryInput in;
  in.checkpoint_offset = checkpoint;
  in.has_local_state = local;
  in.changelog_start_offset = start;
  in.changelog_end_offset = end;
  return in;
}

TEST(StoreRecoveryTest, UpToDateCheckpointUsesLocalState) {
  RecoveryDecision d = DecideStoreRecovery(Persistent(99, true, 0, 100));
  EXPECT_EQ(d.action, RecoveryAction::kUseLocalState);
}

TEST(StoreRecoveryTest, CheckpointBehindTheEndRestoresTheRest) {
  RecoveryDecision d = DecideStoreRecovery(Persistent(49, true, 0, 100));
  EXPECT_EQ(d.action, RecoveryAction::kRestore);
  EXPECT_EQ(d.restore_from, 50);
}

TEST(StoreRecoveryTest, CheckpointAheadOfTheChangelogEndWipes) {
  RecoveryDecision d = DecideStoreRecovery(Persistent(150, true, 0, 100));
  EXPECT_EQ(d.action, RecoveryAction::kWipeAndRestore);
  EXPECT_EQ(d.restore_from, 0);
  EXPECT_NE(d.reason.find("ahead"), std::string::npos);
  // A changelog emptied under the store (the broker's data was replaced).
  EXPECT_EQ(DecideStoreRecovery(Persistent(0, true, 0, 0)).action, RecoveryAction::kWipeAndRestore);
}

TEST(StoreRecoveryTest, CheckpointBeforeTheChangelogStartWipes) {
  RecoveryDecision d = DecideStoreRecovery(Persistent(10, true, 50, 100));
  EXPECT_EQ(d.action, RecoveryAction::kWipeAndRestore);
  EXPECT_EQ(d.restore_from, 50);
  // Exactly at the start is fine.
  d = DecideStoreRecovery(Persistent(49, true, 50, 100));
  EXPECT_EQ(d.action, RecoveryAction::kRestore);
  EXPECT_EQ(d.restore_from, 50);
}

TEST(StoreRecoveryTest, MissingCheckpointWithLocalStateAfterUncleanStopWipes) {
  EXPECT_EQ(DecideStoreRecovery(Persistent(std::nullopt, true, 0, 100)).action, RecoveryAction::kWipeAndRestore);
  EXPECT_EQ(DecideStoreRecovery(Persistent(OffsetCheckpoint::kOffsetUnknown, true, 0, 100)).action,
            RecoveryAction::kWipeAndRestore);
}

TEST(StoreRecoveryTest, NoLocalStateRestoresEverything) {
  for (std::optional<int64_t> checkpoint : {std::optional<int64_t>(), std::optional<int64_t>(40)}) {
    RecoveryDecision d = DecideStoreRecovery(Persistent(checkpoint, false, 5, 100));
    EXPECT_EQ(d.action, RecoveryAction::kRestore);
    EXPECT_EQ(d.restore_from, 5);
  }
  EXPECT_EQ(DecideStoreRecovery(Persistent(std::nullopt, false, 0, 0)).action, RecoveryAction::kUseLocalState);
}

TEST(StoreRecoveryTest, InMemoryStoresRestoreEverythingAndUnloggedStoresNothing) {
  StoreRecoveryInput in = Persistent(99, true, 3, 100);
  in.persistent = false;
  RecoveryDecision d = DecideStoreRecovery(in);
  EXPECT_EQ(d.action, RecoveryAction::kRestore);
  EXPECT_EQ(d.restore_from, 3);
  in.logged = false;
  EXPECT_EQ(DecideStoreRecovery(in).action, RecoveryAction::kUseLocalState);
}

}  // namespace
}  // namespace eddy
