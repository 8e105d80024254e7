// Window stores (persistent and in-memory, cached and not) against a model of Kafka's semantics on seeded
// random operations with out-of-order and expired times; segment dropping; duplicates.
#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "eddy/state/stores.h"
#include "eddy/state/window_store.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "state/backend.h"
#include "state/store_key_format.h"
#include "state/test_util.h"

namespace eddy {
namespace {

using state_testing::RandomKey;
using state_testing::TestTask;

constexpr int64_t kRetention = 1000;
constexpr int64_t kInterval = 250;

struct WindowParam {
  bool persistent;
  bool caching;
  int64_t cache_bytes;
};

std::string Name(const testing::TestParamInfo<WindowParam>& p) {
  return absl::StrCat(p.param.persistent ? "RocksDb" : "InMemory", p.param.caching ? "Cached" : "Uncached",
                      p.param.caching ? absl::StrCat(p.param.cache_bytes) : "");
}

// (segment, store key) -> value: the order FetchAll returns (store keys compare bytewise).
using Row = std::pair<int64_t, std::string>;
using Rows = std::vector<std::tuple<std::string, int64_t, std::string>>;

// Kafka's window store semantics, brute force.
class WindowModel {
 public:
  bool Put(const std::string& key, int64_t t, std::optional<std::string> value) {
    observed_ = std::max(observed_, t);
    if (t / kInterval < MinLiveSegment()) return false;
    std::string store_key;
    state_internal::EncodeWindowKey(key, t, 0, &store_key);
    if (value.has_value()) rows_[{t / kInterval, store_key}] = *value;
    else rows_.erase({t / kInterval, store_key});
    return true;
  }
  int64_t LiveFrom() const { return std::max<int64_t>(0, observed_ - kRetention + 1); }
  Rows Fetch(const std::optional<std::string>& key, int64_t from, int64_t to) const {
    Rows out;
    for (const auto& [row, value] : rows_) {
      const auto& [segment, store_key] = row;
      const std::string k(state_internal::WindowKeyKey(store_key));
      const int64_t t = state_internal::WindowKeyStart(store_key);
      if (key.has_value() && k != *key) continue;
      if (t < std::max(from, LiveFrom()) || t > to || segment < MinLiveSegment()) continue;
      out.emplace_back(k, t, value);
    }
    return out;
  }

 private:
  int64_t MinLiveSegment() const { return observed_ - kRetention < 0 ? -1 : (observed_ - kRetention) / kInterval; }
  std::map<Row, std::string> rows_;
  int64_t observed_ = -1;
};

class WindowStoreTest : public testing::TestWithParam<WindowParam> {
 protected:
  WindowStoreTest() : task_(GetParam().cache_bytes) {}

  std::unique_ptr<WindowStore> Open(bool retain_duplicates = false) {
    WindowStoreBuilder b =
        GetParam().persistent
            ? Stores::PersistentWindowStore("win", absl::Milliseconds(kRetention), absl::Milliseconds(100),
                                            retain_duplicates)
            : Stores::InMemoryWindowStore("win", absl::Milliseconds(kRetention), absl::Milliseconds(100),
                                          retain_duplicates);
    b.WithSegmentInterval(absl::Milliseconds(kInterval));
    if (GetParam().caching) b.WithCachingEnabled();
    auto store = b.Build();
    EXPECT_TRUE(store.ok()) << store.status();
    absl::Status s = (*store)->Init(&task_.context);
    EXPECT_TRUE(s.ok()) << s;
    return std::move(*store);
  }

  static Rows Collect(WindowStoreIterator it) {
    Rows out;
    for (; it.Valid(); it.Next()) out.emplace_back(std::string(it.key()), it.window_start(), std::string(it.value()));
    EXPECT_TRUE(it.status().ok()) << it.status();
    return out;
  }

  TestTask task_;
};

TEST_P(WindowStoreTest, MatchesKafkaSemanticsOnRandomOperations) {
  std::mt19937_64 rng(7);
  WindowModel model;
  std::unique_ptr<WindowStore> store = Open();
  int64_t now = 0;
  int64_t dropped = 0;
  std::string value;
  for (int i = 0; i < 5000; ++i) {
    now += static_cast<int64_t>(rng() % 8);
    const int64_t t = std::max<int64_t>(0, now - static_cast<int64_t>(rng() % 1300));  // some already expired
    const std::string key = RandomKey(rng);
    const int op = static_cast<int>(rng() % 100);
    if (op < 45) {
      const std::string v = absl::StrCat("v", i);
      ASSERT_TRUE(store->Put(key, v, t).ok());
      dropped += model.Put(key, t, v) ? 0 : 1;
    } else if (op < 55) {
      ASSERT_TRUE(store->Remove(key, t).ok());
      dropped += model.Put(key, t, std::nullopt) ? 0 : 1;
    } else if (op < 65) {
      auto found = store->Fetch(key, t, &value);
      ASSERT_TRUE(found.ok());
      Rows expected = model.Fetch(key, t, t);
      ASSERT_EQ(*found, !expected.empty()) << i;
      if (*found) {
        EXPECT_EQ(value, std::get<2>(expected[0]));
      }
    } else if (op < 82) {
      const int64_t to = t + static_cast<int64_t>(rng() % 600);
      ASSERT_EQ(Collect(store->Fetch(key, t, to)), model.Fetch(key, t, to)) << i;
    } else if (op < 90) {
      const int64_t to = t + static_cast<int64_t>(rng() % 600);
      ASSERT_EQ(Collect(store->FetchAll(t, to)), model.Fetch(std::nullopt, t, to)) << i;
    } else if (op < 98) {
      ASSERT_EQ(Collect(store->All()), model.Fetch(std::nullopt, 0, INT64_MAX)) << i;
    } else if (op < 99 || !GetParam().persistent) {
      ASSERT_TRUE(store->Flush().ok());
    } else {
      ASSERT_TRUE(store->Close().ok());
      store = Open();
      dropped = 0;  // the counter restarts with the store
    }
    ASSERT_EQ(store->expired_records_dropped(), dropped) << i;
  }
  ASSERT_EQ(Collect(store->All()), model.Fetch(std::nullopt, 0, INT64_MAX));
  ASSERT_TRUE(store->Close().ok());
}

TEST_P(WindowStoreTest, RetentionDropsWholeSegments) {
  auto store = Open();
  for (int64_t t = 0; t <= 10000; t += 50) ASSERT_TRUE(store->Put("k", absl::StrCat(t), t).ok());
  EXPECT_EQ(store->observed_stream_time(), 10000);
  // Live: window starts > 10000 - 1000; segments from (10000 - 1000) / 250 = 36 on.
  Rows all = Collect(store->All());
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(std::get<1>(all.front()), 9050);
  EXPECT_EQ(all.size(), 20u);
  // A put into an expired segment is dropped and counted; one into a live segment is kept.
  ASSERT_TRUE(store->Put("k", "late", 8999).ok());
  EXPECT_EQ(store->expired_records_dropped(), 1);
  std::string v;
  EXPECT_FALSE(*store->Fetch("k", 8999, &v));
  ASSERT_TRUE(store->Close().ok());
  if (GetParam().persistent) {  // the expired segments are gone from disk
    auto backend = state_internal::OpenRocksDbBackend(task_.context.task_dir + "/rocksdb/win", kInterval, nullptr);
    ASSERT_TRUE(backend.ok()) << backend.status();
    EXPECT_EQ((*backend)->Segments(), (std::vector<int64_t>{36, 37, 38, 39, 40}));
    ASSERT_TRUE((*backend)->Close().ok());
    // And a reopened store resumes its stream time: old windows stay invisible.
    store = Open();
    EXPECT_EQ(store->observed_stream_time(), 10000);
    EXPECT_EQ(Collect(store->All()).size(), 20u);
    ASSERT_TRUE(store->Close().ok());
  }
}

TEST_P(WindowStoreTest, RetainsDuplicatesInPutOrder) {
  auto store = Open(/*retain_duplicates=*/true);
  EXPECT_FALSE(store->caching_enabled());
  ASSERT_TRUE(store->Put("k", "a", 100).ok());
  ASSERT_TRUE(store->Put("k", "b", 100).ok());
  ASSERT_TRUE(store->Put("k", "c", 100).ok());
  ASSERT_TRUE(store->Remove("k", 100).ok());  // a no-op with duplicates, as in Kafka
  EXPECT_EQ(Collect(store->Fetch("k", 0, 200)), (Rows{{"k", 100, "a"}, {"k", 100, "b"}, {"k", 100, "c"}}));
  std::string v;
  ASSERT_TRUE(*store->Fetch("k", 100, &v));
  EXPECT_EQ(v, "a");
  // Every put was logged, with seqnums 1, 2, 3 in the changelog keys.
  ASSERT_EQ(task_.sink.records.size(), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(state_internal::WindowKeySeqnum(task_.sink.records[i].key), i + 1);
    EXPECT_EQ(state_internal::WindowKeyStart(task_.sink.records[i].key), 100);
  }
  ASSERT_TRUE(store->Close().ok());
}

TEST_P(WindowStoreTest, RejectsNegativeWindowStarts) {
  auto store = Open();
  EXPECT_EQ(store->Put("k", "v", -1).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(store->Close().ok());
}

INSTANTIATE_TEST_SUITE_P(Stores, WindowStoreTest,
                         testing::Values(WindowParam{true, false, 0}, WindowParam{false, false, 0},
                                         WindowParam{true, true, ThreadCache::kDefaultMaxBytes},
                                         WindowParam{false, true, ThreadCache::kDefaultMaxBytes},
                                         WindowParam{true, true, 3000}, WindowParam{false, true, 3000}),
                         Name);

std::vector<std::pair<std::string, std::string>> ReadAll(state_internal::Backend& b, int64_t segment) {
  std::vector<std::pair<std::string, std::string>> rows;
  auto it = b.NewIterator(segment, "", std::nullopt);
  for (; it->Valid(); it->Next()) rows.emplace_back(std::string(it->key()), std::string(it->value()));
  EXPECT_TRUE(it->status().ok()) << it->status();
  return rows;
}

// Segments are key ranges of one column family: ranges keep their keys apart, a drop removes whole ranges
// (and an iterator opened before it still reads what it saw), and a reopened backend finds the segments left.
TEST(RocksDbSegmentsTest, SegmentsAreKeyRangesDroppedWholeAndFoundAgainOnOpen) {
  state_testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  {
    auto b = state_internal::OpenRocksDbBackend(path, kInterval, nullptr);
    ASSERT_TRUE(b.ok()) << b.status();
    std::vector<state_internal::BackendWrite> writes;
    const std::vector<std::string> keys = {"", "a", "b\xff\xff", std::string(40, '\xff')};
    for (int64_t seg : {3, 4, 7}) {
      for (const std::string& k : keys) writes.push_back({seg, k, absl::StrCat("v", seg, k.size())});
    }
    writes.push_back({4, "a", std::nullopt});  // a delete in a live segment
    ASSERT_TRUE((*b)->Write(writes).ok());
    EXPECT_EQ((*b)->Segments(), (std::vector<int64_t>{3, 4, 7}));
    EXPECT_EQ(ReadAll(**b, 3).size(), keys.size());
    EXPECT_EQ(ReadAll(**b, 4).size(), keys.size() - 1);
    EXPECT_TRUE(ReadAll(**b, 5).empty());
    // Bounds are within the segment: [b, ...) in segment 3 does not run into segment 4.
    auto bounded = (*b)->NewIterator(3, "b", std::nullopt);
    int n = 0;
    for (; bounded->Valid(); bounded->Next()) ++n;
    EXPECT_EQ(n, 2);
    bounded.reset();
    std::string v;
    ASSERT_TRUE(*(*b)->Get(7, std::string(40, '\xff'), &v));
    EXPECT_EQ(v, "v740");
    EXPECT_FALSE(*(*b)->Get(4, "a", &v));
    EXPECT_FALSE(*(*b)->Get(6, "a", &v));

    auto before_drop = (*b)->NewIterator(3, "", std::nullopt);
    ASSERT_TRUE((*b)->Flush().ok());  // some of the data in SST files, which the drop deletes whole
    ASSERT_TRUE((*b)->DropSegmentsBefore(5).ok());
    EXPECT_EQ((*b)->Segments(), (std::vector<int64_t>{7}));
    EXPECT_TRUE(ReadAll(**b, 3).empty());
    EXPECT_FALSE(*(*b)->Get(4, "", &v));
    n = 0;
    for (; before_drop->Valid(); before_drop->Next()) ++n;
    EXPECT_EQ(n, static_cast<int>(keys.size()));
    EXPECT_TRUE(before_drop->status().ok());
    before_drop.reset();
    ASSERT_TRUE((*b)->Write({{2, "late", "x"}}).ok());  // a segment before the dropped ones is new again
    ASSERT_TRUE((*b)->Close().ok());
  }
  auto b = state_internal::OpenRocksDbBackend(path, kInterval, nullptr);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->Segments(), (std::vector<int64_t>{2, 7}));
  EXPECT_EQ(ReadAll(**b, 7).size(), 4u);
  EXPECT_TRUE(ReadAll(**b, 3).empty());
  ASSERT_TRUE((*b)->Close().ok());
}

// The largest segment id: its range ends past every id, and a reopen finds it.
TEST(RocksDbSegmentsTest, TheLargestSegmentIdHasARangeOfItsOwn) {
  state_testing::TempDir dir;
  const int64_t last = std::numeric_limits<int64_t>::max();
  {
    auto b = state_internal::OpenRocksDbBackend(dir.path() + "/db", kInterval, nullptr);
    ASSERT_TRUE(b.ok()) << b.status();
    ASSERT_TRUE((*b)->Write({{last - 1, "k", "a"}, {last, "k", "b"}, {last, "l", "c"}}).ok());
    EXPECT_EQ(ReadAll(**b, last).size(), 2u);
    EXPECT_EQ(ReadAll(**b, last - 1).size(), 1u);
    ASSERT_TRUE((*b)->Close().ok());
  }
  auto b = state_internal::OpenRocksDbBackend(dir.path() + "/db", kInterval, nullptr);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->Segments(), (std::vector<int64_t>{last - 1, last}));
  ASSERT_TRUE((*b)->Close().ok());
}

// A drop while an iterator reads the dropped segment from an SST file: the iterator still reads all of it,
// and the data is gone for everything opened after.
TEST(RocksDbSegmentsTest, DroppingSegmentsWhoseFilesAreWhollyExpiredLeavesOpenIteratorsIntact) {
  state_testing::TempDir dir;
  auto b = state_internal::OpenRocksDbBackend(dir.path() + "/db", kInterval, nullptr);
  ASSERT_TRUE(b.ok()) << b.status();
  std::vector<state_internal::BackendWrite> old_rows;
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i) keys.push_back(absl::StrCat("key", 1000 + i));
  for (const std::string& k : keys) old_rows.push_back({1, k, "old"});
  ASSERT_TRUE((*b)->Write(old_rows).ok());
  ASSERT_TRUE((*b)->Flush().ok());  // an SST file of segment 1 only
  ASSERT_TRUE((*b)->Write({{6, "new", "n"}}).ok());
  ASSERT_TRUE((*b)->Flush().ok());
  auto reading = (*b)->NewIterator(1, "", std::nullopt);
  ASSERT_TRUE((*b)->DropSegmentsBefore(2).ok());
  int n = 0;
  for (; reading->Valid(); reading->Next()) {
    EXPECT_EQ(reading->key(), keys[static_cast<size_t>(n)]);
    ++n;
  }
  EXPECT_TRUE(reading->status().ok()) << reading->status();
  EXPECT_EQ(n, 1000);
  reading.reset();
  EXPECT_TRUE(ReadAll(**b, 1).empty());
  EXPECT_EQ((*b)->Segments(), (std::vector<int64_t>{6}));
  EXPECT_EQ(ReadAll(**b, 6).size(), 1u);
  ASSERT_TRUE((*b)->Close().ok());
}

// Writes a RocksDB at `path` by hand, as an earlier layout left it: rows[i] go to column family names[i]
// (names[0] is the default family).
using RawRows = std::vector<std::pair<std::string, std::string>>;
void WriteRawDb(const std::string& path, const std::vector<std::string>& names, const std::vector<RawRows>& rows) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const std::string& n : names) cfs.emplace_back(n, options);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, path, cfs, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  for (size_t i = 0; i < rows.size(); ++i) {
    for (const auto& [k, v] : rows[i]) ASSERT_TRUE(db->Put({}, handles[i], k, v).ok());
  }
  for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  ASSERT_TRUE(db->Close().ok());
}

// A store written in the earlier layout (a column family "segment.<start>" per segment) is converted when
// opened: the same segments and entries, and no segment column families left.
TEST(RocksDbSegmentsTest, AStoreWithAColumnFamilyPerSegmentIsConvertedOnOpen) {
  state_testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  RawRows segment2;
  for (int i = 0; i < 100; ++i) segment2.emplace_back(absl::StrCat("k", i), absl::StrCat(i));
  WriteRawDb(path,
             {rocksdb::kDefaultColumnFamilyName, absl::StrCat(state_internal::kSegmentColumnFamilyPrefix, 2 * kInterval),
              absl::StrCat(state_internal::kSegmentColumnFamilyPrefix, 9 * kInterval)},
             {{{"eddy.meta", "m"}}, segment2, {{"z", "last"}}});
  {
    auto b = state_internal::OpenRocksDbBackend(path, kInterval, nullptr);
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ((*b)->Segments(), (std::vector<int64_t>{2, 9}));
    EXPECT_EQ(ReadAll(**b, 2).size(), 100u);
    std::string v;
    ASSERT_TRUE(*(*b)->Get(2, "k42", &v));
    EXPECT_EQ(v, "42");
    EXPECT_EQ(ReadAll(**b, 9), (std::vector<std::pair<std::string, std::string>>{{"z", "last"}}));
    EXPECT_EQ(**(*b)->GetMetadata("eddy.meta"), "m");
    ASSERT_TRUE((*b)->Close().ok());
  }
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::Options(), path, &names).ok());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"default"}));
  // And it opens again, converted.
  auto b = state_internal::OpenRocksDbBackend(path, kInterval, nullptr);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->Segments(), (std::vector<int64_t>{2, 9}));
  ASSERT_TRUE((*b)->Close().ok());
}

// The layout in between (2026-12-08): all segments in a column family "segments", keys already prefixed,
// metadata under bare names in the default family. Also converted when opened.
TEST(RocksDbSegmentsTest, AStoreWithASegmentsColumnFamilyIsConvertedOnOpen) {
  state_testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  RawRows segments;
  for (int64_t seg : {5, 6}) {
    std::string key;
    state_internal::AppendBigEndian64(seg, &key);
    segments.emplace_back(key + "k", absl::StrCat("v", seg));
  }
  WriteRawDb(path, {rocksdb::kDefaultColumnFamilyName, "segments"}, {{{"eddy.observed-stream-time", "t"}}, segments});
  for (int round = 0; round < 2; ++round) {  // converted, then opened as it is
    auto b = state_internal::OpenRocksDbBackend(path, kInterval, nullptr);
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ((*b)->Segments(), (std::vector<int64_t>{5, 6}));
    EXPECT_EQ(ReadAll(**b, 6), (std::vector<std::pair<std::string, std::string>>{{"k", "v6"}}));
    EXPECT_EQ(**(*b)->GetMetadata("eddy.observed-stream-time"), "t");
    EXPECT_FALSE(*(*b)->Empty());
    ASSERT_TRUE((*b)->Flush().ok());
    ASSERT_TRUE((*b)->Close().ok());
  }
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::Options(), path, &names).ok());
  EXPECT_EQ(names, (std::vector<std::string>{"default"}));
}

// Metadata sits beside the segments without being one: a store with only metadata is empty and has none.
TEST(RocksDbSegmentsTest, MetadataIsNeitherASegmentNorData) {
  state_testing::TempDir dir;
  {
    auto b = state_internal::OpenRocksDbBackend(dir.path() + "/db", kInterval, nullptr);
    ASSERT_TRUE(b.ok()) << b.status();
    ASSERT_TRUE((*b)->PutMetadata("eddy.observed-stream-time", std::string(8, '\x7f')).ok());
    EXPECT_TRUE(*(*b)->Empty());
    EXPECT_TRUE((*b)->Segments().empty());
    ASSERT_TRUE((*b)->Flush().ok());
    ASSERT_TRUE((*b)->Close().ok());
  }
  auto b = state_internal::OpenRocksDbBackend(dir.path() + "/db", kInterval, nullptr);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(*(*b)->Empty());
  EXPECT_TRUE((*b)->Segments().empty());
  EXPECT_EQ(**(*b)->GetMetadata("eddy.observed-stream-time"), std::string(8, '\x7f'));
  ASSERT_TRUE((*b)->Close().ok());
}

}  // namespace
}  // namespace eddy
