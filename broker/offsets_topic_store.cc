#include "broker/offsets_topic_store.h"

#include "absl/time/clock.h"
#include "broker/append_notifier.h"
#include "broker/log_manager.h"
#include "broker/partition_log.h"
#include "eddy/core/status.h"

namespace eddy::broker {

void OffsetsTopicStore::Append(std::string key, std::optional<std::string> value,
                               absl::AnyInvocable<void(absl::Status)> on_durable) {
  absl::StatusOr<AppendResult> appended;
  {
    absl::MutexLock lock(&mu_);
    builder_.Reset();
    const int64_t now = absl::ToUnixMillis(absl::Now());
    builder_.Append(now, key, value);
    absl::StatusOr<absl::Span<char>> batch = builder_.Finish();
    if (!batch.ok()) {
      on_durable(batch.status());
      return;
    }
    appended = log_->Append(*batch, now, /*verify_crc=*/false);
    if (!appended.ok()) {
      on_durable(appended.status());
      return;
    }
    const int64_t last = appended->last_offset;
    {
      absl::MutexLock done_lock(&done_mu_);
      pending_.push_back(Pending{last, std::move(on_durable), std::nullopt});
    }
    logs_->RequestFlush(log_, last, [this, last](absl::Status s) { Complete(last, s); });
  }
  notifier_->Notify();
}

void OffsetsTopicStore::Complete(int64_t last_offset, const absl::Status& status) {
  absl::MutexLock lock(&done_mu_);
  for (Pending& p : pending_) {
    if (p.last_offset > last_offset) break;
    if (!p.result.has_value()) p.result = status;
  }
  if (draining_) return;  // the thread draining will see these
  draining_ = true;
  while (!pending_.empty() && pending_.front().result.has_value()) {
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    done_mu_.Unlock();
    p.on_durable(*p.result);
    done_mu_.Lock();
  }
  draining_ = false;
}

absl::Status OffsetsTopicStore::Replay(
    absl::FunctionRef<void(absl::string_view key, std::optional<absl::string_view> value)> fn) {
  std::string buf;
  std::string scratch;
  int64_t offset = log_->log_start_offset();
  while (offset < log_->log_end_offset()) {
    buf.clear();
    EDDY_RETURN_IF_ERROR(log_->Read(offset, 1 << 20, &buf).status());
    absl::string_view data(buf);
    if (data.empty()) break;
    while (!data.empty()) {
      EDDY_ASSIGN_OR_RETURN(BatchHeaderView h, ValidateBatch(data, /*verify_crc=*/true));
      const size_t size = static_cast<size_t>(h.size_in_bytes());
      EDDY_ASSIGN_OR_RETURN(RecordIterator it, RecordIterator::Open(data.substr(0, size), &scratch));
      RecordView r;
      while (it.Next(&r)) {
        if (r.offset() < offset || !r.has_key()) continue;
        std::optional<absl::string_view> value;
        if (r.has_value()) value = r.value();
        fn(r.key(), value);
      }
      EDDY_RETURN_IF_ERROR(it.status());
      offset = std::max(offset, h.next_offset());
      data.remove_prefix(size);
    }
  }
  return absl::OkStatus();
}

}  // namespace eddy::broker
