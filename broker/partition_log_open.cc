// PartitionLog::Open: loading segments and crash recovery (Kafka's LogLoader, adapted). See
// partition_log.h and docs/log-format.md ("Recovery").
#include <cstdio>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "broker/log_cleaner_swap.h"
#include "broker/partition_log.h"
#include "eddy/core/status.h"

namespace eddy::broker {
namespace {

constexpr absl::string_view kLogSuffix = ".log";
constexpr size_t kBaseOffsetDigits = 20;

// Parses "<20 digits><suffix>" into the base offset.
bool ParseSegmentName(absl::string_view name, absl::string_view suffix, int64_t* base) {
  if (name.size() != kBaseOffsetDigits + suffix.size() || !absl::EndsWith(name, suffix)) return false;
  absl::string_view digits = name.substr(0, kBaseOffsetDigits);
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return absl::SimpleAtoi(digits, base);
}

// Lists the segment base offsets in `dir`, removing leftovers: index files without their .log and
// temporary files.
absl::StatusOr<std::vector<int64_t>> ListSegments(const std::string& dir) {
  EDDY_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
  std::set<int64_t> bases;
  for (const std::string& name : names) {
    int64_t base;
    if (ParseSegmentName(name, kLogSuffix, &base)) bases.insert(base);
  }
  for (const std::string& name : names) {
    int64_t base;
    const bool orphan_index = (ParseSegmentName(name, ".index", &base) || ParseSegmentName(name, ".timeindex", &base)) &&
                              bases.count(base) == 0;
    if (orphan_index || absl::EndsWith(name, ".tmp") || absl::EndsWith(name, ".deleted")) {
      EDDY_RETURN_IF_ERROR(RemoveFile(absl::StrCat(dir, "/", name)));
    }
  }
  return std::vector<int64_t>(bases.begin(), bases.end());
}

}  // namespace

absl::StatusOr<std::unique_ptr<PartitionLog>> PartitionLog::Open(std::string dir, TopicPartition tp, LogConfig config,
                                                                 const RecoveryInfo& recovery) {
  EDDY_RETURN_IF_ERROR(CreateDirs(dir));
  std::unique_ptr<PartitionLog> log(new PartitionLog(std::move(dir), std::move(tp), std::move(config)));
  EDDY_RETURN_IF_ERROR(log->Load(recovery));
  return log;
}

absl::Status PartitionLog::Load(const RecoveryInfo& recovery) {
  absl::MutexLock l(&append_mu_);
  // A log cleaner swap interrupted by a crash is rolled back or completed first (log_cleaner_swap.h).
  std::string swap_notes;
  EDDY_RETURN_IF_ERROR(CompleteInterruptedSwaps(dir_, config_, &swap_notes));
  if (!swap_notes.empty()) {
    std::fprintf(stderr, "eddy: %s (%s)%s\n", ToString(tp_).c_str(), dir_.c_str(), swap_notes.c_str());
  }
  // Cleaned segments of a compacted log have offset gaps between (and before) their batches.
  const bool allow_gaps = config_.compact_enabled();
  EDDY_ASSIGN_OR_RETURN(std::vector<int64_t> bases, ListSegments(dir_));
  SegmentList segs;
  if (bases.empty()) {
    // A new log (or one whose files are gone: then whatever the checkpoint said is lost).
    if (recovery.recovery_point.has_value() && recovery.recovery_point->offset > 0) {
      std::fprintf(stderr, "eddy: %s (%s) has no segments but its recovery point is offset %lld: data was lost\n",
                   ToString(tp_).c_str(), dir_.c_str(), static_cast<long long>(recovery.recovery_point->offset));
    }
    EDDY_ASSIGN_OR_RETURN(active_, LogSegment::Create(dir_, 0, config_));
    dir_dirty_.store(true);
    next_offset_ = 0;
    Publish(std::make_shared<SegmentList>(SegmentList{active_}));
    return LoadProducerState();
  }
  for (int64_t base : bases) {
    EDDY_ASSIGN_OR_RETURN(std::shared_ptr<LogSegment> seg, LogSegment::Open(dir_, base, config_));
    segs.push_back(std::move(seg));
  }

  // The scan starts in segment k at position `pos`, expecting offset `expected`; segments before k are
  // trusted (below the recovery point). After a clean shutdown nothing is scanned (k = size).
  size_t k = segs.size();
  int64_t pos = 0, expected = 0, max_ts = -1;
  std::string notes;
  if (!recovery.clean_shutdown) {
    const RecoveryPoint rp = recovery.recovery_point.value_or(RecoveryPoint{segs.front()->base_offset(), 0, -1});
    k = 0;
    while (k + 1 < segs.size() && segs[k + 1]->base_offset() <= rp.offset) ++k;
    expected = segs[k]->base_offset();
    if (rp.offset > segs[k]->base_offset()) {
      expected = rp.offset;
      pos = rp.position;
      max_ts = rp.max_timestamp;
      // The checkpoint must point at a batch boundary holding `expected` (or at the end of the file).
      bool ok = pos <= segs[k]->size();
      if (ok && pos + batch_format::kHeaderSize <= segs[k]->size()) {
        std::string header;
        ok = segs[k]->ReadAt(pos, batch_format::kHeaderSize, &header).ok() &&
             BatchHeaderView(header.data()).base_offset() == expected;
      } else if (ok && pos < segs[k]->size()) {
        ok = false;
      }
      if (!ok) {
        absl::StrAppend(&notes, "; the recovery point (offset ", rp.offset, ", position ", rp.position,
                        ") does not match the segment, scanning it whole");
        pos = 0;
        expected = segs[k]->base_offset();
        max_ts = -1;
      }
    }
  }

  ScanBuffer buffer;
  int64_t scanned = 0, truncated = 0;
  int deleted = 0;
  bool recovered = false;
  std::vector<bool> trusted(segs.size(), false);
  for (size_t i = 0; i < segs.size(); ++i) {
    LogSegment& seg = *segs[i];
    const bool last = i + 1 == segs.size();
    int64_t from = 0, next = seg.base_offset(), ts = -1;
    bool scan = i >= k;
    if (i < k) {
      absl::Status s = seg.LoadIndexes();
      if (s.ok() && last) s = seg.LoadTail();
      if (!s.ok()) {
        absl::StrAppend(&notes, "; rebuilding ", seg.log_path(), "'s indexes: ", s.message());
        scan = true;
      } else {
        trusted[i] = true;
      }
    } else if (i == k && pos > 0) {
      // The data before the recovery point is trusted even if the index files are incomplete or missing
      // (they are not fsynced): a read there then steps over batch headers from the last good entry.
      absl::Status s = seg.LoadIndexes();
      if (!s.ok() && !absl::IsNotFound(s)) absl::StrAppend(&notes, "; ignoring an index: ", s.message());
      from = pos;
      next = expected;
      ts = max_ts;
    }
    if (!scan) continue;
    recovered = true;
    EDDY_ASSIGN_OR_RETURN(SegmentScan result, seg.Recover(from, next, ts, &buffer, allow_gaps));
    scanned += result.scanned_bytes;
    truncated += result.truncated_bytes;
    bool cut = !result.stop_reason.empty();
    if (cut) absl::StrAppend(&notes, "; ", seg.log_path(), ": ", result.stop_reason);
    const int64_t next_base = last ? 0 : segs[i + 1]->base_offset();
    if (!last && !cut && (allow_gaps ? seg.next_offset() > next_base : seg.next_offset() != next_base)) {
      absl::StrAppend(&notes, "; ", seg.log_path(), " ends at offset ", seg.next_offset(), " but the next segment starts at ",
                      segs[i + 1]->base_offset());
      cut = true;
    }
    if (!last && !cut) {
      // A sealed segment whose indexes were rebuilt: write them out (Close only seals the active one).
      EDDY_RETURN_IF_ERROR(seg.Seal());
    }
    if (cut && !last) {
      for (size_t j = i + 1; j < segs.size(); ++j) {
        truncated += segs[j]->size();
        EDDY_RETURN_IF_ERROR(segs[j]->DeleteFiles());
        ++deleted;
      }
      segs.resize(i + 1);
      dir_dirty_.store(true);
    }
  }

  active_ = segs.back();
  next_offset_ = active_->next_offset();
  for (size_t i = 0; i + 1 < segs.size(); ++i) segs[i]->set_fully_synced(trusted[i]);
  Publish(std::make_shared<SegmentList>(std::move(segs)));
  EDDY_RETURN_IF_ERROR(LoadProducerState());

  if (!recovery.clean_shutdown || recovered) {
    std::fprintf(stderr,
                 "eddy: recovered %s (%s, %s shutdown): scanned %lld bytes from offset %lld (position %lld), "
                 "truncated %lld bytes, deleted %d segments; log end offset %lld%s\n",
                 ToString(tp_).c_str(), dir_.c_str(), recovery.clean_shutdown ? "clean" : "unclean",
                 static_cast<long long>(scanned), static_cast<long long>(expected), static_cast<long long>(pos),
                 static_cast<long long>(truncated), deleted, static_cast<long long>(next_offset_), notes.c_str());
    // Make what was scanned (and any truncation) durable, so the recovery point can move to the end.
    flushed_.store(-1);
    absl::MutexLock fl(&flush_mu_);
    return SyncView(GetView(), /*include_active=*/true).status();
  }
  flushed_.store(next_offset_);
  absl::MutexLock sl(&state_mu_);
  recovery_point_ = RecoveryPoint{next_offset_, active_size_, active_max_timestamp_};
  return absl::OkStatus();
}

absl::Status PartitionLog::LoadProducerState() {
  // The snapshot covers the batches below `from`; the batch headers after it hold the rest.
  EDDY_ASSIGN_OR_RETURN(const int64_t from, producers_.LoadSnapshot(dir_, next_offset_));
  if (from == next_offset_) return absl::OkStatus();
  const SegmentList& segs = *GetView().segments;
  for (size_t i = 0; i < segs.size(); ++i) {
    const LogSegment& seg = *segs[i];
    if (i + 1 < segs.size() && segs[i + 1]->base_offset() <= from) continue;
    int64_t position = 0;
    if (from > seg.base_offset()) {
      EDDY_ASSIGN_OR_RETURN(BatchLocation loc, seg.FindBatch(from, next_offset_));
      if (loc.position < 0) continue;
      position = loc.position;
    }
    EDDY_RETURN_IF_ERROR(seg.ForEachBatch(position, seg.size(), [&](const BatchHeaderView& h, int64_t) {
      if (h.producer_id() >= 0 && h.base_offset() >= from) producers_.Update(h);
      return true;
    }));
  }
  return absl::OkStatus();
}

void PartitionLog::SnapshotProducerState() {
  absl::Status s = producers_.WriteSnapshot(dir_, next_offset_);
  if (!s.ok()) {
    std::fprintf(stderr, "eddy: %s: cannot write a producer state snapshot (the next recovery scans longer): %s\n",
                 ToString(tp_).c_str(), std::string(s.message()).c_str());
  }
}

}  // namespace eddy::broker
