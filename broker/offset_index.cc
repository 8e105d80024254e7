// OffsetIndex. See offset_index.h.
#include "broker/offset_index.h"

#include <algorithm>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"

namespace eddy::broker {

void OffsetIndex::Codec::Encode(const Entry& e, char* p) {
  absl::big_endian::Store32(p, static_cast<uint32_t>(e.relative_offset));
  absl::big_endian::Store32(p + 4, static_cast<uint32_t>(e.position));
}

OffsetIndex::Entry OffsetIndex::Codec::Decode(const char* p) {
  return Entry{static_cast<int32_t>(absl::big_endian::Load32(p)), static_cast<int32_t>(absl::big_endian::Load32(p + 4))};
}

OffsetIndex::OffsetIndex(std::string path, int64_t base_offset, size_t max_entries)
    : base_offset_(base_offset), max_entries_(std::max<size_t>(max_entries, 1)), file_(std::move(path)) {}

absl::Status OffsetIndex::Load(int64_t log_size) {
  file_.Clear();
  absl::StatusOr<std::vector<Entry>> entries = file_.Read();
  if (!entries.ok()) return entries.status();
  for (size_t i = 0; i < entries->size(); ++i) {
    const Entry& e = (*entries)[i];
    const bool ordered = i == 0 ? (e.relative_offset >= 0 && e.position >= 0)
                                : (e.relative_offset > (*entries)[i - 1].relative_offset &&
                                   e.position > (*entries)[i - 1].position);
    if (!ordered || e.position >= log_size) {
      return absl::DataLossError(absl::StrCat(path(), ": entry ", i, " {offset ", e.relative_offset, ", position ",
                                              e.position, "} is out of order or past the log's ", log_size,
                                              " bytes"));
    }
  }
  file_.Reset(*std::move(entries));
  return absl::OkStatus();
}

void OffsetIndex::Append(int64_t last_offset, int64_t position) {
  file_.Push(Entry{static_cast<int32_t>(last_offset - base_offset_), static_cast<int32_t>(position)});
}

int64_t OffsetIndex::Lookup(int64_t offset) const {
  const int64_t rel = offset - base_offset_;
  if (rel < 0) return 0;
  return file_.WithEntries([rel](const std::vector<Entry>& entries) -> int64_t {
    auto it = std::upper_bound(entries.begin(), entries.end(), rel,
                               [](int64_t r, const Entry& e) { return r < e.relative_offset; });
    return it == entries.begin() ? 0 : std::prev(it)->position;
  });
}

int64_t OffsetIndex::FloorPosition(int64_t position) const {
  return file_.WithEntries([position](const std::vector<Entry>& entries) -> int64_t {
    auto it = std::upper_bound(entries.begin(), entries.end(), position,
                               [](int64_t p, const Entry& e) { return p < e.position; });
    return it == entries.begin() ? 0 : std::prev(it)->position;
  });
}

void OffsetIndex::TruncateToPosition(int64_t position) {
  const size_t keep = file_.WithEntries([position](const std::vector<Entry>& entries) {
    auto it = std::lower_bound(entries.begin(), entries.end(), position,
                               [](const Entry& e, int64_t p) { return e.position < p; });
    return static_cast<size_t>(it - entries.begin());
  });
  file_.TruncateTo(keep);
}

int64_t OffsetIndex::last_position() const {
  std::optional<Entry> e = file_.back();
  return e ? e->position : 0;
}

}  // namespace eddy::broker
