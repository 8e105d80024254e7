// libFuzzer target: arbitrary bytes as a request frame (header + body of every supported api and version)
// through CheckRequestFrame. Crashes on a sanitizer report or when a decode/encode/decode round trip
// changes a message (kInternal). Built only with clang (see CMakeLists.txt); seeds in fuzz_corpus/.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "broker/kafka/request_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::Status s =
      eddy::kafka::CheckRequestFrame(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (s.code() == absl::StatusCode::kInternal) {
    std::fprintf(stderr, "codec bug: %s\n", std::string(s.message()).c_str());
    std::abort();
  }
  return 0;
}
