// MakeStoreSpec: turns a store builder of stores.h (KeyValueStoreBuilder, WindowStoreBuilder,
// SessionStoreBuilder) into the StoreSpec a Topology keeps: the name, whether it is logged and persistent,
// the changelog topic's configs, and a factory building one store per task.
//
// Implementation detail of the DSL (StreamsBuilder::AddStateStore and the aggregations use it).
#pragma once

#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "eddy/runtime/topology.h"
#include "eddy/state/stores.h"

namespace eddy::dsl_internal {

// Builds one store up front to validate the builder and read its changelog configs (Kafka's defaults for
// the store kind merged with the builder's overrides); the store is never opened. Errors: the builder's.
template <typename B>
absl::StatusOr<StoreSpec> MakeStoreSpec(const B& builder) {
  auto probe = builder.Build();
  if (!probe.ok()) return probe.status();
  StoreSpec spec;
  spec.name = builder.name();
  spec.logged = builder.logging_enabled();
  spec.persistent = builder.persistent();
  spec.changelog_config = (*probe)->changelog_config();
  spec.build = [builder]() -> absl::StatusOr<std::unique_ptr<StateStore>> {
    auto store = builder.Build();
    if (!store.ok()) return store.status();
    return std::unique_ptr<StateStore>(std::move(*store));
  };
  return spec;
}

}  // namespace eddy::dsl_internal
