// RecordFormatter: kcat's output format strings (-f) for `eddy consume --format`.
//
//   %t topic   %p partition   %o offset   %k key   %s value   %T timestamp (ms since the epoch)
//   %h headers as kcat prints them: k=v pairs separated by ',' (a null header value prints NULL)
//   %K key length, %S value length (-1 for null)   %% a literal '%'
//   escapes: \n \t \r \\ and \xHH
//
// A null key or value prints as nothing (as kcat without -Z). The format is parsed once into pieces;
// Append() then writes a record with no allocation beyond the output string's growth.
//
// Immutable after Parse: thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eddy/core/record.h"

namespace eddy::cli {

class RecordFormatter {
 public:
  // Parse compiles `format`. kInvalidArgument for an unknown %-directive or a trailing '%'.
  static absl::StatusOr<RecordFormatter> Parse(absl::string_view format);

  // Append writes `record` of `topic`, formatted, at the end of *out.
  void Append(absl::string_view topic, const RecordView& record, std::string* out) const;

 private:
  enum class Op : uint8_t { kLiteral, kTopic, kPartition, kOffset, kKey, kValue, kTimestamp, kHeaders,
                            kKeyLength, kValueLength };
  struct Piece {
    Op op;
    std::string literal;  // for kLiteral
  };
  std::vector<Piece> pieces_;
};

}  // namespace eddy::cli
