// Topology's shared immutable state (internal to eddy_runtime).
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "eddy/runtime/topology.h"

namespace eddy {

struct Topology::Data {
  std::vector<TopologyNode> nodes;
  std::vector<PhysicalNodeSpec> physical_nodes;
  std::vector<Subtopology> subtopologies;
  std::vector<InternalTopic> internal_topics;
  std::vector<StoreSpec> stores;
  absl::flat_hash_set<std::string> internal_names;
};

}  // namespace eddy
