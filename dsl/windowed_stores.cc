// The stores of windowed aggregations and suppression: window, session and close-buffer stores built from
// a Materialized, added to the graph and connected to their node.
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "eddy/dsl/graph.h"
#include "eddy/dsl/materialized.h"
#include "eddy/dsl/store_spec.h"
#include "eddy/dsl/suppress.h"
#include "eddy/dsl/time_windowed_kstream.h"
#include "eddy/state/stores.h"

namespace eddy::dsl_internal {
namespace {

template <typename B>
void ApplyMaterialized(const Materialized& m, B* builder) {
  if (m.caching) builder->WithCachingEnabled();
  if (m.logging) {
    builder->WithLoggingEnabled(m.changelog_config);
  } else {
    builder->WithLoggingDisabled();
  }
}

template <typename B>
void AddBuilt(GraphBuilder* graph, int node, const B& builder) {
  absl::StatusOr<StoreSpec> spec = MakeStoreSpec(builder);
  if (!spec.ok()) {
    graph->RecordError(absl::StrCat("store of ", graph->name(node), ": ", spec.status().message()));
    return;
  }
  graph->AddStore(std::move(*spec));
  graph->ConnectStore(node, builder.name());
}

// Kafka: retention defaults to the minimum (window size + grace); a shorter one is an error.
bool Retention(GraphBuilder* graph, int node, const Materialized& m, int64_t min_retention_ms, int64_t* out) {
  *out = m.retention_ms >= 0 ? m.retention_ms : min_retention_ms;
  if (*out < min_retention_ms) {
    graph->RecordError(absl::StrCat("store of ", graph->name(node), ": retention ", *out,
                                    " ms is shorter than the window size plus grace period (", min_retention_ms,
                                    " ms)"));
    return false;
  }
  return true;
}

void AddCloseBuffer(GraphBuilder* graph, int node, const std::string& name, const Materialized& m) {
  KeyValueStoreBuilder b = m.in_memory ? Stores::InMemoryKeyValueStore(name) : Stores::PersistentKeyValueStore(name);
  ApplyMaterialized(m, &b);
  AddBuilt(graph, node, b);
}

}  // namespace

void RecordGraphError(GraphBuilder* graph, const std::string& error) { graph->RecordError(error); }

void AddWindowStore(GraphBuilder* graph, int node, const std::string& name, const Materialized& m,
                    int64_t window_size_ms, int64_t min_retention_ms, const std::string& close_buffer) {
  int64_t retention = 0;
  if (!Retention(graph, node, m, min_retention_ms, &retention)) return;
  const absl::Duration r = absl::Milliseconds(retention), size = absl::Milliseconds(window_size_ms);
  WindowStoreBuilder b = m.in_memory ? Stores::InMemoryWindowStore(name, r, size, false)
                                     : Stores::PersistentWindowStore(name, r, size, false);
  ApplyMaterialized(m, &b);
  AddBuilt(graph, node, b);
  if (!close_buffer.empty()) AddCloseBuffer(graph, node, close_buffer, m);
}

void AddSessionStore(GraphBuilder* graph, int node, const std::string& name, const Materialized& m,
                     int64_t min_retention_ms, const std::string& close_buffer) {
  int64_t retention = 0;
  if (!Retention(graph, node, m, min_retention_ms, &retention)) return;
  const absl::Duration r = absl::Milliseconds(retention);
  SessionStoreBuilder b = m.in_memory ? Stores::InMemorySessionStore(name, r) : Stores::PersistentSessionStore(name, r);
  ApplyMaterialized(m, &b);
  AddBuilt(graph, node, b);
  if (!close_buffer.empty()) AddCloseBuffer(graph, node, close_buffer, m);
}

// In memory and logged, as Kafka's suppression buffer: it holds one key per open window, so a restart
// restores it from its changelog in little time, and a task saves a RocksDB instance (about 4 ms to open).
void AddCloseBufferStore(GraphBuilder* graph, int node, const std::string& name) {
  AddBuilt(graph, node, Stores::InMemoryKeyValueStore(name).WithCachingEnabled());
}

}  // namespace eddy::dsl_internal
