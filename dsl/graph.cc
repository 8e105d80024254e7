#include "eddy/dsl/graph.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace eddy::dsl_internal {

std::string GraphBuilder::DefaultStem(int parent, const std::string& op) {
  if (parent < 0) return op;
  Node& p = nodes_[parent];
  const std::string proposal = absl::StrCat(p.base, "-", op);
  const int count = ++p.default_stems[proposal];
  return count == 1 ? proposal : absl::StrCat(proposal, "-", count);
}

int GraphBuilder::AddNode(NodeSpec spec) {
  Node node;
  if (!spec.name.empty()) {
    node.name = spec.name;
    node.base = spec.base.empty() ? spec.name : spec.base;
  } else {
    const std::string stem = DefaultStem(spec.parents.empty() ? -1 : spec.parents[0], spec.op);
    node.name = stem + spec.suffix;
    node.base = spec.base.empty() ? stem : spec.base;
  }
  const int id = static_cast<int>(nodes_.size());
  if (spec.role != NodeRole::kSource) {
    node.key_changed = spec.op == "map" || spec.op == "selectkey" || spec.op == "flatmap" || spec.op == "process";
    for (int p : spec.parents) node.key_changed = node.key_changed || nodes_[p].key_changed;
  }
  for (int p : spec.parents) nodes_[p].children.push_back(id);
  node.spec = std::move(spec);
  nodes_.push_back(std::move(node));
  return id;
}

void GraphBuilder::SetFactory(int node, NodeFactory factory, int chain_length) {
  nodes_[node].factory = std::move(factory);
  nodes_[node].chain_length = chain_length;
}

void GraphBuilder::ForceMaterialize(int node) { nodes_[node].forced = true; }

void GraphBuilder::AddInternalTopic(std::string raw_name, int32_t partitions) {
  internal_topics_.push_back(InternalTopic{std::move(raw_name), partitions});
}

void GraphBuilder::RecordError(std::string error) { errors_.push_back(std::move(error)); }

void GraphBuilder::AddStore(StoreSpec store) { stores_.push_back(std::move(store)); }

void GraphBuilder::ConnectStore(int node, const std::string& store) {
  std::vector<std::string>& stores = nodes_[node].spec.stores;
  if (std::find(stores.begin(), stores.end(), store) == stores.end()) stores.push_back(store);
}

bool GraphBuilder::HasStore(const std::string& name) const {
  return std::any_of(stores_.begin(), stores_.end(), [&](const StoreSpec& s) { return s.name == name; });
}

bool GraphBuilder::IsPhysical(int id) const {
  const Node& n = nodes_[id];
  switch (n.spec.role) {
    case NodeRole::kTerminal:
    case NodeRole::kHard:
    case NodeRole::kMerge:
      return true;
    case NodeRole::kSource:
    case NodeRole::kBranch:
    case NodeRole::kOp:
      break;
  }
  if (n.forced || n.children.size() != 1) return true;
  // The only child fuses this node's chain unless it is a merge (which has several inputs).
  return nodes_[n.children[0]].spec.role == NodeRole::kMerge;
}

absl::StatusOr<Topology> GraphBuilder::Build() const {
  if (!errors_.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors_, "; "));
  TopologyDefinition def;
  const int n = static_cast<int>(nodes_.size());
  std::vector<int> physical_index(n, -1);
  for (int id = 0; id < n; ++id) {
    const Node& node = nodes_[id];
    TopologyNode t;
    t.name = node.name;
    t.type = node.spec.type;
    t.topics = node.spec.topics;
    t.predecessors = node.spec.parents;
    t.stores = node.spec.stores;
    def.nodes.push_back(std::move(t));
    if (!IsPhysical(id)) continue;
    if (!node.factory) {
      if (node.spec.role == NodeRole::kHard) {
        return absl::InvalidArgumentError(
            absl::StrCat("Split ", node.name, " was not finished with DefaultBranch() or NoDefaultBranch()"));
      }
      return absl::InternalError(absl::StrCat("node ", node.name, " has no factory"));
    }
    PhysicalNodeSpec spec;
    spec.logical_node = id;
    int start = 0;
    if (node.spec.role == NodeRole::kMerge) {
      for (int p : node.spec.parents) spec.inputs.push_back({physical_index[p], 0});
    } else {
      // Walk up the chain to the nearest physical node (or the chain's root): the operators in between run
      // in this node.
      const bool own_op = node.spec.role == NodeRole::kOp || node.spec.own_op;
      const bool root = node.spec.role == NodeRole::kSource || node.spec.role == NodeRole::kBranch;
      int k = own_op ? 1 : 0;
      int q = root ? id : node.spec.chain_parent;
      while (true) {
        const Node& qn = nodes_[q];
        if (q != id && physical_index[q] >= 0) {
          spec.inputs.push_back({physical_index[q], 0});
          break;
        }
        if (qn.spec.role == NodeRole::kSource) {
          spec.source_topics = qn.spec.topics;
          break;
        }
        if (qn.spec.role == NodeRole::kBranch) {
          spec.inputs.push_back({physical_index[qn.spec.parents[0]], qn.spec.split_port});
          break;
        }
        ++k;
        q = qn.spec.chain_parent;
        if (q < 0) return absl::InternalError(absl::StrCat("node ", node.name, ": chain without a root"));
      }
      start = node.chain_length - k;
      if (start < 0 || start > node.chain_length) {
        return absl::InternalError(absl::StrCat("node ", node.name, ": bad chain suffix ", start));
      }
    }
    for (const PhysicalNodeSpec::Input& in : spec.inputs) {
      if (in.parent < 0) return absl::InternalError(absl::StrCat("node ", node.name, ": input is not physical"));
    }
    NodeFactory factory = node.factory;
    std::string name = node.name;
    const bool typed_input = !spec.inputs.empty();
    spec.create = [factory, name, start, typed_input] { return factory(name, start, typed_input); };
    physical_index[id] = static_cast<int>(def.physical_nodes.size());
    def.physical_nodes.push_back(std::move(spec));
  }
  def.internal_topics = internal_topics_;
  def.stores = stores_;
  return Topology::Create(std::move(def));
}

}  // namespace eddy::dsl_internal
