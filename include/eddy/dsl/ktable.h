// KTable<K, V>: a changelog stream seen as a table, as Kafka Streams' KTable: each key's latest value. Made
// by StreamsBuilder::Table (from a topic) or by an aggregation (KGroupedStream::Count, Reduce, Aggregate).
//
//   Operation   Kafka name   stateful  repartitions  returns
//   Filter      filter       no        no            KTable<K, V>: a filtered-out update deletes the key
//   FilterNot   filterNot    no        no            KTable<K, V>
//   MapValues   mapValues    no        no            KTable<K, V2>
//   ToStream    toStream     no        no            KStream<K, V>: every update; tombstones are dropped
//                                                    (a typed stream has no null values)
// and, on the stream side, KStream::Join(table, joiner) / LeftJoin (stream-table joins, kstream.h).
//
// Updates flow downstream as the table's store reports them: with caching (Materialized's default) one
// update per key per commit (or cache eviction), without it one per input record. A deleted key (a
// tombstone in the table's topic) flows as a tombstone: derived tables delete it too.
//
// A KTable refers to its StreamsBuilder, which must outlive it. Not thread-safe (build on one thread).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eddy/dsl/kstream.h"
#include "eddy/dsl/materialized.h"
#include "eddy/dsl/table_nodes.h"
#include "eddy/dsl/suppress.h"
#include "eddy/dsl/windows.h"

namespace eddy {

template <typename K, typename V>
class KTable {
 public:
  using Key = K;
  using Value = V;

  // The name of the node the table's updates come out of.
  const std::string& node_name() const { return changes_.node_name(); }
  // The store holding this table (Materialized name, or the generated one); empty for a table derived
  // by Filter or MapValues (which reads through its parent's store).
  const std::string& store_name() const { return store_name_; }

  // ---- Filter / FilterNot: keep the keys whose value satisfies pred(key, value). ----
  template <typename P>
    requires FilterPredicate<P, K, V>
  KTable<K, V> Filter(P pred, const Named& named = {}) const {
    return Derive<V>("filter", named, [pred](const K& k, const std::optional<V>& v) mutable {
      return v.has_value() && static_cast<bool>(pred(k, *v)) ? v : std::optional<V>();
    });
  }
  template <typename P>
    requires FilterPredicate<P, K, V>
  KTable<K, V> FilterNot(P pred, const Named& named = {}) const {
    return Derive<V>("filternot", named, [pred](const K& k, const std::optional<V>& v) mutable {
      return v.has_value() && !static_cast<bool>(pred(k, *v)) ? v : std::optional<V>();
    });
  }

  // ---- MapValues: value -> fn(value) or fn(key, value); tombstones stay tombstones. ----
  template <typename F>
    requires ValueMapper<F, K, V>
  auto MapValues(F fn, const Named& named = {}) const {
    using V2 = dsl_internal::ValueFnResult<F, K, V>;
    return Derive<V2>("mapvalues", named, [fn](const K& k, const std::optional<V>& v) mutable {
      return v.has_value() ? std::optional<V2>(dsl_internal::CallValueFn(fn, k, *v)) : std::optional<V2>();
    });
  }

  // ---- Suppress: windowed tables only (from WindowedBy aggregations): holds every update back until its
  // window closes, then emits the window's final value once (suppress.h, docs/windows.md). ----
  KTable<K, V> Suppress(const Suppressed& suppressed) const { return dsl_internal::WindowAccess::Suppress(*this, suppressed); }

  // ---- ToStream: the table's updates as a stream (tombstones dropped). ----
  KStream<K, V> ToStream(const Named& named = {}) const {
    return changes_.Then("tostream", named, dsl_internal::UnwrapChangeOp<K, V>{});
  }

 private:
  template <typename, typename, typename>
  friend class KStream;
  template <typename, typename>
  friend class KTable;
  template <typename, typename>
  friend class KGroupedStream;
  friend class StreamsBuilder;
  friend struct dsl_internal::WindowAccess;

  KTable(KStream<K, std::optional<V>> changes, dsl_internal::TableGetterSupplier<K, V> getter,
         std::vector<std::string> getter_stores, std::string store_name)
      : changes_(std::move(changes)), getter_(std::move(getter)), getter_stores_(std::move(getter_stores)),
        store_name_(std::move(store_name)) {}

  // The table kept in `store` (serdes ks, vs), whose updates come out of node `id` (its store's emitter).
  template <typename KS, typename VS>
  static KTable MakeStoreTable(dsl_internal::GraphBuilder* graph, int id, const std::string& store, KS ks, VS vs) {
    dsl_internal::TableGetterSupplier<K, V> getter = [store, ks, vs]() -> std::unique_ptr<dsl_internal::TableGetter<K, V>> {
      return std::make_unique<dsl_internal::StoreTableGetter<KS, VS>>(store, ks, vs);
    };
    return KTable(KStream<K, std::optional<V>>(graph, id, {}), std::move(getter), {store}, store);
  }

  // A table whose value is fn(key, optional<V>) -> optional<V2>, both for updates and for lookups.
  template <typename V2, typename Fn>
  KTable<K, V2> Derive(const char* op, const Named& named, Fn fn) const {
    KStream<K, std::optional<V2>> changes =
        changes_.Then(op, named, dsl_internal::MapValuesOp<K, std::optional<V>, Fn>{fn});
    dsl_internal::TableGetterSupplier<K, V> parent = getter_;
    dsl_internal::TableGetterSupplier<K, V2> getter = [parent, fn]() -> std::unique_ptr<dsl_internal::TableGetter<K, V2>> {
      return std::make_unique<dsl_internal::MappedTableGetter<K, V, V2, Fn>>(parent(), fn);
    };
    KTable<K, V2> out(std::move(changes), std::move(getter), getter_stores_, "");
    out.windowed_ = windowed_;
    return out;
  }

  KStream<K, std::optional<V>> changes_;
  dsl_internal::TableGetterSupplier<K, V> getter_;  // for joins
  std::vector<std::string> getter_stores_;           // the stores the getter reads (connected to joins)
  std::string store_name_;
  // Windowed tables only: how Suppress finds a window's close time (null for other tables).
  std::shared_ptr<dsl_internal::WindowedTableInfo> windowed_;
};

}  // namespace eddy
