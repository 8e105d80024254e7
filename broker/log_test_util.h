// Test helpers for the log: temporary directories, building record batches, decoding what a read
// returned. Header-only, for broker/*_test.cc, tests/*_test.cc and bench/.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/partition_log.h"
#include "eddy/core/record_batch.h"

namespace eddy::broker::testing_util {

// A directory under $TMPDIR (or /tmp) removed by the destructor.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string tmpl = absl::StrCat(base != nullptr && *base != '\0' ? base : "/tmp", "/eddy-test-XXXXXX");
    char* p = mkdtemp(tmpl.data());
    path_ = p != nullptr ? std::string(p) : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return absl::StrCat(path_, "/", name); }

 private:
  std::string path_;
};

// The deterministic value of the record at `offset` in tests that check content after recovery.
inline std::string ValueForOffset(int64_t offset, size_t size) {
  std::string v(size, '\0');
  uint64_t x = static_cast<uint64_t>(offset) * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < size; ++i) {
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    v[i] = static_cast<char>('a' + (x >> 59) % 26);
  }
  return v;
}

// Builds one batch of `count` records with key "k<i>" and `value_size`-byte values; record i has timestamp
// ts + i. If first_offset >= 0, values are ValueForOffset(first_offset + i).
inline std::string MakeBatch(int count, size_t value_size, int64_t ts, int64_t first_offset = -1,
                             Compression compression = Compression::kNone) {
  RecordBatchBuilder b(compression);
  for (int i = 0; i < count; ++i) {
    std::string value = first_offset >= 0 ? ValueForOffset(first_offset + i, value_size) : std::string(value_size, 'v');
    b.Append(ts + i, absl::StrCat("k", i), value);
  }
  absl::StatusOr<absl::Span<char>> span = b.Finish();
  if (!span.ok()) return std::string();
  return std::string(span->data(), span->size());
}

// One decoded record.
struct DecodedRecord {
  int64_t offset;
  int64_t timestamp;
  std::string key;
  std::string value;
};

// Decodes every record of the batches in `data` (as returned by PartitionLog::Read), checking CRCs.
inline absl::StatusOr<std::vector<DecodedRecord>> DecodeAll(absl::string_view data) {
  std::vector<DecodedRecord> out;
  std::string scratch;
  while (!data.empty()) {
    absl::StatusOr<RecordIterator> it = RecordIterator::Open(data, &scratch, /*verify_crc=*/true);
    if (!it.ok()) return it.status();
    RecordView r;
    while (it->Next(&r)) out.push_back({r.offset(), r.timestamp(), std::string(r.key()), std::string(r.value())});
    if (!it->status().ok()) return it->status();
    data.remove_prefix(static_cast<size_t>(it->header().size_in_bytes()));
  }
  return out;
}

// Offsets of the batches in `data`: {base offset, last offset} per batch.
inline std::vector<std::pair<int64_t, int64_t>> BatchOffsets(absl::string_view data) {
  std::vector<std::pair<int64_t, int64_t>> out;
  while (data.size() >= static_cast<size_t>(batch_format::kHeaderSize)) {
    BatchHeaderView h(data.data());
    out.emplace_back(h.base_offset(), h.last_offset());
    data.remove_prefix(static_cast<size_t>(h.size_in_bytes()));
  }
  return out;
}

// Appends one batch of `count` records whose values are ValueForOffset(offset, value_size).
inline absl::StatusOr<AppendResult> AppendOffsetBatch(PartitionLog& log, int count, size_t value_size, int64_t ts,
                                                      int64_t now_ms) {
  std::string batch = MakeBatch(count, value_size, ts, log.log_end_offset());
  return log.Append(absl::MakeSpan(batch), now_ms);
}

// Reads and decodes every record from `from` to the log end offset, max_bytes per Read.
inline absl::StatusOr<std::vector<DecodedRecord>> ReadRange(const PartitionLog& log, int64_t from,
                                                            int32_t max_bytes = 1 << 20) {
  std::vector<DecodedRecord> all;
  int64_t next = from;
  const int64_t end = log.log_end_offset();
  while (next < end) {
    std::string out;
    absl::StatusOr<ReadResult> r = log.Read(next, max_bytes, &out);
    if (!r.ok()) return r.status();
    if (r->bytes == 0) return absl::InternalError(absl::StrCat("empty read at offset ", next, " below end ", end));
    absl::StatusOr<std::vector<DecodedRecord>> recs = DecodeAll(out);
    if (!recs.ok()) return recs.status();
    for (DecodedRecord& rec : *recs) {
      if (rec.offset >= next) all.push_back(std::move(rec));
    }
    if (all.empty() || all.back().offset < next) return absl::InternalError(absl::StrCat("no progress at ", next));
    next = all.back().offset + 1;
  }
  return all;
}

// Checks that `recs` are exactly offsets [first, end) with ValueForOffset values.
inline absl::Status CheckOffsetContent(const std::vector<DecodedRecord>& recs, int64_t first, int64_t end,
                                       size_t value_size) {
  if (recs.size() != static_cast<size_t>(end - first)) {
    return absl::InternalError(absl::StrCat("expected ", end - first, " records [", first, ", ", end, "), got ",
                                            recs.size()));
  }
  for (size_t i = 0; i < recs.size(); ++i) {
    if (recs[i].offset != first + static_cast<int64_t>(i)) {
      return absl::InternalError(absl::StrCat("record ", i, " has offset ", recs[i].offset));
    }
    if (recs[i].value != ValueForOffset(recs[i].offset, value_size)) {
      return absl::InternalError(absl::StrCat("wrong content at offset ", recs[i].offset));
    }
  }
  return absl::OkStatus();
}

}  // namespace eddy::broker::testing_util
