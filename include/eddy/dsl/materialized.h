// Materialized and Grouped: how an aggregation or a table keeps its state, and how a grouping repartitions,
// as Kafka Streams' Materialized and Grouped.
//
//   grouped.Count(eddy::Materialized::As("counts"));                          // default serdes
//   grouped.Aggregate(init, agg, eddy::Materialized::As("totals").WithSerdes(eddy::StringSerde(),
//                                                                            eddy::JsonSerde<Total>()));
//   stream.GroupBy(by_category, eddy::Grouped::As("by-category"));
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/time/time.h"
#include "eddy/core/serde.h"
#include "eddy/runtime/default_serde.h"

namespace eddy {

template <Serde KS, Serde VS>
struct MaterializedWith;

// The store of an aggregation or a table: its name (empty: "<node name>-store"), and Kafka's defaults:
// persistent (RocksDB), caching on (updates coalesced until commit), logging on (changelog
// "<application.id>-<name>-changelog", compacted). Serdes default to those of the key and value types
// (default_serde.h); WithSerdes gives others.
class Materialized {
 public:
  Materialized() = default;
  static Materialized As(std::string store_name) {
    Materialized m;
    m.name = std::move(store_name);
    return m;
  }
  Materialized&& WithCachingDisabled() && { return Set(&caching, false); }
  Materialized&& WithCachingEnabled() && { return Set(&caching, true); }
  Materialized&& WithLoggingDisabled() && { return Set(&logging, false); }
  Materialized&& WithLoggingEnabled(std::map<std::string, std::string> config = {}) && {
    changelog_config = std::move(config);
    return Set(&logging, true);
  }
  // An in-memory store (restored from its changelog whenever its task starts) instead of RocksDB.
  Materialized&& InMemory() && { return Set(&in_memory, true); }
  // Windowed aggregations only: how long windows stay in the window or session store (Kafka's
  // Materialized.withRetention). Default: window size + grace (sessions: gap + grace); a shorter one makes
  // Build fail, as Kafka.
  Materialized&& WithRetention(absl::Duration retention) && {
    retention_ms = absl::ToInt64Milliseconds(retention);
    return std::move(*this);
  }
  template <Serde KS, Serde VS>
  MaterializedWith<KS, VS> WithSerdes(KS key_serde, VS value_serde) &&;

  std::string name;
  bool caching = true;
  bool logging = true;
  bool in_memory = false;
  int64_t retention_ms = -1;  // -1: the windowed aggregation's default
  std::map<std::string, std::string> changelog_config;

 private:
  Materialized&& Set(bool* field, bool v) {
    *field = v;
    return std::move(*this);
  }
};

// A Materialized with explicit serdes of the store's key and value.
template <Serde KS, Serde VS>
struct MaterializedWith : Materialized {
  MaterializedWith(Materialized m, KS ks, VS vs)
      : Materialized(std::move(m)), key_serde(std::move(ks)), value_serde(std::move(vs)) {}
  KS key_serde;
  VS value_serde;
};

template <Serde KS, Serde VS>
MaterializedWith<KS, VS> Materialized::WithSerdes(KS key_serde, VS value_serde) && {
  return MaterializedWith<KS, VS>(std::move(*this), std::move(key_serde), std::move(value_serde));
}

template <Serde KS, Serde VS>
struct GroupedWith;

// How GroupBy (and GroupByKey after a key change) repartitions: the name of the repartition topic
// "<application.id>-<name>-repartition" (default: the store's name if the aggregation names it, as Kafka,
// else "<upstream node>-repartition"), and its serdes (default: those of the key and value types; give
// others with WithSerdes, e.g. for a JSON value type).
class Grouped {
 public:
  Grouped() = default;
  static Grouped As(std::string name) {
    Grouped g;
    g.name_ = std::move(name);
    return g;
  }
  const std::string& name() const { return name_; }
  template <Serde KS, Serde VS>
  GroupedWith<KS, VS> WithSerdes(KS key_serde, VS value_serde) const {
    return GroupedWith<KS, VS>{*this, std::move(key_serde), std::move(value_serde)};
  }

 private:
  std::string name_;
};

template <Serde KS, Serde VS>
struct GroupedWith {
  Grouped grouped;
  KS key_serde;
  VS value_serde;
  const std::string& name() const { return grouped.name(); }
};

namespace dsl_internal {

class GraphBuilder;

// Adds a key-value store for `m` named `name` to the graph and connects it to `node` (a bad name makes
// Build fail).
void AddMaterializedStore(GraphBuilder* graph, int node, const std::string& name, const Materialized& m);

// The key and value serdes of a Materialized: its own with WithSerdes, else the defaults of K and V.
template <typename K, typename V>
auto MaterializedSerdes(const Materialized&) {
  return std::make_pair(DefaultSerdeFor<K>(), DefaultSerdeFor<V>());
}
template <typename K, typename V, Serde KS, Serde VS>
auto MaterializedSerdes(const MaterializedWith<KS, VS>& m) {
  static_assert(std::is_same_v<typename KS::Type, K>, "Materialized: the key serde's Type must be the key type");
  static_assert(std::is_same_v<typename VS::Type, V>, "Materialized: the value serde's Type must be the value type");
  return std::make_pair(m.key_serde, m.value_serde);
}

}  // namespace dsl_internal
}  // namespace eddy
