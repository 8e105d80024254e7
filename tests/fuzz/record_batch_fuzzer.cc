// libFuzzer target: arbitrary bytes as a record batch (v2) through the broker's and the consumer's decoders:
// ValidateBatch with the CRC check (what Produce runs), then RecordIterator::Open without it (so that
// mutated bytes reach the codecs and the record decoder) and every record and header. Crashes on a sanitizer
// report or when a decoder answers with an error code it does not document. Built with clang by
// tests/fuzz/CMakeLists.txt; seeds in tests/fuzz/record_batch_corpus/ (one batch of each codec).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "eddy/core/record_batch.h"

namespace {

void Crash(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "record batch decoder: %s: %s\n", what, std::string(s.message()).c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view in(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<eddy::BatchHeaderView> header = eddy::ValidateBatch(in, /*verify_crc=*/true);
  if (!header.ok() && header.status().code() != absl::StatusCode::kDataLoss) Crash("ValidateBatch", header.status());

  std::string decompressed;
  absl::StatusOr<eddy::RecordIterator> it =
      eddy::RecordIterator::Open(in, &decompressed, /*verify_crc=*/false, /*max_decompressed_size=*/1 << 20);
  if (!it.ok()) {
    const absl::StatusCode code = it.status().code();
    if (code != absl::StatusCode::kDataLoss && code != absl::StatusCode::kResourceExhausted) {
      Crash("RecordIterator::Open", it.status());
    }
    return 0;
  }
  eddy::RecordView r;
  size_t bytes = 0;  // every byte of every view is read, so ASan sees any view past its buffer
  while (it->Next(&r)) {
    for (char c : r.key()) bytes += static_cast<unsigned char>(c);
    for (char c : r.value()) bytes += static_cast<unsigned char>(c);
    r.ForEachHeader([&](const eddy::HeaderRef& h) {
      bytes += h.key.size();
      if (h.value) for (char c : *h.value) bytes += static_cast<unsigned char>(c);
    });
  }
  if (!it->status().ok() && it->status().code() != absl::StatusCode::kDataLoss) Crash("Next", it->status());
  if (it->status().ok() && it->records_read() != it->header().records_count()) {
    Crash("Next", absl::InternalError("a well-formed batch returned fewer records than recordsCount"));
  }
  return bytes == SIZE_MAX;  // keeps `bytes` alive; never true
}
