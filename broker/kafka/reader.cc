#include "broker/kafka/reader.h"

#include <bit>
#include <utility>

#include "absl/strings/str_cat.h"

namespace eddy::kafka {

bool Reader::Short(size_t need) {
  return Fail(absl::StrCat("need ", need, " bytes, ", remaining(), " remaining"));
}

bool Reader::Fail(std::string message) {
  error_ = std::move(message);
  return false;
}

bool Reader::ReadFloat64(double* v) {
  uint64_t bits = 0;
  if (!ReadFixed(&bits)) return false;
  *v = std::bit_cast<double>(bits);
  return true;
}

bool Reader::ReadUuid(Uuid* v) {
  if (remaining() < 16) return Short(16);
  std::memcpy(v->bytes.data(), p_, 16);
  p_ += 16;
  return true;
}

bool Reader::ReadUnsignedVarint(uint32_t* v) {
  uint32_t value = 0;
  for (int shift = 0; shift <= 28; shift += 7) {
    if (p_ == end_) return Fail("varint runs past the end");
    const uint8_t b = static_cast<uint8_t>(*p_++);
    value |= static_cast<uint32_t>(b & 0x7f) << shift;
    if (b < 0x80) {
      *v = value;
      return true;
    }
  }
  return Fail("varint longer than 5 bytes");
}

bool Reader::ReadLength(bool compact, bool wide, const char* what, int32_t* len) {
  if (compact) {
    uint32_t u = 0;
    if (!ReadUnsignedVarint(&u)) return false;
    if (u > 0x7fffffffu) return Fail(absl::StrCat(what, " length ", u - 1, " too large"));
    *len = static_cast<int32_t>(u) - 1;
    return true;
  }
  if (wide) return ReadInt32(len);
  int16_t n = 0;
  if (!ReadInt16(&n)) return false;
  *len = n;
  return true;
}

bool Reader::ReadSized(bool compact, bool wide, bool nullable, const char* what, absl::string_view* v,
                       bool* is_null) {
  int32_t len = 0;
  if (!ReadLength(compact, wide, what, &len)) return false;
  if (len < 0) {  // Kafka treats every negative length as null
    if (!nullable) return Fail(absl::StrCat("null ", what, " where the field is not nullable"));
    *is_null = true;
    return true;
  }
  if (!wide && len > 0x7fff) return Fail(absl::StrCat(what, " length ", len, " exceeds 32767"));
  if (static_cast<size_t>(len) > remaining()) {
    return Fail(absl::StrCat(what, " length ", len, " exceeds remaining ", remaining(), " bytes"));
  }
  *v = absl::string_view(p_, static_cast<size_t>(len));
  p_ += len;
  *is_null = false;
  return true;
}

bool Reader::ReadString(bool compact, std::string* v) {
  absl::string_view s;
  bool is_null;
  if (!ReadSized(compact, false, false, "string", &s, &is_null)) return false;
  v->assign(s.data(), s.size());
  return true;
}

bool Reader::ReadNullableString(bool compact, bool nullable, std::optional<std::string>* v) {
  absl::string_view s;
  bool is_null;
  if (!ReadSized(compact, false, nullable, "string", &s, &is_null)) return false;
  if (is_null) {
    v->reset();
  } else {
    v->emplace(s.data(), s.size());
  }
  return true;
}

bool Reader::ReadBytes(bool compact, std::string* v) {
  absl::string_view s;
  bool is_null;
  if (!ReadSized(compact, true, false, "bytes", &s, &is_null)) return false;
  v->assign(s.data(), s.size());
  return true;
}

bool Reader::ReadNullableBytes(bool compact, bool nullable, std::optional<std::string>* v) {
  absl::string_view s;
  bool is_null;
  if (!ReadSized(compact, true, nullable, "bytes", &s, &is_null)) return false;
  if (is_null) {
    v->reset();
  } else {
    v->emplace(s.data(), s.size());
  }
  return true;
}

bool Reader::ReadRecords(bool compact, bool nullable, RecordsRef* v) {
  absl::string_view s;
  bool is_null;
  if (!ReadSized(compact, true, nullable, "records", &s, &is_null)) return false;
  *v = is_null ? RecordsRef::Null() : RecordsRef::Inline(s);
  return true;
}

bool Reader::ReadArrayLength(bool compact, int32_t* n) {
  if (!ReadLength(compact, true, "array", n)) return false;
  if (*n < 0) {
    *n = -1;
    return true;
  }
  if (static_cast<size_t>(*n) > remaining()) {
    return Fail(absl::StrCat("array length ", *n, " exceeds remaining ", remaining(), " bytes"));
  }
  return true;
}

bool Reader::ReadTaggedField(uint32_t* tag, Reader* value) {
  uint32_t size = 0;
  if (!ReadUnsignedVarint(tag) || !ReadUnsignedVarint(&size)) return false;
  if (size > remaining()) {
    return Fail(absl::StrCat("tagged field ", *tag, " size ", size, " exceeds remaining ", remaining(), " bytes"));
  }
  *value = Reader(absl::string_view(p_, size));
  p_ += size;
  return true;
}

bool Reader::Skip(size_t n) {
  if (n > remaining()) return Short(n);
  p_ += n;
  return true;
}

absl::Status Reader::FieldError(absl::string_view field) const {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", error_));
}

absl::Status Reader::ElementError(absl::string_view field, int32_t index) const {
  return absl::InvalidArgumentError(absl::StrCat(field, "[", index, "]: ", error_));
}

}  // namespace eddy::kafka
