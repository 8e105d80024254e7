// The fuzz target's entry point (CheckRequestFrame) under gcc too: valid frames of every supported api and
// version decode and round-trip; seeded random and mutated valid frames are refused with kInvalidArgument
// or accepted, never crash, never read out of bounds (each input is an exactly-sized heap copy, so ASan or
// valgrind catch any overread) and never change in a round trip (kInternal).
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "broker/kafka/frame.h"
#include "broker/kafka/kafka_messages_testdata.h"
#include "broker/kafka/request_check.h"
#include "broker/kafka/supported_apis.h"
#include "gtest/gtest.h"

namespace eddy::kafka {
namespace {

using testing::Fill;
using testing::TestValues;

// One valid request frame (without its size prefix) per supported api, version and seed. The records of
// the requests point into `values`, which must outlive the frames' use (encoding copies them anyway).
std::vector<std::string> ValidFrames(int seeds) {
  std::vector<std::string> frames;
  for (const ApiVersionRange& api : SupportedApis()) {
    for (int16_t v = api.min_version; v <= api.max_version; ++v) {
      for (int seed = 1; seed <= seeds; ++seed) {
        TestValues values(seed * 31 + v);
        VisitApi(api.api_key, [&](auto tag) {
          typename decltype(tag)::Request req;
          Fill(&req, v, values);
          RequestHeader header;
          header.request_api_key = api.api_key;
          header.request_api_version = v;
          header.correlation_id = seed;
          header.client_id = values.NullableString(true);
          std::string frame;
          Writer w(&frame);
          EncodeRequestFrame(header, req, w);
          frames.push_back(frame.substr(4));
        });
      }
    }
  }
  return frames;
}

void ExpectNoCodecBug(const std::string& input) {
  const absl::Status s = CheckRequestFrame(input);
  ASSERT_TRUE(s.ok() || s.code() == absl::StatusCode::kInvalidArgument) << s;
}

TEST(RequestFuzzTest, ValidFramesOfEverySupportedVersionDecode) {
  const std::vector<std::string> frames = ValidFrames(3);
  EXPECT_GT(frames.size(), 200u);
  for (const std::string& frame : frames) {
    const absl::Status s = CheckRequestFrame(frame);
    EXPECT_TRUE(s.ok()) << s;
  }
}

TEST(RequestFuzzTest, RandomBytesAreRefusedOrAcceptedNeverMisread) {
  TestValues g(20241001);
  int accepted = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string input(g.Below(160), '\0');
    for (char& c : input) c = static_cast<char>(g.Next64());
    if (input.size() >= 4 && g.Below(4) != 0) {  // mostly a supported api and version, to reach the body
      const auto& apis = SupportedApis();
      const ApiVersionRange& api = apis[g.Below(apis.size())];
      const int16_t v = static_cast<int16_t>(api.min_version + g.Below(api.max_version - api.min_version + 1));
      input[0] = static_cast<char>(api.api_key >> 8);
      input[1] = static_cast<char>(api.api_key);
      input[2] = static_cast<char>(v >> 8);
      input[3] = static_cast<char>(v);
    }
    ExpectNoCodecBug(input);
    accepted += CheckRequestFrame(input).ok();
  }
  EXPECT_LT(accepted, 4000);
}

TEST(RequestFuzzTest, MutatedValidFramesAreRefusedOrAcceptedNeverMisread) {
  const std::vector<std::string> frames = ValidFrames(1);
  TestValues g(7);
  int refused = 0;
  int total = 0;
  for (const std::string& frame : frames) {
    for (int m = 0; m < 40; ++m, ++total) {
      std::string input = frame;
      for (int edits = 1 + g.Below(3); edits > 0 && !input.empty(); --edits) {
        const size_t at = g.Below(input.size());
        switch (g.Below(6)) {
          case 0: input[at] = static_cast<char>(g.Next64()); break;          // random byte
          case 1: input[at] = static_cast<char>(0xff); break;                // -1 length / null
          case 2: input[at] = static_cast<char>(0x7f); break;                // huge length
          case 3: input.erase(at, 1 + g.Below(4)); break;                    // bytes dropped
          case 4: input.insert(at, std::string(1 + g.Below(4), '\x80')); break;  // bytes added
          case 5: input.resize(at); break;                                   // truncated
        }
      }
      const std::string exact(input);  // exactly-sized copy
      ExpectNoCodecBug(exact);
      refused += !CheckRequestFrame(exact).ok();
    }
  }
  EXPECT_GT(total, 3000);
  EXPECT_GT(refused, total / 4);  // the mutations do reach the error paths
}

TEST(RequestFuzzTest, EveryCheckedInSeedIsAValidRequest) {
  // The libFuzzer seeds (fuzz_corpus/, one frame per api at its lowest and highest supported version) must
  // stay valid as the schemas or the supported ranges change, or the fuzzer starts from noise.
  int seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(EDDY_KAFKA_FUZZ_CORPUS_DIR)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    const absl::Status s = CheckRequestFrame(bytes.str());
    EXPECT_TRUE(s.ok()) << entry.path() << ": " << s;
    ++seeds;
  }
  EXPECT_GE(seeds, static_cast<int>(SupportedApis().size()));
}

}  // namespace
}  // namespace eddy::kafka
