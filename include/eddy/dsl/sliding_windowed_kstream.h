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
#include "eddy/dsl/stream_aggregations.h"
#include "eddy/dsl/suppress.h"
#include "eddy/dsl/window_nodes.h"
#include "eddy/dsl/windowed_serde.h"
#include "eddy/dsl/windows.h"
#include "eddy/state/windowed.h"

namespace eddy {

template <typename K, typename V>
class SlidingWindowedKStream
    : public dsl_internal::WindowedKStreamBase<SlidingWindowedKStream<K, V>, K, V, SlidingWindows>,
      public dsl_internal::CountReduceAggregate<SlidingWindowedKStream<K, V>, K, V, Windowed<K>> {
 public:
  using Key = K;
  using Value = V;
  // Emit(EmitStrategy), Count, Reduce(reducer), Aggregate(initializer, aggregator): see the table above and
  // stream_aggregations.h.

 private:
  using Base = dsl_internal::WindowedKStreamBase<SlidingWindowedKStream, K, V, SlidingWindows>;
  template <typename, typename>
  friend class KGroupedStream;
  friend class dsl_internal::CountReduceAggregate<SlidingWindowedKStream, K, V, Windowed<K>>;
  SlidingWindowedKStream(dsl_internal::GraphBuilder* graph, typename Base::Input input, std::string grouped_name,
                         SlidingWindows windows)
      : Base(graph, std::move(input), std::move(grouped_name), windows) {}

  template <typename VA, typename M, typename Fn>
  KTable<Windowed<K>, VA> Run(const char* op, const Named& named, const M& materialized, Fn fn) const {
    const Materialized& m = materialized;
    const SlidingWindows windows = this->windows_;
    typename Base::Node node = this->AddNode(op, named, m);
    if (absl::Status st = windows.Validate(); !st.ok()) {
      dsl_internal::RecordGraphError(this->graph_, std::string(st.message()));
    } else if (m.retention_ms >= 0 && m.retention_ms < windows.MinRetention()) {
      dsl_internal::RecordGraphError(
          this->graph_, absl::StrCat("store ", node.store, ": retention ", m.retention_ms,
                                     " ms is shorter than 2 * time difference + grace period + 1 ms (",
                                     windows.MinRetention(), " ms)"));
    } else {
      dsl_internal::AddWindowStore(this->graph_, node.id, node.store, m, windows.time_difference_ms,
                                   windows.MinRetention(), node.buffer);
    }
    return this->template Finish<VA>(
        node, materialized,
        [windows, fn]<typename KS, typename VAS>(KS ks, VAS vas, auto info) {
          return [info, windows, ks, vas, fn] {
            return dsl_internal::SlidingWindowAggregateTerminal<K, V, KS, VAS, Fn>(info->store, info->close_buffer,
                                                                                   windows, ks, vas, fn);
          };
        },
        []<typename KS, typename VAS>(const std::string& store, KS ks, VAS vas) {
          return std::make_unique<dsl_internal::WindowStoreGetter<KS, VAS>>(store, ks, vas,
                                                                            dsl_internal::kSlidingValuePrefix);
        });
  }
};

}  // namespace eddy
