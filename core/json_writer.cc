// eddy::json::Writer and the JSON error helper.
//
// Strings are escaped by finding the next byte to escape 16 bytes at a time (SSE2, part of every x86-64) or
// 8 at a time (a 64-bit word, elsewhere) and copying the clean run before it with one memcpy. Most strings
// hold nothing to escape: they cost one scan and one append. A string with something to escape gets room
// for its worst case once, written through a pointer and trimmed at the end.
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "absl/strings/str_cat.h"
#include "eddy/core/json_serde.h"

namespace eddy::json {
namespace {

// The word-at-a-time scan takes the lowest flagged byte as the first one in memory.
static_assert(std::endian::native == std::endian::little, "the SWAR scan assumes a little-endian machine");

// For each byte: 0 = copy as is, otherwise the character after the backslash ('u' = \u00XX).
constexpr auto kEscape = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 'u';
  t['\b'] = 'b';
  t['\f'] = 'f';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  t['"'] = '"';
  t['\\'] = '\\';
  return t;
}();

constexpr uint64_t kOnes = 0x0101010101010101;
constexpr uint64_t kHighBits = 0x8080808080808080;

// The high bit of each byte of w that is below 0x20, '"' or '\\'. A byte above a flagged one may be flagged
// falsely (a borrow); the lowest flagged byte is always right, and only it is used.
inline uint64_t EscapeBits(uint64_t w) {
  const uint64_t control = (w - kOnes * 0x20) & ~w;
  const uint64_t q = w ^ (kOnes * '"');
  const uint64_t b = w ^ (kOnes * '\\');
  return (control | ((q - kOnes) & ~q) | ((b - kOnes) & ~b)) & kHighBits;
}

inline uint64_t Load64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

inline uint64_t Load32(const char* p) {
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

#if defined(__SSE2__)
// Bit i set when p[i] is below 0x20, '"' or '\\'.
inline uint32_t EscapeMask16(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
  const __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
  const __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
  return static_cast<uint32_t>(_mm_movemask_epi8(_mm_or_si128(control, _mm_or_si128(quote, backslash))));
}
#endif

// FirstToEscape returns the index of the first byte of s[0, n) that JSON escaping changes, or n. Reads only
// s[0, n): the last partial block is read as a full block ending at s + n, overlapping bytes already found
// clean.
inline size_t FirstToEscape(const char* s, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  if (n >= 16) {
    for (; i + 16 <= n; i += 16) {
      if (const uint32_t m = EscapeMask16(s + i)) return i + std::countr_zero(m);
    }
    if (i == n) return n;
    const uint32_t m = EscapeMask16(s + n - 16);
    return m ? n - 16 + std::countr_zero(m) : n;
  }
#endif
  if (n >= 8) {
    for (; i + 8 <= n; i += 8) {
      if (const uint64_t m = EscapeBits(Load64(s + i))) return i + std::countr_zero(m) / 8;
    }
    if (i == n) return n;
    const uint64_t m = EscapeBits(Load64(s + n - 8));
    return m ? n - 8 + std::countr_zero(m) / 8 : n;
  }
  if (n >= 4) {  // s[0, 4) and s[n - 4, n) as one word
    const uint64_t m = EscapeBits(Load32(s) | Load32(s + n - 4) << 32);
    if (m == 0) return n;
    const size_t byte = std::countr_zero(m) / 8;
    return byte < 4 ? byte : n - 8 + byte;
  }
  for (; i < n; ++i) {
    if (kEscape[static_cast<uint8_t>(s[i])] != 0) return i;
  }
  return n;
}

// Writes the escape of c (a byte kEscape marks) at p, which has room for 6 bytes; returns its end.
inline char* WriteEscape(char* p, uint8_t c) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char e = kEscape[c];
  p[0] = '\\';
  p[1] = e;
  if (e != 'u') return p + 2;
  p[2] = '0';
  p[3] = '0';
  p[4] = kHex[c >> 4];
  p[5] = kHex[c & 0xf];
  return p + 6;
}

}  // namespace

void Writer::AppendQuoted(char before, const char* s, size_t n, char after) {
  std::string& out = *out_;
  size_t clean = FirstToEscape(s, n);
  if (clean == n) {
    if (before != 0) out.push_back(before);
    out.push_back('"');
    out.append(s, n);
    out.push_back('"');
    if (after != 0) out.push_back(after);
    return;
  }
  const size_t start = out.size();
  const size_t punctuation = (before != 0) + 2 + (after != 0);
  out.resize(start + punctuation + clean + 6 * (n - clean));
  char* p = out.data() + start;
  if (before != 0) *p++ = before;
  *p++ = '"';
  size_t i = 0;
  while (true) {
    std::memcpy(p, s + i, clean);
    p += clean;
    i += clean;
    if (i == n) break;
    p = WriteEscape(p, static_cast<uint8_t>(s[i]));
    ++i;
    clean = FirstToEscape(s + i, n - i);
  }
  *p++ = '"';
  if (after != 0) *p++ = after;
  out.resize(static_cast<size_t>(p - out.data()));
}

void Writer::AppendPlain(char before, const char* s, size_t n) {
  if (before != 0) out_->push_back(before);
  out_->append(s, n);
}

inline char Writer::Separator() {
  if (after_key_) {
    after_key_ = false;
    return 0;
  }
  if (depth_ == 0) return 0;
  if (depth_ > 64) return DeepSeparator();
  const uint64_t bit = uint64_t{1} << (depth_ - 1);
  const bool comma = (has_items_ & bit) != 0;
  has_items_ |= bit;
  return comma ? ',' : 0;
}

char Writer::DeepSeparator() {
  auto item = deep_items_[depth_ - 65];
  const bool comma = item;
  item = true;
  return comma ? ',' : 0;
}

void Writer::Open(char c) {
  if (const char sep = Separator(); sep != 0) out_->push_back(sep);
  out_->push_back(c);
  ++depth_;
  if (depth_ <= 64) {
    has_items_ &= ~(uint64_t{1} << (depth_ - 1));
  } else {
    deep_items_.resize(depth_ - 64);
    deep_items_[depth_ - 65] = false;
  }
}

void Writer::Close(char c) {
  --depth_;
  out_->push_back(c);
}

void Writer::Key(const char* key, size_t n) {
  AppendQuoted(Separator(), key, n, ':');
  after_key_ = true;
}

void Writer::String(const char* s, size_t n) { AppendQuoted(Separator(), s, n, 0); }

void Writer::Int(int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  AppendPlain(Separator(), buf, static_cast<size_t>(r.ptr - buf));
}

void Writer::Uint(uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  AppendPlain(Separator(), buf, static_cast<size_t>(r.ptr - buf));
}

void Writer::Double(double v) {
  const char sep = Separator();
  if (!std::isfinite(v)) return AppendPlain(sep, "null", 4);
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);  // shortest round-trip form
  AppendPlain(sep, buf, static_cast<size_t>(r.ptr - buf));
}

void Writer::Bool(bool v) {
  if (v) return AppendPlain(Separator(), "true", 4);
  AppendPlain(Separator(), "false", 5);
}

void Writer::Null() { AppendPlain(Separator(), "null", 4); }

void Writer::Raw(absl::string_view json) { AppendPlain(Separator(), json.data(), json.size()); }

absl::Status Error(simdjson::error_code error, absl::string_view what) {
  if (what.empty()) return absl::InvalidArgumentError(absl::StrCat("JSON: ", simdjson::error_message(error)));
  return absl::InvalidArgumentError(absl::StrCat("JSON ", what, ": ", simdjson::error_message(error)));
}

}  // namespace eddy::json
