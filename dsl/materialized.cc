#include "eddy/dsl/materialized.h"

#include "absl/strings/str_cat.h"
#include "eddy/dsl/graph.h"
#include "eddy/dsl/ktable.h"
#include "eddy/dsl/store_spec.h"
#include "eddy/state/stores.h"

namespace eddy::dsl_internal {

void AddMaterializedStore(GraphBuilder* graph, int node, const std::string& name, const Materialized& m) {
  KeyValueStoreBuilder builder =
      m.in_memory ? Stores::InMemoryKeyValueStore(name) : Stores::PersistentKeyValueStore(name);
  if (m.caching) builder.WithCachingEnabled();
  if (m.logging) {
    builder.WithLoggingEnabled(m.changelog_config);
  } else {
    builder.WithLoggingDisabled();
  }
  absl::StatusOr<StoreSpec> spec = MakeStoreSpec(builder);
  if (!spec.ok()) {
    graph->RecordError(absl::StrCat("store of ", graph->name(node), ": ", spec.status().message()));
    return;
  }
  graph->AddStore(std::move(*spec));
  graph->ConnectStore(node, name);
}

}  // namespace eddy::dsl_internal
