// Reader: bounded big-endian reads of Kafka's wire primitives, for the generated decoders
// (kafka_messages.cc) and for hand-written peeks (frame.cc).
//
// Encodings (Kafka protocol guide): integers big-endian; STRING = int16 length + bytes (-1: null); BYTES
// and RECORDS = int32 length + bytes (-1: null); ARRAY = int32 count (-1: null). In flexible versions the
// COMPACT forms use an unsigned varint of length+1 (0: null), and each struct ends with a tagged-field
// buffer: uvarint count, then per field uvarint tag, uvarint size, `size` bytes.
//
// No read goes past the end of the buffer given at construction, whatever the input. A failed read
// returns false, leaves the value unspecified and keeps a description ("string length 300 exceeds
// remaining 12 bytes") that FieldError() turns into a kInvalidArgument status. Strings and bytes are
// copied out; records stay views into the buffer (wire_types.h). The buffer must outlive the Reader and
// every RecordsRef read from it. Thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "broker/kafka/wire_types.h"

namespace eddy::kafka {

class Reader {
 public:
  explicit Reader(absl::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  // The unread bytes.
  absl::string_view rest() const { return absl::string_view(p_, remaining()); }

  bool ReadInt8(int8_t* v) { return ReadFixed(v); }
  bool ReadInt16(int16_t* v) { return ReadFixed(v); }
  bool ReadInt32(int32_t* v) { return ReadFixed(v); }
  bool ReadInt64(int64_t* v) { return ReadFixed(v); }
  bool ReadUint16(uint16_t* v) { return ReadFixed(v); }
  bool ReadUint32(uint32_t* v) { return ReadFixed(v); }
  bool ReadFloat64(double* v);
  // Any non-zero byte is true, as in Kafka.
  bool ReadBool(bool* v) {
    int8_t b;
    if (!ReadFixed(&b)) return false;
    *v = b != 0;
    return true;
  }
  bool ReadUuid(Uuid* v);
  // Kafka's unsigned varint: at most 5 bytes; bits past 32 are dropped as Kafka's readUnsignedVarint does.
  bool ReadUnsignedVarint(uint32_t* v);

  // A non-nullable string (fails on null). `compact`: the flexible encoding.
  bool ReadString(bool compact, std::string* v);
  // A string that may be null when `nullable` (the field's nullableVersions contain the version); a null
  // read when !nullable fails, as in Kafka.
  bool ReadNullableString(bool compact, bool nullable, std::optional<std::string>* v);
  bool ReadBytes(bool compact, std::string* v);
  bool ReadNullableBytes(bool compact, bool nullable, std::optional<std::string>* v);
  // A records field, as a view into the buffer (no copy).
  bool ReadRecords(bool compact, bool nullable, RecordsRef* v);
  // An array's element count; -1 for null. Fails when the count exceeds the remaining bytes (each element
  // takes at least one byte), Kafka's guard against huge allocations.
  bool ReadArrayLength(bool compact, int32_t* n);
  // One entry of a tagged-field buffer: its tag, and a Reader over its `size` value bytes, which this
  // Reader skips. Fails if the value runs past the end.
  bool ReadTaggedField(uint32_t* tag, Reader* value);
  bool Skip(size_t n);

  // kInvalidArgument "<field>: <what the last failed read found>".
  absl::Status FieldError(absl::string_view field) const;
  // kInvalidArgument "<field>[<index>]: <what the last failed read found>".
  absl::Status ElementError(absl::string_view field, int32_t index) const;
  // What the last failed read found.
  const std::string& error() const { return error_; }

 private:
  template <typename T>
  bool ReadFixed(T* v) {
    if (remaining() < sizeof(T)) return Short(sizeof(T));
    uint8_t b[sizeof(T)];
    std::memcpy(b, p_, sizeof(T));
    p_ += sizeof(T);
    using U = std::make_unsigned_t<T>;
    U u = 0;
    for (size_t i = 0; i < sizeof(T); ++i) u = static_cast<U>((u << 8) | b[i]);
    *v = static_cast<T>(u);
    return true;
  }
  // Reads a length prefix: int16 (`wide` false) or int32, or the compact uvarint. -1 means null.
  bool ReadLength(bool compact, bool wide, const char* what, int32_t* len);
  // Reads a length-prefixed run of bytes as a view; *is_null for a null.
  bool ReadSized(bool compact, bool wide, bool nullable, const char* what, absl::string_view* v,
                 bool* is_null);
  bool Short(size_t need);
  bool Fail(std::string message);

  const char* p_;
  const char* end_;
  std::string error_;
};

}  // namespace eddy::kafka
