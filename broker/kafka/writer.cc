#include "broker/kafka/writer.h"

#include <bit>

namespace eddy::kafka {

void Writer::WriteFloat64(double v) { WriteFixed(std::bit_cast<uint64_t>(v)); }

void Writer::WriteUnsignedVarint(uint32_t v) {
  char b[5];
  int n = 0;
  while (v >= 0x80) {
    b[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  b[n++] = static_cast<char>(v);
  out_->append(b, n);
}

void Writer::WriteSized(absl::string_view v, bool compact, bool wide) {
  if (compact) {
    WriteUnsignedVarint(static_cast<uint32_t>(v.size()) + 1);
  } else if (wide) {
    WriteInt32(static_cast<int32_t>(v.size()));
  } else {
    WriteInt16(static_cast<int16_t>(v.size()));
  }
  WriteRaw(v);
}

void Writer::WriteNull(bool compact, bool wide) {
  if (compact) {
    WriteUnsignedVarint(0);
  } else if (wide) {
    WriteInt32(-1);
  } else {
    WriteInt16(-1);
  }
}

void Writer::WriteNullableString(const std::optional<std::string>& v, bool compact, bool nullable) {
  if (v.has_value()) {
    WriteSized(*v, compact, false);
  } else if (nullable) {
    WriteNull(compact, false);
  } else {
    WriteSized({}, compact, false);
  }
}

void Writer::WriteNullableBytes(const std::optional<std::string>& v, bool compact, bool nullable) {
  if (v.has_value()) {
    WriteSized(*v, compact, true);
  } else if (nullable) {
    WriteNull(compact, true);
  } else {
    WriteSized({}, compact, true);
  }
}

void Writer::WriteRecords(const RecordsRef& v, bool compact, bool nullable) {
  if (v.is_null()) {
    if (nullable) {
      WriteNull(compact, true);
    } else {
      WriteSized({}, compact, true);
    }
  } else if (v.is_external()) {
    if (compact) {
      WriteUnsignedVarint(v.size() + 1);
    } else {
      WriteInt32(static_cast<int32_t>(v.size()));
    }
    splices_.push_back(Splice{out_->size(), v.size(), v.token()});
  } else {
    WriteSized(v.bytes(), compact, true);
  }
}

void Writer::WriteArrayLength(int32_t n, bool compact) {
  if (compact) {
    WriteUnsignedVarint(static_cast<uint32_t>(n) + 1);  // -1 (null) becomes 0
  } else {
    WriteInt32(n);
  }
}

void Writer::WriteTaggedField(uint32_t tag, absl::string_view value) {
  WriteUnsignedVarint(tag);
  WriteUnsignedVarint(static_cast<uint32_t>(value.size()));
  WriteRaw(value);
}

size_t Writer::BeginFrame() {
  const size_t offset = out_->size();
  WriteInt32(0);
  return offset;
}

void Writer::EndFrame(size_t frame_offset) {
  uint64_t size = out_->size() - frame_offset - 4;
  for (const Splice& s : splices_) {
    if (s.offset > frame_offset) size += s.size;
  }
  const uint32_t u = static_cast<uint32_t>(size);
  char* p = out_->data() + frame_offset;
  p[0] = static_cast<char>(u >> 24);
  p[1] = static_cast<char>(u >> 16);
  p[2] = static_cast<char>(u >> 8);
  p[3] = static_cast<char>(u);
}

}  // namespace eddy::kafka
