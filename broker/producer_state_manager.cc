// ProducerStateManager: sequence checks and snapshot files. See producer_state_manager.h.
#include "broker/producer_state_manager.h"

#include <algorithm>
#include <limits>

#include "absl/base/internal/endian.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "broker/error_code.h"
#include "broker/file_util.h"
#include "eddy/core/crc32c.h"
#include "eddy/core/status.h"

namespace eddy::broker {
namespace {

namespace bf = batch_format;

constexpr absl::string_view kMagic = "EPS1";
constexpr absl::string_view kSnapshotSuffix = ".snapshot";
constexpr size_t kEntryHeader = 8 + 2 + 1;
constexpr size_t kBatchBytes = 4 + 4 + 8 + 8;
constexpr size_t kSnapshotsKept = 2;

int32_t NextSequence(int32_t s) { return s == std::numeric_limits<int32_t>::max() ? 0 : s + 1; }

absl::Status SequenceError(ErrorCode code, const BatchHeaderView& h, absl::string_view why) {
  return WithKafkaError(absl::FailedPreconditionError(absl::StrCat(
                            "producer ", h.producer_id(), " epoch ", h.producer_epoch(), " sequence ",
                            h.base_sequence(), ": ", why, " (", ErrorName(code), ")")),
                        code);
}

// Snapshot offsets in `dir`, ascending.
absl::StatusOr<std::vector<int64_t>> ListSnapshots(const std::string& dir) {
  EDDY_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
  std::vector<int64_t> offsets;
  for (const std::string& name : names) {
    int64_t offset;
    if (absl::EndsWith(name, kSnapshotSuffix) &&
        absl::SimpleAtoi(absl::string_view(name).substr(0, name.size() - kSnapshotSuffix.size()), &offset)) {
      offsets.push_back(offset);
    }
  }
  std::sort(offsets.begin(), offsets.end());
  return offsets;
}

std::string SnapshotPath(const std::string& dir, int64_t offset) {
  return absl::StrFormat("%s/%020d%s", dir, offset, kSnapshotSuffix);
}

}  // namespace

absl::StatusOr<std::optional<ProducerStateManager::Duplicate>> ProducerStateManager::CheckAppend(
    absl::Span<const char> batches) const {
  std::optional<Duplicate> duplicate;
  bool appending = false;  // some batch is new
  int32_t last_sequence = 0;
  int16_t epoch = 0;  // of the new batches
  int64_t producer_id = -1;
  const Entry* entry = nullptr;
  for (size_t at = 0; at < batches.size();) {
    const BatchHeaderView h(batches.data() + at);
    at += static_cast<size_t>(h.size_in_bytes());
    const bool first = at == static_cast<size_t>(h.size_in_bytes());
    if (first) {
      producer_id = h.producer_id();
      if (producer_id < 0) continue;
      auto it = producers_.find(producer_id);
      entry = it == producers_.end() ? nullptr : &it->second;
    } else if (h.producer_id() != producer_id) {
      return WithKafkaError(absl::InvalidArgumentError("record batches of different producers in one append"),
                            ErrorCode::kInvalidRecord);
    }
    if (producer_id < 0) continue;
    const int32_t batch_last = static_cast<int32_t>(int64_t{h.base_sequence()} + h.last_offset_delta());
    if (!first && !duplicate.has_value()) {
      // A later batch of the same append continues the first.
      if (h.producer_epoch() != epoch || h.base_sequence() != NextSequence(last_sequence)) {
        return SequenceError(ErrorCode::kOutOfOrderSequenceNumber, h, "does not follow the previous batch");
      }
      last_sequence = batch_last;
      continue;
    }
    if (entry == nullptr) {
      if (h.base_sequence() != 0) return SequenceError(ErrorCode::kUnknownProducerId, h, "unknown producer");
    } else if (h.producer_epoch() < entry->epoch) {
      return SequenceError(ErrorCode::kInvalidProducerEpoch, h,
                           absl::StrCat("epoch is older than the current ", entry->epoch));
    } else if (h.producer_epoch() > entry->epoch) {
      if (h.base_sequence() != 0) {
        return SequenceError(ErrorCode::kOutOfOrderSequenceNumber, h, "a new epoch must start at sequence 0");
      }
    } else {
      const Batch* match = nullptr;
      for (const Batch& b : entry->batches) {
        if (b.first_sequence == h.base_sequence() && b.last_sequence == batch_last) match = &b;
      }
      if (match != nullptr && !appending) {
        if (!duplicate.has_value()) duplicate = Duplicate{match->first_offset, match->last_offset};
        duplicate->last_offset = match->last_offset;
        continue;
      }
      if (duplicate.has_value()) {
        return SequenceError(ErrorCode::kOutOfOrderSequenceNumber, h, "an append mixes retried and new batches");
      }
      if (!entry->batches.empty() && h.base_sequence() != NextSequence(entry->batches.back().last_sequence)) {
        return SequenceError(ErrorCode::kOutOfOrderSequenceNumber, h,
                             absl::StrCat("expected sequence ", NextSequence(entry->batches.back().last_sequence)));
      }
    }
    appending = true;
    epoch = h.producer_epoch();
    last_sequence = batch_last;
  }
  return duplicate;
}

void ProducerStateManager::Update(const BatchHeaderView& h) {
  if (h.producer_id() < 0) return;
  Entry& e = producers_[h.producer_id()];
  if (h.producer_epoch() != e.epoch) {
    e.epoch = h.producer_epoch();
    e.batches.clear();
  }
  if (e.batches.size() == kBatchesKept) e.batches.erase(e.batches.begin());
  e.batches.push_back(Batch{h.base_sequence(), static_cast<int32_t>(int64_t{h.base_sequence()} + h.last_offset_delta()),
                            h.base_offset(), h.last_offset()});
  max_producer_id_ = std::max(max_producer_id_, h.producer_id());
}

// ---- Snapshots ----------------------------------------------------------------------------------------------

std::string ProducerStateManager::Serialize() const {
  std::string out(kMagic);
  out.resize(out.size() + 4 + 4);
  absl::big_endian::Store32(out.data() + 8, static_cast<uint32_t>(producers_.size()));
  for (const auto& [id, e] : producers_) {
    const size_t at = out.size();
    out.resize(at + kEntryHeader + e.batches.size() * kBatchBytes);
    char* p = out.data() + at;
    absl::big_endian::Store64(p, static_cast<uint64_t>(id));
    absl::big_endian::Store16(p + 8, static_cast<uint16_t>(e.epoch));
    p[10] = static_cast<char>(e.batches.size());
    p += kEntryHeader;
    for (const Batch& b : e.batches) {
      absl::big_endian::Store32(p, static_cast<uint32_t>(b.first_sequence));
      absl::big_endian::Store32(p + 4, static_cast<uint32_t>(b.last_sequence));
      absl::big_endian::Store64(p + 8, static_cast<uint64_t>(b.first_offset));
      absl::big_endian::Store64(p + 16, static_cast<uint64_t>(b.last_offset));
      p += kBatchBytes;
    }
  }
  absl::big_endian::Store32(out.data() + 4, crc32c::Value(out.data() + 8, out.size() - 8));
  return out;
}

bool ProducerStateManager::Parse(absl::string_view data) {
  producers_.clear();
  max_producer_id_ = -1;
  if (data.size() < 12 || data.substr(0, 4) != kMagic ||
      absl::big_endian::Load32(data.data() + 4) != crc32c::Value(data.data() + 8, data.size() - 8)) {
    return false;
  }
  const int64_t count = static_cast<int32_t>(absl::big_endian::Load32(data.data() + 8));
  size_t at = 12;
  for (int64_t i = 0; i < count; ++i) {
    if (data.size() - at < kEntryHeader) return false;
    const char* p = data.data() + at;
    const int64_t id = static_cast<int64_t>(absl::big_endian::Load64(p));
    const size_t n = static_cast<unsigned char>(p[10]);
    if (id < 0 || n > kBatchesKept || data.size() - at - kEntryHeader < n * kBatchBytes) return false;
    Entry& e = producers_[id];
    e.epoch = static_cast<int16_t>(absl::big_endian::Load16(p + 8));
    p += kEntryHeader;
    for (size_t j = 0; j < n; ++j, p += kBatchBytes) {
      e.batches.push_back(Batch{static_cast<int32_t>(absl::big_endian::Load32(p)),
                                static_cast<int32_t>(absl::big_endian::Load32(p + 4)),
                                static_cast<int64_t>(absl::big_endian::Load64(p + 8)),
                                static_cast<int64_t>(absl::big_endian::Load64(p + 16))});
    }
    max_producer_id_ = std::max(max_producer_id_, id);
    at += kEntryHeader + n * kBatchBytes;
  }
  return at == data.size();
}

absl::Status ProducerStateManager::WriteSnapshot(const std::string& dir, int64_t offset) const {
  EDDY_RETURN_IF_ERROR(WriteFileAtomically(SnapshotPath(dir, offset), Serialize()));
  EDDY_ASSIGN_OR_RETURN(std::vector<int64_t> offsets, ListSnapshots(dir));
  for (size_t i = 0; i + kSnapshotsKept < offsets.size(); ++i) {
    EDDY_RETURN_IF_ERROR(RemoveFile(SnapshotPath(dir, offsets[i])));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ProducerStateManager::LoadSnapshot(const std::string& dir, int64_t max_offset) {
  producers_.clear();
  max_producer_id_ = -1;
  EDDY_ASSIGN_OR_RETURN(std::vector<int64_t> offsets, ListSnapshots(dir));
  for (auto it = offsets.rbegin(); it != offsets.rend(); ++it) {
    const std::string path = SnapshotPath(dir, *it);
    if (*it <= max_offset) {
      absl::StatusOr<std::string> data = ReadFileToString(path);
      if (!data.ok() && !absl::IsNotFound(data.status())) return data.status();
      if (data.ok() && Parse(*data)) return *it;
    }
    EDDY_RETURN_IF_ERROR(RemoveFile(path));
  }
  producers_.clear();
  max_producer_id_ = -1;
  return -1;
}

}  // namespace eddy::broker
