// RecordView's on-demand header decoding, and TopicPartition's name.
#include "eddy/core/record.h"

#include "absl/strings/str_cat.h"
#include "core/varint.h"

namespace eddy {

std::string ToString(const TopicPartition& tp) { return absl::StrCat(tp.topic, "-", tp.partition); }

// The iterator checked every header of the record before handing out the view, so no bounds checks here.
const char* RecordView::DecodeHeader(const char* p, HeaderRef* out) {
  int32_t len;
  p = varint::Get32Unchecked(p, &len);
  out->key = absl::string_view(p, static_cast<size_t>(len));
  p += len;
  p = varint::Get32Unchecked(p, &len);
  if (len < 0) {
    out->value = std::nullopt;
  } else {
    out->value = absl::string_view(p, static_cast<size_t>(len));
    p += len;
  }
  return p;
}

}  // namespace eddy
