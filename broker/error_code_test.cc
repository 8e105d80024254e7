#include "broker/error_code.h"

#include "gtest/gtest.h"

namespace eddy::broker {
namespace {

TEST(ErrorCodeTest, NumbersAndNamesAreKafkas) {
  EXPECT_EQ(static_cast<int16_t>(ErrorCode::kNone), 0);
  EXPECT_EQ(static_cast<int16_t>(ErrorCode::kUnknownServerError), -1);
  EXPECT_EQ(static_cast<int16_t>(ErrorCode::kOffsetOutOfRange), 1);
  EXPECT_EQ(static_cast<int16_t>(ErrorCode::kCoordinatorLoadInProgress), 14);
  EXPECT_EQ(static_cast<int16_t>(ErrorCode::kIllegalGeneration), 22);
  EXPECT_EQ(static_cast<int16_t>(ErrorCode::kRebalanceInProgress), 27);
  EXPECT_EQ(static_cast<int16_t>(ErrorCode::kUnsupportedVersion), 35);
  EXPECT_EQ(static_cast<int16_t>(ErrorCode::kNonEmptyGroup), 68);
  EXPECT_EQ(static_cast<int16_t>(ErrorCode::kGroupIdNotFound), 69);
  EXPECT_EQ(static_cast<int16_t>(ErrorCode::kMemberIdRequired), 79);
  EXPECT_EQ(static_cast<int16_t>(ErrorCode::kFencedInstanceId), 82);
  EXPECT_EQ(static_cast<int16_t>(ErrorCode::kShareSessionLimitReached), 133);
  EXPECT_STREQ(ErrorName(ErrorCode::kNone), "NONE");
  EXPECT_STREQ(ErrorName(ErrorCode::kInconsistentGroupProtocol), "INCONSISTENT_GROUP_PROTOCOL");
  EXPECT_STREQ(ErrorName(static_cast<ErrorCode>(999)), "UNKNOWN_ERROR_CODE");
  for (int code = -1; code <= 133; ++code) {
    EXPECT_TRUE(IsKnownErrorCode(static_cast<int16_t>(code))) << code;
  }
  EXPECT_FALSE(IsKnownErrorCode(134));
  EXPECT_FALSE(IsKnownErrorCode(-2));
}

TEST(ErrorCodeTest, ToStatusUsesEddysCanonicalCodes) {
  EXPECT_TRUE(ToStatus(ErrorCode::kNone, "x").ok());
  absl::Status s = ToStatus(ErrorCode::kRebalanceInProgress, "commit");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "commit: REBALANCE_IN_PROGRESS (27)");
  EXPECT_EQ(ToStatus(ErrorCode::kIllegalGeneration, "").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ToStatus(ErrorCode::kFencedInstanceId, "").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ToStatus(ErrorCode::kCorruptMessage, "").code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ToStatus(ErrorCode::kOffsetOutOfRange, "").code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ToStatus(ErrorCode::kUnknownTopicOrPartition, "").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ToStatus(ErrorCode::kInvalidGroupId, "").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ToStatus(ErrorCode::kCoordinatorNotAvailable, "").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ToStatus(ErrorCode::kUnknownServerError, "").code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace eddy::broker
