// Writer: appends Kafka's wire primitives (big-endian; compact forms in flexible versions, see reader.h)
// to a std::string, for the generated encoders and for response framing.
//
// Frames: BeginFrame() reserves the 4-byte size prefix, EndFrame() fills it in, counting external record
// bytes too.
// Splices: encoding an external RecordsRef (wire_types.h) writes only its length prefix and records a
// Splice {offset, size, token}: the caller must send `size` bytes of its own (e.g. sendfile from a log
// segment) right after out[offset - 1]. So a response goes out as
//   out[0, s1.offset) + external s1 + out[s1.offset, s2.offset) + external s2 + ... + out[sN.offset, end).
// With no external records there are no splices and `out` is the whole frame.
//
// `*out` must outlive the Writer; the Writer only appends to it. Thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/string_view.h"
#include "broker/kafka/wire_types.h"

namespace eddy::kafka {

class Writer {
 public:
  // Where external record bytes go: after out[0, offset).
  struct Splice {
    size_t offset;
    uint32_t size;
    uint64_t token;  // RecordsRef::token() of the field
    bool operator==(const Splice&) const = default;
  };

  explicit Writer(std::string* out) : out_(out) {}

  std::string* out() const { return out_; }

  void WriteInt8(int8_t v) { WriteFixed(v); }
  void WriteInt16(int16_t v) { WriteFixed(v); }
  void WriteInt32(int32_t v) { WriteFixed(v); }
  void WriteInt64(int64_t v) { WriteFixed(v); }
  void WriteUint16(uint16_t v) { WriteFixed(v); }
  void WriteUint32(uint32_t v) { WriteFixed(v); }
  void WriteFloat64(double v);
  void WriteBool(bool v) { out_->push_back(v ? 1 : 0); }
  void WriteUuid(const Uuid& v) { out_->append(reinterpret_cast<const char*>(v.bytes.data()), 16); }
  void WriteUnsignedVarint(uint32_t v);
  void WriteRaw(absl::string_view bytes) { out_->append(bytes.data(), bytes.size()); }

  // Strings and bytes. `compact`: the flexible encoding. A null written where the version does not allow
  // null (`nullable` false) is written as empty: Kafka would throw, Encode cannot fail.
  void WriteString(absl::string_view v, bool compact) { WriteSized(v, compact, false); }
  void WriteNullableString(const std::optional<std::string>& v, bool compact, bool nullable);
  void WriteBytes(absl::string_view v, bool compact) { WriteSized(v, compact, true); }
  void WriteNullableBytes(const std::optional<std::string>& v, bool compact, bool nullable);
  // Inline records: length and bytes. External records: length only, and a Splice (see above).
  void WriteRecords(const RecordsRef& v, bool compact, bool nullable);
  // Array count; -1 writes null.
  void WriteArrayLength(int32_t n, bool compact);
  // One entry of a tagged-field buffer: uvarint tag, uvarint size, the value bytes.
  void WriteTaggedField(uint32_t tag, absl::string_view value);

  // Appends a 4-byte size placeholder; returns its offset for EndFrame.
  size_t BeginFrame();
  // Sets the size at `frame_offset` to the bytes written since, plus the external bytes of the splices
  // recorded since.
  void EndFrame(size_t frame_offset);

  const std::vector<Splice>& splices() const { return splices_; }

 private:
  template <typename T>
  void WriteFixed(T v) {
    using U = std::make_unsigned_t<T>;
    U u = static_cast<U>(v);
    char b[sizeof(T)];
    for (size_t i = sizeof(T); i-- > 0; u = static_cast<U>(u >> 8)) b[i] = static_cast<char>(u & 0xff);
    out_->append(b, sizeof(T));
  }
  // Length prefix (int16 for strings, int32 for bytes, or compact) then the bytes.
  void WriteSized(absl::string_view v, bool compact, bool wide);
  void WriteNull(bool compact, bool wide);

  std::string* out_;
  std::vector<Splice> splices_;
};

}  // namespace eddy::kafka
