// KGroupedStream<K, V>: a stream grouped by key, ready for an aggregation (Kafka Streams'
// KGroupedStream). Made by KStream::GroupByKey or KStream::GroupBy.
//
//   Operation   Kafka name   stateful  repartitions            returns
//   Count       count        yes       if grouped by a new key  KTable<K, int64_t>
//   Reduce      reduce       yes       if grouped by a new key  KTable<K, V>
//   Aggregate   aggregate    yes       if grouped by a new key  KTable<K, VA>
//
// Each aggregation keeps its state in a key-value store: Materialized::As("name") names it (default
// "<aggregation node>-store"); by default persistent, cached and logged to "<application.id>-<name>-changelog",
// as Kafka. The resulting KTable emits every update of a key, coalesced by the cache: with caching one
// update per key per commit (or eviction), without it one per record.
//
// When the grouping changed the key, the records first go through the repartition topic
// "<application.id>-<name>-repartition", where name is the Grouped name, else the store's name if
// Materialized names it (as Kafka), else "<upstream node>-repartition"; the aggregation then runs in the
// sub-topology reading it, so each key is aggregated by one task.
//
// A KGroupedStream refers to its StreamsBuilder, which must outlive it. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#include "eddy/dsl/kstream.h"
#include "eddy/dsl/ktable.h"
#include "eddy/dsl/materialized.h"
#include "eddy/dsl/session_windowed_kstream.h"
#include "eddy/dsl/sliding_windowed_kstream.h"
#include "eddy/dsl/stream_aggregations.h"
#include "eddy/dsl/table_nodes.h"
#include "eddy/dsl/time_windowed_kstream.h"

namespace eddy {

template <typename K, typename V>
class KGroupedStream : public dsl_internal::CountReduceAggregate<KGroupedStream<K, V>, K, V, K> {
 public:
  using Key = K;
  using Value = V;

  // Count, Reduce(reducer), Aggregate(initializer, aggregator): see the table above and
  // stream_aggregations.h.

  // ---- WindowedBy: aggregate per window (windows.h, docs/windows.md): time windows (tumbling, hopping),
  // sliding windows or session windows. ----
  TimeWindowedKStream<K, V> WindowedBy(const TimeWindows& windows) const {
    return TimeWindowedKStream<K, V>(graph_, input_, grouped_name_, windows);
  }
  SlidingWindowedKStream<K, V> WindowedBy(const SlidingWindows& windows) const {
    return SlidingWindowedKStream<K, V>(graph_, input_, grouped_name_, windows);
  }
  SessionWindowedKStream<K, V> WindowedBy(const SessionWindows& windows) const {
    return SessionWindowedKStream<K, V>(graph_, input_, grouped_name_, windows);
  }

 private:
  template <typename, typename, typename>
  friend class KStream;
  friend class dsl_internal::CountReduceAggregate<KGroupedStream, K, V, K>;

  // Input(name) returns the stream to aggregate: the grouped stream, or its repartitioned copy (through
  // "<name>-repartition"; empty name: the default).
  using Input = std::function<KStream<K, V>(const std::string& repartition_name)>;
  KGroupedStream(dsl_internal::GraphBuilder* graph, Input input, std::string grouped_name)
      : graph_(graph), input_(std::move(input)), grouped_name_(std::move(grouped_name)) {}

  template <typename S, typename G>
  static KGroupedStream Make(const S& stream, const G& grouped, bool repartition) {
    auto serdes = GroupedSerdes(grouped);
    Input input;
    if (repartition) {
      input = [stream, serdes](const std::string& name) -> KStream<K, V> {
        auto r = Repartitioned(serdes.first, serdes.second);
        if (!name.empty()) r = std::move(r).WithName(name);
        return stream.Repartition(std::move(r));
      };
    } else {
      KStream<K, V> erased = stream;
      input = [erased](const std::string&) { return erased; };
    }
    return KGroupedStream(stream.graph_, std::move(input), grouped.name());
  }
  static auto GroupedSerdes(const Grouped&) { return std::make_pair(DefaultSerdeFor<K>(), DefaultSerdeFor<V>()); }
  template <Serde KS, Serde VS>
  static auto GroupedSerdes(const GroupedWith<KS, VS>& g) {
    static_assert(std::is_same_v<typename KS::Type, K> && std::is_same_v<typename VS::Type, V>,
                  "Grouped::WithSerdes: the serdes' types must be the grouped stream's key and value types");
    return std::make_pair(g.key_serde, g.value_serde);
  }

  // Adds the aggregation node (fn(key, value, old aggregate or null) -> aggregate) and its store.
  template <typename VA, typename M, typename Fn>
  KTable<K, VA> Run(const char* op, const Named& named, const M& materialized, Fn fn) const {
    const Materialized& m = materialized;
    KStream<K, V> in = input_(!grouped_name_.empty() ? grouped_name_ : m.name);
    const int id = in.AddChild(dsl_internal::NodeRole::kHard, op, named.name());
    const std::string store = m.name.empty() ? graph_->name(id) + "-store" : m.name;
    dsl_internal::AddMaterializedStore(graph_, id, store, m);
    auto serdes = dsl_internal::MaterializedSerdes<K, VA>(materialized);
    auto ks = serdes.first;
    auto vas = serdes.second;
    using KS = decltype(ks);
    using VAS = decltype(vas);
    dsl_internal::SetChainFactory(graph_, id, in.chain_, [store, ks, vas, fn] {
      return dsl_internal::AggregateTerminal<K, V, KS, VAS, Fn>(store, ks, vas, fn);
    });
    return KTable<K, VA>::MakeStoreTable(graph_, id, store, ks, vas);
  }

  dsl_internal::GraphBuilder* graph_;
  Input input_;
  std::string grouped_name_;
};

}  // namespace eddy
