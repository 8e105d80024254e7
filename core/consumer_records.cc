#include "eddy/core/consumer_records.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/core/record_batch_format.h"
#include "eddy/core/status.h"

namespace eddy {

ConsumerRecords::Iterator::Iterator(const ConsumerRecords* owner, size_t chunk) : owner_(owner), chunk_(chunk) {
  if (chunk_ < owner_->chunks_.size()) {
    it_ = owner_->chunks_[chunk_].it;
    Advance();
  }
}

void ConsumerRecords::Iterator::Advance() {
  const auto& chunks = owner_->chunks_;
  while (chunk_ < chunks.size()) {
    while (it_.Next(&current_)) {
      if (current_.offset() >= chunks[chunk_].skip_before) return;
    }
    if (!it_.status().ok() && owner_->status_.ok()) owner_->status_ = it_.status();
    if (++chunk_ < chunks.size()) it_ = chunks[chunk_].it;
  }
}

void ConsumerRecords::Clear() {
  for (size_t i = 0; i < buffers_used_; ++i) buffers_[i]->clear();
  buffers_used_ = 0;
  decompressed_used_ = 0;
  kept_.clear();
  chunks_.clear();
  partitions_.clear();
  partition_chunk_end_.clear();
  count_ = 0;
  status_ = absl::OkStatus();
}

std::string* ConsumerRecords::NewBuffer() {
  if (buffers_used_ == buffers_.size()) buffers_.push_back(std::make_unique<std::string>());
  std::string* b = buffers_[buffers_used_++].get();
  b->clear();
  return b;
}

void ConsumerRecords::KeepAlive(std::shared_ptr<const std::string> bytes) { kept_.push_back(std::move(bytes)); }

absl::StatusOr<int64_t> ConsumerRecords::AddBatches(const TopicPartition& tp, absl::string_view data,
                                                    int64_t skip_before, bool verify_crc,
                                                    int64_t max_records, size_t* consumed) {
  const size_t size_before = data.size();
  int64_t next = skip_before;
  int64_t first = -1;
  while (!data.empty() && count_ < max_records) {
    EDDY_ASSIGN_OR_RETURN(BatchHeaderView h, ValidateBatch(data, verify_crc));
    const size_t size = static_cast<size_t>(h.size_in_bytes());
    if (h.next_offset() > skip_before && h.records_count() > 0 && !h.is_control()) {
      std::string* scratch = nullptr;
      if (h.compression() != Compression::kNone) {
        if (decompressed_used_ == decompressed_.size()) decompressed_.push_back(std::make_unique<std::string>());
        scratch = decompressed_[decompressed_used_++].get();
      }
      EDDY_ASSIGN_OR_RETURN(RecordIterator it, RecordIterator::Open(data.substr(0, size), scratch));
      it.set_partition(tp.partition);
      int64_t kept = h.records_count();
      if (skip_before > h.base_offset()) {
        // A fetch that starts inside a batch: count the records at or past the position (offsets inside
        // a compacted batch have gaps, so the offset distance is not the number skipped).
        kept = 0;
        RecordIterator counter = it;
        RecordView r;
        while (counter.Next(&r)) kept += r.offset() >= skip_before ? 1 : 0;
        EDDY_RETURN_IF_ERROR(counter.status());
      }
      chunks_.push_back(Chunk{std::move(it), skip_before});
      count_ += kept;
      if (first < 0) first = std::max(skip_before, h.base_offset());
    }
    if (h.next_offset() > next) next = h.next_offset();
    data.remove_prefix(size);
  }
  if (first >= 0) {
    partitions_.push_back(PartitionRange{tp, first, next});
    partition_chunk_end_.push_back(chunks_.size());
  }
  if (consumed != nullptr) *consumed = size_before - data.size();
  return next;
}

}  // namespace eddy
