// ConsumerRecords: what Consumer::Poll returns: whole record batches of one or more partitions, and the
// memory they live in. Records are decoded as they are iterated, as RecordViews into that memory, so
// reading a record costs no allocation and no copy.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "eddy/core/record.h"
#include "eddy/core/record_batch.h"

namespace eddy {

// Owns the fetched bytes; RecordViews obtained from it are valid until it is cleared, refilled by the next
// Poll into it, or destroyed. Movable, not copyable. Thread-compatible.
class ConsumerRecords {
 public:
  // Per partition: the range of offsets returned.
  struct PartitionRange {
    TopicPartition tp;
    int64_t first_offset = -1;  // offset of the first record returned
    int64_t next_offset = -1;   // position after this poll
  };

  ConsumerRecords() = default;
  ConsumerRecords(ConsumerRecords&&) = default;
  ConsumerRecords& operator=(ConsumerRecords&&) = default;

  bool empty() const { return count_ == 0; }
  // Number of records, counted from the batch headers.
  int64_t count() const { return count_; }
  const std::vector<PartitionRange>& partitions() const { return partitions_; }

  // ForEach calls fn(const RecordView&) for every record, partition by partition in offset order. Returns
  // kDataLoss if a record is malformed (its batch's CRC was valid, so only a broken producer writes such).
  template <typename Fn>
  absl::Status ForEach(Fn&& fn) const {
    RecordView r;
    for (const Chunk& c : chunks_) {
      RecordIterator it = c.it;
      while (it.Next(&r)) {
        if (r.offset() < c.skip_before) continue;
        fn(static_cast<const RecordView&>(r));
      }
      if (!it.status().ok()) return it.status();
    }
    return absl::OkStatus();
  }

  // ForEachPartition decodes the records of each partition range (partitions() order) into *scratch, a
  // buffer the caller keeps across polls (no allocation once it is large enough), and calls
  // fn(const TopicPartition&, absl::Span<const RecordView>) with them, in offset order. Records of one
  // partition are returned together, so a stream thread hands each task one span per poll. Returns kDataLoss
  // if a record is malformed (the partitions before it have been handed over).
  template <typename Fn>
  absl::Status ForEachPartition(std::vector<RecordView>* scratch, Fn&& fn) const {
    size_t chunk = 0;
    RecordView r;
    for (size_t p = 0; p < partitions_.size(); ++p) {
      scratch->clear();
      for (; chunk < partition_chunk_end_[p]; ++chunk) {
        const Chunk& c = chunks_[chunk];
        RecordIterator it = c.it;
        while (it.Next(&r)) {
          if (r.offset() >= c.skip_before) scratch->push_back(r);
        }
        if (!it.status().ok()) return it.status();
      }
      if (!scratch->empty()) fn(partitions_[p].tp, absl::Span<const RecordView>(*scratch));
    }
    return absl::OkStatus();
  }

  // Range-for support. A malformed record ends the iteration early and sets status().
  class Iterator {
   public:
    const RecordView& operator*() const { return current_; }
    const RecordView* operator->() const { return &current_; }
    Iterator& operator++() {
      Advance();
      return *this;
    }
    bool operator==(const Iterator& o) const { return owner_ == o.owner_ && chunk_ == o.chunk_; }

   private:
    friend class ConsumerRecords;
    Iterator(const ConsumerRecords* owner, size_t chunk);
    void Advance();
    const ConsumerRecords* owner_;
    size_t chunk_;
    RecordIterator it_;
    RecordView current_;
  };
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, chunks_.size()); }
  // The first malformed-record error met by range-for iteration, or OK.
  const absl::Status& status() const { return status_; }

  // --- For Consumer implementations. ---
  // Clear forgets the records but keeps buffer capacity for the next fill.
  void Clear();
  // NewBuffer returns an empty buffer owned by this object, to fetch bytes into; it stays at its address
  // until Clear.
  std::string* NewBuffer();
  // KeepAlive shares ownership of `bytes` until Clear: for batches registered from a buffer the consumer
  // keeps across polls (a read-ahead), so that these records stay valid however the consumer reuses it.
  void KeepAlive(std::shared_ptr<const std::string> bytes);
  // AddBatches registers the whole batches in `data` (inside a buffer from NewBuffer or KeepAlive) read
  // from `tp`, skipping records with offsets below `skip_before` (a fetch may start inside a batch).
  // Decompresses compressed batches into owned memory. Verifies each batch's CRC if `verify_crc`. Stops after the
  // batch that brings count() to `max_records` or more (batches are never split). Returns the offset after
  // the last batch added (or skip_before if none); *consumed (if given) is the bytes of `data` walked
  // through, from its start to the end of that batch. kDataLoss for a corrupt batch.
  absl::StatusOr<int64_t> AddBatches(const TopicPartition& tp, absl::string_view data, int64_t skip_before,
                                     bool verify_crc, int64_t max_records = INT64_MAX, size_t* consumed = nullptr);

 private:
  struct Chunk {
    RecordIterator it;    // positioned at the batch's first record
    int64_t skip_before;  // records below this offset are not returned
  };
  std::vector<std::unique_ptr<std::string>> buffers_;  // unique_ptr: addresses survive vector growth
  size_t buffers_used_ = 0;
  std::vector<std::unique_ptr<std::string>> decompressed_;
  size_t decompressed_used_ = 0;
  std::vector<std::shared_ptr<const std::string>> kept_;  // KeepAlive's
  std::vector<Chunk> chunks_;
  std::vector<PartitionRange> partitions_;
  std::vector<size_t> partition_chunk_end_;  // per partitions_ entry: end of its chunks in chunks_
  int64_t count_ = 0;
  mutable absl::Status status_;
};

}  // namespace eddy
