// TimeWindowedKStream<K, V>: a grouped stream windowed by TimeWindows (tumbling or hopping), ready for an
// aggregation, as Kafka Streams' TimeWindowedKStream. Made by KGroupedStream::WindowedBy(TimeWindows).
//
//   Operation   Kafka name    stateful  returns
//   Count       count         yes       KTable<Windowed<K>, int64_t>
//   Reduce      reduce        yes       KTable<Windowed<K>, V>
//   Aggregate   aggregate     yes       KTable<Windowed<K>, VA>
//   Emit        emitStrategy  -         TimeWindowedKStream (OnWindowUpdate, the default, or OnWindowClose)
//
// Each aggregation keeps its windows in a window store (Materialized::As("name"), default
// "<aggregation node>-store"; persistent, cached and logged by default, as Kafka) with retention
// Materialized::WithRetention, default window size + grace. With EmitStrategy::OnWindowClose, a second
// key-value store "<store>-close-buffer" (logged as the first) remembers the windows that still owe their
// final result, so a restarted task neither loses nor repeats one. Repartitioning as for
// KGroupedStream's aggregations. See windows.h for the window semantics, docs/windows.md for the long form.
//
// Refers to its StreamsBuilder, which must outlive it. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "eddy/dsl/kstream.h"
#include "eddy/dsl/ktable.h"
#include "eddy/dsl/materialized.h"
#include "eddy/dsl/suppress.h"
#include "eddy/dsl/window_nodes.h"
#include "eddy/dsl/windowed_serde.h"
#include "eddy/dsl/windows.h"
#include "eddy/state/windowed.h"

namespace eddy {


template <typename K, typename V>
class TimeWindowedKStream {
 public:
  using Key = K;
  using Value = V;

  // Emit sets when results go out (Kafka's emitStrategy).
  TimeWindowedKStream Emit(const EmitStrategy& strategy) const {
    TimeWindowedKStream out = *this;
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
  // ---- Aggregate: initializer() starts each window; aggregator(key, value, aggregate) -> new aggregate. ----
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
  TimeWindowedKStream(dsl_internal::GraphBuilder* graph, std::function<KStream<K, V>(const std::string&)> input,
                      std::string grouped_name, TimeWindows windows)
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
    } else {
      dsl_internal::AddWindowStore(graph, id, store, m, windows_.size_ms, windows_.size_ms + windows_.grace_ms,
                                   buffer);
    }
    auto serdes = dsl_internal::MaterializedSerdes<K, VA>(materialized);
    auto ks = serdes.first;
    auto vas = serdes.second;
    using KS = decltype(ks);
    using VAS = decltype(vas);
    const TimeWindows windows = windows_;
    auto info = std::make_shared<dsl_internal::WindowedTableInfo>(dsl_internal::WindowedTableInfo{id, store, buffer});
    dsl_internal::WindowAccess::SetFactory(in, id, [info, windows, ks, vas, fn] {
      return dsl_internal::TimeWindowAggregateTerminal<K, V, KS, VAS, Fn>(info->store, info->close_buffer, windows, ks,
                                                                          vas, fn);
    });
    dsl_internal::TableGetterSupplier<Windowed<K>, VA> getter =
        [store, ks, vas]() -> std::unique_ptr<dsl_internal::TableGetter<Windowed<K>, VA>> {
      return std::make_unique<dsl_internal::WindowStoreGetter<KS, VAS>>(store, ks, vas);
    };
    return dsl_internal::WindowAccess::MakeTable<Windowed<K>, VA>(
        graph, id, std::move(getter), store, std::move(info));
  }

  struct {
    dsl_internal::GraphBuilder* graph;
    std::function<KStream<K, V>(const std::string&)> input;
    std::string grouped_name;
  } in_;
  TimeWindows windows_;
  bool on_close_ = false;
};

}  // namespace eddy
