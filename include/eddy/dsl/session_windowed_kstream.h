// SessionWindowedKStream<K, V>: a grouped stream windowed by SessionWindows, ready for an aggregation, as
// Kafka Streams' SessionWindowedKStream. Made by KGroupedStream::WindowedBy(SessionWindows).
//
//   Operation   Kafka name    stateful  returns
//   Count       count         yes       KTable<Windowed<K>, int64_t>
//   Reduce      reduce        yes       KTable<Windowed<K>, V> (the reducer also merges sessions)
//   Aggregate   aggregate     yes       KTable<Windowed<K>, VA>, with a merger(key, a, b) for merging sessions
//   Emit        emitStrategy  -         SessionWindowedKStream (OnWindowUpdate, the default, or OnWindowClose)
//
// Sessions live in a session store (Materialized::As("name"), default "<aggregation node>-store";
// persistent, cached, logged), retention Materialized::WithRetention, default gap + grace. When a record
// merges sessions, the merged-away sessions are deleted: with the default emit strategy their keys flow
// downstream as tombstones (nullopt), then the merged session's value. With OnWindowClose a
// "<store>-close-buffer" key-value store remembers the open sessions (see time_windowed_kstream.h).
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
#include "eddy/dsl/time_windowed_kstream.h"
#include "eddy/dsl/window_nodes.h"
#include "eddy/dsl/windowed_serde.h"
#include "eddy/dsl/windows.h"

namespace eddy {

namespace dsl_internal {

// Reads a session's value from a session store (Kafka's KTableSessionWindowValueGetter).
template <typename KS, typename VS>
class SessionStoreGetter final : public TableGetter<Windowed<typename KS::Type>, typename VS::Type> {
 public:
  using V = typename VS::Type;
  SessionStoreGetter(std::string store, KS ks, VS vs)
      : store_name_(std::move(store)), key_serde_(std::move(ks)), value_serde_(std::move(vs)) {}
  absl::Status Init(TaskContext* ctx, const std::string& node) override {
    EDDY_ASSIGN_OR_RETURN(store_, FindTaskStore<SessionStore>(ctx, node, store_name_));
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<V>> Get(const Windowed<typename KS::Type>& key) override {
    EDDY_RETURN_IF_ERROR(SerializeWith(key_serde_, key.key, &key_buf_));
    EDDY_ASSIGN_OR_RETURN(bool found, store_->FetchSession(key_buf_, key.window.start, key.window.end, &value_buf_));
    if (!found) return std::optional<V>();
    V v{};
    EDDY_RETURN_IF_ERROR(value_serde_.Deserialize(value_buf_, &v));
    return std::optional<V>(std::move(v));
  }

 private:
  std::string store_name_;
  KS key_serde_;
  VS value_serde_;
  SessionStore* store_ = nullptr;
  std::string key_buf_, value_buf_;
};

}  // namespace dsl_internal

template <typename K, typename V>
class SessionWindowedKStream
    : public dsl_internal::WindowedKStreamBase<SessionWindowedKStream<K, V>, K, V, SessionWindows> {
 public:
  using Key = K;
  using Value = V;
  // Emit(EmitStrategy): see the table above.

  // ---- Count: records per session. ----
  template <typename M = Materialized>
  KTable<Windowed<K>, int64_t> Count(const M& materialized = M(), const Named& named = {}) const {
    return Run<int64_t>(
        "count", named, materialized, [] { return int64_t{0}; },
        [](const K&, const V&, int64_t n) { return n + 1; }, [](const K&, int64_t a, int64_t b) { return a + b; });
  }
  // ---- Reduce: reducer(aggregate, value); merging two sessions is reducer(a, b). ----
  template <typename R, typename M = Materialized>
    requires std::is_invocable_r_v<V, R&, const V&, const V&>
  KTable<Windowed<K>, V> Reduce(R reducer, const M& materialized = M(), const Named& named = {}) const {
    // Kafka's reduce over sessions: the first value starts the session (no initial value to combine with).
    return Run<V>(
        "reduce", named, materialized, [] { return V{}; },
        [reducer](const K&, const V& v, const V& agg) mutable -> V { return reducer(agg, v); },
        [reducer](const K&, const V& a, const V& b) mutable -> V { return reducer(a, b); }, /*reduce=*/true);
  }
  // ---- Aggregate: initializer(), aggregator(key, value, aggregate), merger(key, a, b). ----
  template <typename I, typename A, typename Mg, typename M = Materialized>
    requires std::is_invocable_v<I&>
  auto Aggregate(I initializer, A aggregator, Mg merger, const M& materialized = M(), const Named& named = {}) const {
    using VA = std::decay_t<std::invoke_result_t<I&>>;
    return Run<VA>("aggregate", named, materialized, std::move(initializer), std::move(aggregator),
                   std::move(merger));
  }

 private:
  using Base = dsl_internal::WindowedKStreamBase<SessionWindowedKStream, K, V, SessionWindows>;
  template <typename, typename>
  friend class KGroupedStream;
  SessionWindowedKStream(dsl_internal::GraphBuilder* graph, typename Base::Input input, std::string grouped_name,
                         SessionWindows windows)
      : Base(graph, std::move(input), std::move(grouped_name), windows) {}

  template <typename VA, typename M, typename I, typename A, typename Mg>
  KTable<Windowed<K>, VA> Run(const char* op, const Named& named, const M& materialized, I init, A agg, Mg merge,
                              bool reduce = false) const {
    const Materialized& m = materialized;
    const SessionWindows windows = this->windows_;
    typename Base::Node node = this->AddNode(op, named, m);
    if (absl::Status st = windows.Validate(); !st.ok()) {
      dsl_internal::RecordGraphError(this->graph_, std::string(st.message()));
    } else {
      dsl_internal::AddSessionStore(this->graph_, node.id, node.store, m, windows.gap_ms + windows.grace_ms,
                                    node.buffer);
    }
    return this->template Finish<VA>(
        node, materialized,
        [windows, init, agg, merge, reduce]<typename KS, typename VAS>(KS ks, VAS vas, auto info) {
          return [info, windows, ks, vas, init, agg, merge, reduce] {
            return dsl_internal::SessionAggregateTerminal<K, V, KS, VAS, I, A, Mg>(
                info->store, info->close_buffer, windows, ks, vas, init, agg, merge, reduce);
          };
        },
        []<typename KS, typename VAS>(const std::string& store, KS ks, VAS vas) {
          return std::make_unique<dsl_internal::SessionStoreGetter<KS, VAS>>(store, ks, vas);
        });
  }
};

}  // namespace eddy
