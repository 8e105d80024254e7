// Key-value stores (persistent and in-memory, cached and not) against a std::map model on seeded random
// operations, plus bytewise ordering, reopening, and iteration while writing.
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "eddy/state/key_value_store.h"
#include "eddy/state/stores.h"
#include "gtest/gtest.h"
#include "state/test_util.h"

namespace eddy {
namespace {

using state_testing::RandomKey;
using state_testing::RandomValue;
using state_testing::TestTask;

using Entries = std::vector<std::pair<std::string, std::string>>;

struct KvParam {
  bool persistent;
  bool caching;
  int64_t cache_bytes;  // small budgets make evictions frequent
};

std::string Name(const testing::TestParamInfo<KvParam>& p) {
  return absl::StrCat(p.param.persistent ? "RocksDb" : "InMemory", p.param.caching ? "Cached" : "Uncached",
                      p.param.caching ? absl::StrCat(p.param.cache_bytes) : "");
}

class KeyValueStoreTest : public testing::TestWithParam<KvParam> {
 protected:
  KeyValueStoreTest() : task_(GetParam().cache_bytes) {}

  std::unique_ptr<KeyValueStore> Open() {
    KeyValueStoreBuilder b = GetParam().persistent ? Stores::PersistentKeyValueStore("kv")
                                                   : Stores::InMemoryKeyValueStore("kv");
    if (GetParam().caching) b.WithCachingEnabled();
    auto store = b.Build();
    EXPECT_TRUE(store.ok()) << store.status();
    EXPECT_TRUE((*store)->Init(&task_.context).ok());
    return std::move(*store);
  }

  static Entries Collect(KeyValueIterator& it) {
    Entries out;
    for (; it.Valid(); it.Next()) out.emplace_back(std::string(it.key()), std::string(it.value()));
    EXPECT_TRUE(it.status().ok()) << it.status();
    return out;
  }

  static Entries ModelRange(const std::map<std::string, std::string>& m,
                                                                     const std::string& from, const std::string& to) {
    Entries out;
    if (from > to) return out;
    for (auto it = m.lower_bound(from); it != m.end() && it->first <= to; ++it) out.emplace_back(*it);
    return out;
  }

  TestTask task_;
};

TEST_P(KeyValueStoreTest, MatchesMapModelOnRandomOperations) {
  std::mt19937_64 rng(42);
  std::map<std::string, std::string> model;
  std::unique_ptr<KeyValueStore> store = Open();
  std::string value;
  for (int i = 0; i < 6000; ++i) {
    const int op = static_cast<int>(rng() % 100);
    const std::string key = RandomKey(rng);
    if (op < 40) {
      const std::string v = RandomValue(rng);
      ASSERT_TRUE(store->Put(key, v).ok());
      model[key] = v;
    } else if (op < 52) {
      ASSERT_TRUE(store->Delete(key).ok());
      model.erase(key);
    } else if (op < 58) {
      const std::string v = RandomValue(rng);
      auto inserted = store->PutIfAbsent(key, v);
      ASSERT_TRUE(inserted.ok());
      EXPECT_EQ(*inserted, !model.contains(key));
      model.try_emplace(key, v);
    } else if (op < 63) {
      std::vector<std::string> keys, values;
      for (int j = 0; j < 4; ++j) keys.push_back(RandomKey(rng)), values.push_back(RandomValue(rng));
      std::vector<KeyValueEntry> entries;
      for (int j = 0; j < 4; ++j) {
        entries.push_back({keys[j], j == 2 ? std::nullopt : std::optional<absl::string_view>(values[j])});
        if (j == 2) model.erase(keys[j]);
        else model[keys[j]] = values[j];
      }
      ASSERT_TRUE(store->PutAll(entries).ok());
    } else if (op < 83) {
      auto found = store->Get(key, &value);
      ASSERT_TRUE(found.ok());
      ASSERT_EQ(*found, model.contains(key)) << i;
      if (*found) {
        EXPECT_EQ(value, model[key]);
      }
    } else if (op < 93) {
      const std::string to = RandomKey(rng);
      auto it = store->Range(key, to);
      ASSERT_EQ(Collect(*it), ModelRange(model, key, to)) << i;
    } else if (op < 95) {
      auto it = store->All();
      ASSERT_EQ(Collect(*it), Entries(model.begin(), model.end()));
    } else if (op < 98 || !GetParam().persistent) {
      ASSERT_TRUE(store->Flush().ok());
    } else {  // reopen: everything survives Close
      ASSERT_TRUE(store->Close().ok());
      store = Open();
    }
  }
  auto it = store->All();
  EXPECT_EQ(Collect(*it), Entries(model.begin(), model.end()));
  it.reset();
  ASSERT_TRUE(store->Flush().ok());
  if (!GetParam().persistent) {
    EXPECT_EQ(*store->ApproximateNumEntries(), model.size());
  }
  // Replaying the changelog gives the same map: every change reached it, in order.
  std::map<std::string, std::string> replay;
  for (const auto& r : task_.sink.records) {
    EXPECT_EQ(r.topic, "app-kv-changelog");
    EXPECT_EQ(r.partition, 3);
    if (r.value.has_value()) replay[r.key] = *r.value;
    else replay.erase(r.key);
  }
  EXPECT_EQ(replay, model);
  ASSERT_TRUE(store->Close().ok());
}

TEST_P(KeyValueStoreTest, IteratesInBytewiseOrder) {
  auto store = Open();
  const std::vector<std::string> keys = {std::string("\xff\xff", 2), std::string("\x80", 1), "a",
                                         std::string("a\0", 2),       std::string("\0", 1),    "",
                                         std::string("\0\0", 2),      std::string("\x7f", 1),  "ab",
                                         std::string("\xff", 1)};
  for (const std::string& k : keys) ASSERT_TRUE(store->Put(k, "v").ok());
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end(), [](const std::string& a, const std::string& b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                        [](char x, char y) { return uint8_t(x) < uint8_t(y); });
  });
  for (int pass = 0; pass < 2; ++pass) {  // from the cache, then from the store
    std::vector<std::string> seen;
    for (auto it = store->All(); it->Valid(); it->Next()) seen.emplace_back(it->key());
    EXPECT_EQ(seen, sorted);
    seen.clear();
    for (auto it = store->Range(std::string("\0", 1), std::string("\x80", 1)); it->Valid(); it->Next()) {
      seen.emplace_back(it->key());
    }
    EXPECT_EQ(seen, std::vector<std::string>(sorted.begin() + 1, sorted.begin() + 8));
    ASSERT_TRUE(store->Flush().ok());
  }
  EXPECT_FALSE(store->Range("b", "a")->Valid());
  ASSERT_TRUE(store->Close().ok());
}

TEST_P(KeyValueStoreTest, IteratorVisitsEachKeyOnceWhileTheStoreIsWritten) {
  auto store = Open();
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(store->Put(absl::StrCat("k", 1000 + i), "old").ok());
  if (GetParam().persistent) {
    ASSERT_TRUE(store->Flush().ok());
  }
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(store->Put(absl::StrCat("k", 1000 + 2 * i), "cached").ok());
  std::set<std::string> deleted;  // deleted and not put again since
  int visited = 0;
  std::string last;
  auto it = store->All();
  for (; it->Valid(); it->Next()) {
    const std::string key(it->key());
    EXPECT_GT(key, last);
    EXPECT_TRUE(key >= "k1000" && key <= "k1199") << key;
    last = key;
    ++visited;
    // Update the current key, delete the next one, add keys before the position (enough to fill small
    // caches) and flush now and then: the iterator must stay valid and ordered.
    ASSERT_TRUE(store->Put(key, "new").ok());
    deleted.erase(key);
    const std::string next = absl::StrCat("k", std::stoi(key.substr(1)) + 1);
    ASSERT_TRUE(store->Delete(next).ok());
    deleted.insert(next);
    ASSERT_TRUE(store->Put(absl::StrCat("a", visited), std::string(100, 'x')).ok());
    if (visited % 25 == 0) {
      ASSERT_TRUE(store->Flush().ok());
    }
  }
  EXPECT_TRUE(it->status().ok());
  // Deleted keys ahead are skipped (live views) or still seen (RocksDB's snapshot under no cache).
  EXPECT_GE(visited, 100);
  EXPECT_LE(visited, 200);
  it.reset();
  // Every key was either visited (and rewritten) or deleted ahead of the iterator and skipped.
  for (int i = 0; i < 200; ++i) {
    const std::string key = absl::StrCat("k", 1000 + i);
    std::string v;
    auto found = store->Get(key, &v);
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(*found, !deleted.contains(key)) << key;
    if (*found) {
      EXPECT_EQ(v, "new") << key;
    }
  }
  ASSERT_TRUE(store->Close().ok());
}

TEST_P(KeyValueStoreTest, OperationsBeforeInitAndAfterCloseFail) {
  KeyValueStoreBuilder b = GetParam().persistent ? Stores::PersistentKeyValueStore("kv")
                                                 : Stores::InMemoryKeyValueStore("kv");
  auto store = *b.Build();
  EXPECT_EQ(store->Put("k", "v").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->All()->status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store->Init(&task_.context).ok());
  EXPECT_EQ(store->Init(&task_.context).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store->Close().ok());
  std::string v;
  EXPECT_EQ(store->Get("k", &v).status().code(), absl::StatusCode::kFailedPrecondition);
}

INSTANTIATE_TEST_SUITE_P(Stores, KeyValueStoreTest,
                         testing::Values(KvParam{true, false, 0}, KvParam{false, false, 0},
                                         KvParam{true, true, ThreadCache::kDefaultMaxBytes},
                                         KvParam{false, true, ThreadCache::kDefaultMaxBytes},
                                         KvParam{true, true, 2000}, KvParam{false, true, 2000}),
                         Name);

}  // namespace
}  // namespace eddy
