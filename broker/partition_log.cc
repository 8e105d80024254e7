// PartitionLog: appends, reads, flushes, ListOffsets and retention. Opening and recovery are in
// partition_log_open.cc. See partition_log.h.
#include "broker/partition_log.h"

#include <sys/stat.h>

#include <algorithm>
#include <limits>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "broker/error_code.h"
#include "broker/log_cleaner_batch.h"
#include "eddy/core/crc32c.h"
#include "eddy/core/record_batch.h"
#include "eddy/core/status.h"

namespace eddy::broker {
namespace {

namespace bf = batch_format;

// Largest record timestamp of a segment for retention: Kafka falls back to the file's modification time
// when the segment has no timestamps.
int64_t RetentionTimestamp(const LogSegment& seg) {
  if (seg.max_timestamp() >= 0) return seg.max_timestamp();
  struct stat st;
  if (::stat(seg.log_path().c_str(), &st) != 0) return -1;
  return int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1000000;
}

// A produce refused for bad input: INVALID_RECORD, or CORRUPT_MESSAGE when the bytes are damaged.
absl::Status RecordError(absl::Status s) {
  const ErrorCode code = s.code() == absl::StatusCode::kDataLoss ? ErrorCode::kCorruptMessage : ErrorCode::kInvalidRecord;
  return WithKafkaError(std::move(s), code);
}

// A failed write, roll or sync: KAFKA_STORAGE_ERROR unless the status already says more.
absl::Status StorageError(absl::Status s) {
  if (s.ok() || KafkaErrorOf(s).has_value()) return s;
  return WithKafkaError(std::move(s), ErrorCode::kKafkaStorageError);
}

}  // namespace

PartitionLog::PartitionLog(std::string dir, TopicPartition tp, LogConfig config)
    : dir_(std::move(dir)), tp_(std::move(tp)), config_(std::move(config)) {}

PartitionLog::~PartitionLog() = default;

PartitionLog::View PartitionLog::GetView() const {
  absl::ReaderMutexLock l(&state_mu_);
  return View{segments_, end_.load(std::memory_order_relaxed), start_.load(std::memory_order_relaxed),
              active_size_, active_max_timestamp_};
}

void PartitionLog::Publish(std::shared_ptr<const SegmentList> segments) {
  absl::MutexLock l(&state_mu_);
  if (segments != nullptr) {
    segments_ = std::move(segments);
    start_.store(segments_->front()->base_offset(), std::memory_order_release);
  }
  active_size_ = active_->size();
  active_max_timestamp_ = active_->max_timestamp();
  end_.store(next_offset_, std::memory_order_release);
}

absl::Status PartitionLog::CheckOpen() const {
  if (deleted_.load()) {
    return WithKafkaError(absl::NotFoundError(absl::StrCat("partition ", ToString(tp_), " was deleted")),
                          ErrorCode::kUnknownTopicOrPartition);
  }
  if (closed_) {
    return WithKafkaError(absl::FailedPreconditionError(absl::StrCat("log of ", ToString(tp_), " is closed")),
                          ErrorCode::kNotLeaderOrFollower);
  }
  return StorageError(write_error_);
}

int64_t PartitionLog::max_producer_id() const {
  absl::MutexLock l(&append_mu_);
  return producers_.max_producer_id();
}

int64_t PartitionLog::size_bytes() const {
  View v = GetView();
  int64_t total = 0;
  for (const auto& seg : *v.segments) total += seg->size();
  return total;
}

int PartitionLog::segment_count() const { return static_cast<int>(GetView().segments->size()); }

RecoveryPoint PartitionLog::recovery_point() const {
  absl::ReaderMutexLock l(&state_mu_);
  return recovery_point_;
}

// ---- Append ---------------------------------------------------------------------------------------------

absl::StatusOr<int64_t> PartitionLog::PrepareBatches(absl::Span<char> batches, int64_t now_ms,
                                                     bool verify_crc) const {
  const bool log_append_time = config_.message_timestamp_type == TimestampType::kLogAppendTime;
  int64_t offsets = 0;
  for (size_t at = 0; at < batches.size();) {
    char* p = batches.data() + at;
    const absl::string_view rest(p, batches.size() - at);
    if (rest.size() >= static_cast<size_t>(bf::kLogOverhead)) {
      // Check the size first: an oversized batch is RECORD_TOO_LARGE even if it is also cut short.
      const int64_t size = BatchHeaderView(p).size_in_bytes();
      if (size > config_.max_message_bytes) {
        return WithKafkaError(absl::InvalidArgumentError(absl::StrCat(
                                  "record batch of ", size, " bytes exceeds max.message.bytes ", config_.max_message_bytes)),
                              ErrorCode::kMessageTooLarge);
      }
    }
    absl::StatusOr<BatchHeaderView> h = ValidateBatch(rest, verify_crc);
    if (!h.ok()) {
      return RecordError(
          absl::Status(h.status().code(), absl::StrCat("batch at byte ", at, " of the append: ", h.status().message())));
    }
    if (h->is_control()) {
      return RecordError(absl::InvalidArgumentError("control batches cannot be appended by producers"));
    }
    if (config_.compact_enabled()) {
      // Kafka's rule for compacted topics: the cleaner could not keep a keyless record.
      thread_local std::string scratch;
      absl::Status keys = CheckRecordKeys(rest.substr(0, static_cast<size_t>(h->size_in_bytes())), tp_.topic, &scratch);
      if (!keys.ok()) return RecordError(std::move(keys));
    }
    if (h->records_count() < 1 || h->last_offset_delta() != h->records_count() - 1) {
      return RecordError(absl::InvalidArgumentError(
          absl::StrCat("batch at byte ", at, " has recordsCount ", h->records_count(), " and lastOffsetDelta ",
                       h->last_offset_delta(), ": a producer batch needs lastOffsetDelta = recordsCount - 1 >= 0")));
    }
    const int64_t size = h->size_in_bytes();
    SetPartitionLeaderEpoch(p, 0);
    if (log_append_time) {
      // maxTimestamp and the attributes are covered by the CRC: recompute it, as Kafka does.
      absl::big_endian::Store16(p + bf::kAttributes, h->attributes() | bf::kTimestampTypeBit);
      absl::big_endian::Store64(p + bf::kMaxTimestamp, static_cast<uint64_t>(now_ms));
      absl::big_endian::Store32(p + bf::kCrc,
                                crc32c::Value(p + bf::kCrcStart, static_cast<size_t>(size) - bf::kCrcStart));
    }
    offsets += int64_t{h->last_offset_delta()} + 1;
    at += static_cast<size_t>(size);
  }
  return offsets;
}

bool PartitionLog::ShouldRoll(int64_t bytes, int64_t offsets, int64_t now_ms) const {
  const LogSegment& seg = *active_;
  if (seg.size() == 0) return false;
  return seg.size() + bytes > config_.segment_bytes ||
         (seg.first_append_ms() >= 0 && now_ms - seg.first_append_ms() > config_.max_segment_ms()) ||
         next_offset_ + offsets - 1 - seg.base_offset() > std::numeric_limits<int32_t>::max() || seg.index_full();
}

absl::Status PartitionLog::Roll() {
  EDDY_RETURN_IF_ERROR(active_->Seal());
  SnapshotProducerState();
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<LogSegment> seg, LogSegment::Create(dir_, next_offset_, config_));
  dir_dirty_.store(true);
  auto segments = std::make_shared<SegmentList>(*GetView().segments);
  segments->push_back(seg);
  active_ = std::move(seg);
  Publish(std::move(segments));
  return absl::OkStatus();
}

absl::StatusOr<AppendResult> PartitionLog::Append(absl::Span<char> batches, int64_t now_ms, bool verify_crc) {
  if (batches.empty()) return RecordError(absl::InvalidArgumentError("empty append: no record batches"));
  if (batches.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return WithKafkaError(absl::InvalidArgumentError(absl::StrCat("append of ", batches.size(), " bytes is too large")),
                          ErrorCode::kMessageTooLarge);
  }
  // Validation (the CRC pass) runs before taking the lock, so concurrent producers do it in parallel.
  EDDY_ASSIGN_OR_RETURN(const int64_t offsets, PrepareBatches(batches, now_ms, verify_crc));

  absl::MutexLock l(&append_mu_);
  EDDY_RETURN_IF_ERROR(CheckOpen());
  EDDY_ASSIGN_OR_RETURN(std::optional<ProducerStateManager::Duplicate> duplicate, producers_.CheckAppend(batches));
  if (duplicate.has_value()) {
    AppendResult r;
    r.first_offset = duplicate->first_offset;
    r.last_offset = duplicate->last_offset;
    r.log_start_offset = start_.load(std::memory_order_relaxed);
    r.duplicate = true;
    return r;
  }
  if (ShouldRoll(static_cast<int64_t>(batches.size()), offsets, now_ms)) EDDY_RETURN_IF_ERROR(StorageError(Roll()));
  const int64_t first = next_offset_;
  int64_t next = first;
  for (size_t at = 0; at < batches.size();) {
    char* p = batches.data() + at;
    SetBaseOffset(p, next);
    const BatchHeaderView h(p);
    next = h.next_offset();
    at += static_cast<size_t>(h.size_in_bytes());
  }
  bool damaged = false;
  absl::Status s = active_->Append(absl::string_view(batches.data(), batches.size()), now_ms, &damaged);
  if (!s.ok()) {
    if (damaged) write_error_ = s;
    return StorageError(std::move(s));
  }
  for (size_t at = 0; at < batches.size();) {
    const BatchHeaderView h(batches.data() + at);
    if (h.producer_id() >= 0) producers_.Update(h);
    at += static_cast<size_t>(h.size_in_bytes());
  }
  next_offset_ = next;
  Publish(nullptr);
  AppendResult r;
  r.first_offset = first;
  r.last_offset = next - 1;
  r.log_append_time = config_.message_timestamp_type == TimestampType::kLogAppendTime ? now_ms : -1;
  r.log_start_offset = start_.load(std::memory_order_relaxed);
  return r;
}

// ---- Read -------------------------------------------------------------------------------------------------

absl::StatusOr<ReadResult> PartitionLog::ReadSlices(int64_t offset, int32_t max_bytes,
                                                    std::vector<FileSlice>* out, ReadHint* hint) const {
  if (deleted_.load()) return absl::NotFoundError(absl::StrCat("partition ", ToString(tp_), " was deleted"));
  const View v = GetView();
  ReadResult r;
  r.high_watermark = v.end;
  r.log_start_offset = v.start;
  if (offset == v.end) return r;
  ReadHint used;
  if (hint != nullptr) {
    used = *hint;
    *hint = ReadHint{};  // set again below only if this read reaches the log end
  }
  if (offset < v.start || offset > v.end) {
    return absl::OutOfRangeError(absl::StrCat("offset ", offset, " is out of range for ", ToString(tp_),
                                              ": log start offset ", v.start, ", log end offset ", v.end));
  }
  const SegmentList& segs = *v.segments;
  auto it = std::upper_bound(segs.begin(), segs.end(), offset,
                             [](int64_t o, const std::shared_ptr<LogSegment>& s) { return o < s->base_offset(); });
  size_t i = it == segs.begin() ? 0 : static_cast<size_t>(it - segs.begin()) - 1;
  int64_t budget = max_bytes;
  for (; i < segs.size() && offset < v.end; ++i) {
    const LogSegment& seg = *segs[i];
    // The view's size of the active segment is where v.end is: later appends are not read.
    const int64_t limit = i + 1 == segs.size() ? v.active_size : seg.size();
    offset = std::max(offset, seg.base_offset());
    BatchLocation loc;
    if (used.segment_id == seg.id() && used.offset == offset && used.position < limit) {
      loc.position = used.position;  // the batch after the previous read's last
    } else {
      EDDY_ASSIGN_OR_RETURN(loc, seg.FindBatch(offset, v.end));
    }
    if (loc.position < 0 || loc.position >= limit) continue;
    int64_t next_offset = -1;
    EDDY_ASSIGN_OR_RETURN(int64_t n, seg.LocateBatches(loc.position, limit, budget, /*at_least_one=*/r.bytes == 0,
                                                       hint != nullptr ? &next_offset : nullptr));
    if (n == 0) break;
    out->push_back(FileSlice{segs[i], loc.position, n});
    r.bytes += n;
    budget -= n;
    if (hint != nullptr && i + 1 == segs.size() && loc.position + n == limit) {
      *hint = ReadHint{seg.id(), v.end, limit};  // the view's end: the next append starts there
    } else if (hint != nullptr && next_offset >= 0) {
      *hint = ReadHint{seg.id(), next_offset, loc.position + n};  // cut by max_bytes before that position
    }
    if (loc.position + n < limit || budget <= 0) break;
  }
  return r;
}

absl::StatusOr<ReadResult> PartitionLog::Read(int64_t offset, int32_t max_bytes, std::string* out,
                                              ReadHint* hint) const {
  thread_local std::vector<FileSlice> slices;
  slices.clear();
  absl::StatusOr<ReadResult> r = ReadSlices(offset, max_bytes, &slices, hint);
  absl::Status s = r.status();
  for (size_t i = 0; s.ok() && i < slices.size(); ++i) {
    s = slices[i].segment->AppendAt(slices[i].position, slices[i].length, out);
  }
  slices.clear();  // releases the segments
  if (!s.ok()) return s;
  return r;
}

// ---- Flush ------------------------------------------------------------------------------------------------

absl::StatusOr<int64_t> PartitionLog::Flush() { return FlushTo(/*include_active=*/true); }

absl::Status PartitionLog::FlushSealedSegments() { return FlushTo(/*include_active=*/false).status(); }

absl::StatusOr<int64_t> PartitionLog::FlushTo(bool include_active) {
  if (deleted_.load()) return absl::NotFoundError(absl::StrCat("partition ", ToString(tp_), " was deleted"));
  View v = GetView();
  int64_t target = include_active ? v.end : v.segments->back()->base_offset();
  // Already durable: no need to queue behind a sync in progress.
  if (flushed_.load() >= target) return flushed_.load();
  absl::MutexLock l(&flush_mu_);
  if (!flush_error_.ok()) return flush_error_;
  // Group commit: a sync that ran while this caller waited for the lock may already cover its data.
  if (flushed_.load() >= target) return flushed_.load();
  // Sync everything appended so far, not just up to `target`: callers queued behind us ride this sync.
  v = GetView();
  absl::StatusOr<int64_t> r = SyncView(v, include_active);
  if (!r.ok()) flush_error_ = r.status();
  return r;
}

absl::StatusOr<int64_t> PartitionLog::SyncView(const View& v, bool include_active) {
  const SegmentList& segs = *v.segments;
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    LogSegment& seg = *segs[i];
    if (seg.fully_synced()) continue;
    EDDY_RETURN_IF_ERROR(seg.SyncLog());
    EDDY_RETURN_IF_ERROR(seg.SyncIndexes());
    seg.set_fully_synced(true);
  }
  if (include_active) EDDY_RETURN_IF_ERROR(segs.back()->SyncLog());
  if (dir_dirty_.exchange(false)) {
    absl::Status s = SyncDir(dir_);
    if (!s.ok()) {
      dir_dirty_.store(true);
      return s;
    }
  }
  RecoveryPoint rp;
  if (include_active) {
    rp = RecoveryPoint{v.end, v.active_size, v.active_max_timestamp};
  } else {
    rp = RecoveryPoint{segs.back()->base_offset(), 0, -1};
  }
  if (rp.offset > flushed_.load()) {
    absl::MutexLock l(&state_mu_);
    recovery_point_ = rp;
    flushed_.store(rp.offset, std::memory_order_release);
  }
  return flushed_.load();
}

// ---- ListOffsets --------------------------------------------------------------------------------------------

absl::StatusOr<OffsetAndTimestamp> PartitionLog::OffsetForTimestamp(int64_t timestamp) const {
  if (deleted_.load()) return absl::NotFoundError(absl::StrCat("partition ", ToString(tp_), " was deleted"));
  if (timestamp == kEarliestTimestamp) return OffsetAndTimestamp{log_start_offset(), -1};
  if (timestamp == kLatestTimestamp) return OffsetAndTimestamp{log_end_offset(), -1};
  if (timestamp < 0) return absl::InvalidArgumentError(absl::StrCat("invalid timestamp ", timestamp));
  const View v = GetView();
  std::string batch, scratch;
  for (const auto& seg : *v.segments) {
    // Segments before the first whose largest timestamp reaches `timestamp` hold only older records.
    if (seg->max_timestamp() < timestamp) continue;
    const int64_t older = seg->TimeIndexLookup(timestamp);
    const int64_t start = older < 0 ? 0 : seg->OffsetIndexLookup(older);
    OffsetAndTimestamp found;
    absl::Status inner;
    EDDY_RETURN_IF_ERROR(seg->ForEachBatch(start, seg->size(), [&](const BatchHeaderView& h, int64_t pos) {
      if (h.base_offset() >= v.end) return false;
      if (h.max_timestamp() < timestamp) return true;
      inner = seg->ReadAt(pos, h.size_in_bytes(), &batch);
      if (!inner.ok()) return false;
      absl::StatusOr<RecordIterator> it = RecordIterator::Open(batch, &scratch);
      if (!it.ok()) {
        inner = it.status();
        return false;
      }
      RecordView rec;
      while (it->Next(&rec)) {
        if (rec.timestamp() >= timestamp) {
          found = OffsetAndTimestamp{rec.offset(), rec.timestamp()};
          return false;
        }
      }
      inner = it->status();
      return inner.ok();
    }));
    EDDY_RETURN_IF_ERROR(inner);
    if (found.offset >= 0) return found;
  }
  return OffsetAndTimestamp{};
}

// ---- Retention --------------------------------------------------------------------------------------------

absl::StatusOr<int> PartitionLog::DeleteOldSegments(int64_t now_ms) {
  absl::MutexLock cleaner(&cleaner_mu_);  // no segment swap in between
  std::vector<std::shared_ptr<LogSegment>> doomed;
  {
    absl::MutexLock l(&append_mu_);
    if (closed_ || !write_error_.ok() || !config_.delete_enabled()) return 0;
    std::shared_ptr<const SegmentList> segs = GetView().segments;
    size_t n = 0;
    if (config_.retention_ms >= 0) {
      while (n < segs->size() && (*segs)[n]->size() > 0 &&
             now_ms - RetentionTimestamp(*(*segs)[n]) > config_.retention_ms) {
        ++n;
      }
    }
    if (config_.retention_bytes >= 0) {
      int64_t total = 0;
      for (size_t i = n; i < segs->size(); ++i) total += (*segs)[i]->size();
      int64_t excess = total - config_.retention_bytes;
      while (n + 1 < segs->size() && excess - (*segs)[n]->size() >= 0) {
        excess -= (*segs)[n]->size();
        ++n;
      }
    }
    if (n == 0) return 0;
    if (n == segs->size()) {
      // Every record has expired, the active segment's too: roll so that it can go (Kafka does the same).
      EDDY_RETURN_IF_ERROR(Roll());
      segs = GetView().segments;
    }
    doomed.assign(segs->begin(), segs->begin() + static_cast<ptrdiff_t>(n));
    Publish(std::make_shared<SegmentList>(segs->begin() + static_cast<ptrdiff_t>(n), segs->end()));
    dir_dirty_.store(true);
  }
  // Unlink outside the lock: removing a large file can take a while. Readers holding the segments keep
  // their descriptors.
  absl::Status status;
  for (const auto& seg : doomed) status.Update(seg->DeleteFiles());
  if (!status.ok()) return status;
  return static_cast<int>(doomed.size());
}

// ---- Segment swaps (the log cleaner) -----------------------------------------------------------------

absl::Status PartitionLog::ReplaceSegments(
    absl::Span<const std::shared_ptr<LogSegment>> old_segments,
    absl::FunctionRef<absl::StatusOr<std::shared_ptr<LogSegment>>(bool* committed)> swap_files) {
  if (old_segments.empty()) return absl::InvalidArgumentError("ReplaceSegments: no segments");
  absl::MutexLock cleaner(&cleaner_mu_);
  size_t first = 0;
  {
    absl::MutexLock l(&append_mu_);
    EDDY_RETURN_IF_ERROR(CheckOpen());
    const SegmentList& segs = *GetView().segments;
    auto it = std::find(segs.begin(), segs.end(), old_segments.front());
    first = static_cast<size_t>(it - segs.begin());
    // The run must still be there, whole, and sealed (the active segment is last).
    bool present = it != segs.end() && first + old_segments.size() < segs.size();
    for (size_t i = 0; present && i < old_segments.size(); ++i) present = segs[first + i] == old_segments[i];
    if (!present) {
      return absl::AbortedError(absl::StrCat("segments of ", ToString(tp_), " changed while they were cleaned"));
    }
  }
  // Only this thread changes the sealed segments while cleaner_mu_ is held: the run stays where it is.
  bool committed = false;
  absl::StatusOr<std::shared_ptr<LogSegment>> cleaned = swap_files(&committed);
  absl::MutexLock l(&append_mu_);
  if (!cleaned.ok()) {
    if (committed && !deleted_.load()) {
      write_error_ = absl::Status(cleaned.status().code(),
                                 absl::StrCat("a segment swap of ", ToString(tp_), " failed half way (reopen the log "
                                              "to complete it): ", cleaned.status().message()));
    }
    return cleaned.status();
  }
  auto segments = std::make_shared<SegmentList>(*GetView().segments);
  segments->erase(segments->begin() + static_cast<ptrdiff_t>(first),
                  segments->begin() + static_cast<ptrdiff_t>(first + old_segments.size()));
  segments->insert(segments->begin() + static_cast<ptrdiff_t>(first), *std::move(cleaned));
  Publish(std::move(segments));
  dir_dirty_.store(true);  // the final renames are synced by the next flush
  return absl::OkStatus();
}

// ---- Close ------------------------------------------------------------------------------------------------

absl::Status PartitionLog::Close() {
  absl::MutexLock cleaner(&cleaner_mu_);  // waits for a segment swap in progress
  absl::MutexLock l(&append_mu_);
  if (closed_) return absl::OkStatus();
  closed_ = true;
  if (deleted_.load()) return absl::OkStatus();
  EDDY_RETURN_IF_ERROR(write_error_);
  EDDY_RETURN_IF_ERROR(active_->Seal());
  SnapshotProducerState();
  EDDY_RETURN_IF_ERROR(FlushTo(/*include_active=*/true).status());
  EDDY_RETURN_IF_ERROR(active_->SyncIndexes());
  // Seal may have created the active segment's index files.
  return SyncDir(dir_);
}

void PartitionLog::MarkDeleted() {
  absl::MutexLock l(&append_mu_);
  closed_ = true;
  deleted_.store(true);
}

}  // namespace eddy::broker
