// StoreCore's restoration: changelog records applied in bulk, bypassing the cache, the changelog and the
// flush listener. Two ways (RestoreMode):
//   WriteBatch: each RestoreBatch call is one RocksDB WriteBatch, visible when the call returns;
//   SST ingestion (only into an empty store): records are copied into an in-memory chunk; a full chunk is
//     sorted by (segment, key, arrival), reduced to the last record per key, written to one SST file per
//     segment and ingested (IngestExternalFile). Later chunks overlap earlier ones; RocksDB gives each
//     ingested file a newer sequence number, so the later record of a key wins as it would with puts.
//     Tombstones go into the SST too, except in a segment nothing has been ingested into yet (there is
//     nothing for them to delete in an empty store).
// Window and session stores advance their observed stream time with each record and skip records of
// expired segments, as Kafka's segmented stores do.
#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/status.h"
#include "state/store_core.h"
#include "state/store_key_format.h"

namespace eddy::state_internal {
namespace {
// kAuto restores an empty persistent store by SST ingestion: measured faster than WriteBatch puts
// (bench/state_bench.cc, BM_Restore*; docs/state.md, "Restoration").
constexpr bool kAutoPrefersIngest = true;
}  // namespace


absl::StatusOr<int64_t> StoreCore::TimeOfStoreKey(absl::string_view store_key) const {
  int64_t time = -1;
  if (options_.kind == StoreKind::kWindow) {
    if (store_key.size() < kWindowSuffixSize) {
      return absl::DataLossError(absl::StrCat("changelog of window store ", options_.name, ": a key of ",
                                              store_key.size(), " bytes is shorter than its 12-byte suffix"));
    }
    time = WindowKeyStart(store_key);
  } else if (options_.kind == StoreKind::kSession) {
    if (store_key.size() < kSessionSuffixSize) {
      return absl::DataLossError(absl::StrCat("changelog of session store ", options_.name, ": a key of ",
                                              store_key.size(), " bytes is shorter than its 16-byte suffix"));
    }
    time = SessionKeyEnd(store_key);
  }
  if (segmented() && time < 0) {
    return absl::DataLossError(absl::StrCat("changelog of store ", options_.name, ": negative time in a key"));
  }
  return time;
}

absl::Status StoreCore::BeginRestore(const RestoreOptions& options) {
  EDDY_RETURN_IF_ERROR(CheckOpen());
  if (restoring_) return absl::FailedPreconditionError(absl::StrCat("store ", options_.name, " is restoring"));
  if (cache_ != nullptr) {
    if (cache_->has_dirty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("store ", options_.name, ": restoring over unflushed cache entries"));
    }
    cache_->Clear();
  }
  ingest_ = false;
  const bool can_ingest = backend_->SupportsIngest();
  if (options.mode == RestoreMode::kIngestSst && can_ingest) {
    EDDY_ASSIGN_OR_RETURN(bool empty, backend_->Empty());
    if (!empty) {
      return absl::FailedPreconditionError(
          absl::StrCat("store ", options_.name, ": SST ingestion restores only into an empty store"));
    }
    ingest_ = true;
  } else if (options.mode == RestoreMode::kAuto && can_ingest && kAutoPrefersIngest) {
    EDDY_ASSIGN_OR_RETURN(ingest_, backend_->Empty());
  }
  chunk_limit_ = std::max<size_t>(options.sst_chunk_bytes, 1 << 16);
  ingested_segments_.clear();
  restoring_ = true;
  return absl::OkStatus();
}

absl::Status StoreCore::RestoreBatch(absl::Span<const ChangelogRecord> records) {
  EDDY_RETURN_IF_ERROR(CheckOpen());
  if (cache_ != nullptr && cache_->entries() > 0) {
    if (cache_->has_dirty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("store ", options_.name, ": restoring over unflushed cache entries"));
    }
    cache_->Clear();
  }
  writes_.clear();
  for (const ChangelogRecord& r : records) {
    int64_t segment = 0;
    if (segmented()) {
      EDDY_ASSIGN_OR_RETURN(int64_t time, TimeOfStoreKey(r.key));
      EDDY_RETURN_IF_ERROR(AdvanceStreamTime(time));
      segment = SegmentOf(time);
      if (segment < min_live_segment_) continue;
      known_segments_.insert(segment);
    }
    if (!ingest_) {
      writes_.push_back({segment, r.key, r.value});
      continue;
    }
    ChunkEntry e{segment, chunk_arena_.size(), 0, static_cast<uint32_t>(r.key.size()), -1};
    chunk_arena_.append(r.key.data(), r.key.size());
    if (r.value.has_value()) {
      e.value_offset = chunk_arena_.size();
      e.value_size = static_cast<int32_t>(r.value->size());
      chunk_arena_.append(r.value->data(), r.value->size());
    }
    chunk_.push_back(e);
    if (chunk_arena_.size() + chunk_.size() * sizeof(ChunkEntry) >= chunk_limit_) {
      EDDY_RETURN_IF_ERROR(IngestChunk());
    }
  }
  if (ingest_) return absl::OkStatus();
  // Records seen earlier in this batch may belong to segments that later ones expired.
  if (segmented()) {
    std::erase_if(writes_, [this](const BackendWrite& w) { return w.segment < min_live_segment_; });
  }
  return backend_->Write(writes_);
}

absl::Status StoreCore::IngestChunk() {
  if (chunk_.empty()) return absl::OkStatus();
  auto key_of = [this](const ChunkEntry& e) {
    return absl::string_view(chunk_arena_.data() + e.key_offset, e.key_size);
  };
  // Sort compact records: segment, the key's first 8 bytes as a big-endian integer (most keys differ there),
  // and the arrival index; whole keys are compared only when the prefixes tie.
  struct SortKey {
    int64_t segment;
    uint64_t prefix;
    uint32_t index;
  };
  std::vector<SortKey> sort_keys(chunk_.size());
  for (uint32_t i = 0; i < chunk_.size(); ++i) {
    const ChunkEntry& e = chunk_[i];
    char buf[8] = {};
    std::memcpy(buf, chunk_arena_.data() + e.key_offset, std::min<size_t>(8, e.key_size));
    sort_keys[i] = {e.segment, absl::big_endian::Load64(buf), i};
  }
  std::sort(sort_keys.begin(), sort_keys.end(), [&](const SortKey& x, const SortKey& y) {
    if (x.segment != y.segment) return x.segment < y.segment;
    if (x.prefix != y.prefix) return x.prefix < y.prefix;
    const int cmp = key_of(chunk_[x.index]).compare(key_of(chunk_[y.index]));
    return cmp != 0 ? cmp < 0 : x.index < y.index;
  });
  std::vector<uint32_t> order(sort_keys.size());
  for (size_t i = 0; i < sort_keys.size(); ++i) order[i] = sort_keys[i].index;
  sort_keys = {};
  writes_.clear();
  int64_t segment = order.empty() ? 0 : chunk_[order[0]].segment;
  auto ingest_segment = [&]() -> absl::Status {
    if (writes_.empty()) return absl::OkStatus();
    EDDY_RETURN_IF_ERROR(backend_->IngestSorted(segment, writes_));
    ingested_segments_.insert(segment);
    writes_.clear();
    return absl::OkStatus();
  };
  for (size_t i = 0; i < order.size(); ++i) {
    const ChunkEntry& e = chunk_[order[i]];
    if (e.segment != segment) {
      EDDY_RETURN_IF_ERROR(ingest_segment());
      segment = e.segment;
    }
    if (i + 1 < order.size()) {  // a later record of the same key wins
      const ChunkEntry& next = chunk_[order[i + 1]];
      if (next.segment == e.segment && key_of(next) == key_of(e)) continue;
    }
    if (segmented() && e.segment < min_live_segment_) continue;
    if (e.value_size < 0 && !ingested_segments_.contains(e.segment)) continue;
    std::optional<absl::string_view> value;
    if (e.value_size >= 0) value = absl::string_view(chunk_arena_.data() + e.value_offset, e.value_size);
    writes_.push_back({e.segment, key_of(e), value});
  }
  EDDY_RETURN_IF_ERROR(ingest_segment());
  chunk_.clear();
  chunk_arena_.clear();
  return absl::OkStatus();
}

absl::Status StoreCore::EndRestore() {
  EDDY_RETURN_IF_ERROR(CheckOpen());
  if (ingest_) EDDY_RETURN_IF_ERROR(IngestChunk());
  ingest_ = false;
  restoring_ = false;
  std::string().swap(chunk_arena_);
  std::vector<ChunkEntry>().swap(chunk_);
  EDDY_RETURN_IF_ERROR(SaveStreamTime());
  return backend_->Flush();
}

}  // namespace eddy::state_internal
