// Value types the generated Kafka message structs (kafka_messages.h) use beside integers, strings and
// vectors: `Uuid` (schema type "uuid") and `RecordsRef` (schema type "records", the record batches of
// Produce requests and Fetch responses).
//
// RecordsRef never owns bytes, so record data is not copied on either path:
//  - Decoding (e.g. a ProduceRequest) makes it a view into the decoded buffer: the buffer must outlive the
//    struct (or at least every use of its records).
//  - Encoding writes an inline view's bytes, or, for an *external* RecordsRef, only the length prefix: the
//    Writer then records a splice point (writer.h) where the caller inserts `size()` bytes it sends itself,
//    e.g. with sendfile or writev straight from a log segment.
// Both types are plain values: thread-compatible.
#pragma once

#include <array>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace eddy::kafka {

// Kafka's 16-byte UUID (topic ids, directory ids), in wire order. The all-zero value is Kafka's ZERO_UUID.
struct Uuid {
  std::array<uint8_t, 16> bytes{};
  bool operator==(const Uuid&) const = default;
};

// The value of a "records" field: null, an inline byte view, or `size` bytes supplied outside the encoded
// buffer. Default: empty inline (zero bytes, not null), which is what Kafka's broker sends for a partition
// without data; Kafka's generated Java default is null, which some clients handle badly in responses.
class RecordsRef {
 public:
  RecordsRef() = default;

  static RecordsRef Null() {
    RecordsRef r;
    r.kind_ = Kind::kNull;
    return r;
  }
  // A view of `bytes` (record batches); they must outlive every use of this value.
  static RecordsRef Inline(absl::string_view bytes) {
    RecordsRef r;
    r.bytes_ = bytes;
    return r;
  }
  // `size` bytes the caller supplies at encode time; `token` is the caller's own id for them (e.g. an
  // index into its list of file ranges), handed back in Writer::Splice.
  static RecordsRef External(uint32_t size, uint64_t token) {
    RecordsRef r;
    r.kind_ = Kind::kExternal;
    r.external_size_ = size;
    r.token_ = token;
    return r;
  }

  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_external() const { return kind_ == Kind::kExternal; }
  // The inline bytes; empty when null or external.
  absl::string_view bytes() const { return bytes_; }
  // Number of bytes on the wire after the length prefix (0 when null).
  uint32_t size() const {
    return kind_ == Kind::kExternal ? external_size_ : static_cast<uint32_t>(bytes_.size());
  }
  uint64_t token() const { return token_; }

  // Equal kinds and equal contents (inline: same bytes, wherever they are; external: same size and token).
  bool operator==(const RecordsRef& o) const {
    return kind_ == o.kind_ && bytes_ == o.bytes_ && external_size_ == o.external_size_ && token_ == o.token_;
  }

 private:
  enum class Kind : uint8_t { kInline, kNull, kExternal };
  Kind kind_ = Kind::kInline;
  absl::string_view bytes_;
  uint32_t external_size_ = 0;
  uint64_t token_ = 0;
};

}  // namespace eddy::kafka
