// GraphBuilder: the non-template core of StreamsBuilder (an implementation detail of the DSL headers; users
// do not call it). It records the logical nodes as KStream operations create them, gives them their
// readable names, and at Build() decides which nodes become physical nodes and which are fused into
// their downstream, then produces the TopologyDefinition.
//
// Fusion rule (dsl/README.md has the long form). Each KStream carries, in its type, the chain of stateless
// operators applied since its chain root (a source, a split branch, a Process or Merge node, or a node
// materialized on purpose). Every node stores a factory that builds a physical node running a *suffix* of
// its chain, chosen at Build() time: a node is physical if it must be (sink, Foreach, Process, Split,
// Merge, a materialized node), or if it does not have exactly one downstream node that fuses it (a fan-out:
// the shared prefix must run once per record). A physical node runs the operators after its nearest
// physical ancestor, so every operator runs exactly once per record.
//
// Owned by StreamsBuilder; single-threaded (building a topology is not concurrent).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eddy/runtime/processor_node.h"
#include "eddy/runtime/topology.h"

namespace eddy::dsl_internal {

// Builds the physical node running the chain suffix that starts after the first `start` operators.
// `typed_input`: the node is fed typed records by a physical parent; with start 0 that parent is the
// chain's root (a source that fans out), which the suffix then leaves out (its records come deserialized).
using NodeFactory =
    std::function<std::unique_ptr<ProcessorNode>(const std::string& name, int start, bool typed_input)>;

enum class NodeRole : uint8_t {
  kSource,     // chain root reading topics (raw records); fused into its only child when it has one
  kBranch,     // chain root fed by a Split port; fused like a source
  kOp,         // stateless operator: fused unless it is a fan-out point
  kTerminal,   // sink or Foreach: always physical, fuses its parent's chain
  kHard,       // Process or Split: always physical, fuses its parent's chain; chain root of its children
  kMerge,      // always physical, does not fuse its parents (they become physical); chain root
};

struct NodeSpec {
  NodeRole role = NodeRole::kOp;
  NodeType type = NodeType::kProcessor;  // as Describe prints it
  std::string op;        // "filter", "mapvalues", ...: the default name's suffix ("" for sources)
  // The node's name when given (Named, Consumed/Produced names, or computed by the caller); empty: the
  // default "<stem><suffix>", where stem is "<parent's base>-<op>" made unique among the parent's
  // children by appending "-2", "-3", ... in creation order.
  std::string name;
  std::string suffix;    // see name: "-source" for sources, "" for most
  std::string base;      // the base children's names start with; empty: the stem (or the given name)
  std::vector<int> parents;
  int chain_parent = -1;  // the node whose chain this one continues; -1 for chain roots
  std::vector<std::string> topics;  // source topics, or the sink topic
  bool internal_topic = false;      // topics are internal (raw, prefixed by application.id at run time)
  int split_port = -1;              // kBranch: the split's output port
  // The node's factory chain ends with the node's own operator (always for kOp; Foreach for kTerminal).
  bool own_op = false;
  std::vector<std::string> stores;  // state stores the node uses (TopologyNode::stores)
};

class GraphBuilder {
 public:
  GraphBuilder() = default;

  // AddNode creates a logical node and returns its id; names it (see StreamsBuilder naming rules).
  int AddNode(NodeSpec spec);
  // DefaultStem reserves and returns the default stem for a new child of `parent` doing `op` (for callers
  // that derive several names from one stem, as Repartition).
  std::string DefaultStem(int parent, const std::string& op);
  // SetFactory sets the node's physical factory; `chain_length` is the number of operators in its chain
  // (for kOp nodes including the node itself; for kTerminal/kHard those of the parent's chain).
  void SetFactory(int node, NodeFactory factory, int chain_length);
  // ForceMaterialize makes a node physical regardless of its children (used when a chain gets too long or
  // a KStream is converted to the type-erased KStream<K, V>).
  void ForceMaterialize(int node);
  // AddInternalTopic registers a repartition topic (raw name).
  void AddInternalTopic(std::string raw_name, int32_t partitions);
  // RecordError makes Build fail with `error` (misuse detected while building).
  void RecordError(std::string error);
  // AddStore registers a state store (a duplicate name makes Build fail); ConnectStore makes `node` use it.
  void AddStore(StoreSpec store);
  void ConnectStore(int node, const std::string& store);
  bool HasStore(const std::string& name) const;

  const std::string& name(int node) const { return nodes_[node].name; }
  // Whether the key may have changed since the last source (Map, SelectKey, FlatMap or Process upstream, as
  // Kafka's keyChangingOperation): GroupByKey then repartitions.
  bool key_changed(int node) const { return nodes_[node].key_changed; }
  // The stem children's default names start with ("orders" for source "orders-source").
  const std::string& base(int node) const { return nodes_[node].base; }

  absl::StatusOr<Topology> Build() const;

 private:
  struct Node {
    NodeSpec spec;
    std::string name;
    std::string base;
    std::vector<int> children;
    std::map<std::string, int> default_stems;  // default stem -> times proposed among this node's children
    NodeFactory factory;
    int chain_length = 0;
    bool forced = false;
    bool key_changed = false;
  };
  bool IsPhysical(int node) const;

  std::vector<Node> nodes_;
  std::vector<InternalTopic> internal_topics_;
  std::vector<StoreSpec> stores_;
  std::vector<std::string> errors_;
};

}  // namespace eddy::dsl_internal
