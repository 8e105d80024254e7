#include "broker/embedded_consumer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "broker/broker_impl.h"
#include "broker/group_coordinator.h"
#include "broker/group_member.h"
#include "broker/partition_log.h"
#include "eddy/core/status.h"

namespace eddy::broker {
namespace {

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

// Blocks until a callback-style operation completes; the callback may run on any thread, or inline.
template <typename T>
class Waiter {
 public:
  void Set(T value) {
    absl::MutexLock lock(&mu_);
    value_ = std::move(value);
  }
  std::optional<T> Wait(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(
                             +[](std::optional<T>* v) { return v->has_value(); }, &value_),
                         timeout);
    return std::move(value_);
  }

 private:
  absl::Mutex mu_;
  std::optional<T> value_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

EmbeddedConsumer::EmbeddedConsumer(BrokerImpl* broker, const ConsumerConfig& config)
    : broker_(broker), config_(config) {
  next_auto_commit_ms_ = NowMs() + config_.auto_commit_interval_ms;
}

EmbeddedConsumer::~EmbeddedConsumer() { (void)Close(); }

absl::Status EmbeddedConsumer::Subscribe(std::vector<std::string> topics, RebalanceListener* listener) {
  if (closed_) return absl::FailedPreconditionError("consumer is closed");
  if (config_.group_id.empty()) {
    return absl::InvalidArgumentError("Subscribe needs a group.id (use Assign to read without a group)");
  }
  if (topics.empty()) return Unsubscribe();
  if (mode_ == Mode::kAssigned) {
    return absl::FailedPreconditionError("Subscribe after Assign: call Unsubscribe first (as Kafka requires)");
  }
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  listener_ = listener;
  topics_ = topics;
  mode_ = Mode::kSubscribed;
  if (member_ == nullptr) {
    GroupMemberConfig mc;
    mc.group_id = config_.group_id;
    mc.client_id = config_.client_id;
    mc.session_timeout_ms = static_cast<int32_t>(config_.session_timeout_ms);
    mc.rebalance_timeout_ms = static_cast<int32_t>(config_.max_poll_interval_ms);
    mc.heartbeat_interval_ms = config_.heartbeat_interval_ms;
    mc.assignors = config_.partition_assignment_strategy;
    mc.partition_count = [b = broker_](absl::string_view topic) -> std::optional<int32_t> {
      absl::StatusOr<int32_t> n = b->PartitionCount(topic);
      if (!n.ok()) return std::nullopt;
      return *n;
    };
    member_ = std::make_unique<GroupMember>(&broker_->coordinator(), std::move(mc));
  }
  return member_->Subscribe(topics_);
}

absl::Status EmbeddedConsumer::Assign(std::vector<TopicPartition> partitions) {
  if (closed_) return absl::FailedPreconditionError("consumer is closed");
  if (mode_ == Mode::kSubscribed) {
    return absl::FailedPreconditionError("Assign after Subscribe: call Unsubscribe first (as Kafka requires)");
  }
  mode_ = partitions.empty() ? Mode::kNone : Mode::kAssigned;
  return SetAssignment(partitions);
}

absl::Status EmbeddedConsumer::SetAssignment(const std::vector<TopicPartition>& partitions) {
  std::vector<Assigned> next;
  next.reserve(partitions.size());
  for (const TopicPartition& tp : partitions) {
    Assigned a;
    a.tp = tp;
    if (Assigned* old = Find(tp)) a.position = old->position;  // keep positions of partitions kept
    EDDY_ASSIGN_OR_RETURN(a.log, broker_->GetLog(tp.topic, tp.partition));
    next.push_back(std::move(a));
  }
  assigned_ = std::move(next);
  next_fetch_ = 0;
  return absl::OkStatus();
}

absl::Status EmbeddedConsumer::Unsubscribe() {
  if (member_ != nullptr) {
    if (!assigned_.empty() && listener_ != nullptr) listener_->OnPartitionsRevoked(Assignment());
    (void)member_->Leave();
    member_.reset();
  }
  assigned_.clear();
  topics_.clear();
  mode_ = Mode::kNone;
  listener_ = nullptr;
  return absl::OkStatus();
}

std::vector<TopicPartition> EmbeddedConsumer::Assignment() const {
  std::vector<TopicPartition> out;
  out.reserve(assigned_.size());
  for (const Assigned& a : assigned_) out.push_back(a.tp);
  return out;
}

EmbeddedConsumer::Assigned* EmbeddedConsumer::Find(const TopicPartition& tp) {
  for (Assigned& a : assigned_) {
    if (a.tp == tp) return &a;
  }
  return nullptr;
}

absl::Status EmbeddedConsumer::DriveMembership(absl::Time deadline) {
  const absl::Duration wait = std::max(absl::ZeroDuration(), deadline - absl::Now());
  EDDY_ASSIGN_OR_RETURN(MembershipUpdate update, member_->Poll(NowMs(), wait));
  if (!update.revoked.empty()) {
    if (config_.enable_auto_commit) {
      // Commit what was consumed before handing the partitions over, as Kafka's consumer does.
      std::vector<TopicPartitionOffset> offsets = CurrentPositions();
      if (!offsets.empty()) (void)WaitCommit(offsets, absl::Seconds(30));
    }
    if (listener_ != nullptr) listener_->OnPartitionsRevoked(update.revoked);
    assigned_.clear();
  }
  // A new generation's assignment, possibly empty: Kafka's consumer calls onPartitionsAssigned either way,
  // so a listener learns that the rebalance is over even when it got nothing.
  const bool new_generation = update.stable && update.generation_id != listened_generation_;
  if (!update.assigned.empty() || new_generation) {
    listened_generation_ = update.generation_id;
    // Eager protocol: everything was revoked first, so the member's assignment is the new one.
    EDDY_RETURN_IF_ERROR(SetAssignment(member_->assignment()));
    for (Assigned& a : assigned_) a.position = -1;
    if (listener_ != nullptr) listener_->OnPartitionsAssigned(update.assigned);
  }
  return absl::OkStatus();
}

absl::Status EmbeddedConsumer::ResolvePositions() {
  std::vector<TopicPartition> unresolved;
  for (const Assigned& a : assigned_) {
    if (a.position < 0) unresolved.push_back(a.tp);
  }
  if (unresolved.empty()) return absl::OkStatus();
  if (!config_.group_id.empty()) {
    EDDY_ASSIGN_OR_RETURN(OffsetFetchResponse resp, FetchCommitted(unresolved));
    for (const OffsetFetchPartitionResponse& p : resp.partitions) {
      Assigned* a = Find(TopicPartition{p.topic, p.partition});
      if (a != nullptr && p.error == ErrorCode::kNone && p.committed_offset >= 0) a->position = p.committed_offset;
    }
  }
  for (Assigned& a : assigned_) {
    if (a.position < 0) EDDY_RETURN_IF_ERROR(ResetPosition(a));
  }
  return absl::OkStatus();
}

absl::Status EmbeddedConsumer::ResetPosition(Assigned& a) {
  switch (config_.auto_offset_reset) {
    case OffsetReset::kEarliest:
      a.position = a.log->log_start_offset();
      return absl::OkStatus();
    case OffsetReset::kLatest:
      a.position = a.log->log_end_offset();
      return absl::OkStatus();
    case OffsetReset::kNone:
      break;
  }
  return absl::OutOfRangeError(absl::StrCat("no valid offset for ", ToString(a.tp),
                                            " and auto.offset.reset is none (log range [",
                                            a.log->log_start_offset(), ", ", a.log->log_end_offset(), "])"));
}

// FairShare returns the per-partition record cap that splits `max_records` over partitions with these
// backlogs (sorted in place) as evenly as their backlogs allow: partitions with less than their share
// take all of it and leave the rest to the others ("water-filling").
int64_t EmbeddedConsumer::FairShare(std::vector<int64_t>* backlogs, int64_t max_records) {
  std::sort(backlogs->begin(), backlogs->end());
  int64_t left = max_records;
  const size_t n = backlogs->size();
  for (size_t i = 0; i < n; ++i) {
    const int64_t m = static_cast<int64_t>(n - i);
    const int64_t share = (left + m - 1) / m;
    if ((*backlogs)[i] >= share) return std::max<int64_t>(1, share);
    left -= (*backlogs)[i];
  }
  return max_records;
}

// Poll is fair across the assigned partitions, as Kafka's fetcher is with its per-partition
// max.partition.fetch.bytes: each partition with a backlog gets an equal share of max.poll.records
// (FairShare), so a task with several input partitions sees them interleaved, not in long runs of one,
// and its stream time does not run ahead of its slower partitions. The partition read first rotates.
absl::Status EmbeddedConsumer::FetchOnce(ConsumerRecords* records) {
  const size_t n = assigned_.size();
  ready_.clear();
  backlogs_.clear();
  for (size_t i = 0; i < n; ++i) {
    const size_t idx = (next_fetch_ + i) % n;
    Assigned& a = assigned_[idx];
    if (a.position > a.log->log_end_offset()) {
      // Past the end (a Seek, or the log was truncated): Kafka's OFFSET_OUT_OF_RANGE, reset by policy.
      EDDY_RETURN_IF_ERROR(ResetPosition(a));
    }
    if (a.position < 0 || a.position >= a.log->log_end_offset()) continue;
    ready_.push_back(idx);
    backlogs_.push_back(a.log->log_end_offset() - a.position);  // records, give or take compaction gaps
  }
  if (n > 0) next_fetch_ = (next_fetch_ + 1) % n;
  if (ready_.empty()) return absl::OkStatus();
  const int64_t share = FairShare(&backlogs_, config_.max_poll_records);
  int64_t bytes = 0;
  // Batches are never split, so each partition may pass its share by up to one batch (and the poll
  // max.poll.records by up to one batch per partition): cutting the last partitions short instead would
  // starve them.
  for (size_t idx : ready_) {
    const int64_t byte_room = config_.fetch_max_bytes - bytes;
    if (byte_room <= 0 && !records->empty()) break;
    EDDY_ASSIGN_OR_RETURN(int64_t read, FetchFrom(assigned_[idx], share, byte_room, records));
    bytes += read;
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> EmbeddedConsumer::FetchFrom(Assigned& a, int64_t max_records, int64_t max_bytes,
                                                    ConsumerRecords* records) {
  if (a.ahead == nullptr || a.ahead_log != a.log.get() || a.ahead_offset != a.position ||
      a.ahead_pos >= a.ahead->size()) {
    // A new read: what this poll needs (from the record size seen so far), and at least a read-ahead for
    // the polls after it; read-aheads of all partitions together stay within fetch.max.bytes, the bound of
    // what Kafka's fetcher buffers.
    const int64_t ahead = std::min<int64_t>(
        kReadAheadBytes, config_.fetch_max_bytes / static_cast<int64_t>(std::max<size_t>(1, assigned_.size())));
    const int64_t wanted = std::max<int64_t>(max_records * bytes_per_record_ + 1024, ahead);
    const int64_t budget = std::min<int64_t>({config_.max_partition_fetch_bytes, max_bytes, wanted});
    if (a.ahead == nullptr || a.ahead.use_count() > 1) a.ahead = std::make_shared<std::string>();
    a.ahead->clear();
    a.ahead_pos = 0;
    a.ahead_offset = -1;
    absl::StatusOr<ReadResult> read =
        a.log->Read(a.position, static_cast<int32_t>(std::max<int64_t>(budget, 1)), a.ahead.get(), &a.hint);
    if (!read.ok()) {
      if (read.status().code() != absl::StatusCode::kOutOfRange) return read.status();
      // Retention deleted what we were about to read (or the log was truncated): reset, as Kafka does on
      // OFFSET_OUT_OF_RANGE.
      EDDY_RETURN_IF_ERROR(ResetPosition(a));
      return 0;
    }
    a.ahead_log = a.log.get();
    a.ahead_offset = a.position;
  }
  const int64_t before = records->count();
  size_t consumed = 0;
  absl::StatusOr<int64_t> next =
      records->AddBatches(a.tp, absl::string_view(*a.ahead).substr(a.ahead_pos), a.position, config_.check_crcs,
                          before + max_records, &consumed);
  if (!next.ok()) {
    a.ahead_offset = -1;  // read again next time (the corruption is reported again)
    return absl::Status(next.status().code(),
                        absl::StrCat(ToString(a.tp), " at offset ", a.position, ": ", next.status().message()));
  }
  if (records->count() > before) {
    records->KeepAlive(a.ahead);
    bytes_per_record_ = std::max<int64_t>(1, static_cast<int64_t>(consumed) / (records->count() - before));
  }
  a.ahead_pos += consumed;
  a.position = *next;
  a.ahead_offset = *next;
  return static_cast<int64_t>(consumed);
}

absl::Status EmbeddedConsumer::Poll(absl::Duration timeout, ConsumerRecords* records) {
  if (closed_) return absl::FailedPreconditionError("consumer is closed");
  records->Clear();
  const absl::Time deadline = absl::Now() + timeout;
  RunCompletedCallbacks();
  if (mode_ == Mode::kNone) {
    return absl::FailedPreconditionError("Poll without Subscribe or Assign");
  }
  while (true) {
    if (mode_ == Mode::kSubscribed) EDDY_RETURN_IF_ERROR(DriveMembership(deadline));
    EDDY_RETURN_IF_ERROR(ResolvePositions());
    EDDY_RETURN_IF_ERROR(MaybeAutoCommit());
    const uint64_t version = broker_->notifier().version();
    EDDY_RETURN_IF_ERROR(FetchOnce(records));
    if (!records->empty()) return absl::OkStatus();
    const absl::Time now = absl::Now();
    if (now >= deadline || wakeup_.exchange(false, std::memory_order_acq_rel)) return absl::OkStatus();
    absl::Time wake = deadline;
    if (mode_ == Mode::kSubscribed) {
      wake = std::min(wake, now + absl::Milliseconds(std::max<int64_t>(1, config_.heartbeat_interval_ms)));
    }
    broker_->notifier().WaitChange(version, wake);
  }
}

void EmbeddedConsumer::Wakeup() {
  wakeup_.store(true, std::memory_order_release);
  // Wakes every consumer waiting on the broker (the others find nothing new and wait again): cheaper than
  // a notifier per consumer for a call made once per shutdown.
  broker_->notifier().Notify();
}

absl::Status EmbeddedConsumer::Seek(const TopicPartition& tp, int64_t offset) {
  Assigned* a = Find(tp);
  if (a == nullptr) return absl::FailedPreconditionError(absl::StrCat("Seek: ", ToString(tp), " is not assigned"));
  if (offset < 0) return absl::InvalidArgumentError(absl::StrCat("Seek: negative offset ", offset));
  a->position = offset;
  return absl::OkStatus();
}

absl::Status EmbeddedConsumer::SeekToBeginning(const std::vector<TopicPartition>& partitions) {
  for (const TopicPartition& tp : partitions.empty() ? Assignment() : partitions) {
    Assigned* a = Find(tp);
    if (a == nullptr) return absl::FailedPreconditionError(absl::StrCat(ToString(tp), " is not assigned"));
    a->position = a->log->log_start_offset();
  }
  return absl::OkStatus();
}

absl::Status EmbeddedConsumer::SeekToEnd(const std::vector<TopicPartition>& partitions) {
  for (const TopicPartition& tp : partitions.empty() ? Assignment() : partitions) {
    Assigned* a = Find(tp);
    if (a == nullptr) return absl::FailedPreconditionError(absl::StrCat(ToString(tp), " is not assigned"));
    a->position = a->log->log_end_offset();
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> EmbeddedConsumer::Position(const TopicPartition& tp) {
  Assigned* a = Find(tp);
  if (a == nullptr) return absl::FailedPreconditionError(absl::StrCat(ToString(tp), " is not assigned"));
  if (a->position < 0) EDDY_RETURN_IF_ERROR(ResolvePositions());
  return a->position;
}

std::vector<TopicPartitionOffset> EmbeddedConsumer::CurrentPositions() const {
  std::vector<TopicPartitionOffset> out;
  for (const Assigned& a : assigned_) {
    if (a.position >= 0) out.push_back(TopicPartitionOffset{a.tp, a.position, ""});
  }
  return out;
}

void EmbeddedConsumer::StartCommit(const std::vector<TopicPartitionOffset>& offsets, CommitCallback done) {
  if (config_.group_id.empty()) {
    done(absl::InvalidArgumentError("committing offsets needs a group.id"));
    return;
  }
  if (mode_ == Mode::kSubscribed && member_ != nullptr) {
    member_->CommitAsync(offsets, std::move(done));
    return;
  }
  // Assigned partitions: a commit from outside group management (generation -1), as Kafka allows for an
  // empty group.
  OffsetCommitRequest req;
  req.group_id = config_.group_id;
  for (const TopicPartitionOffset& o : offsets) {
    OffsetCommitPartition p;
    p.topic = o.tp.topic;
    p.partition = o.tp.partition;
    p.offset = o.offset;
    p.metadata = o.metadata;
    req.partitions.push_back(std::move(p));
  }
  broker_->coordinator().OffsetCommit(
      req, [done = std::move(done)](const OffsetCommitResponse& resp) mutable {
        for (const OffsetCommitPartitionResponse& p : resp.partitions) {
          if (p.error != ErrorCode::kNone) {
            done(ToStatus(p.error, absl::StrCat("committing ", p.topic, "-", p.partition)));
            return;
          }
        }
        done(absl::OkStatus());
      });
}

absl::Status EmbeddedConsumer::WaitCommit(const std::vector<TopicPartitionOffset>& offsets,
                                          absl::Duration timeout) {
  // The member runs its commit callbacks on this thread only: use its blocking commit.
  if (mode_ == Mode::kSubscribed && member_ != nullptr) return member_->CommitSync(offsets, timeout);
  auto waiter = std::make_shared<Waiter<absl::Status>>();
  StartCommit(offsets, [waiter](const absl::Status& s) { waiter->Set(s); });
  std::optional<absl::Status> s = waiter->Wait(timeout);
  if (!s.has_value()) {
    return absl::DeadlineExceededError(absl::StrCat("commit not acknowledged within ", absl::FormatDuration(timeout)));
  }
  return *s;
}

absl::Status EmbeddedConsumer::CommitSync(absl::Duration timeout) {
  std::vector<TopicPartitionOffset> offsets = CurrentPositions();
  if (offsets.empty()) return absl::OkStatus();
  return WaitCommit(offsets, timeout);
}

absl::Status EmbeddedConsumer::CommitSync(const std::vector<TopicPartitionOffset>& offsets,
                                          absl::Duration timeout) {
  if (offsets.empty()) return absl::OkStatus();
  return WaitCommit(offsets, timeout);
}

void EmbeddedConsumer::CommitAsync(CommitCallback callback) {
  std::vector<TopicPartitionOffset> offsets = CurrentPositions();
  if (offsets.empty()) {
    if (callback != nullptr) callback(absl::OkStatus());
    return;
  }
  {
    absl::MutexLock lock(&completed_mu_);
    ++pending_async_;
  }
  StartCommit(offsets, [this, cb = std::move(callback)](const absl::Status& s) mutable {
    absl::MutexLock lock(&completed_mu_);
    --pending_async_;
    if (cb != nullptr) completed_.push_back(Completed{std::move(cb), s});
  });
}

void EmbeddedConsumer::RunCompletedCallbacks() {
  std::deque<Completed> done;
  {
    absl::MutexLock lock(&completed_mu_);
    done.swap(completed_);
  }
  for (Completed& c : done) c.callback(c.status);
}

absl::Status EmbeddedConsumer::MaybeAutoCommit() {
  if (!config_.enable_auto_commit || config_.group_id.empty()) return absl::OkStatus();
  const int64_t now = NowMs();
  if (now < next_auto_commit_ms_) return absl::OkStatus();
  next_auto_commit_ms_ = now + config_.auto_commit_interval_ms;
  CommitAsync(nullptr);
  return absl::OkStatus();
}

absl::StatusOr<OffsetFetchResponse> EmbeddedConsumer::FetchCommitted(const std::vector<TopicPartition>& partitions) {
  OffsetFetchRequest req;
  req.group_id = config_.group_id;
  req.partitions = partitions;
  auto waiter = std::make_shared<Waiter<OffsetFetchResponse>>();
  broker_->coordinator().OffsetFetch(req, [waiter](const OffsetFetchResponse& r) { waiter->Set(r); });
  std::optional<OffsetFetchResponse> resp = waiter->Wait(absl::InfiniteDuration());
  if (resp->error != ErrorCode::kNone) return ToStatus(resp->error, "fetching committed offsets");
  return std::move(*resp);
}

absl::StatusOr<std::vector<TopicPartitionOffset>> EmbeddedConsumer::CommittedOffsets(
    const std::vector<TopicPartition>& partitions) {
  if (config_.group_id.empty()) return absl::InvalidArgumentError("committed offsets need a group.id");
  std::vector<TopicPartitionOffset> out;
  if (partitions.empty()) return out;
  EDDY_ASSIGN_OR_RETURN(OffsetFetchResponse resp, FetchCommitted(partitions));
  for (OffsetFetchPartitionResponse& p : resp.partitions) {
    if (p.error != ErrorCode::kNone) {
      return ToStatus(p.error, absl::StrCat("fetching the committed offset of ", p.topic, "-", p.partition));
    }
    if (p.committed_offset < 0) continue;
    out.push_back(TopicPartitionOffset{TopicPartition{p.topic, p.partition}, p.committed_offset, std::move(p.metadata)});
  }
  return out;
}

absl::Status EmbeddedConsumer::Close() {
  if (closed_) return absl::OkStatus();
  absl::Status s;
  if (config_.enable_auto_commit && !config_.group_id.empty()) s = CommitSync(absl::Seconds(30));
  if (member_ != nullptr) {
    (void)member_->Leave();  // also runs the member's pending commit callbacks
    member_.reset();
  }
  {
    // Async commits capture `this`: wait for them before the consumer goes away.
    absl::MutexLock lock(&completed_mu_);
    completed_mu_.Await(absl::Condition(
        +[](int* pending) { return *pending == 0; }, &pending_async_));
  }
  RunCompletedCallbacks();
  assigned_.clear();
  closed_ = true;
  return s;
}

}  // namespace eddy::broker
