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
#include "eddy/dsl/stream_aggregations.h"
#include "eddy/dsl/suppress.h"
#include "eddy/dsl/window_nodes.h"
#include "eddy/dsl/windowed_serde.h"
#include "eddy/dsl/windows.h"
#include "eddy/state/windowed.h"

namespace eddy {


template <typename K, typename V>
class TimeWindowedKStream
    : public dsl_internal::WindowedKStreamBase<TimeWindowedKStream<K, V>, K, V, TimeWindows>,
      public dsl_internal::CountReduceAggregate<TimeWindowedKStream<K, V>, K, V, Windowed<K>> {
 public:
  using Key = K;
  using Value = V;
  // Emit(EmitStrategy), Count, Reduce(reducer), Aggregate(initializer, aggregator): see the table above and
  // stream_aggregations.h.

 private:
  using Base = dsl_internal::WindowedKStreamBase<TimeWindowedKStream, K, V, TimeWindows>;
  template <typename, typename>
  friend class KGroupedStream;
  friend class dsl_internal::CountReduceAggregate<TimeWindowedKStream, K, V, Windowed<K>>;
  TimeWindowedKStream(dsl_internal::GraphBuilder* graph, typename Base::Input input, std::string grouped_name,
                      TimeWindows windows)
      : Base(graph, std::move(input), std::move(grouped_name), windows) {}

  template <typename VA, typename M, typename Fn>
  KTable<Windowed<K>, VA> Run(const char* op, const Named& named, const M& materialized, Fn fn) const {
    const Materialized& m = materialized;
    const TimeWindows windows = this->windows_;
    typename Base::Node node = this->AddNode(op, named, m);
    if (absl::Status st = windows.Validate(); !st.ok()) {
      dsl_internal::RecordGraphError(this->graph_, std::string(st.message()));
    } else {
      dsl_internal::AddWindowStore(this->graph_, node.id, node.store, m, windows.size_ms,
                                   windows.size_ms + windows.grace_ms, node.buffer);
    }
    return this->template Finish<VA>(
        node, materialized,
        [windows, fn]<typename KS, typename VAS>(KS ks, VAS vas, auto info) {
          return [info, windows, ks, vas, fn] {
            return dsl_internal::TimeWindowAggregateTerminal<K, V, KS, VAS, Fn>(info->store, info->close_buffer,
                                                                                windows, ks, vas, fn);
          };
        },
        []<typename KS, typename VAS>(const std::string& store, KS ks, VAS vas) {
          return std::make_unique<dsl_internal::WindowStoreGetter<KS, VAS>>(store, ks, vas);
        });
  }
};

}  // namespace eddy
