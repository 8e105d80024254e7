#include "eddy/state/state_restorer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/core/status.h"

namespace eddy {

StateRestorer::StateRestorer(StateStore* store, TopicPartition changelog, int64_t start_offset, int64_t end_offset,
                             StateRestoreListener* listener, RestoreOptions options)
    : store_(store),
      changelog_(std::move(changelog)),
      start_offset_(start_offset),
      end_offset_(end_offset),
      listener_(listener),
      options_(options),
      position_(start_offset) {}

absl::Status StateRestorer::Begin() {
  EDDY_RETURN_IF_ERROR(store_->BeginRestore(options_));
  if (listener_ != nullptr) listener_->OnRestoreStart(changelog_, store_->name(), start_offset_, end_offset_);
  return absl::OkStatus();
}

absl::Status StateRestorer::Restore(absl::Span<const ChangelogRecord> records, int64_t position) {
  int64_t previous = position_ - 1;
  for (const ChangelogRecord& r : records) {
    if (r.offset <= previous || r.offset >= end_offset_) {
      return absl::OutOfRangeError(absl::StrCat("restoring ", store_->name(), " from ", ToString(changelog_),
                                                ": record offset ", r.offset, " after ", previous,
                                                " outside [", start_offset_, ", ", end_offset_, ")"));
    }
    previous = r.offset;
  }
  if (!records.empty()) {
    EDDY_RETURN_IF_ERROR(store_->RestoreBatch(records));
    restored_ += static_cast<int64_t>(records.size());
    if (listener_ != nullptr) {
      listener_->OnBatchRestored(changelog_, store_->name(), records.back().offset,
                                 static_cast<int64_t>(records.size()));
    }
  }
  position_ = std::max(position, previous + 1);
  return absl::OkStatus();
}

absl::Status StateRestorer::End() {
  EDDY_RETURN_IF_ERROR(store_->EndRestore());
  if (listener_ != nullptr) listener_->OnRestoreEnd(changelog_, store_->name(), restored_);
  return absl::OkStatus();
}

}  // namespace eddy
