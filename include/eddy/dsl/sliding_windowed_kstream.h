// SlidingWindowedKStream<K, V>: a grouped stream windowed by SlidingWindows, ready for an aggregation, as
// Kafka Streams' TimeWindowedKStream made by windowedBy(SlidingWindows). Made by
// KGroupedStream::WindowedBy(SlidingWindows).
//
//   Operation   Kafka name    stateful  returns
//   Count       count         yes       KTable<Windowed<K>, int64_t>
//   Reduce      reduce        yes       KTable<Windowed<K>, V>
//   Aggregate   aggregate     yes       KTable<Windowed<K>, VA>
//   Emit        emitStrategy  -         SlidingWindowedKStream (OnWindowUpdate, the default, or OnWindowClose)
//
// Each aggregation keeps its windows in a window store of window size d (Materialized::As("name"), default
// "<aggregation node>-store"; persistent, cached and logged by default, as Kafka) with retention
// Materialized::WithRetention, default and least 2 * d + grace + 1 ms (a record reads the windows up to 2 * d
// before it; Kafka's 2 * d + grace is one millisecond short, see SlidingWindows::MinRetention). Stored values are Kafka's timestamped layout: the window's largest record timestamp
// (8 bytes, big-endian), then the aggregate. Windowed keys carry Window{start, start + d}, both ends
// inclusive; TimeWindowedSerde(inner, d) writes them as Kafka does. Emit strategies, Suppress and
// repartitioning as for TimeWindowedKStream (time_windowed_kstream.h). Window semantics: windows.h,
// sliding_window_nodes.h; the long form: docs/windows.md.
//
// Refers to its StreamsBuilder, which must outlive it. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/dsl/kstream.h"
#include "eddy/dsl/ktable.h"
#include "eddy/dsl/materialized.h"
#include "eddy/dsl/sliding_window_nodes.h"
#include "eddy/dsl/suppress.h"
#include "eddy/dsl/window_nodes.h"
#include "eddy/dsl/windowed_serde.h"
#include "eddy/dsl/windows.h"
#include "eddy/state/windowed.h"

namespace eddy {

template <typename K, typename V>
class SlidingWindowedKStream {
 public:
  using Key = K;
  using Value = V;

  // Emit sets when results go out (Kafka's emitStrategy).
  SlidingWindowedKStream Emit(const EmitStrategy& strategy) const {
    SlidingWindowedKStream out = *this;
    out.on_close_ = strategy.on_window_close();
    return out;
  }

  // ---- Count: the number of records per key and window. ----
  template <typename M = Materialized>
  KTable<Windowed<K>, int64_t> Count(const M& materialized = M(), const Named& named = {}) const {
    return Run<int64_t>("count", named, materialized,
                        [](const K&, const V&, const int64_t* old) -> int64_t { return old ? *old + 1 : 1; });
  }
  // ---- Reduce: reducer(aggregate, value); a window's first value is its aggregate. ----
  template <typename R, typename M = Materialized>
    requires std::is_invocable_r_v<V, R&, const V&, const V&>
  KTable<Windowed<K>, V> Reduce(R reducer, const M& materialized = M(), const Named& named = {}) const {
    return Run<V>("reduce", named, materialized,
                  [reducer](const K&, const V& v, const V* old) mutable -> V { return old ? reducer(*old, v) : v; });
  }
  // ---- Aggregate: initializer() starts each window; aggregator(key, value, aggregate) -> new aggregate. A
  // new window may start from a copy of another window's aggregate (the records the two share). ----
  template <typename I, typename A, typename M = Materialized>
    requires std::is_invocable_v<I&> &&
             std::is_invocable_v<A&, const K&, const V&, const std::decay_t<std::invoke_result_t<I&>>&>
  auto Aggregate(I initializer, A aggregator, const M& materialized = M(), const Named& named = {}) const {
    using VA = std::decay_t<std::invoke_result_t<I&>>;
    return Run<VA>("aggregate", named, materialized,
                   [initializer, aggregator](const K& k, const V& v, const VA* old) mutable -> VA {
                     return old ? VA(aggregator(k, v, *old)) : VA(aggregator(k, v, initializer()));
                   });
  }

 private:
  template <typename, typename>
  friend class KGroupedStream;
  SlidingWindowedKStream(dsl_internal::GraphBuilder* graph, std::function<KStream<K, V>(const std::string&)> input,
                         std::string grouped_name, SlidingWindows windows)
      : in_{graph, std::move(input), std::move(grouped_name)}, windows_(windows) {}

  template <typename VA, typename M, typename Fn>
  KTable<Windowed<K>, VA> Run(const char* op, const Named& named, const M& materialized, Fn fn) const {
    const Materialized& m = materialized;
    dsl_internal::GraphBuilder* graph = in_.graph;
    KStream<K, V> in = in_.input(!in_.grouped_name.empty() ? in_.grouped_name : m.name);
    const int id = dsl_internal::WindowAccess::AddChild(in, op, named.name());
    const std::string store = m.name.empty() ? graph->name(id) + "-store" : m.name;
    const std::string buffer = on_close_ ? store + "-close-buffer" : std::string();
    if (absl::Status st = windows_.Validate(); !st.ok()) {
      dsl_internal::RecordGraphError(graph, std::string(st.message()));
    } else if (m.retention_ms >= 0 && m.retention_ms < windows_.MinRetention()) {
      dsl_internal::RecordGraphError(
          graph, absl::StrCat("store ", store, ": retention ", m.retention_ms,
                              " ms is shorter than 2 * time difference + grace period + 1 ms (",
                              windows_.MinRetention(), " ms)"));
    } else {
      dsl_internal::AddWindowStore(graph, id, store, m, windows_.time_difference_ms, windows_.MinRetention(), buffer);
    }
    auto serdes = dsl_internal::MaterializedSerdes<K, VA>(materialized);
    auto ks = serdes.first;
    auto vas = serdes.second;
    using KS = decltype(ks);
    using VAS = decltype(vas);
    const SlidingWindows windows = windows_;
    auto info = std::make_shared<dsl_internal::WindowedTableInfo>(dsl_internal::WindowedTableInfo{id, store, buffer});
    dsl_internal::WindowAccess::SetFactory(in, id, [info, windows, ks, vas, fn] {
      return dsl_internal::SlidingWindowAggregateTerminal<K, V, KS, VAS, Fn>(info->store, info->close_buffer, windows,
                                                                             ks, vas, fn);
    });
    dsl_internal::TableGetterSupplier<Windowed<K>, VA> getter =
        [store, ks, vas]() -> std::unique_ptr<dsl_internal::TableGetter<Windowed<K>, VA>> {
      return std::make_unique<dsl_internal::WindowStoreGetter<KS, VAS>>(store, ks, vas,
                                                                        dsl_internal::kSlidingValuePrefix);
    };
    return dsl_internal::WindowAccess::MakeTable<Windowed<K>, VA>(graph, id, std::move(getter), store,
                                                                  std::move(info));
  }

  struct {
    dsl_internal::GraphBuilder* graph;
    std::function<KStream<K, V>(const std::string&)> input;
    std::string grouped_name;
  } in_;
  SlidingWindows windows_;
  bool on_close_ = false;
};

}  // namespace eddy
