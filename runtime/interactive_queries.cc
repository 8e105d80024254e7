// The read-only store views of interactive queries (interactive_queries.h). Each read runs under the
// owning stream thread's lock (StoreProvider::WithStores) and copies what it reads out.
#include "eddy/runtime/interactive_queries.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/core/partitioner.h"
#include "eddy/core/status.h"
#include "eddy/state/key_value_store.h"
#include "eddy/state/session_store.h"
#include "eddy/state/window_store.h"

namespace eddy {
namespace runtime_internal {
namespace {

template <typename S>
const char* KindName();
template <>
const char* KindName<KeyValueStore>() {
  return "key-value";
}
template <>
const char* KindName<WindowStore>() {
  return "window";
}
template <>
const char* KindName<SessionStore>() {
  return "session";
}

const char* KindOf(StateStore& store) {
  if (dynamic_cast<KeyValueStore*>(&store) != nullptr) return "key-value";
  if (dynamic_cast<WindowStore*>(&store) != nullptr) return "window";
  if (dynamic_cast<SessionStore*>(&store) != nullptr) return "session";
  return "custom";
}

// Drains a window or session iterator into (Windowed key, value) pairs.
template <typename It, typename WindowOf>
absl::Status Drain(It it, WindowOf window_of, std::vector<KeyValue<Windowed<std::string>, std::string>>* out) {
  for (; it.Valid(); it.Next()) {
    out->push_back({Windowed<std::string>{std::string(it.key()), window_of(it)}, std::string(it.value())});
  }
  return it.status();
}

void SortByKeyAndWindow(std::vector<KeyValue<Windowed<std::string>, std::string>>* entries) {
  std::sort(entries->begin(), entries->end(), [](const auto& a, const auto& b) {
    if (a.key.key != b.key.key) return a.key.key < b.key.key;
    return a.key.window < b.key.window;
  });
}

}  // namespace

template <typename S>
absl::Status StoreView::Typed(StateStore& store, absl::FunctionRef<absl::Status(S&)> fn) const {
  S* typed = dynamic_cast<S*>(&store);
  if (typed == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("state store ", name_, " is a ", KindOf(store), " store, not a ",
                                                   KindName<S>(), " store"));
  }
  return fn(*typed);
}

template <typename S>
absl::StatusOr<bool> StoreView::OnKeyStore(absl::string_view key, absl::FunctionRef<absl::Status(S&)> fn) const {
  bool found = false;
  EDDY_RETURN_IF_ERROR(provider_->WithStores(name_, KeyPartition(key, partitions_), [&](int32_t, StateStore& s) {
    found = true;
    return Typed<S>(s, fn);
  }));
  return found;
}

template <typename S>
absl::Status StoreView::OnEveryStore(absl::FunctionRef<absl::Status(S&)> fn) const {
  return provider_->WithStores(name_, -1, [&](int32_t, StateStore& s) { return Typed<S>(s, fn); });
}

}  // namespace runtime_internal

absl::StatusOr<std::optional<std::string>> ReadOnlyKeyValueStore::Get(absl::string_view key) const {
  std::optional<std::string> out;
  EDDY_RETURN_IF_ERROR(OnKeyStore<KeyValueStore>(key, [&](KeyValueStore& s) -> absl::Status {
                         EDDY_ASSIGN_OR_RETURN(out, s.Get(key));
                         return absl::OkStatus();
                       }).status());
  return out;
}

namespace {

absl::Status DrainKeyValues(std::unique_ptr<KeyValueIterator> it, std::vector<KeyValue<std::string, std::string>>* out) {
  for (; it->Valid(); it->Next()) out->push_back({std::string(it->key()), std::string(it->value())});
  return it->status();
}

void SortByKey(std::vector<KeyValue<std::string, std::string>>* entries) {
  std::sort(entries->begin(), entries->end(), [](const auto& a, const auto& b) { return a.key < b.key; });
}

}  // namespace

absl::StatusOr<std::vector<KeyValue<std::string, std::string>>> ReadOnlyKeyValueStore::Range(
    absl::string_view from, absl::string_view to) const {
  std::vector<KeyValue<std::string, std::string>> out;
  EDDY_RETURN_IF_ERROR(
      OnEveryStore<KeyValueStore>([&](KeyValueStore& s) { return DrainKeyValues(s.Range(from, to), &out); }));
  SortByKey(&out);  // each partition's keys are sorted and disjoint from the others'
  return out;
}

absl::StatusOr<std::vector<KeyValue<std::string, std::string>>> ReadOnlyKeyValueStore::All() const {
  std::vector<KeyValue<std::string, std::string>> out;
  EDDY_RETURN_IF_ERROR(OnEveryStore<KeyValueStore>([&](KeyValueStore& s) { return DrainKeyValues(s.All(), &out); }));
  SortByKey(&out);
  return out;
}

absl::StatusOr<uint64_t> ReadOnlyKeyValueStore::ApproximateNumEntries() const {
  uint64_t total = 0;
  EDDY_RETURN_IF_ERROR(OnEveryStore<KeyValueStore>([&](KeyValueStore& s) -> absl::Status {
    EDDY_ASSIGN_OR_RETURN(uint64_t n, s.ApproximateNumEntries());
    total += n;
    return absl::OkStatus();
  }));
  return total;
}

absl::StatusOr<std::optional<std::string>> ReadOnlyWindowStore::Fetch(absl::string_view key,
                                                                      int64_t window_start) const {
  std::optional<std::string> out;
  EDDY_RETURN_IF_ERROR(OnKeyStore<WindowStore>(key, [&](WindowStore& s) -> absl::Status {
                         std::string value;
                         EDDY_ASSIGN_OR_RETURN(bool found, s.Fetch(key, window_start, &value));
                         if (found) out = std::move(value);
                         return absl::OkStatus();
                       }).status());
  return out;
}

absl::StatusOr<std::vector<KeyValue<int64_t, std::string>>> ReadOnlyWindowStore::Fetch(absl::string_view key,
                                                                                       int64_t time_from,
                                                                                       int64_t time_to) const {
  std::vector<KeyValue<int64_t, std::string>> out;
  EDDY_RETURN_IF_ERROR(OnKeyStore<WindowStore>(key, [&](WindowStore& s) -> absl::Status {
                         WindowStoreIterator it = s.Fetch(key, time_from, time_to);
                         for (; it.Valid(); it.Next()) out.push_back({it.window_start(), std::string(it.value())});
                         return it.status();
                       }).status());
  return out;
}

absl::StatusOr<std::vector<KeyValue<Windowed<std::string>, std::string>>> ReadOnlyWindowStore::FetchAll(
    int64_t time_from, int64_t time_to) const {
  std::vector<KeyValue<Windowed<std::string>, std::string>> out;
  EDDY_RETURN_IF_ERROR(OnEveryStore<WindowStore>([&](WindowStore& s) {
    const int64_t size = s.window_size_ms();
    return runtime_internal::Drain(
        s.FetchAll(time_from, time_to),
        [size](const WindowStoreIterator& it) { return Window{it.window_start(), it.window_start() + size}; }, &out);
  }));
  runtime_internal::SortByKeyAndWindow(&out);
  return out;
}

absl::StatusOr<std::vector<KeyValue<Windowed<std::string>, std::string>>> ReadOnlyWindowStore::All() const {
  std::vector<KeyValue<Windowed<std::string>, std::string>> out;
  EDDY_RETURN_IF_ERROR(OnEveryStore<WindowStore>([&](WindowStore& s) {
    const int64_t size = s.window_size_ms();
    return runtime_internal::Drain(
        s.All(), [size](const WindowStoreIterator& it) { return Window{it.window_start(), it.window_start() + size}; },
        &out);
  }));
  runtime_internal::SortByKeyAndWindow(&out);
  return out;
}

absl::StatusOr<std::vector<KeyValue<Windowed<std::string>, std::string>>> ReadOnlySessionStore::Fetch(
    absl::string_view key) const {
  std::vector<KeyValue<Windowed<std::string>, std::string>> out;
  EDDY_RETURN_IF_ERROR(OnKeyStore<SessionStore>(key, [&](SessionStore& s) {
                         return runtime_internal::Drain(
                             s.Fetch(key), [](const SessionStoreIterator& it) { return it.window(); }, &out);
                       }).status());
  return out;
}

}  // namespace eddy
