#include "eddy/dsl/streams_builder.h"

namespace eddy {

StreamsBuilder::StreamsBuilder() : graph_(std::make_unique<dsl_internal::GraphBuilder>()) {}
StreamsBuilder::~StreamsBuilder() = default;

absl::StatusOr<Topology> StreamsBuilder::Build() const { return graph_->Build(); }

}  // namespace eddy
