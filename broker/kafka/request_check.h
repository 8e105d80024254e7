// CheckRequestFrame: the one entry point the request fuzzer (request_fuzzer.cc) and the fuzz unit test
// (request_fuzz_test.cc) feed bytes through. Test-only (not in eddy_kafka_codec).
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace eddy::kafka {

// Decodes `frame` (a request without its size prefix) as the broker would: header, then the body of a
// supported api and version. A body that decodes is encoded again, decoded again and compared; the rest of
// the bytes after the header are also decoded as that api's response (the client side of the codecs).
// Returns OK when the request decodes, kInvalidArgument when the broker would refuse it (malformed,
// truncated, unknown api, unsupported version), and kInternal when a decode/encode/decode round trip
// changed the message or its bytes: a codec bug, which the fuzzer turns into a crash.
absl::Status CheckRequestFrame(absl::string_view frame);

}  // namespace eddy::kafka
