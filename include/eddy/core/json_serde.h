// JSON serdes: JsonSerde<T> for any T that provides two ADL hooks, writing with eddy::json::Writer (a small
// append-only writer) and parsing with simdjson's On Demand API.
//
// The hooks, found by argument-dependent lookup (declare them in T's namespace):
//
//   struct Click {
//     std::string user;
//     int64_t page = 0;
//   };
//   void ToJson(eddy::json::Writer& w, const Click& c) {
//     w.BeginObject();
//     w.Key("user");
//     w.String(c.user);
//     w.Key("page");
//     w.Int(c.page);
//     w.EndObject();
//   }
//   absl::Status FromJson(simdjson::ondemand::value v, Click* c) {
//     std::string_view user;
//     EDDY_RETURN_IF_ERROR(eddy::json::Get(v["user"].get_string(), &user, "user"));
//     c->user = std::string(user);  // views into the parser's buffer die with the next parse: copy
//     return eddy::json::Get(v["page"].get_int64(), &c->page, "page");
//   }
//
//   eddy::JsonSerde<Click> serde;  // one per thread or task
//
// Include this header only where JSON is used: simdjson.h is large and slow to compile.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "eddy/core/serde.h"

namespace eddy::json {

// Appends JSON text to a caller-owned string. Commas and colons are placed automatically: inside an object
// call Key() before each value; inside an array just write the values. Strings are escaped as RFC 8259
// requires (quote, backslash, control characters as \n, \t, ... or \u00XX); other bytes, including UTF-8
// sequences, are copied as they are, so strings must be valid UTF-8 for the output to be valid JSON.
// Doubles use the shortest representation that reads back to the same value (std::to_chars); NaN and
// infinities, which JSON cannot represent, are written as null (as JavaScript's JSON.stringify does).
// Any nesting depth works; the first 64 levels need no allocation.
//
// *out must outlive the writer. Thread-compatible.
class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  // Key writes an object member's name; the next call writes its value.
  void Key(const char* key, size_t n);
  void Key(const char* key) { Key(key, std::strlen(key)); }
  void Key(std::string_view key) { Key(key.data(), key.size()); }
  void Key(absl::string_view key) { Key(key.data(), key.size()); }
  void Key(const std::string& key) { Key(key.data(), key.size()); }

  // String overloads take every string type in play: simdjson hands out std::string_view, Abseil (whose
  // Debian build has its own absl::string_view) the other.
  void String(const char* s, size_t n);
  void String(const char* s) { String(s, std::strlen(s)); }
  void String(std::string_view s) { String(s.data(), s.size()); }
  void String(absl::string_view s) { String(s.data(), s.size()); }
  void String(const std::string& s) { String(s.data(), s.size()); }

  void Int(int64_t v);
  void Uint(uint64_t v);
  void Double(double v);
  void Bool(bool v);
  void Null();
  // Raw appends `json`, which must be one complete JSON value, as the next value.
  void Raw(absl::string_view json);

  std::string* out() const { return out_; }

 private:
  // Separator returns the ',' the next value needs, or 0 (first item, after a key, top level), and records
  // that its container now holds an item. DeepSeparator does the same beyond 64 levels.
  char Separator();
  char DeepSeparator();
  void Open(char c);
  void Close(char c);
  // AppendQuoted appends `before` (unless 0), s[0, n) escaped between quotes, then `after` (unless 0). A
  // string with nothing to escape is appended as it is; otherwise *out_ grows once, to the worst case.
  void AppendQuoted(char before, const char* s, size_t n, char after);
  // AppendPlain appends `before` (unless 0), then s[0, n) as it is.
  void AppendPlain(char before, const char* s, size_t n);

  std::string* out_;
  uint64_t has_items_ = 0;       // bit d: the container at depth d + 1 already holds an item (d < 64)
  std::vector<bool> deep_items_;  // the same for depths beyond 64
  int depth_ = 0;
  bool after_key_ = false;
};

// kInvalidArgument carrying simdjson's message, prefixed with `what` (e.g. a field name) when given.
absl::Status Error(simdjson::error_code error, absl::string_view what = {});

// Get moves the value of a simdjson result into *out, or returns its error as kInvalidArgument. For use in
// FromJson hooks: EDDY_RETURN_IF_ERROR(json::Get(v["id"].get_int64(), &id, "id")).
template <typename T>
absl::Status Get(simdjson::simdjson_result<T>&& result, T* out, absl::string_view what = {}) {
  const simdjson::error_code e = std::move(result).get(*out);
  if (e != simdjson::SUCCESS) return Error(e, what);
  return absl::OkStatus();
}

// Parses `in` as one JSON document (any value, scalars included) with `parser`, using *scratch as the
// padded copy simdjson needs, and calls fn(simdjson::ondemand::value) -> absl::Status. Trailing content
// after the value is an error. Views into the document die at the next parse with the same parser.
template <typename Fn>
absl::Status ParseValue(simdjson::ondemand::parser& parser, std::string* scratch, absl::string_view in, Fn&& fn);

}  // namespace eddy::json

namespace eddy {

// A serde for any T with ToJson/FromJson hooks (see the top of this file). It owns a simdjson parser and a
// padded scratch buffer, reused across calls, so it is thread-compatible, NOT thread-safe: use one per
// thread or task. Serialize and Deserialize are const (the Serde concept) because those members are
// mutable. Deserialize errors: kInvalidArgument with simdjson's message (malformed JSON, wrong types), or
// whatever the FromJson hook returns.
template <typename T>
class JsonSerde {
 public:
  using Type = T;

  JsonSerde() = default;
  // Copies get their own parser: a serde is cheap to copy into each task.
  JsonSerde(const JsonSerde&) : JsonSerde() {}
  JsonSerde& operator=(const JsonSerde&) { return *this; }

  void Serialize(const T& v, std::string* out) const {
    out->clear();
    json::Writer w(out);
    ToJson(w, v);
  }

  absl::Status Deserialize(absl::string_view in, T* out) const {
    return json::ParseValue(parser_, &scratch_, in,
                            [out](simdjson::ondemand::value v) -> absl::Status { return FromJson(v, out); });
  }

 private:
  mutable simdjson::ondemand::parser parser_;
  mutable std::string scratch_;
};

}  // namespace eddy

// ---- implementation ------------------------------------------------------------------------------------

template <typename Fn>
absl::Status eddy::json::ParseValue(simdjson::ondemand::parser& parser, std::string* scratch, absl::string_view in,
                                    Fn&& fn) {
  // simdjson's On Demand API cannot hand out a scalar root document as a value, so the input is parsed as
  // the one element of an array: "[" in "]". The copy is needed anyway for simdjson's padding.
  scratch->resize(in.size() + 2 + simdjson::SIMDJSON_PADDING);
  char* p = scratch->data();
  p[0] = '[';
  if (!in.empty()) std::memcpy(p + 1, in.data(), in.size());
  p[in.size() + 1] = ']';
  std::memset(p + in.size() + 2, ' ', simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::document doc;
  if (auto e = parser.iterate(p, in.size() + 2, scratch->size()).get(doc); e) return Error(e);
  simdjson::ondemand::array array;
  if (auto e = doc.get_array().get(array); e) return Error(e);
  int values = 0;
  for (auto element : array) {
    if (values++ > 0) return Error(simdjson::TAPE_ERROR, "trailing content after the JSON value");
    simdjson::ondemand::value v;
    if (auto e = std::move(element).get(v); e) return Error(e);
    absl::Status st = fn(v);
    if (!st.ok()) return st;
  }
  if (values == 0) return Error(simdjson::EMPTY, "no JSON value");
  // Anything after the closing bracket was also after the caller's value.
  if (!doc.current_location().error()) return Error(simdjson::TAPE_ERROR, "trailing content after the JSON value");
  return absl::OkStatus();
}
