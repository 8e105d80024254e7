#include "broker/offsets_codec.h"

#include <string>

#include "gtest/gtest.h"

namespace eddy::broker {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

TEST(OffsetsCodecTest, OffsetCommitKeyIsVersion1GroupTopicPartition) {
  EXPECT_EQ(EncodeOffsetCommitKey("g", "tp", 258).value(), Bytes({0, 1, 0, 1, 'g', 0, 2, 't', 'p', 0, 0, 1, 2}));
  OffsetsKey k = DecodeOffsetsKey(Bytes({0, 1, 0, 1, 'g', 0, 2, 't', 'p', 0, 0, 1, 2})).value();
  EXPECT_EQ(k.type, OffsetsKeyType::kOffsetCommit);
  EXPECT_EQ(k.group, "g");
  EXPECT_EQ(k.topic, "tp");
  EXPECT_EQ(k.partition, 258);
  // Version 0 keys (written by old brokers) have the same layout.
  k = DecodeOffsetsKey(Bytes({0, 0, 0, 1, 'g', 0, 1, 't', 0, 0, 0, 0})).value();
  EXPECT_EQ(k.type, OffsetsKeyType::kOffsetCommit);
  EXPECT_EQ(k.version, 0);
}

TEST(OffsetsCodecTest, OtherKeyVersionsAreRecognised) {
  OffsetsKey k = DecodeOffsetsKey(Bytes({0, 2, 0, 3, 'a', 'b', 'c'})).value();
  EXPECT_EQ(k.type, OffsetsKeyType::kGroupMetadata);
  EXPECT_EQ(k.group, "abc");
  EXPECT_EQ(DecodeOffsetsKey(Bytes({0, 11, 1, 2, 3})).value().type, OffsetsKeyType::kOther);
  EXPECT_EQ(DecodeOffsetsKey(Bytes({0, 1, 0, 5, 'a'})).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeOffsetsKey(Bytes({0})).status().code(), absl::StatusCode::kDataLoss);
}

TEST(OffsetsCodecTest, ValueVersion3HasKafkasExactLayout) {
  OffsetCommitValue v{5, 7, "m", 1000, -1};
  const std::string expected = Bytes({0, 3,                           // version
                                      0, 0, 0,   0, 0, 0, 0, 5,       // offset
                                      0, 0, 0,   7,                   // leader epoch
                                      0, 1, 'm',                      // metadata
                                      0, 0, 0,   0, 0, 0, 3, 0xe8});  // commit timestamp
  EXPECT_EQ(EncodeOffsetCommitValue(v).value(), expected);
  EXPECT_EQ(DecodeOffsetCommitValue(expected).value(), v);
}

TEST(OffsetsCodecTest, OlderAndFlexibleValueVersionsDecode) {
  // v0: offset, metadata, commit timestamp.
  OffsetCommitValue v0 =
      DecodeOffsetCommitValue(Bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})).value();
  EXPECT_EQ(v0.offset, 9);
  EXPECT_EQ(v0.leader_epoch, -1);
  EXPECT_EQ(v0.commit_timestamp, 1);
  // v1 adds the expire timestamp.
  OffsetCommitValue v1 = DecodeOffsetCommitValue(Bytes({0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0,
                                                        0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2}))
                             .value();
  EXPECT_EQ(v1.expire_timestamp, 2);
  // v4: compact metadata string and a tagged-field section (here one unknown tag, skipped).
  OffsetCommitValue v4 = DecodeOffsetCommitValue(Bytes({0,   4,   0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1,    3,
                                                        'h', 'i', 0, 0, 0, 0, 0, 0, 0, 4, 1, 0, 2, 0xaa, 0xbb}))
                             .value();
  EXPECT_EQ(v4.metadata, "hi");
  EXPECT_EQ(v4.leader_epoch, 1);
  EXPECT_EQ(v4.commit_timestamp, 4);
}

TEST(OffsetsCodecTest, CorruptValuesAreDataLoss) {
  const std::string good = EncodeOffsetCommitValue(OffsetCommitValue{1, 2, "meta", 3, -1}).value();
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_EQ(DecodeOffsetCommitValue(good.substr(0, n)).status().code(), absl::StatusCode::kDataLoss) << n;
  }
  std::string future = good;
  future[1] = 5;
  EXPECT_EQ(DecodeOffsetCommitValue(future).status().code(), absl::StatusCode::kDataLoss);
}

TEST(OffsetsCodecTest, OverlongStringsAreRefused) {
  EXPECT_EQ(EncodeOffsetCommitKey(std::string(40000, 'g'), "t", 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(EncodeOffsetCommitValue(OffsetCommitValue{1, -1, std::string(40000, 'm'), 0, -1}).ok());
}

}  // namespace
}  // namespace eddy::broker
