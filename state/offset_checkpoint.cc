#include "eddy/state/offset_checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "eddy/core/status.h"
#include "state/file_util.h"

namespace eddy {
namespace {

absl::Status Malformed(const std::string& path, absl::string_view what) {
  return absl::DataLossError(absl::StrCat("checkpoint ", path, ": ", what));
}

}  // namespace

absl::StatusOr<std::map<TopicPartition, int64_t>> OffsetCheckpoint::Read() const {
  std::map<TopicPartition, int64_t> offsets;
  EDDY_ASSIGN_OR_RETURN(std::optional<std::string> data, state_internal::ReadFileIfExists(path_));
  if (!data.has_value()) return offsets;
  std::vector<absl::string_view> lines = absl::StrSplit(*data, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();  // the final newline
  int64_t version = 0, count = 0;
  if (lines.empty() || !absl::SimpleAtoi(lines[0], &version)) return Malformed(path_, "no version line");
  if (version != kVersion) return Malformed(path_, absl::StrCat("unknown version ", lines[0]));
  if (lines.size() < 2 || !absl::SimpleAtoi(lines[1], &count) || count < 0) {
    return Malformed(path_, "no entry count");
  }
  int64_t seen = 0;
  for (size_t i = 2; i < lines.size(); ++i) {
    std::vector<absl::string_view> fields = absl::StrSplit(lines[i], ' ', absl::SkipEmpty());
    TopicPartition tp;
    int64_t offset = 0;
    if (fields.size() != 3 || !absl::SimpleAtoi(fields[1], &tp.partition) || !absl::SimpleAtoi(fields[2], &offset)) {
      return Malformed(path_, absl::StrCat("malformed line '", lines[i], "'"));
    }
    ++seen;
    if (offset < 0 && offset != kOffsetUnknown) continue;
    tp.topic = std::string(fields[0]);
    offsets[std::move(tp)] = offset;
  }
  if (seen != count) return Malformed(path_, absl::StrCat("expected ", count, " entries, found ", seen));
  return offsets;
}

absl::Status OffsetCheckpoint::Write(const std::map<TopicPartition, int64_t>& offsets) const {
  if (offsets.empty()) return Delete();
  std::string data = absl::StrCat(kVersion, "\n", offsets.size(), "\n");
  for (const auto& [tp, offset] : offsets) absl::StrAppend(&data, tp.topic, " ", tp.partition, " ", offset, "\n");
  return state_internal::WriteFileAtomically(path_, data);
}

absl::Status OffsetCheckpoint::Delete() const {
  if (unlink(path_.c_str()) != 0 && errno != ENOENT) {
    return state_internal::ErrnoStatus(errno, absl::StrCat("deleting ", path_));
  }
  return absl::OkStatus();
}

}  // namespace eddy
