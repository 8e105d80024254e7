// Test helpers for log compaction (broker/log_cleaner*_test.cc): keyed batches, reading a log the way a
// consumer does (advancing past each whole batch, as compacted logs require), and a model of what was
// appended at each offset against which a cleaned log is checked. Header-only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "broker/log_cleaner_pass.h"
#include "broker/log_test_util.h"
#include "broker/partition_log.h"
#include "eddy/core/record_batch.h"

namespace eddy::broker::testing_util {

inline constexpr int64_t kCleanerNow = 1'700'000'000'000;

// A record to append: nullopt key = keyless, nullopt value = tombstone.
struct KeyedRecord {
  std::optional<std::string> key;
  std::optional<std::string> value;
};

// One batch of `records`, record i with timestamp ts + i.
inline std::string KeyedBatch(const std::vector<KeyedRecord>& records, int64_t ts,
                              Compression compression = Compression::kNone, int64_t producer_id = -1,
                              int32_t base_sequence = 0) {
  RecordBatchBuilder b(compression);
  if (producer_id >= 0) b.SetProducer(producer_id, 0, base_sequence);
  for (size_t i = 0; i < records.size(); ++i) {
    b.Append(ts + static_cast<int64_t>(i), records[i].key, records[i].value);
  }
  absl::StatusOr<absl::Span<char>> span = b.Finish();
  return span.ok() ? std::string(span->data(), span->size()) : std::string();
}

// A record as stored in the log.
struct StoredRecord {
  int64_t offset = -1;
  int64_t timestamp = -1;
  std::optional<std::string> key;
  std::optional<std::string> value;
  friend bool operator==(const StoredRecord&, const StoredRecord&) = default;
};

// Reads every record from the log start to its end, CRC-checked, advancing past each whole batch (a
// compacted batch may hold none of the offsets after the fetch offset). *batches gets each batch's header
// fields {base offset, last offset, record count} if not null.
struct BatchInfo {
  int64_t base_offset;
  int64_t last_offset;
  int32_t records;
};
inline absl::StatusOr<std::vector<StoredRecord>> ReadLog(const PartitionLog& log,
                                                         std::vector<BatchInfo>* batches = nullptr) {
  std::vector<StoredRecord> out;
  std::string data, scratch;
  int64_t next = log.log_start_offset();
  const int64_t end = log.log_end_offset();
  while (next < end) {
    data.clear();
    absl::StatusOr<ReadResult> r = log.Read(next, 1 << 16, &data);
    if (!r.ok()) return r.status();
    if (r->bytes == 0) return absl::InternalError(absl::StrCat("empty read at ", next, " below ", end));
    absl::string_view rest(data);
    while (!rest.empty()) {
      absl::StatusOr<RecordIterator> it = RecordIterator::Open(rest, &scratch, /*verify_crc=*/true);
      if (!it.ok()) return it.status();
      const BatchHeaderView& h = it->header();
      if (h.last_offset() < next) return absl::InternalError(absl::StrCat("batch before ", next, " returned"));
      if (batches != nullptr) batches->push_back({h.base_offset(), h.last_offset(), h.records_count()});
      RecordView v;
      while (it->Next(&v)) {
        if (v.offset() < next) continue;
        StoredRecord s{v.offset(), v.timestamp(), std::nullopt, std::nullopt};
        if (v.has_key()) s.key = std::string(v.key());
        if (v.has_value()) s.value = std::string(v.value());
        if (!out.empty() && out.back().offset >= s.offset) return absl::InternalError("offsets out of order");
        out.push_back(std::move(s));
      }
      if (!it->status().ok()) return it->status();
      next = h.next_offset();
      rest.remove_prefix(static_cast<size_t>(h.size_in_bytes()));
    }
  }
  return out;
}

// Everything appended to a log, by offset: the reference a cleaned log is checked against.
class AppendModel {
 public:
  // Appends `records` as one batch and records their offsets. Fails the append's status on error.
  absl::Status Append(PartitionLog& log, const std::vector<KeyedRecord>& records, int64_t ts,
                      Compression compression = Compression::kNone, int64_t producer_id = -1) {
    std::string batch = KeyedBatch(records, ts, compression, producer_id);
    absl::StatusOr<AppendResult> r = log.Append(absl::MakeSpan(batch), ts);
    if (!r.ok()) return r.status();
    for (size_t i = 0; i < records.size(); ++i) {
      const int64_t offset = r->first_offset + static_cast<int64_t>(i);
      appended_[offset] = StoredRecord{offset, ts + static_cast<int64_t>(i), records[i].key, records[i].value};
    }
    return absl::OkStatus();
  }

  const std::map<int64_t, StoredRecord>& appended() const { return appended_; }

  // Checks a log read back (ReadLog) after cleaning: every record is exactly what was appended at its
  // offset; the latest record of every key is there (its tombstone too, unless tombstones_may_be_gone);
  // below `compacted_end` no key has two records; nothing keyless is below it; at and after it, every
  // appended record is still there. compacted_end -1 checks only that nothing was lost or changed.
  absl::Status CheckCleaned(const std::vector<StoredRecord>& read, int64_t compacted_end,
                            bool tombstones_may_be_gone) const {
    std::map<std::string, int64_t> latest;
    for (const auto& [offset, r] : appended_) {
      if (r.key) latest[*r.key] = offset;
    }
    std::set<int64_t> present;
    std::set<std::string> keys_below_end;
    for (const StoredRecord& r : read) {
      auto it = appended_.find(r.offset);
      if (it == appended_.end() || !(it->second == r)) {
        return absl::InternalError(absl::StrCat("offset ", r.offset, " holds a record that was not appended there"));
      }
      present.insert(r.offset);
      if (r.offset < compacted_end) {
        if (!r.key) return absl::InternalError(absl::StrCat("keyless record kept at ", r.offset));
        if (!keys_below_end.insert(*r.key).second) {
          return absl::InternalError(absl::StrCat("key ", *r.key, " has two records below ", compacted_end));
        }
      }
    }
    for (const auto& [key, offset] : latest) {
      const bool tombstone = !appended_.at(offset).value.has_value();
      if (!present.count(offset) && !(tombstone && tombstones_may_be_gone)) {
        return absl::InternalError(absl::StrCat("the latest record of key ", key, " (offset ", offset, ") is gone"));
      }
    }
    for (auto it = appended_.lower_bound(compacted_end); compacted_end >= 0 && it != appended_.end(); ++it) {
      if (!present.count(it->first)) {
        return absl::InternalError(absl::StrCat("uncleaned offset ", it->first, " is gone"));
      }
    }
    return absl::OkStatus();
  }

  // A seeded workload: `count` records over `keys` keys in batches of 1-20, ~10% tombstones, codecs varied.
  absl::Status AppendRandom(PartitionLog& log, std::mt19937* rng, int count, int keys, int64_t ts,
                            bool compress = true) {
    static constexpr Compression kCodecs[] = {Compression::kNone, Compression::kGzip, Compression::kSnappy,
                                              Compression::kLz4, Compression::kZstd};
    for (int done = 0; done < count;) {
      const int n = std::min(count - done, static_cast<int>((*rng)() % 20) + 1);
      std::vector<KeyedRecord> records;
      for (int i = 0; i < n; ++i) {
        KeyedRecord r;
        r.key = absl::StrCat("key-", (*rng)() % static_cast<uint32_t>(keys));
        if ((*rng)() % 10 != 0) r.value = std::string(10 + (*rng)() % 50, static_cast<char>('a' + (*rng)() % 26));
        records.push_back(std::move(r));
      }
      const Compression c = compress ? kCodecs[(*rng)() % 5] : Compression::kNone;
      absl::Status s = Append(log, records, ts, c);
      if (!s.ok()) return s;
      done += n;
    }
    return absl::OkStatus();
  }

 private:
  std::map<int64_t, StoredRecord> appended_;
};

// CleanOnce cleans `log` directly with a fresh Cleaner from `first_dirty`, at `now`.
inline absl::StatusOr<CleanStats> CleanOnce(PartitionLog& log, int64_t first_dirty, int64_t now,
                                            CleanerTestHook hook = nullptr, int64_t map_bytes = 1 << 20) {
  absl::StatusOr<CleanableRange> range = ComputeCleanableRange(*log.segments(), log.config(), first_dirty, now);
  if (!range.ok()) return range.status();
  Cleaner cleaner(map_bytes, 64 << 10);
  CleanOptions options;
  options.now_ms = now;
  options.test_hook = std::move(hook);
  return cleaner.Clean(log, *range, options);
}

}  // namespace eddy::broker::testing_util
