// KTable::Suppress(Suppressed::UntilWindowCloses(...)) for windowed tables, and WindowAccess, the one
// door through which the window code reaches the private parts of KStream and KTable.
//
// Suppression gives what Kafka's KTableSuppressProcessor with untilWindowCloses gives: one final result
// per window, once the task's stream time reaches the window's close time (window end + grace; sessions:
// end + gap + grace + 1). It is done where the windows are: Suppress switches the windowed aggregation
// upstream to emitting on close (as EmitStrategy::OnWindowClose), with a WindowCloseBuffer in the logged
// key-value store "<suppress node>-store" (a restarted task resumes with the same pending windows), and the
// suppress node passes the final results on. Reading each window's value from the aggregation's store when
// it closes, before the record that closed it is applied, means that no update held in the store's cache
// can follow the final result and that the window cannot have expired from the store first: the two ways
// Kafka's buffer-of-updates design can go wrong. Table operations between the aggregation and Suppress
// (Filter, MapValues) are stateless, so applying them to final results is the same as suppressing their
// output. Every user of the aggregation's table sees final results only once one of them suppresses it.
//
// Implementation detail of the DSL (namespace dsl_internal), except that users call KTable::Suppress.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "eddy/core/serde.h"
#include "eddy/dsl/chain.h"
#include "eddy/dsl/graph.h"
#include "eddy/dsl/nodes.h"
#include "eddy/dsl/table_nodes.h"
#include "eddy/dsl/window_close_buffer.h"
#include "eddy/dsl/window_nodes.h"
#include "eddy/dsl/windows.h"
#include "eddy/state/windowed.h"

namespace eddy {

template <typename K, typename V>
class KTable;

namespace dsl_internal {

// Adds a WindowCloseBuffer's key-value store (in memory, cached, logged) and connects it to `node`.
void AddCloseBufferStore(GraphBuilder* graph, int node, const std::string& name);
void RecordGraphError(GraphBuilder* graph, const std::string& error);

// What a windowed table shares with the aggregation that made it, so that Suppress can switch the
// aggregation to emitting on close. Written while building; the aggregation's node factory (called per
// task, after Build) reads it.
struct WindowedTableInfo {
  int aggregation_node = -1;
  std::string store;         // the aggregation's window or session store
  std::string close_buffer;  // non-empty: the aggregation emits final results only, buffering in this store
};

// Reaches into KStream and KTable for the window code (both name it a friend).
struct WindowAccess {
  template <typename S>
  static int AddChild(const S& in, const char* op, const std::string& name) {
    return in.AddChild(NodeRole::kHard, op, name);
  }
  template <typename S, typename MakeTerminal>
  static void SetFactory(const S& in, int id, MakeTerminal make) {
    SetChainFactory(in.graph_, id, in.chain_, std::move(make));
  }
  // The table whose changes come out of node `id`, read through `getter` from `store`.
  template <typename WK, typename V, typename Getter, typename Info>
  static KTable<WK, V> MakeTable(GraphBuilder* graph, int id, Getter getter, const std::string& store, Info info) {
    using Changes = typename std::decay_t<decltype(std::declval<KTable<WK, V>&>().changes_)>;
    KTable<WK, V> t(Changes(graph, id, {}), std::move(getter), {store}, store);
    t.windowed_ = std::move(info);
    return t;
  }

  template <typename WK, typename V>
  static KTable<WK, V> Suppress(const KTable<WK, V>& table, const Suppressed& suppressed) {
    const auto& changes = table.changes_;
    GraphBuilder* graph = changes.graph_;
    const int id = changes.AddChild(NodeRole::kHard, "suppress", suppressed.name);
    if (table.windowed_ == nullptr) {
      RecordGraphError(graph, "Suppress(UntilWindowCloses) needs a windowed table (from WindowedBy), at node " +
                                  graph->name(id));
    } else if (table.windowed_->close_buffer.empty()) {
      table.windowed_->close_buffer = graph->name(id) + "-store";
      AddCloseBufferStore(graph, table.windowed_->aggregation_node, table.windowed_->close_buffer);
    }
    SetChainFactory(graph, id, changes.chain_, [] { return EmitTerminal<WK, std::optional<V>>{}; });
    using Changes = std::decay_t<decltype(changes)>;
    KTable<WK, V> out(Changes(graph, id, {}), table.getter_, table.getter_stores_, "");
    out.windowed_ = table.windowed_;
    return out;
  }
};

}  // namespace dsl_internal
}  // namespace eddy
