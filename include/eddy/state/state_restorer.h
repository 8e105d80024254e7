// Restoring a store from its changelog, with progress reporting: StateRestoreListener (Kafka Streams'
// interface of the same name) and StateRestorer, which drives a store's BeginRestore / RestoreBatch /
// EndRestore for the runtime and keeps count.
//
// The runtime's loop for one store (after DecideStoreRecovery said kRestore or kWipeAndRestore):
//   StateRestorer restorer(store, changelog_tp, decision.restore_from, end_offset, listener);
//   EDDY_RETURN_IF_ERROR(restorer.Begin());
//   while (!restorer.done()) {
//     poll the restore consumer; collect the partition's records as ChangelogRecords (views);
//     EDDY_RETURN_IF_ERROR(restorer.Restore(records, consumer_position));
//   }
//   EDDY_RETURN_IF_ERROR(restorer.End());
//   checkpoint[changelog_tp] = restorer.restored_offset();
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "eddy/core/record.h"
#include "eddy/state/state_store.h"

namespace eddy {

// Told about each store's restoration. Called on the restoring thread; implementations shared by threads
// must synchronise themselves.
class StateRestoreListener {
 public:
  virtual ~StateRestoreListener() = default;
  // Before the first record: the changelog range [start_offset, end_offset) to restore.
  virtual void OnRestoreStart(const TopicPartition& changelog, absl::string_view store, int64_t start_offset,
                              int64_t end_offset) = 0;
  // After each batch: the offset of its last record and how many records it had.
  virtual void OnBatchRestored(const TopicPartition& changelog, absl::string_view store, int64_t batch_end_offset,
                               int64_t num_restored) = 0;
  // After the last batch is applied and the store flushed.
  virtual void OnRestoreEnd(const TopicPartition& changelog, absl::string_view store, int64_t total_restored) = 0;
};

// Drives one store's restoration; see the file comment. Not owned: the store (initialised, not yet
// processing) and the listener (may be null), which must outlive the restorer. Thread-compatible.
// Prints nothing: the listener reports (the runtime's logs the start, progress and end of each store).
class StateRestorer {
 public:
  StateRestorer(StateStore* store, TopicPartition changelog, int64_t start_offset, int64_t end_offset,
                StateRestoreListener* listener, RestoreOptions options = {});

  // Begin calls the store's BeginRestore and the listener's OnRestoreStart.
  [[nodiscard]] absl::Status Begin();
  // Restore applies one batch of records, in offset order, all below end_offset, and notes the consumer's
  // position after it (the next offset it will read: compaction leaves gaps, so the position, not the last
  // record, tells when the end is reached). An empty batch only moves the position. kOutOfRange for a
  // record at or past end_offset or before the previous one.
  [[nodiscard]] absl::Status Restore(absl::Span<const ChangelogRecord> records, int64_t position);
  // Whether the position reached end_offset.
  bool done() const { return position_ >= end_offset_; }
  // End calls the store's EndRestore (applying what is buffered, flushing) and OnRestoreEnd.
  [[nodiscard]] absl::Status End();

  // The offset to checkpoint for the store: position - 1, that is, the last offset it has seen.
  int64_t restored_offset() const { return position_ - 1; }
  int64_t restored_records() const { return restored_; }

 private:
  StateStore* store_;
  TopicPartition changelog_;
  int64_t start_offset_;
  int64_t end_offset_;
  StateRestoreListener* listener_;
  RestoreOptions options_;
  int64_t position_;
  int64_t restored_ = 0;
};

}  // namespace eddy
