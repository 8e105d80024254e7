// The write cache: coalescing, eviction order and batching, the shared budget, iterators, listeners.
#include <memory>
#include <string>
#include <vector>

#include "eddy/state/key_value_store.h"
#include "eddy/state/stores.h"
#include "eddy/state/thread_cache.h"
#include "eddy/state/window_store.h"
#include "gtest/gtest.h"
#include "state/core_store.h"
#include "state/named_cache.h"
#include "state/store_key_format.h"
#include "state/test_util.h"

namespace eddy {
namespace {

using state_internal::NamedCache;
using state_internal::StoreKind;
using state_internal::StoreOptions;
using state_testing::CountingBackend;
using state_testing::TestTask;

// One entry of a 1-byte key and a 2-byte value in the cache.
constexpr int64_t kEntry = NamedCache::kEntryOverhead + 3;

class ThreadCacheTest : public testing::Test {
 protected:
  // A persistent, cached, logged key-value store whose RocksDB writes are counted.
  std::unique_ptr<KeyValueStore> OpenCounted(TestTask& task, std::string name = "kv", bool caching = true) {
    StoreOptions o;
    o.name = std::move(name);
    o.kind = StoreKind::kKeyValue;
    o.caching = caching;
    o.wrap_backend_for_testing = [this](std::unique_ptr<state_internal::Backend> b) {
      return std::make_unique<CountingBackend>(std::move(b), &batches_, &writes_);
    };
    auto store = state_internal::NewKeyValueStore(std::move(o));
    EXPECT_TRUE(store->Init(&task.context).ok());
    store->SetFlushListener(
        [this](absl::Span<const KeyValueChange> changes) {
          for (const KeyValueChange& c : changes) {
            forwarded_.push_back({std::string(c.key), c.new_value ? std::string(*c.new_value) : "<null>",
                                  c.old_value ? std::string(*c.old_value) : "<null>", c.timestamp});
          }
          return absl::OkStatus();
        },
        /*send_old_values=*/true);
    return store;
  }

  struct Forwarded {
    std::string key, new_value, old_value;
    int64_t timestamp;
    bool operator==(const Forwarded&) const = default;
  };

  int64_t batches_ = 0;
  int64_t writes_ = 0;
  std::vector<Forwarded> forwarded_;
};

TEST_F(ThreadCacheTest, HundredPutsToOneKeyReachRocksDbAndChangelogOnceAtFlush) {
  TestTask task;
  auto store = OpenCounted(task);
  for (int i = 0; i < 100; ++i) {
    task.context.record.timestamp = 1000 + i;
    ASSERT_TRUE(store->Put("k", absl::StrCat("v", i)).ok());
  }
  EXPECT_EQ(batches_, 0);
  EXPECT_TRUE(task.sink.records.empty());
  EXPECT_TRUE(forwarded_.empty());
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(batches_, 1);
  EXPECT_EQ(writes_, 1);
  ASSERT_EQ(task.sink.records.size(), 1u);
  EXPECT_EQ(task.sink.records[0].key, "k");
  EXPECT_EQ(task.sink.records[0].value, "v99");
  EXPECT_EQ(task.sink.records[0].timestamp, 1099);
  EXPECT_EQ(forwarded_, (std::vector<Forwarded>{{"k", "v99", "<null>", 1099}}));
  // The next commit's coalesced update carries the flushed value as its old value.
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(store->Put("k", absl::StrCat("w", i)).ok());
  ASSERT_TRUE(store->Delete("k").ok());
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(batches_, 2);
  ASSERT_EQ(task.sink.records.size(), 2u);
  EXPECT_EQ(task.sink.records[1].value, std::nullopt);  // a tombstone
  EXPECT_EQ(forwarded_.back(), (Forwarded{"k", "<null>", "v99", 1099}));
  EXPECT_EQ(task.cache.stats().flushes, 2);
  ASSERT_TRUE(store->Close().ok());
}

TEST_F(ThreadCacheTest, EvictsLeastRecentlyUsedAfterFlushingAllDirtyEntriesInOneBatch) {
  TestTask task(3 * kEntry);
  auto store = OpenCounted(task);
  ASSERT_TRUE(store->Put("a", "va").ok());
  ASSERT_TRUE(store->Put("b", "vb").ok());
  ASSERT_TRUE(store->Put("c", "vc").ok());
  std::string v;
  ASSERT_TRUE(*store->Get("a", &v));  // a is now the most recently used; b the least
  EXPECT_EQ(task.cache.stats().evictions, 0);
  ASSERT_TRUE(store->Put("d", "vd").ok());  // over budget: b goes, after one batch of all dirty entries
  EXPECT_EQ(task.cache.stats().evictions, 1);
  EXPECT_EQ(batches_, 1);
  EXPECT_EQ(writes_, 4);
  ASSERT_EQ(task.sink.records.size(), 4u);  // in the order the keys became dirty
  EXPECT_EQ(task.sink.records[0].key, "a");
  EXPECT_EQ(task.sink.records[3].key, "d");
  EXPECT_EQ(task.cache.size_bytes(), 3 * kEntry);
  const int64_t misses = task.cache.stats().misses;
  ASSERT_TRUE(*store->Get("b", &v));  // from RocksDB, cached again clean: c, now the oldest, is evicted
  EXPECT_EQ(v, "vb");
  EXPECT_EQ(task.cache.stats().misses, misses + 1);
  EXPECT_EQ(task.cache.stats().evictions, 2);
  EXPECT_EQ(batches_, 1);  // evicting clean entries writes nothing
  const int64_t hits = task.cache.stats().hits;
  ASSERT_TRUE(*store->Get("a", &v));
  ASSERT_TRUE(*store->Get("d", &v));
  EXPECT_EQ(task.cache.stats().hits, hits + 2);
  ASSERT_TRUE(*store->Get("c", &v));
  EXPECT_EQ(task.cache.stats().misses, misses + 2);
  ASSERT_TRUE(store->Close().ok());
}

TEST_F(ThreadCacheTest, EvictionWaitsWhileAnIteratorIsOpen) {
  TestTask task(3 * kEntry);
  auto store = OpenCounted(task);
  ASSERT_TRUE(store->Put("a", "va").ok());
  {
    auto it = store->All();
    for (char c = 'b'; c <= 'h'; ++c) ASSERT_TRUE(store->Put(std::string(1, c), "vx").ok());
    EXPECT_EQ(task.cache.stats().evictions, 0);
    EXPECT_GT(task.cache.size_bytes(), task.cache.max_bytes());
  }
  ASSERT_TRUE(store->Put("i", "vx").ok());
  EXPECT_LE(task.cache.size_bytes(), task.cache.max_bytes());
  EXPECT_EQ(task.cache.stats().evictions, 6);
  ASSERT_TRUE(store->Close().ok());
}

TEST_F(ThreadCacheTest, StoresOfAThreadShareTheBudget) {
  TestTask task(10 * kEntry);
  auto first = OpenCounted(task, "first");
  auto second = OpenCounted(task, "second");
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(first->Put(std::string(1, 'a' + i), "v1").ok());
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(second->Put(std::string(1, 'a' + i), "v2").ok());
  // The writes to `second` evicted its own oldest entries (Kafka evicts from the cache being written).
  EXPECT_EQ(task.cache.size_bytes(), 10 * kEntry);
  EXPECT_EQ(task.cache.stats().evictions, 6);
  // Evicting dirty "a" flushed a, b, c; evicting dirty "d" flushed d, e, f; b, c, e, f left clean; g and h
  // are still dirty.
  EXPECT_EQ(task.sink.records.size(), 6u);
  ASSERT_TRUE(task.cache.Resize(4 * kEntry).ok());
  EXPECT_EQ(task.cache.size_bytes(), 4 * kEntry);
  EXPECT_EQ(task.sink.records.size(), 16u);  // round robin: all of first's 8, then second's g and h
  ASSERT_TRUE(first->Close().ok());
  ASSERT_TRUE(second->Close().ok());
  EXPECT_EQ(task.cache.size_bytes(), 0);
}

TEST_F(ThreadCacheTest, UncachedStoreForwardsEveryWrite) {
  TestTask task;
  auto store = OpenCounted(task, "kv", /*caching=*/false);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->Put("k", absl::StrCat("v", i)).ok());
  EXPECT_EQ(batches_, 3);
  EXPECT_EQ(task.sink.records.size(), 3u);
  EXPECT_EQ(forwarded_, (std::vector<Forwarded>{{"k", "v0", "<null>", 0}, {"k", "v1", "v0", 0}, {"k", "v2", "v1", 0}}));
  ASSERT_TRUE(store->Close().ok());
}

TEST_F(ThreadCacheTest, FlushListenerThatWritesItsOwnStoreFails) {
  TestTask task;
  auto store = *Stores::InMemoryKeyValueStore("kv").WithCachingEnabled().Build();
  ASSERT_TRUE(store->Init(&task.context).ok());
  KeyValueStore* self = store.get();
  store->SetFlushListener([self](absl::Span<const KeyValueChange>) { return self->Put("x", "y"); }, false);
  ASSERT_TRUE(store->Put("k", "v").ok());
  EXPECT_EQ(store->Flush().code(), absl::StatusCode::kFailedPrecondition);
  store->SetFlushListener(nullptr, false);
  ASSERT_TRUE(store->Close().ok());
}

TEST_F(ThreadCacheTest, WindowStoreCoalescesUpdatesOfAWindow) {
  TestTask task;
  auto store = *Stores::PersistentWindowStore("w", absl::Minutes(10), absl::Minutes(1), false)
                    .WithCachingEnabled()
                    .Build();
  ASSERT_TRUE(store->Init(&task.context).ok());
  std::vector<WindowChange> changes;
  store->SetFlushListener(
      [&changes](absl::Span<const WindowChange> c) {
        changes.insert(changes.end(), c.begin(), c.end());
        EXPECT_EQ(c[0].key, "books");
        EXPECT_EQ(*c[0].new_value, "99");
        return absl::OkStatus();
      },
      false);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(store->Put("books", absl::StrCat(i), 60000).ok());
  ASSERT_TRUE(store->Flush().ok());
  ASSERT_EQ(task.sink.records.size(), 1u);
  std::string expected_key;
  state_internal::EncodeWindowKey("books", 60000, 0, &expected_key);
  EXPECT_EQ(task.sink.records[0].key, expected_key);
  EXPECT_EQ(task.sink.records[0].topic, "app-w-changelog");
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].window_start, 60000);
  ASSERT_TRUE(store->Close().ok());
}

// A Put right after a Find reuses the entry found (no second hash lookup); it must still be that key's entry,
// also when the entry found was evicted or the Put is for another key.
TEST_F(ThreadCacheTest, PutAfterFindWritesTheKeyPutEvenWhenTheFoundEntryIsGone) {
  ThreadCache thread(/*max_bytes=*/2 * kEntry);
  std::vector<std::string> flushed;
  NamedCache cache("c", &thread, [&](absl::Span<NamedCache::Entry* const> entries) {
    for (const NamedCache::Entry* e : entries) flushed.push_back(*e->key + "=" + e->value);
    return absl::OkStatus();
  });
  ASSERT_TRUE(cache.Put("a", "a1", 1, /*dirty=*/true).ok());
  ASSERT_NE(cache.Find("a"), nullptr);
  ASSERT_TRUE(cache.Put("b", "b1", 2, /*dirty=*/true).ok());  // another key than the one found
  ASSERT_NE(cache.Find("a"), nullptr);
  EXPECT_EQ(cache.Find("a")->value, "a1");
  EXPECT_EQ(cache.Find("b")->value, "b1");
  ASSERT_TRUE(cache.Put("b", "b2", 3, /*dirty=*/true).ok());  // the key found: updated in place
  EXPECT_EQ(cache.entries(), 2u);
  EXPECT_EQ(cache.Find("b")->value, "b2");
  // A third key goes over the budget: "a", the least recently used, is evicted (after a flush).
  ASSERT_TRUE(cache.Put("c", "c1", 4, /*dirty=*/true).ok());
  EXPECT_EQ(cache.Find("a"), nullptr);
  EXPECT_EQ(flushed, (std::vector<std::string>{"a=a1", "b=b2", "c=c1"}));  // flushed before the eviction
  ASSERT_TRUE(cache.Put("a", "a2", 5, /*dirty=*/true).ok());  // recreated, not written into a freed entry
  ASSERT_NE(cache.Find("a"), nullptr);
  EXPECT_EQ(cache.Find("a")->value, "a2");
  cache.Clear();
  EXPECT_EQ(cache.Find("a"), nullptr);
  ASSERT_TRUE(cache.Put("a", "a3", 6, /*dirty=*/true).ok());
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(cache.Find("a")->value, "a3");
}

}  // namespace
}  // namespace eddy
