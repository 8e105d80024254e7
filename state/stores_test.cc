// Stores builders: validation, defaults, changelog topic configs; the key layouts.
#include "eddy/state/stores.h"

#include "gtest/gtest.h"
#include "state/store_key_format.h"
#include "state/test_util.h"

namespace eddy {
namespace {

TEST(StoresTest, DefaultsAreKafkasLoggingOnCachingOff) {
  auto kv = *Stores::PersistentKeyValueStore("counts").Build();
  EXPECT_EQ(kv->name(), "counts");
  EXPECT_TRUE(kv->persistent());
  EXPECT_TRUE(kv->logging_enabled());
  EXPECT_FALSE(kv->caching_enabled());
  EXPECT_EQ(kv->changelog_config(), (std::map<std::string, std::string>{{"cleanup.policy", "compact"}}));
  EXPECT_FALSE((*Stores::InMemoryKeyValueStore("m").Build())->persistent());
  EXPECT_EQ(ChangelogTopicName("app", "counts"), "app-counts-changelog");
}

TEST(StoresTest, WindowChangelogsAreCompactedAndDeletedAfterRetentionPlusADay) {
  auto w = *Stores::PersistentWindowStore("w", absl::Hours(2), absl::Minutes(1), false)
                .WithCachingEnabled()
                .WithLoggingEnabled({{"min.insync.replicas", "2"}, {"cleanup.policy", "compact,delete"}})
                .Build();
  EXPECT_TRUE(w->caching_enabled());
  EXPECT_EQ(w->retention_ms(), 7200000);
  EXPECT_EQ(w->segment_interval_ms(), 3600000);  // retention / 2
  EXPECT_EQ(w->changelog_config(), (std::map<std::string, std::string>{{"cleanup.policy", "compact,delete"},
                                                                        {"min.insync.replicas", "2"},
                                                                        {"retention.ms", "93600000"}}));
  auto s = *Stores::InMemorySessionStore("s", absl::Seconds(10)).WithLoggingDisabled().Build();
  EXPECT_EQ(s->segment_interval_ms(), 60000);  // at least a minute
  EXPECT_TRUE(s->changelog_config().empty());
}

TEST(StoresTest, RejectsBadNamesAndRetentions) {
  EXPECT_EQ(Stores::PersistentKeyValueStore("").Build().status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Stores::PersistentKeyValueStore("a/b").Build().status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Stores::PersistentKeyValueStore("..").Build().status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Stores::PersistentWindowStore("w", absl::Seconds(1), absl::Seconds(2), false).Build().status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Stores::PersistentSessionStore("s", absl::Seconds(-1)).Build().status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Stores::PersistentKeyValueStore("a-Z_0.9").Build().ok());
}

TEST(StoresTest, LoggedStoreNeedsAChangelogSink) {
  state_testing::TestTask task;
  task.context.changelog = nullptr;
  auto logged = *Stores::InMemoryKeyValueStore("kv").Build();
  EXPECT_EQ(logged->Init(&task.context).code(), absl::StatusCode::kInvalidArgument);
  auto unlogged = *Stores::InMemoryKeyValueStore("kv").WithLoggingDisabled().Build();
  EXPECT_TRUE(unlogged->Init(&task.context).ok());
  ASSERT_TRUE(unlogged->Close().ok());
}

TEST(StoreKeyFormatTest, WindowAndSessionKeysAreKafkasLayouts) {
  std::string k;
  state_internal::EncodeWindowKey("ab", 0x0102030405060708, 7, &k);
  EXPECT_EQ(k, std::string("ab\x01\x02\x03\x04\x05\x06\x07\x08\x00\x00\x00\x07", 14));
  EXPECT_EQ(state_internal::WindowKeyKey(k), "ab");
  EXPECT_EQ(state_internal::WindowKeyStart(k), 0x0102030405060708);
  EXPECT_EQ(state_internal::WindowKeySeqnum(k), 7u);
  state_internal::EncodeSessionKey("ab", /*start=*/1, /*end=*/2, &k);
  EXPECT_EQ(k, std::string("ab\0\0\0\0\0\0\0\x02\0\0\0\0\0\0\0\x01", 18));
  EXPECT_EQ(state_internal::SessionKeyStart(k), 1);
  EXPECT_EQ(state_internal::SessionKeyEnd(k), 2);
  // Bytewise order of one key's window keys is time order, across the sign bit of each byte.
  std::string a, b;
  state_internal::EncodeWindowKey("k", 127, 0, &a);
  state_internal::EncodeWindowKey("k", 128, 0, &b);
  EXPECT_LT(a, b);
}

}  // namespace
}  // namespace eddy
