#include "broker/embedded_producer.h"

#include <pthread.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "broker/broker_impl.h"
#include "broker/log_manager.h"
#include "broker/partition_log.h"
#include "eddy/core/partitioner.h"
#include "eddy/core/status.h"

namespace eddy::broker {
namespace {

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

// Upper bound of a record's encoded size in a batch.
int64_t RecordBytes(const ProducerRecord& r) {
  return static_cast<int64_t>(RecordBatchBuilder::RecordSizeUpperBound(r.key ? r.key->size() : 0,
                                                                        r.value ? r.value->size() : 0, r.headers));
}

}  // namespace

EmbeddedProducer::EmbeddedProducer(BrokerImpl* broker, const ProducerConfig& config)
    : broker_(broker), config_(config) {
  sender_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "eddy-producer");
    SenderLoop();
  });
}

EmbeddedProducer::~EmbeddedProducer() {
  (void)Close(absl::InfiniteDuration());
  // A Close that timed out leaves acks=all batches whose completion the log flusher still owes; it calls
  // Complete on this object, so wait for it (the flusher completes every request, at the latest when the
  // log manager closes).
  (void)AwaitCompletions(absl::InfiniteFuture());
}

absl::StatusOr<EmbeddedProducer::TopicState*> EmbeddedProducer::Topic(absl::string_view name) {
  const uint64_t version = broker_->metadata_version();
  // A task's records mostly go to one topic in a row: one compare instead of hashing the name.
  if (last_topic_ != nullptr && last_topic_->metadata_version == version && name == last_topic_name_) {
    return last_topic_;
  }
  last_topic_ = nullptr;
  auto it = topics_.find(name);
  if (it != topics_.end() && it->second.metadata_version == version) {
    last_topic_ = &it->second;
    last_topic_name_.assign(name.data(), name.size());
    return last_topic_;
  }
  absl::StatusOr<BrokerImpl::TopicMeta> meta = broker_->TopicMetadata(name);
  if (!meta.ok()) {
    if (it != topics_.end()) {
      // The topic was deleted: seal what is open so its records fail through their callbacks.
      for (PartitionState& p : it->second.partitions) Seal(p);
      for (PartitionState& p : it->second.partitions) p.log.reset();
    }
    return meta.status();
  }
  TopicState& t = it != topics_.end() ? it->second : topics_[std::string(name)];
  if (static_cast<int32_t>(t.partitions.size()) != meta->partitions) t.partitions.resize(meta->partitions);
  // A batch never exceeds the topic's max.message.bytes (Kafka's producer splits batches the broker
  // rejects as too large; knowing the limit up front, this one never builds them).
  t.batch_limit = std::min<int64_t>(config_.batch_size, meta->max_message_bytes);
  for (PartitionState& p : t.partitions) p.log.reset();  // re-resolved lazily: the topic may be new
  t.metadata_version = version;
  return &t;
}

int32_t EmbeddedProducer::ChooseStickyPartition(TopicState& t, int32_t avoid) {
  const int32_t n = static_cast<int32_t>(t.partitions.size());
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  int32_t p = static_cast<int32_t>(rng_ % static_cast<uint64_t>(n));
  if (n > 1 && p == avoid) p = (p + 1) % n;
  return p;
}

absl::Status EmbeddedProducer::Send(const ProducerRecord& record, DeliveryCallback callback) {
  const int64_t bytes = RecordBytes(record);
  // As Kafka's producer: a record is too large if a batch holding only it would be.
  if (bytes + batch_format::kHeaderSize > config_.max_request_size) {
    return absl::InvalidArgumentError(absl::StrCat("record of ", bytes + batch_format::kHeaderSize,
                                                   " bytes (in its own batch) for topic ", record.topic,
                                                   " exceeds max.request.size ", config_.max_request_size));
  }
  const int64_t timestamp = record.timestamp >= 0 ? record.timestamp : NowMs();
  if (InBurst()) {
    mu_.AssertHeld();
    return SendLocked(record, std::move(callback), bytes, timestamp);
  }
  FastMutexLock lock(&mu_);
  return SendLocked(record, std::move(callback), bytes, timestamp);
}

absl::Status EmbeddedProducer::SendLocked(const ProducerRecord& record, DeliveryCallback callback, int64_t bytes,
                                          int64_t timestamp) {
  if (closed_.load(std::memory_order_relaxed)) return absl::FailedPreconditionError("producer is closed");
  if (open_bytes_ + sealed_bytes_.load(std::memory_order_relaxed) + bytes > config_.buffer_memory &&
      unacked_batches_.load(std::memory_order_relaxed) > 0) {
    EDDY_RETURN_IF_ERROR(WaitForBuffer(bytes));
  }
  EDDY_ASSIGN_OR_RETURN(TopicState * t, Topic(record.topic));
  const int32_t n = static_cast<int32_t>(t->partitions.size());
  int32_t partition = record.partition;
  if (partition >= n || partition < -1) {
    return absl::InvalidArgumentError(
        absl::StrCat("topic ", record.topic, " has ", n, " partitions, no partition ", partition));
  }
  if (partition < 0) {
    if (record.key.has_value()) {
      partition = KeyPartition(*record.key, n);
    } else {
      if (t->sticky < 0) t->sticky = ChooseStickyPartition(*t, -1);
      partition = t->sticky;
    }
  }
  PartitionState& p = t->partitions[partition];
  if (p.open != nullptr && static_cast<int64_t>(p.open->builder.size_estimate()) + bytes > t->batch_limit) {
    Seal(p);
    if (!record.key.has_value() && record.partition < 0) {
      // Sticky partitioning: a full batch moves null-key records to another partition (Kafka's rule).
      t->sticky = ChooseStickyPartition(*t, partition);
    }
  }
  if (p.open == nullptr) {
    if (p.log == nullptr) {
      EDDY_ASSIGN_OR_RETURN(p.log, broker_->GetLog(record.topic, partition));
    }
    p.open = NewBatch();
    p.open->log = p.log;
    p.open->partition = partition;
    p.open->bytes = 0;
    p.open->deadline_ms = NowMs() + config_.linger_ms;
    ++open_batches_;
    if (p.open->deadline_ms < earliest_deadline_ms_.load(std::memory_order_relaxed)) {
      earliest_deadline_ms_.store(p.open->deadline_ms, std::memory_order_relaxed);
      // Under handoff_mu_: the sender reads the deadline under it just before it sleeps.
      absl::MutexLock h(&handoff_mu_);
      sender_cv_.Signal();
    }
  }
  Batch& b = *p.open;
  if (callback != nullptr) b.callbacks.push_back(Callback{b.builder.record_count(), timestamp, std::move(callback)});
  b.builder.Append(timestamp, record.key, record.value, record.headers);
  b.bytes += bytes;
  open_bytes_ += bytes;
  if (static_cast<int64_t>(b.builder.size_estimate()) >= t->batch_limit) Seal(p);
  return absl::OkStatus();
}

void EmbeddedProducer::BeginSends() {
  if (InBurst()) {
    mu_.AssertHeld();
    ++burst_depth_;
    return;
  }
  mu_.Lock();
  burst_depth_ = 1;
  burst_owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
}

void EmbeddedProducer::EndSends() {
  if (!InBurst()) return;
  mu_.AssertHeld();
  if (--burst_depth_ > 0) return;
  if (seal_due_.load(std::memory_order_relaxed)) {
    seal_due_.store(false, std::memory_order_relaxed);
    SealExpired(NowMs(), /*all=*/false);  // the sender found mu_ held by this burst at a linger deadline
  }
  burst_owner_.store(std::thread::id(), std::memory_order_relaxed);
  mu_.Unlock();
}

EmbeddedProducer::BurstPause::BurstPause(EmbeddedProducer* p) : p_(p) {
  if (!p_->InBurst()) return;
  p_->mu_.AssertHeld();
  depth_ = p_->burst_depth_;
  p_->burst_owner_.store(std::thread::id(), std::memory_order_relaxed);
  p_->mu_.Unlock();
}

EmbeddedProducer::BurstPause::~BurstPause() {
  if (depth_ == 0) return;
  p_->mu_.Lock();
  p_->burst_depth_ = depth_;
  p_->burst_owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
}

std::unique_ptr<EmbeddedProducer::Batch> EmbeddedProducer::NewBatch() {
  if (pool_.empty()) {
    absl::MutexLock h(&handoff_mu_);
    pool_.swap(returned_);
  }
  if (pool_.empty()) return std::make_unique<Batch>(config_.compression);
  std::unique_ptr<Batch> b = std::move(pool_.back());
  pool_.pop_back();
  b->builder.Reset();
  return b;
}

void EmbeddedProducer::Seal(PartitionState& p) {
  if (p.open == nullptr) return;
  --open_batches_;
  open_bytes_ -= p.open->bytes;
  sealed_bytes_.fetch_add(p.open->bytes, std::memory_order_relaxed);
  unacked_batches_.fetch_add(1, std::memory_order_relaxed);
  absl::MutexLock h(&handoff_mu_);
  ready_.push_back(std::move(p.open));
  if (ready_.size() == 1) sender_cv_.Signal();
}

void EmbeddedProducer::SealExpired(int64_t now_ms, bool all) {
  int64_t earliest = INT64_MAX;
  for (auto& [name, t] : topics_) {
    for (PartitionState& p : t.partitions) {
      if (p.open == nullptr) continue;
      if (all || p.open->deadline_ms <= now_ms) {
        Seal(p);
      } else {
        earliest = std::min(earliest, p.open->deadline_ms);
      }
    }
  }
  earliest_deadline_ms_.store(earliest, std::memory_order_relaxed);
}

void EmbeddedProducer::SenderLoop() {
  std::vector<std::unique_ptr<Batch>> work;
  bool sealed_after_stop = false;
  absl::MutexLock lock(&handoff_mu_);
  while (true) {
    const int64_t now = NowMs();
    const bool stopping = stop_;
    if (stopping || earliest_deadline_ms_.load(std::memory_order_relaxed) <= now) {
      // mu_ comes before handoff_mu_ (Seal takes it under mu_). After stop_, Send fails (closed_ was set
      // first), so this pass leaves no batch open for good.
      handoff_mu_.Unlock();
      bool deferred = false;
      if (mu_.TryLock()) {
        SealExpired(now, stopping);
        mu_.Unlock();
      } else if (!stopping && burst_owner_.load(std::memory_order_relaxed) != std::thread::id()) {
        // A burst holds mu_ (for up to a batch of records): rather than wait, and delay delivering what is
        // already sealed, leave the expired batches to the burst's end (EndSends) and look again in 1 ms.
        seal_due_.store(true, std::memory_order_relaxed);
        deferred = true;
      } else {
        FastMutexLock m(&mu_);  // a single Send: held for a moment
        SealExpired(now, stopping);
      }
      handoff_mu_.Lock();
      if (stopping) sealed_after_stop = true;
      if (deferred && ready_.empty() && !stop_) {
        sender_cv_.WaitWithTimeout(&handoff_mu_, absl::Milliseconds(1));
        continue;
      }
    }
    if (ready_.empty()) {
      if (sealed_after_stop) break;
      if (stop_) continue;
      const int64_t deadline = earliest_deadline_ms_.load(std::memory_order_relaxed);
      if (deadline == INT64_MAX) {
        sender_cv_.Wait(&handoff_mu_);
      } else {
        sender_cv_.WaitWithDeadline(&handoff_mu_, absl::FromUnixMillis(deadline));
      }
      continue;
    }
    while (!ready_.empty()) {
      work.push_back(std::move(ready_.front()));
      ready_.pop_front();
    }
    handoff_mu_.Unlock();
    for (auto& b : work) Deliver(std::move(b));
    work.clear();
    handoff_mu_.Lock();
  }
}

void EmbeddedProducer::Deliver(std::unique_ptr<Batch> batch) {
  absl::StatusOr<absl::Span<char>> bytes = batch->builder.Finish();
  if (!bytes.ok()) {
    Complete(std::move(batch), bytes.status(), -1, -1);
    return;
  }
  absl::StatusOr<AppendResult> appended = batch->log->Append(*bytes, NowMs(), /*verify_crc=*/false);
  if (!appended.ok()) {
    Complete(std::move(batch), appended.status(), -1, -1);
    return;
  }
  broker_->notifier().Notify();
  if (config_.acks != Acks::kAll) {
    Complete(std::move(batch), absl::OkStatus(), config_.acks == Acks::kNone ? -1 : appended->first_offset,
             appended->log_append_time);
    return;
  }
  std::shared_ptr<PartitionLog> log = batch->log;
  const AppendResult result = *appended;
  broker_->log_manager().RequestFlush(
      std::move(log), result.last_offset,
      [this, b = std::move(batch), result](absl::Status s) mutable {
        Complete(std::move(b), s, result.first_offset, result.log_append_time);
      });
}

void EmbeddedProducer::Complete(std::unique_ptr<Batch> batch, const absl::Status& status, int64_t first_offset,
                                int64_t log_append_time) {
  for (Callback& c : batch->callbacks) {
    RecordMetadata md;
    md.partition = batch->partition;
    if (status.ok()) {
      md.offset = first_offset < 0 ? -1 : first_offset + c.index;
      md.timestamp = log_append_time >= 0 ? log_append_time : c.timestamp;
    }
    c.fn(status, md);
  }
  batch->callbacks.clear();
  batch->log.reset();
  const int64_t bytes = batch->bytes;
  const int32_t partition = batch->partition;
  {
    absl::MutexLock h(&handoff_mu_);
    returned_.push_back(std::move(batch));
  }
  // The counts change under done_mu_, the waiters' lock: a waiter that sees the last completion (the
  // destructor) may free this object, and nothing here touches it after the unlock.
  absl::MutexLock d(&done_mu_);
  if (!status.ok() && first_error_.ok()) {
    first_error_ = absl::Status(status.code(),
                                absl::StrCat("delivery to partition ", partition, " failed: ", status.message()));
  }
  sealed_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  unacked_batches_.fetch_sub(1, std::memory_order_relaxed);
  done_cv_.SignalAll();
}

absl::Status EmbeddedProducer::WaitForBuffer(int64_t bytes) {
  const absl::Time deadline = absl::Now() + absl::Milliseconds(config_.max_block_ms);
  auto full = [&](int64_t open) {
    return open + sealed_bytes_.load(std::memory_order_relaxed) + bytes > config_.buffer_memory &&
           unacked_batches_.load(std::memory_order_relaxed) > 0 && !closed_.load();
  };
  while (full(open_bytes_)) {
    // Completions do not take mu_; other senders may fill or seal batches meanwhile, so check again after.
    const int64_t open = open_bytes_;
    mu_.Unlock();
    bool timed_out = false;
    {
      absl::MutexLock d(&done_mu_);
      while (full(open) && !timed_out) timed_out = done_cv_.WaitWithDeadline(&done_mu_, deadline);
    }
    mu_.Lock();
    if (timed_out && full(open_bytes_)) {
      return absl::ResourceExhaustedError(absl::StrCat("producer buffer.memory (", config_.buffer_memory,
                                                       " bytes) full for max.block.ms ", config_.max_block_ms));
    }
  }
  if (closed_.load()) return absl::FailedPreconditionError("producer is closed");
  return absl::OkStatus();
}

bool EmbeddedProducer::AwaitCompletions(absl::Time deadline) {
  absl::MutexLock d(&done_mu_);
  while (unacked_batches_.load(std::memory_order_relaxed) > 0) {
    if (done_cv_.WaitWithDeadline(&done_mu_, deadline)) break;
  }
  return unacked_batches_.load(std::memory_order_relaxed) == 0;
}

absl::Status EmbeddedProducer::Flush(absl::Duration timeout) {
  // The sender needs mu_ at linger deadlines and Flush waits for it: a burst lets go of mu_ meanwhile.
  BurstPause pause(this);
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    {
      FastMutexLock lock(&mu_);
      if (open_batches_ == 0 && unacked_batches_.load(std::memory_order_relaxed) == 0) break;
      SealExpired(0, /*all=*/true);
    }
    if (!AwaitCompletions(deadline)) {
      return absl::DeadlineExceededError(absl::StrCat("flush: ", unacked_batches_.load(),
                                                      " batches still unacknowledged after ",
                                                      absl::FormatDuration(timeout)));
    }
  }
  absl::MutexLock d(&done_mu_);
  absl::Status s = first_error_;
  first_error_ = absl::OkStatus();
  return s;
}

absl::StatusOr<int32_t> EmbeddedProducer::PartitionsFor(absl::string_view topic) {
  BurstPause pause(this);
  FastMutexLock lock(&mu_);
  EDDY_ASSIGN_OR_RETURN(TopicState * t, Topic(topic));
  return static_cast<int32_t>(t->partitions.size());
}

absl::Status EmbeddedProducer::Close(absl::Duration timeout) {
  if (closed_.load() && !sender_.joinable()) return absl::OkStatus();
  BurstPause pause(this);
  absl::Status s = Flush(timeout);
  {
    FastMutexLock lock(&mu_);
    closed_.store(true);
  }
  {
    absl::MutexLock h(&handoff_mu_);
    stop_ = true;
    sender_cv_.Signal();
  }
  {
    absl::MutexLock d(&done_mu_);
    done_cv_.SignalAll();  // Send threads waiting for buffer.memory see closed_
  }
  if (sender_.joinable()) sender_.join();
  return s;
}

}  // namespace eddy::broker
