#include "cli/consume_loop.h"

#include <optional>

namespace eddy::cli {

void ConsumeLoop::NotePoll(bool cut) {
  for (const ConsumerRecords::PartitionRange& range : records_.partitions()) {
    size_t p = static_cast<size_t>(range.tp.partition);
    int64_t last = p < last_offset_.size() ? last_offset_[p] : -1;
    if (!cut) {
      next_offset_[range.tp] = range.next_offset;  // past everything returned, control records included
    } else if (last >= 0) {
      next_offset_[range.tp] = last + 1;
    } else {
      next_offset_[range.tp] = range.first_offset;  // none of this poll's records from it were used
    }
  }
  for (int32_t p : touched_) last_offset_[static_cast<size_t>(p)] = -1;
  touched_.clear();
}

absl::Status ConsumeLoop::Commit() {
  std::vector<TopicPartitionOffset> offsets;
  for (const TopicPartition& tp : consumer_->Assignment()) {
    auto it = next_offset_.find(tp);
    if (it != next_offset_.end()) {
      offsets.push_back({.tp = tp, .offset = it->second});
      continue;
    }
    absl::StatusOr<int64_t> position = consumer_->Position(tp);
    if (position.ok() && *position >= 0) offsets.push_back({.tp = tp, .offset = *position});
  }
  if (offsets.empty()) return absl::OkStatus();
  return Annotate(consumer_->CommitSync(offsets), "cannot commit offsets");
}

}  // namespace eddy::cli
