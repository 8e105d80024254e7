// StreamsConfig parsing and validation, and the legal state transitions of Streams.
#include "eddy/runtime/streams_config.h"

#include "eddy/runtime/streams.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

using ::testing::HasSubstr;

TEST(StreamsConfigTest, RefusesExactlyOnceAndNamesEveryUnknownConfig) {
  absl::StatusOr<StreamsConfig> c = StreamsConfig::FromMap(
      {{"application.id", "app"}, {"processing.guarantee", "exactly_once_v2"}});
  ASSERT_TRUE(c.ok());
  EXPECT_THAT(std::string(c->Validate().message()), HasSubstr("exactly_once_v2 is not supported yet"));
  c = StreamsConfig::FromMap({{"application.id", "app"}, {"comit.interval.ms", "5"}, {"bogus", "1"}});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("unknown Streams configs: bogus, comit.interval.ms"));
  c = StreamsConfig::FromMap({{"application.id", "app"},
                              {"num.stream.threads", "3"},
                              {"default.deserialization.exception.handler",
                               "org.apache.kafka.streams.errors.LogAndContinueExceptionHandler"},
                              {"consumer.max.poll.records", "10"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->num_stream_threads, 3);
  EXPECT_EQ(c->commit_interval_ms, 30000);
  EXPECT_EQ(c->deserialization_handler_kind, DeserializationHandlerKind::kLogAndContinue);
  EXPECT_EQ(c->consumer.max_poll_records, 10);
}

TEST(StreamsConfigTest, IdleAdvanceIsOffByDefaultAndParsedByItsName) {
  EXPECT_EQ(StreamsConfig().stream_time_idle_advance_ms, 0);
  absl::StatusOr<StreamsConfig> c =
      StreamsConfig::FromMap({{"application.id", "app"}, {"eddy.stream.time.idle.advance.ms", "1500"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->stream_time_idle_advance_ms, 1500);
  c = StreamsConfig::FromMap({{"application.id", "app"}, {"eddy.stream.time.idle.advance.ms", "-1"}});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  StreamsConfig negative;
  negative.application_id = "app";
  negative.stream_time_idle_advance_ms = -5;
  EXPECT_THAT(std::string(negative.Validate().message()), HasSubstr("eddy.stream.time.idle.advance.ms"));
}

TEST(StreamsStateTest, OnlyKafkasTransitionsAreLegal) {
  using S = StreamsState;
  EXPECT_TRUE(IsValidTransition(S::kCreated, S::kRebalancing));
  EXPECT_TRUE(IsValidTransition(S::kRunning, S::kRebalancing));
  EXPECT_TRUE(IsValidTransition(S::kPendingError, S::kError));
  EXPECT_FALSE(IsValidTransition(S::kCreated, S::kRunning));
  EXPECT_FALSE(IsValidTransition(S::kNotRunning, S::kRebalancing));
  EXPECT_FALSE(IsValidTransition(S::kPendingShutdown, S::kRunning));
  EXPECT_FALSE(IsValidTransition(S::kError, S::kNotRunning));
}

TEST(StreamsConfigTest, DefaultsAreKafkaStreamsDefaults) {
  StreamsConfig c;
  EXPECT_EQ(c.num_stream_threads, 1);
  EXPECT_EQ(c.commit_interval_ms, 30000);
  EXPECT_EQ(c.processing_guarantee, "at_least_once");
  EXPECT_EQ(c.deserialization_handler_kind, DeserializationHandlerKind::kLogAndFail);
  EXPECT_FALSE(c.consumer.enable_auto_commit);
  EXPECT_EQ(c.consumer.auto_offset_reset, OffsetReset::kEarliest);
  EXPECT_EQ(c.consumer.max_poll_records, 1000);
  EXPECT_EQ(c.producer.linger_ms, 100);
  EXPECT_EQ(c.producer.batch_size, 256 << 10);
  EXPECT_EQ(c.Validate().code(), absl::StatusCode::kInvalidArgument);  // application.id is required
  c.application_id = "orders app";
  EXPECT_THAT(std::string(c.Validate().message()), HasSubstr("may contain only"));
  c.application_id = "orders-app";
  EXPECT_TRUE(c.Validate().ok());
  EXPECT_FALSE(c.Set("consumer.group.id", "x").ok());
  EXPECT_FALSE(c.Set("default.deserialization.exception.handler", "Nope").ok());
  EXPECT_TRUE(c.Set("default.timestamp.extractor", "org.apache.kafka.streams.processor.LogAndSkipOnInvalidTimestamp").ok());
  EXPECT_EQ(c.invalid_timestamp_policy, InvalidTimestampPolicy::kLogAndSkip);
}

}  // namespace
}  // namespace eddy
