#include "eddy/dsl/window_close_buffer.h"

#include <algorithm>

#include "absl/base/internal/endian.h"
#include "eddy/core/status.h"

namespace eddy::dsl_internal {
namespace {

constexpr size_t kTimeSize = 8;

void EncodeTime(int64_t t, std::string* out) {
  out->resize(kTimeSize);
  absl::big_endian::Store64(out->data(), static_cast<uint64_t>(t));
}

int64_t DecodeTime(absl::string_view key) { return static_cast<int64_t>(absl::big_endian::Load64(key.data())); }

}  // namespace

absl::Status WindowCloseBuffer::Init(KeyValueStore* store) {
  store_ = store;
  return ReadNextClose();
}

absl::Status WindowCloseBuffer::ReadNextClose() {
  next_close_ = INT64_MAX;
  std::unique_ptr<KeyValueIterator> it = store_->All();
  for (; it->Valid(); it->Next()) {
    if (it->key().size() < kTimeSize) {
      return absl::DataLossError("window close buffer: a key shorter than its 8-byte close time");
    }
    next_close_ = DecodeTime(it->key());
    break;
  }
  return it->status();
}

absl::Status WindowCloseBuffer::Add(int64_t close_time, absl::string_view key) {
  EncodeTime(close_time, &scratch_);
  scratch_.append(key.data(), key.size());
  EDDY_RETURN_IF_ERROR(store_->Put(scratch_, absl::string_view()));
  next_close_ = std::min(next_close_, close_time);
  return absl::OkStatus();
}

absl::Status WindowCloseBuffer::Remove(int64_t close_time, absl::string_view key) {
  EncodeTime(close_time, &scratch_);
  scratch_.append(key.data(), key.size());
  return store_->Delete(scratch_);
}

absl::Status WindowCloseBuffer::Evict(int64_t stream_time,
                                      const std::function<absl::Status(absl::string_view key)>& emit) {
  if (!HasClosed(stream_time)) return absl::OkStatus();
  std::string from, to;
  EncodeTime(0, &from);
  EncodeTime(stream_time + 1, &to);  // Range is inclusive: keys of close time stream_time + 1 are skipped below
  closed_.clear();
  {
    std::unique_ptr<KeyValueIterator> it = store_->Range(from, to);
    for (; it->Valid(); it->Next()) {
      if (it->key().size() < kTimeSize) {
        return absl::DataLossError("window close buffer: a key shorter than its 8-byte close time");
      }
      if (DecodeTime(it->key()) > stream_time) break;
      closed_.emplace_back(it->key());
    }
    EDDY_RETURN_IF_ERROR(it->status());
  }
  for (const std::string& k : closed_) {
    EDDY_RETURN_IF_ERROR(emit(absl::string_view(k).substr(kTimeSize)));
    EDDY_RETURN_IF_ERROR(store_->Delete(k));
  }
  return ReadNextClose();
}

}  // namespace eddy::dsl_internal
