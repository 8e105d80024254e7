#include "eddy/runtime/changelog_sink.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/core/status.h"

namespace eddy {

ProducerChangelogSink::~ProducerChangelogSink() {
  for (const auto& [topic, parts] : partitions_) {
    for (const std::unique_ptr<Partition>& p : parts) {
      if (p != nullptr && p->completed.load(std::memory_order_acquire) < p->sent) {
        // Callbacks still point into this sink: wait for them (errors were the caller's to collect).
        (void)producer_->Flush();
        return;
      }
    }
  }
}

ProducerChangelogSink::Partition* ProducerChangelogSink::Find(absl::string_view topic, int32_t partition) {
  if (last_ != nullptr && last_->tp.partition == partition && last_->tp.topic == topic) return last_;
  if (partition < 0) return nullptr;
  std::vector<std::unique_ptr<Partition>>& parts = partitions_[topic];
  if (parts.size() <= static_cast<size_t>(partition)) parts.resize(partition + 1);
  std::unique_ptr<Partition>& p = parts[partition];
  if (p == nullptr) {
    p = std::make_unique<Partition>();
    p->tp = TopicPartition{std::string(topic), partition};
    p->sink = this;
  }
  last_ = p.get();
  return last_;
}

const ProducerChangelogSink::Partition* ProducerChangelogSink::Lookup(const TopicPartition& tp) const {
  auto it = partitions_.find(tp.topic);
  if (it == partitions_.end() || tp.partition < 0 || static_cast<size_t>(tp.partition) >= it->second.size()) {
    return nullptr;
  }
  return it->second[tp.partition].get();
}

absl::Status ProducerChangelogSink::Send(absl::string_view topic, int32_t partition, absl::string_view key,
                                         std::optional<absl::string_view> value, int64_t timestamp) {
  if (failed_.load(std::memory_order_acquire)) return status();
  Partition* p = Find(topic, partition);
  if (p == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("changelog ", topic, ": partition ", partition, " < 0"));
  }
  ProducerRecord record;
  record.topic = topic;
  record.partition = partition;
  record.key = key;
  record.value = value;
  record.timestamp = timestamp;
  // The callback captures one pointer: it fits AnyInvocable's inline storage (no allocation).
  absl::Status s = producer_->Send(record, [p](const absl::Status& status, const RecordMetadata& metadata) {
    p->sink->OnDelivery(p, status, metadata);
  });
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat("sending to changelog ", ToString(p->tp), ": ", s.message()));
  }
  ++p->sent;
  return absl::OkStatus();
}

void ProducerChangelogSink::OnDelivery(Partition* p, const absl::Status& status, const RecordMetadata& metadata) {
  if (status.ok()) {
    // Deliveries of one partition complete in order; the max guards against any reordering anyway.
    int64_t prev = p->acked_offset.load(std::memory_order_relaxed);
    while (metadata.offset > prev &&
           !p->acked_offset.compare_exchange_weak(prev, metadata.offset, std::memory_order_relaxed)) {
    }
  } else {
    absl::MutexLock lock(&mu_);
    if (first_error_.ok()) {
      first_error_ = absl::Status(status.code(), absl::StrCat("changelog ", ToString(p->tp),
                                                              ": delivery failed: ", status.message()));
    }
    failed_.store(true, std::memory_order_release);
  }
  // Release: a thread that sees the count also sees the offset stored above.
  p->completed.fetch_add(1, std::memory_order_release);
}

absl::Status ProducerChangelogSink::Flush(absl::Duration timeout) {
  const absl::Status flushed = producer_->Flush(timeout);
  EDDY_RETURN_IF_ERROR(status());
  return flushed;
}

absl::Status ProducerChangelogSink::status() const {
  if (!failed_.load(std::memory_order_acquire)) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  return first_error_;
}

std::optional<int64_t> ProducerChangelogSink::AckedOffset(const TopicPartition& tp) const {
  const Partition* p = Lookup(tp);
  if (p == nullptr) return std::nullopt;
  (void)p->completed.load(std::memory_order_acquire);
  const int64_t offset = p->acked_offset.load(std::memory_order_relaxed);
  if (offset < 0) return std::nullopt;
  return offset;
}

int64_t ProducerChangelogSink::Pending(const TopicPartition& tp) const {
  const Partition* p = Lookup(tp);
  return p == nullptr ? 0 : p->sent - p->completed.load(std::memory_order_acquire);
}

void ProducerChangelogSink::ResetPartition(const TopicPartition& tp) {
  Partition* p = Find(tp.topic, tp.partition);
  if (p != nullptr) p->acked_offset.store(-1, std::memory_order_relaxed);
}

}  // namespace eddy
