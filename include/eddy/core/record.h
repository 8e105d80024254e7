// Records: what producers send (ProducerRecord, all views, copied into a batch on Send) and what consumers
// read (RecordView, views into the memory of the batch it came from). Neither owns the bytes it points to.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace eddy {

// A topic and a partition number: the unit of ordering, assignment and offsets.
struct TopicPartition {
  std::string topic;
  int32_t partition = 0;

  friend bool operator==(const TopicPartition&, const TopicPartition&) = default;
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const TopicPartition& tp) {
    return H::combine(std::move(h), tp.topic, tp.partition);
  }
};

std::string ToString(const TopicPartition& tp);  // "topic-3", as Kafka names partition directories

// A record header: a key and an optional (nullable) value. Views; the caller keeps the bytes alive.
struct HeaderRef {
  absl::string_view key;
  std::optional<absl::string_view> value;
};

// What a producer sends. All fields are views that must stay valid only for the duration of Send(): the
// record is copied into a batch before Send returns.
struct ProducerRecord {
  absl::string_view topic;
  // -1: the partitioner chooses (murmur2 of the key, or sticky for null keys).
  int32_t partition = -1;
  std::optional<absl::string_view> key;    // nullopt = null key
  std::optional<absl::string_view> value;  // nullopt = null value (a tombstone)
  // Milliseconds since the epoch; -1 = the time of Send (CreateTime).
  int64_t timestamp = -1;
  absl::Span<const HeaderRef> headers;
};

// A record read from a batch. Key, value and header bytes point into the batch's memory (or its
// decompressed copy), owned by whatever returned the view (e.g. ConsumerRecords); a view must not
// outlive it. Copyable and cheap: no allocation.
class RecordView {
 public:
  RecordView() = default;

  bool has_key() const { return key_size_ >= 0; }
  absl::string_view key() const { return has_key() ? absl::string_view(key_, key_size_) : absl::string_view(); }
  bool has_value() const { return value_size_ >= 0; }
  absl::string_view value() const {
    return has_value() ? absl::string_view(value_, value_size_) : absl::string_view();
  }
  int64_t timestamp() const { return timestamp_; }
  int64_t offset() const { return offset_; }
  int32_t partition() const { return partition_; }
  int32_t header_count() const { return header_count_; }

  // Calls fn(const HeaderRef&) for each header in order. Headers are decoded on demand (they are rare and
  // decoding them eagerly would cost every record).
  template <typename Fn>
  void ForEachHeader(Fn&& fn) const {
    const char* p = headers_;
    for (int32_t i = 0; i < header_count_; ++i) {
      HeaderRef h;
      p = DecodeHeader(p, &h);
      fn(static_cast<const HeaderRef&>(h));
    }
  }

 private:
  friend class RecordIterator;
  // Decodes one header at p (already validated when the record was parsed); returns the next position.
  static const char* DecodeHeader(const char* p, HeaderRef* out);

  const char* key_ = nullptr;
  const char* value_ = nullptr;
  const char* headers_ = nullptr;
  int32_t key_size_ = -1;
  int32_t value_size_ = -1;
  int32_t header_count_ = 0;
  int32_t partition_ = -1;
  int64_t timestamp_ = -1;
  int64_t offset_ = -1;
};

}  // namespace eddy
