// TimeIndex. See time_index.h.
#include "broker/time_index.h"

#include <algorithm>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"

namespace eddy::broker {

void TimeIndex::Codec::Encode(const Entry& e, char* p) {
  absl::big_endian::Store64(p, static_cast<uint64_t>(e.timestamp));
  absl::big_endian::Store32(p + 8, static_cast<uint32_t>(e.relative_offset));
}

TimeIndex::Entry TimeIndex::Codec::Decode(const char* p) {
  return Entry{static_cast<int64_t>(absl::big_endian::Load64(p)), static_cast<int32_t>(absl::big_endian::Load32(p + 8))};
}

TimeIndex::TimeIndex(std::string path, int64_t base_offset, size_t max_entries)
    : base_offset_(base_offset), max_entries_(std::max<size_t>(max_entries, 1)), file_(std::move(path)) {}

absl::Status TimeIndex::Load() {
  file_.Clear();
  absl::StatusOr<std::vector<Entry>> entries = file_.Read();
  if (!entries.ok()) return entries.status();
  for (size_t i = 0; i < entries->size(); ++i) {
    const Entry& e = (*entries)[i];
    const bool ordered = i == 0 ? e.relative_offset >= 0
                                : (e.timestamp > (*entries)[i - 1].timestamp &&
                                   e.relative_offset >= (*entries)[i - 1].relative_offset);
    if (!ordered) {
      return absl::DataLossError(absl::StrCat(path(), ": entry ", i, " {timestamp ", e.timestamp, ", offset ",
                                              e.relative_offset, "} is out of order"));
    }
  }
  file_.Reset(*std::move(entries));
  return absl::OkStatus();
}

void TimeIndex::MaybeAppend(int64_t max_timestamp, int64_t last_offset) {
  std::optional<Entry> last = file_.back();
  if (last && max_timestamp <= last->timestamp) return;
  file_.Push(Entry{max_timestamp, static_cast<int32_t>(last_offset - base_offset_)});
}

int64_t TimeIndex::Lookup(int64_t timestamp) const {
  return file_.WithEntries([&](const std::vector<Entry>& entries) -> int64_t {
    auto it = std::lower_bound(entries.begin(), entries.end(), timestamp,
                               [](const Entry& e, int64_t ts) { return e.timestamp < ts; });
    return it == entries.begin() ? -1 : base_offset_ + std::prev(it)->relative_offset;
  });
}

void TimeIndex::TruncateToOffset(int64_t offset) {
  const int64_t rel = offset - base_offset_;
  const size_t keep = file_.WithEntries([rel](const std::vector<Entry>& entries) {
    auto it = std::lower_bound(entries.begin(), entries.end(), rel,
                               [](const Entry& e, int64_t r) { return e.relative_offset < r; });
    return static_cast<size_t>(it - entries.begin());
  });
  file_.TruncateTo(keep);
}

int64_t TimeIndex::last_timestamp() const {
  std::optional<Entry> e = file_.back();
  return e ? e->timestamp : -1;
}

}  // namespace eddy::broker
