// What the aggregation builders (KGroupedStream and the windowed streams) share:
//   - CountReduceAggregate: their Count / Reduce / Aggregate, written once as fn(key, value, const VA* old)
//     -> VA (old null for a new key or window) over the builder's Run; session windows, which also merge,
//     have their own;
//   - WindowedKStreamBase: a windowed stream's input, windows and emit strategy, and the steps every
//     windowed aggregation takes around its own store and terminal (the node, the store names, the serdes,
//     the table).
// The user-facing operations and their documentation are in kgrouped_stream.h and *_windowed_kstream.h.
//
// Implementation detail of the DSL (namespace dsl_internal). Builders are not thread-safe. Its includers
// include kstream.h first: kstream.h includes kgrouped_stream.h, and so this header, at its end.
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
#include "eddy/dsl/windows.h"
#include "eddy/state/windowed.h"

namespace eddy::dsl_internal {

// Count, Reduce and Aggregate of a builder whose tables are KTable<TK, ...>. Derived implements (and
// befriends this class for)
//   template <typename VA, typename M, typename Fn>
//   KTable<TK, VA> Run(const char* op, const Named&, const M& materialized, Fn fn) const;
template <typename Derived, typename K, typename V, typename TK>
class CountReduceAggregate {
 public:
  // ---- Count: the number of records per key (and window). ----
  template <typename M = Materialized>
  KTable<TK, int64_t> Count(const M& materialized = M(), const Named& named = {}) const {
    return self().template Run<int64_t>(
        "count", named, materialized,
        [](const K&, const V&, const int64_t* old) -> int64_t { return old ? *old + 1 : 1; });
  }
  // ---- Reduce: reducer(aggregate, value) -> new aggregate; the first value is the aggregate. ----
  template <typename R, typename M = Materialized>
    requires std::is_invocable_r_v<V, R&, const V&, const V&>
  KTable<TK, V> Reduce(R reducer, const M& materialized = M(), const Named& named = {}) const {
    return self().template Run<V>(
        "reduce", named, materialized,
        [reducer](const K&, const V& v, const V* old) mutable -> V { return old ? reducer(*old, v) : v; });
  }
  // ---- Aggregate: initializer() -> VA starts a key (or window); aggregator(key, value, aggregate) -> new
  // aggregate. A new sliding window may start from a copy of another window's aggregate. ----
  template <typename I, typename A, typename M = Materialized>
    requires std::is_invocable_v<I&> &&
             std::is_invocable_v<A&, const K&, const V&, const std::decay_t<std::invoke_result_t<I&>>&>
  auto Aggregate(I initializer, A aggregator, const M& materialized = M(), const Named& named = {}) const {
    using VA = std::decay_t<std::invoke_result_t<I&>>;
    return self().template Run<VA>("aggregate", named, materialized,
                                   [initializer, aggregator](const K& k, const V& v, const VA* old) mutable -> VA {
                                     return old ? VA(aggregator(k, v, *old)) : VA(aggregator(k, v, initializer()));
                                   });
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

// A windowed stream's state: the grouped input (Input(name) returns the stream to aggregate, repartitioned
// through "<name>-repartition" when the grouping changed the key), the windows W and the emit strategy.
template <typename Derived, typename K, typename V, typename W>
class WindowedKStreamBase {
 public:
  // Emit sets when results go out (Kafka's emitStrategy).
  Derived Emit(const EmitStrategy& strategy) const {
    Derived out = static_cast<const Derived&>(*this);
    static_cast<WindowedKStreamBase&>(out).on_close_ = strategy.on_window_close();
    return out;
  }

 protected:
  using Input = std::function<KStream<K, V>(const std::string& repartition_name)>;
  WindowedKStreamBase(GraphBuilder* graph, Input input, std::string grouped_name, W windows)
      : graph_(graph), input_(std::move(input)), grouped_name_(std::move(grouped_name)), windows_(windows) {}

  // The aggregation node being added: its input, id, store and close buffer store (empty unless
  // EmitStrategy::OnWindowClose).
  struct Node {
    KStream<K, V> in;
    int id;
    std::string store;
    std::string buffer;
  };
  // AddNode adds the aggregation node `op` (the caller then adds its stores).
  Node AddNode(const char* op, const Named& named, const Materialized& m) const {
    KStream<K, V> in = input_(!grouped_name_.empty() ? grouped_name_ : m.name);
    const int id = WindowAccess::AddChild(in, op, named.name());
    std::string store = m.name.empty() ? graph_->name(id) + "-store" : m.name;
    std::string buffer = on_close_ ? store + "-close-buffer" : std::string();
    return Node{std::move(in), id, std::move(store), std::move(buffer)};
  }
  // Finish sets the node's terminal and returns its table. make_terminal(ks, vas, info) returns the
  // terminal factory; make_getter(store, ks, vas) the table's getter (unique_ptr<TableGetter>).
  template <typename VA, typename M, typename MakeTerminal, typename MakeGetter>
  KTable<Windowed<K>, VA> Finish(Node& node, const M& materialized, MakeTerminal make_terminal,
                                 MakeGetter make_getter) const {
    auto serdes = MaterializedSerdes<K, VA>(materialized);
    auto ks = serdes.first;
    auto vas = serdes.second;
    auto info = std::make_shared<WindowedTableInfo>(WindowedTableInfo{node.id, node.store, node.buffer});
    WindowAccess::SetFactory(node.in, node.id, make_terminal(ks, vas, info));
    TableGetterSupplier<Windowed<K>, VA> getter =
        [store = node.store, ks, vas, make_getter]() -> std::unique_ptr<TableGetter<Windowed<K>, VA>> {
      return make_getter(store, ks, vas);
    };
    return WindowAccess::MakeTable<Windowed<K>, VA>(graph_, node.id, std::move(getter), node.store,
                                                     std::move(info));
  }

  GraphBuilder* graph_;
  Input input_;
  std::string grouped_name_;
  W windows_;
  bool on_close_ = false;
};

}  // namespace eddy::dsl_internal
