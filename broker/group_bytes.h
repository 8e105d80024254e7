// Big-endian byte writer and bounded reader for the fixed-layout formats of the group coordinator: Kafka's
// ConsumerProtocol (Subscription/Assignment) and the __consumer_offsets key/value records. Both use Kafka's
// classic (non-flexible) primitive encodings:
//   int16/int32/int64  big-endian two's complement
//   string             int16 length N >= 0, then N bytes (nullable string: N = -1 means null)
//   bytes              int32 length N >= 0, then N bytes (nullable bytes: N = -1 means null)
//   array              int32 count N >= 0, then N elements (nullable array: N = -1 means null)
//   compact string     unsigned varint N+1 (0 = null), then N bytes (flexible versions only)
//
// Internal to the broker. ByteReader never reads past the end of its input: every getter returns false on
// truncated or negative-length input and leaves the reader failed, so a decoder can check once at the end.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace eddy::broker {

// Appends big-endian primitives to a std::string.
class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}

  void Int16(int16_t v) { Big(static_cast<uint16_t>(v), 2); }
  void Int32(int32_t v) { Big(static_cast<uint32_t>(v), 4); }
  void Int64(int64_t v) { Big(static_cast<uint64_t>(v), 8); }
  // Strings longer than 32767 bytes cannot be encoded: the caller validates lengths first.
  void String(absl::string_view s) {
    Int16(static_cast<int16_t>(s.size()));
    out_->append(s.data(), s.size());
  }
  void NullableString(const std::optional<std::string>& s) {
    if (!s) return Int16(-1);
    String(*s);
  }
  void Bytes(absl::string_view b) {
    Int32(static_cast<int32_t>(b.size()));
    out_->append(b.data(), b.size());
  }
  void NullableBytes(const std::optional<std::string>& b) {
    if (!b) return Int32(-1);
    Bytes(*b);
  }
  void UnsignedVarint(uint32_t v) {
    while (v >= 0x80) {
      out_->push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_->push_back(static_cast<char>(v));
  }
  void CompactString(absl::string_view s) {
    UnsignedVarint(static_cast<uint32_t>(s.size()) + 1);
    out_->append(s.data(), s.size());
  }

 private:
  void Big(uint64_t v, int n) {
    char buf[8];
    for (int i = n - 1; i >= 0; --i) {
      buf[i] = static_cast<char>(v & 0xff);
      v >>= 8;
    }
    out_->append(buf, n);
  }

  std::string* out_;
};

// Reads big-endian primitives from a view; bounded by the view's size.
class ByteReader {
 public:
  explicit ByteReader(absl::string_view in) : in_(in) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return in_.size(); }

  bool Int16(int16_t* v) { return Big(v); }
  bool Int32(int32_t* v) { return Big(v); }
  bool Int64(int64_t* v) { return Big(v); }

  bool String(std::string* s) {
    int16_t n;
    if (!Int16(&n)) return false;
    if (n < 0) return Fail();
    return Take(static_cast<size_t>(n), s);
  }
  bool NullableString(std::optional<std::string>* s) {
    int16_t n;
    if (!Int16(&n)) return false;
    if (n < -1) return Fail();
    if (n == -1) {
      s->reset();
      return true;
    }
    std::string v;
    if (!Take(static_cast<size_t>(n), &v)) return false;
    *s = std::move(v);
    return true;
  }
  bool NullableBytes(std::optional<std::string>* b) {
    int32_t n;
    if (!Int32(&n)) return false;
    if (n < -1) return Fail();
    if (n == -1) {
      b->reset();
      return true;
    }
    std::string v;
    if (!Take(static_cast<size_t>(n), &v)) return false;
    *b = std::move(v);
    return true;
  }
  // An array count: fails on a negative count, or on one that could not fit in the remaining bytes given that
  // each element takes at least `min_element_size` bytes (so a garbled count cannot make the caller reserve
  // gigabytes).
  bool ArrayCount(int32_t* n, size_t min_element_size) {
    if (!Int32(n)) return false;
    if (*n < 0 || static_cast<size_t>(*n) * min_element_size > in_.size()) return Fail();
    return true;
  }
  bool UnsignedVarint(uint32_t* v) {
    uint32_t result = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      if (in_.empty()) return Fail();
      const uint8_t b = static_cast<uint8_t>(in_[0]);
      in_.remove_prefix(1);
      if (shift == 28 && (b & 0xf0) != 0) return Fail();
      result |= static_cast<uint32_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return Fail();
  }
  // A non-null compact string (flexible versions).
  bool CompactString(std::string* s) {
    uint32_t n;
    if (!UnsignedVarint(&n)) return false;
    if (n == 0) return Fail();
    return Take(n - 1, s);
  }
  // Skips a tagged-field section (flexible versions): uvarint count, then per field uvarint tag, uvarint size
  // and size bytes.
  bool SkipTaggedFields() {
    uint32_t count;
    if (!UnsignedVarint(&count)) return false;
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t tag, size;
      if (!UnsignedVarint(&tag) || !UnsignedVarint(&size)) return false;
      if (size > in_.size()) return Fail();
      in_.remove_prefix(size);
    }
    return true;
  }

 private:
  template <typename T>
  bool Big(T* v) {
    if (!ok_ || in_.size() < sizeof(T)) return Fail();
    uint64_t r = 0;
    for (size_t i = 0; i < sizeof(T); ++i) r = (r << 8) | static_cast<uint8_t>(in_[i]);
    in_.remove_prefix(sizeof(T));
    *v = static_cast<T>(r);
    return true;
  }
  bool Take(size_t n, std::string* s) {
    if (!ok_ || in_.size() < n) return Fail();
    s->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool Fail() {
    ok_ = false;
    return false;
  }

  absl::string_view in_;
  bool ok_ = true;
};

}  // namespace eddy::broker
