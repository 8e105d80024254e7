// eddy::json::Writer and the JSON error helper.
#include <array>
#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "eddy/core/json_serde.h"

namespace eddy::json {
namespace {

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

}  // namespace

void Writer::AppendEscaped(const char* s, size_t n) {
  out_->push_back('"');
  size_t run = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < n; ++i) {
    const char e = kEscape[static_cast<uint8_t>(s[i])];
    if (e == 0) continue;
    out_->append(s + run, i - run);
    run = i + 1;
    if (e == 'u') {
      static constexpr char kHex[] = "0123456789abcdef";
      const auto c = static_cast<uint8_t>(s[i]);
      const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      out_->append(u, 6);
    } else {
      const char esc[2] = {'\\', e};
      out_->append(esc, 2);
    }
  }
  out_->append(s + run, n - run);
  out_->push_back('"');
}

void Writer::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (depth_ == 0) return;
  if (depth_ <= 64) {
    const uint64_t bit = uint64_t{1} << (depth_ - 1);
    if (has_items_ & bit) out_->push_back(',');
    has_items_ |= bit;
  } else {
    auto item = deep_items_[depth_ - 65];
    if (item) out_->push_back(',');
    item = true;
  }
}

void Writer::Open(char c) {
  BeforeValue();
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
  BeforeValue();
  AppendEscaped(key, n);
  out_->push_back(':');
  after_key_ = true;
}

void Writer::String(const char* s, size_t n) {
  BeforeValue();
  AppendEscaped(s, n);
}

void Writer::Int(int64_t v) {
  BeforeValue();
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out_->append(buf, r.ptr);
}

void Writer::Uint(uint64_t v) {
  BeforeValue();
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out_->append(buf, r.ptr);
}

void Writer::Double(double v) {
  BeforeValue();
  if (!std::isfinite(v)) {
    out_->append("null");
    return;
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);  // shortest round-trip form
  out_->append(buf, r.ptr);
}

void Writer::Bool(bool v) {
  BeforeValue();
  out_->append(v ? "true" : "false");
}

void Writer::Null() {
  BeforeValue();
  out_->append("null");
}

void Writer::Raw(absl::string_view json) {
  BeforeValue();
  out_->append(json.data(), json.size());
}

absl::Status Error(simdjson::error_code error, absl::string_view what) {
  if (what.empty()) return absl::InvalidArgumentError(absl::StrCat("JSON: ", simdjson::error_message(error)));
  return absl::InvalidArgumentError(absl::StrCat("JSON ", what, ": ", simdjson::error_message(error)));
}

}  // namespace eddy::json
