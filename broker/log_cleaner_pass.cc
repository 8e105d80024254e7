// One cleaning of one log. See log_cleaner_pass.h.
#include "broker/log_cleaner_pass.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "eddy/core/record_batch.h"
#include "eddy/core/status.h"

namespace eddy::broker {
namespace {

namespace bf = batch_format;

absl::Status Aborted(const PartitionLog& log) {
  return absl::AbortedError(absl::StrCat("cleaning of ", ToString(log.topic_partition()), " was aborted"));
}

bool ShouldStop(const CleanOptions& options) {
  return options.abort != nullptr && options.abort->load(std::memory_order_relaxed);
}

}  // namespace

// ---- Cleanable range ----------------------------------------------------------------------------------------

absl::StatusOr<CleanableRange> ComputeCleanableRange(const PartitionLog::SegmentList& segs, const LogConfig& config,
                                                     int64_t first_dirty, int64_t now_ms) {
  CleanableRange r;
  const int64_t active_base = segs.back()->base_offset();
  r.first_dirty = std::clamp(first_dirty, segs.front()->base_offset(), active_base);
  r.first_uncleanable = active_base;
  const size_t sealed = segs.size() - 1;
  auto next_base = [&](size_t i) { return segs[i + 1]->base_offset(); };
  if (config.min_compaction_lag_ms > 0) {
    // Kafka: the first dirty segment holding a record younger than the lag, and everything after it, waits.
    for (size_t i = 0; i < sealed; ++i) {
      if (next_base(i) <= r.first_dirty) continue;
      if (segs[i]->max_timestamp() > now_ms - config.min_compaction_lag_ms) {
        r.first_uncleanable = std::max(segs[i]->base_offset(), r.first_dirty);
        break;
      }
    }
  }
  for (size_t i = 0; i < sealed && segs[i]->base_offset() < r.first_uncleanable; ++i) {
    if (r.first_dirty < r.first_uncleanable && next_base(i) > r.first_dirty) {
      r.dirty_bytes += segs[i]->size();
    } else {
      r.clean_bytes += segs[i]->size();
    }
  }
  const int64_t total = r.clean_bytes + r.dirty_bytes;
  r.dirty_ratio = total > 0 ? static_cast<double>(r.dirty_bytes) / static_cast<double>(total) : 0.0;
  if (config.max_compaction_lag_ms < std::numeric_limits<int64_t>::max()) {
    // Kafka's maxCompactionDelay: the earliest first-batch timestamp of the dirty sealed segments.
    int64_t earliest = std::numeric_limits<int64_t>::max();
    std::string header;
    for (size_t i = 0; i < sealed; ++i) {
      if (next_base(i) <= r.first_dirty || segs[i]->size() < bf::kHeaderSize) continue;
      EDDY_RETURN_IF_ERROR(segs[i]->ReadAt(0, bf::kHeaderSize, &header));
      const int64_t ts = BatchHeaderView(header.data()).max_timestamp();
      if (ts > 0) earliest = std::min(earliest, ts);
    }
    const int64_t clean_until = now_ms - config.max_compaction_lag_ms;
    if (earliest < clean_until) r.max_compaction_delay_ms = clean_until - earliest;
  }
  return r;
}

absl::StatusOr<int64_t> EarliestDeleteHorizon(const PartitionLog::SegmentList& segs) {
  int64_t earliest = kNoDeleteHorizon;
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    EDDY_RETURN_IF_ERROR(segs[i]->ForEachBatch(0, segs[i]->size(), [&](const BatchHeaderView& h, int64_t) {
      if (h.attributes() & bf::kDeleteHorizonBit) earliest = std::min(earliest, h.base_timestamp());
      return true;
    }));
  }
  return earliest;
}

// ---- Grouping -------------------------------------------------------------------------------------------------

std::vector<std::vector<std::shared_ptr<LogSegment>>> GroupSegments(const PartitionLog::SegmentList& sealed,
                                                                    int64_t end_base, const LogConfig& config) {
  // Index entries of the cleaned segment: at most one per index.interval.bytes (or per batch) of output,
  // which is no larger than the input.
  const int64_t bytes_per_entry = std::max<int64_t>(config.index_interval_bytes, bf::kHeaderSize);
  const int64_t max_entries = config.segment_index_bytes / 12;  // the time index's entries are the larger
  std::vector<std::vector<std::shared_ptr<LogSegment>>> groups;
  for (size_t i = 0; i < sealed.size();) {
    std::vector<std::shared_ptr<LogSegment>> group{sealed[i]};
    const int64_t base = sealed[i]->base_offset();
    int64_t size = sealed[i]->size();
    size_t j = i + 1;
    for (; j < sealed.size(); ++j) {
      const int64_t next = sealed[j]->size() + size;
      const int64_t last_offset = (j + 1 < sealed.size() ? sealed[j + 1]->base_offset() : end_base) - 1;
      if (next > config.segment_bytes || next / bytes_per_entry + 1 > max_entries ||
          last_offset - base > std::numeric_limits<int32_t>::max()) {
        break;
      }
      group.push_back(sealed[j]);
      size = next;
    }
    groups.push_back(std::move(group));
    i = j;
  }
  return groups;
}

// ---- Cleaner ------------------------------------------------------------------------------------------------

absl::StatusOr<int64_t> Cleaner::BuildOffsetMap(const SegmentList& sealed, const CleanableRange& range,
                                                const CleanOptions& options, CleanStats* stats) {
  map_.Clear();
  const int64_t first_dirty = range.first_dirty;
  bool full = false;
  for (size_t i = 0; i < sealed.size() && !full && first_dirty < range.first_uncleanable; ++i) {
    const LogSegment& seg = *sealed[i];
    const int64_t next_base = i + 1 < sealed.size() ? sealed[i + 1]->base_offset() : range.first_uncleanable;
    if (next_base <= first_dirty) continue;
    if (seg.base_offset() >= range.first_uncleanable) break;
    const int64_t from = seg.base_offset() < first_dirty ? seg.OffsetIndexLookup(first_dirty) : 0;
    SegmentBatchReader reader(seg, from, io_bytes_, &read_buffer_);
    absl::string_view batch;
    int64_t position;
    for (;;) {
      EDDY_ASSIGN_OR_RETURN(bool more, reader.Next(&batch, &position));
      if (!more) break;
      if (ShouldStop(options)) return absl::AbortedError("offset map building was aborted");
      const BatchHeaderView h(batch.data());
      if (h.last_offset() < first_dirty) continue;
      stats->bytes_read += h.size_in_bytes();
      if (!h.is_control()) {
        EDDY_ASSIGN_OR_RETURN(RecordIterator it, RecordIterator::Open(batch, &scratch_));
        RecordView r;
        while (!full && it.Next(&r)) {
          if (r.has_key() && r.offset() >= first_dirty) full = !map_.Put(r.key(), r.offset());
        }
        EDDY_RETURN_IF_ERROR(it.status());
      }
      if (full) break;
      map_.set_latest_offset(h.last_offset());
    }
  }
  if (full && map_.latest_offset() < first_dirty) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the cleaner's offset map (log.cleaner.dedupe.buffer.size) cannot hold the keys of one batch"));
  }
  const int64_t end = full ? map_.latest_offset() + 1 : std::max(first_dirty, range.first_uncleanable);
  // Records below `end` were all seen by this map or by an earlier one (below first_dirty): none of them is
  // "past the map".
  map_.set_latest_offset(end - 1);
  stats->map_keys = static_cast<int64_t>(map_.size());
  return end;
}

absl::Status Cleaner::CollectProducerLastOffsets(const SegmentList& segments) {
  producer_last_offsets_.clear();
  for (const auto& seg : segments) {
    EDDY_RETURN_IF_ERROR(seg->ForEachBatch(0, seg->size(), [&](const BatchHeaderView& h, int64_t) {
      if (h.producer_id() >= 0) producer_last_offsets_[h.producer_id()] = h.last_offset();
      return true;
    }));
  }
  return absl::OkStatus();
}

absl::StatusOr<CleanStats> Cleaner::Clean(PartitionLog& log, const CleanableRange& range, const CleanOptions& options) {
  CleanStats stats;
  stats.end_offset = range.first_dirty;
  std::shared_ptr<const SegmentList> segs = log.segments();
  if (segs->size() < 2) return stats;
  const SegmentList sealed(segs->begin(), segs->end() - 1);
  EDDY_ASSIGN_OR_RETURN(stats.end_offset, BuildOffsetMap(sealed, range, options, &stats));
  EDDY_RETURN_IF_ERROR(CollectProducerLastOffsets(*segs));

  // Every sealed segment with records below the end is rewritten, the clean ones too (Kafka's cleaner
  // recopies the log from its start: the new map may supersede their records, and tombstones expire).
  size_t n = 0;
  while (n < sealed.size() && sealed[n]->base_offset() < stats.end_offset) ++n;
  const SegmentList to_clean(sealed.begin(), sealed.begin() + static_cast<ptrdiff_t>(n));
  const int64_t end_base = (*segs)[n]->base_offset();
  const RecordRetention rules{&map_, options.now_ms, log.config().delete_retention_ms};
  for (const auto& group : GroupSegments(to_clean, end_base, log.config())) {
    EDDY_RETURN_IF_ERROR(CleanGroup(log, group, rules, options, &stats));
  }
  return stats;
}

absl::Status Cleaner::CleanGroup(PartitionLog& log, absl::Span<const std::shared_ptr<LogSegment>> group,
                                 const RecordRetention& rules, const CleanOptions& options, CleanStats* stats) {
  const std::string& dir = log.dir();
  const int64_t base = group.front()->base_offset();
  // A failed test hook stands for a crash: the files stay as they are.
  bool crashed = false;
  const CleanerTestHook hook = [&](CleanerStep step) {
    absl::Status s = options.test_hook ? options.test_hook(step) : absl::OkStatus();
    crashed |= !s.ok();
    return s;
  };
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<LogSegment> cleaned,
                        LogSegment::Create(dir, base, log.config(), kCleanedSuffix));
  auto give_up = [&](absl::Status s) {
    cleaned.reset();
    if (!crashed) (void)RemoveCleanedFiles(dir, base);
    return s;
  };
  auto flush = [&]() -> absl::Status {
    if (write_buffer_.empty()) return absl::OkStatus();
    if (cleaned->size() + static_cast<int64_t>(write_buffer_.size()) > std::numeric_limits<int32_t>::max()) {
      return absl::InternalError(
          absl::StrCat("cleaned segment ", base, " of ", ToString(log.topic_partition()), " would exceed 2 GiB"));
    }
    bool damaged = false;
    EDDY_RETURN_IF_ERROR(cleaned->Append(write_buffer_, options.now_ms, &damaged));
    stats->bytes_written += static_cast<int64_t>(write_buffer_.size());
    write_buffer_.clear();
    return absl::OkStatus();
  };

  bool unchanged = group.size() == 1;
  write_buffer_.clear();
  for (size_t j = 0; j < group.size(); ++j) {
    const LogSegment& seg = *group[j];
    SegmentBatchReader reader(seg, 0, io_bytes_, &read_buffer_);
    absl::string_view batch;
    int64_t position;
    for (;;) {
      absl::StatusOr<bool> more = reader.Next(&batch, &position);
      if (!more.ok()) return give_up(more.status());
      if (!*more) break;
      if (ShouldStop(options)) return give_up(Aborted(log));
      const BatchHeaderView h(batch.data());
      // The group's last batch is kept, if only as an empty batch, so that the cleaned segment ends where
      // the group did (log_cleaner_swap.h); so is a producer's last batch (Kafka keeps its sequence state).
      const bool last_of_group = j + 1 == group.size() && position + h.size_in_bytes() == seg.size();
      auto producer = producer_last_offsets_.find(h.producer_id());
      const bool last_of_producer = producer != producer_last_offsets_.end() && producer->second == h.last_offset();
      BatchFilterResult r;
      absl::Status s = filter_.Filter(batch, rules, last_of_group || last_of_producer, &write_buffer_, &r);
      if (!s.ok()) return give_up(s);
      stats->records_read += r.records_read;
      stats->records_kept += r.records_kept;
      stats->delete_horizon = std::min(stats->delete_horizon, r.delete_horizon);
      unchanged &= r.output == BatchFilterResult::Output::kOriginal;
      if (write_buffer_.size() >= io_bytes_) {
        s = flush();
        if (!s.ok()) return give_up(s);
      }
    }
  }
  stats->segments_before += static_cast<int>(group.size());
  ++stats->segments_after;
  if (unchanged) return give_up(absl::OkStatus());  // nothing to remove: keep the segment as it is
  absl::Status s = flush();
  if (s.ok()) s = cleaned->Seal();
  if (s.ok()) s = cleaned->SyncLog();
  if (s.ok()) s = cleaned->SyncIndexes();
  if (!s.ok()) return give_up(s);
  cleaned.reset();  // its files are renamed below; the swap opens them again under their final names

  std::vector<int64_t> bases;
  for (const auto& seg : group) bases.push_back(seg->base_offset());
  bool committed = false;
  s = log.ReplaceSegments(group, [&](bool* done) {
    absl::StatusOr<std::shared_ptr<LogSegment>> seg = SwapInCleanedSegment(dir, base, bases, log.config(), hook, done);
    committed = *done;
    return seg;
  });
  if (!s.ok() && !committed && !crashed) (void)RemoveCleanedFiles(dir, base);
  return s;
}

}  // namespace eddy::broker
