#include "eddy/dsl/streams_builder.h"

#include "absl/strings/str_cat.h"

namespace eddy {

StreamsBuilder::StreamsBuilder() : graph_(std::make_unique<dsl_internal::GraphBuilder>()) {}
StreamsBuilder::~StreamsBuilder() = default;

absl::StatusOr<Topology> StreamsBuilder::Build() const { return graph_->Build(); }

void StreamsBuilder::AddStore(absl::StatusOr<StoreSpec> spec) {
  if (!spec.ok()) {
    graph_->RecordError(absl::StrCat("AddStateStore: ", spec.status().message()));
    return;
  }
  graph_->AddStore(std::move(*spec));
}

}  // namespace eddy
