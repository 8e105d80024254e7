// Session stores (persistent and in-memory, cached and not): a model of FindSessions on seeded random
// operations, and a session-window count built on FindSessions/Remove/Put, as the DSL will, against a
// brute-force clustering of the same out-of-order records.
#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "eddy/state/session_store.h"
#include "eddy/state/stores.h"
#include "gtest/gtest.h"
#include "state/store_key_format.h"
#include "state/test_util.h"

namespace eddy {
namespace {

using state_testing::RandomKey;
using state_testing::TestTask;

constexpr int64_t kInterval = 250;

struct SessionParam {
  bool persistent;
  bool caching;
  int64_t cache_bytes;
};

std::string Name(const testing::TestParamInfo<SessionParam>& p) {
  return absl::StrCat(p.param.persistent ? "RocksDb" : "InMemory", p.param.caching ? "Cached" : "Uncached",
                      p.param.caching ? absl::StrCat(p.param.cache_bytes) : "");
}

using Sessions = std::vector<std::tuple<std::string, int64_t, int64_t, std::string>>;  // key, start, end, value

class SessionStoreTest : public testing::TestWithParam<SessionParam> {
 protected:
  SessionStoreTest() : task_(GetParam().cache_bytes) {}

  std::unique_ptr<SessionStore> Open(int64_t retention_ms) {
    SessionStoreBuilder b = GetParam().persistent
                                ? Stores::PersistentSessionStore("sess", absl::Milliseconds(retention_ms))
                                : Stores::InMemorySessionStore("sess", absl::Milliseconds(retention_ms));
    b.WithSegmentInterval(absl::Milliseconds(kInterval));
    if (GetParam().caching) b.WithCachingEnabled();
    auto store = b.Build();
    EXPECT_TRUE(store.ok()) << store.status();
    absl::Status s = (*store)->Init(&task_.context);
    EXPECT_TRUE(s.ok()) << s;
    return std::move(*store);
  }

  static Sessions Collect(SessionStoreIterator it) {
    Sessions out;
    for (; it.Valid(); it.Next()) {
      out.emplace_back(std::string(it.key()), it.window().start, it.window().end, std::string(it.value()));
    }
    EXPECT_TRUE(it.status().ok()) << it.status();
    return out;
  }

  TestTask task_;
};

TEST_P(SessionStoreTest, FindSessionsMatchesModelOnRandomOperations) {
  constexpr int64_t kRetention = 1000;
  std::mt19937_64 rng(11);
  std::map<std::string, std::string> model;  // store key -> value
  int64_t observed = -1;
  auto min_live_segment = [&] { return observed - kRetention < 0 ? -1 : (observed - kRetention) / kInterval; };
  auto store = Open(kRetention);
  int64_t now = 0;
  std::string value;
  for (int i = 0; i < 4000; ++i) {
    now += static_cast<int64_t>(rng() % 8);
    const std::string key = RandomKey(rng);
    const int64_t end = std::max<int64_t>(0, now - static_cast<int64_t>(rng() % 1300));
    const int64_t start = std::max<int64_t>(0, end - static_cast<int64_t>(rng() % 300));
    std::string store_key;
    state_internal::EncodeSessionKey(key, start, end, &store_key);
    const int op = static_cast<int>(rng() % 100);
    if (op < 50) {
      ASSERT_TRUE(store->Put({key, {start, end}}, absl::StrCat("v", i)).ok());
      observed = std::max(observed, end);
      if (end / kInterval >= min_live_segment()) model[store_key] = absl::StrCat("v", i);
    } else if (op < 60) {
      ASSERT_TRUE(store->Remove({key, {start, end}}).ok());
      observed = std::max(observed, end);
      model.erase(store_key);
    } else if (op < 70) {
      auto found = store->FetchSession(key, start, end, &value);
      ASSERT_TRUE(found.ok());
      const bool live = end >= observed - kRetention + 1;
      ASSERT_EQ(*found, live && model.contains(store_key)) << i;
      if (*found) {
        EXPECT_EQ(value, model[store_key]);
      }
    } else if (op < 98) {
      const int64_t latest_start = end + static_cast<int64_t>(rng() % 400);
      Sessions expected;
      std::vector<std::pair<std::string, std::string>> rows(model.begin(), model.end());
      // Segment (by end) first, then store key: for one key that is (end, start) order.
      std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
        return state_internal::SessionKeyEnd(a.first) / kInterval < state_internal::SessionKeyEnd(b.first) / kInterval;
      });
      for (const auto& [k, v] : rows) {
        if (k.size() != key.size() + 16 || state_internal::SessionKeyKey(k) != key) continue;
        const int64_t e = state_internal::SessionKeyEnd(k), s = state_internal::SessionKeyStart(k);
        if (e >= std::max(end, observed - kRetention + 1) && s <= latest_start && e / kInterval >= min_live_segment()) {
          expected.emplace_back(key, s, e, v);
        }
      }
      ASSERT_EQ(Collect(store->FindSessions(key, end, latest_start)), expected) << i;
    } else if (op < 99 || !GetParam().persistent) {
      ASSERT_TRUE(store->Flush().ok());
    } else {
      ASSERT_TRUE(store->Close().ok());
      store = Open(kRetention);
    }
  }
  ASSERT_TRUE(store->Close().ok());
}

// Session-window counting with an inactivity gap, the DSL's algorithm (Kafka's
// KStreamSessionWindowAggregate): find the sessions within the gap of the record, merge them with it, remove
// them, put the merged session.
TEST_P(SessionStoreTest, MergingSessionsMatchesBruteForceClustering) {
  constexpr int64_t kGap = 100;
  std::mt19937_64 rng(5);
  auto store = Open(/*retention_ms=*/1'000'000);  // nothing expires: merging must be exact
  std::map<std::string, std::vector<int64_t>> times;
  for (int i = 0; i < 3000; ++i) {
    const std::string key = absl::StrCat("user", rng() % 7);
    const int64_t t = static_cast<int64_t>(i) * 3 + static_cast<int64_t>(rng() % 400);  // out of order
    times[key].push_back(t);
    int64_t start = t, end = t, count = 1;
    std::vector<Window> merged;
    for (auto it = store->FindSessions(key, t - kGap, t + kGap); it.Valid(); it.Next()) {
      start = std::min(start, it.window().start);
      end = std::max(end, it.window().end);
      count += std::stoll(std::string(it.value()));
      merged.push_back(it.window());
    }
    for (const Window& w : merged) ASSERT_TRUE(store->Remove({key, w}).ok());
    ASSERT_TRUE(store->Put({key, {start, end}}, absl::StrCat(count)).ok());
    if (i % 500 == 0) {
      ASSERT_TRUE(store->Flush().ok());
    }
  }
  for (auto& [key, ts] : times) {
    std::sort(ts.begin(), ts.end());
    Sessions expected;
    int64_t start = ts[0], end = ts[0], count = 0;
    for (int64_t t : ts) {
      if (t - end > kGap) {
        expected.emplace_back(key, start, end, absl::StrCat(count));
        start = t;
        count = 0;
      }
      end = t;
      ++count;
    }
    expected.emplace_back(key, start, end, absl::StrCat(count));
    EXPECT_EQ(Collect(store->Fetch(key)), expected) << key;
  }
  ASSERT_TRUE(store->Close().ok());
}

TEST_P(SessionStoreTest, RejectsInvalidSessions) {
  auto store = Open(1000);
  EXPECT_EQ(store->Put({"k", {10, 5}}, "v").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Put({"k", {-1, 5}}, "v").code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(store->Close().ok());
}

INSTANTIATE_TEST_SUITE_P(Stores, SessionStoreTest,
                         testing::Values(SessionParam{true, false, 0}, SessionParam{false, false, 0},
                                         SessionParam{true, true, ThreadCache::kDefaultMaxBytes},
                                         SessionParam{false, true, ThreadCache::kDefaultMaxBytes},
                                         SessionParam{true, true, 3000}, SessionParam{false, true, 3000}),
                         Name);

}  // namespace
}  // namespace eddy
