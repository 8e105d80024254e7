// Recovery-point checkpoint file. See log_checkpoint.h.
#include "broker/log_checkpoint.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "broker/file_util.h"

namespace eddy::broker {
namespace {

constexpr int kVersion = 1;

absl::Status Malformed(int line, absl::string_view why) {
  return absl::DataLossError(absl::StrCat("malformed recovery-point checkpoint, line ", line, ": ", why));
}

}  // namespace

std::string EncodeRecoveryCheckpoint(const RecoveryCheckpoint& checkpoint) {
  std::string out = absl::StrCat(kVersion, "\n", checkpoint.size(), "\n");
  for (const auto& [tp, rp] : checkpoint) {
    absl::StrAppend(&out, tp.topic, " ", tp.partition, " ", rp.offset, " ", rp.position, " ", rp.max_timestamp, "\n");
  }
  return out;
}

absl::StatusOr<RecoveryCheckpoint> ParseRecoveryCheckpoint(absl::string_view text) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  if (lines.size() < 2) return Malformed(1, "missing version or count");
  int version;
  size_t count;
  if (!absl::SimpleAtoi(lines[0], &version) || version != kVersion) {
    return Malformed(1, absl::StrCat("unsupported version \"", lines[0], "\""));
  }
  if (!absl::SimpleAtoi(lines[1], &count) || count != lines.size() - 2) {
    return Malformed(2, absl::StrCat("count \"", lines[1], "\" does not match the ", lines.size() - 2, " entries"));
  }
  RecoveryCheckpoint out;
  for (size_t i = 2; i < lines.size(); ++i) {
    std::vector<absl::string_view> f = absl::StrSplit(lines[i], ' ', absl::SkipEmpty());
    TopicPartition tp;
    RecoveryPoint rp;
    if (f.size() != 5 || !absl::SimpleAtoi(f[1], &tp.partition) || !absl::SimpleAtoi(f[2], &rp.offset) ||
        !absl::SimpleAtoi(f[3], &rp.position) || !absl::SimpleAtoi(f[4], &rp.max_timestamp) || rp.offset < 0 ||
        rp.position < 0) {
      return Malformed(static_cast<int>(i) + 1, absl::StrCat("\"", lines[i], "\""));
    }
    tp.topic = std::string(f[0]);
    out[tp] = rp;
  }
  return out;
}

absl::StatusOr<RecoveryCheckpoint> ReadRecoveryCheckpoint(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  return ParseRecoveryCheckpoint(*text);
}

}  // namespace eddy::broker
