// Topology: the compiled form of a streams application (what StreamsBuilder::Build returns), in two views:
//   - logical nodes (TopologyNode): every source, operator and sink with its readable name, as
//     Describe() / DescribeMermaid() print them, grouped into sub-topologies: the connected components of
//     the node graph, where an internal (repartition) topic separates the writing component from the
//     reading one, as in Kafka Streams;
//   - physical nodes (PhysicalNodeSpec): factories of the ProcessorNodes a Task instantiates, one per fused
//     operator chain (see processor_node.h).
//
// How the runtime uses it (application.id "app"):
//   1. AllSourceTopics("app"): the topics to subscribe to; InternalTopics("app", ...): the repartition topics
//      to create first, with their partition counts; CopartitionGroups("app"): topic sets that must have
//      equal partition counts (a mismatch is a startup error).
//   2. For the assigned partitions, GroupPartitions(assigned, "app") gives the tasks: TaskId
//      "<subtopology>_<partition>" -> the input partitions of that task (partition p of each source topic of
//      the sub-topology: co-partitioned sources share a task).
//   3. ChangelogTopics("app", ...): the changelog topics of the state stores to create (compacted), one
//      partition per task of the sub-topology that owns the store.
//   4. Task(id, topology, partitions, config, collector) per task (task.h); the task builds the stores of its
//      sub-topology (StoresOf) in Task::InitializeStores.
//
// Topic names inside the topology are "raw": an internal topic is stored without its application.id prefix
// (Describe prints it so, as Kafka does before the application starts); the methods taking an
// application_id return real names. A Topology is immutable and cheap to copy (shared state); thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eddy/core/record.h"
#include "eddy/runtime/processor_node.h"
#include "eddy/state/state_store.h"
#include "eddy/runtime/task_id.h"

namespace eddy {

enum class NodeType : uint8_t { kSource, kProcessor, kSink };

// A logical node, for description and grouping.
struct TopologyNode {
  std::string name;  // unique in the topology
  NodeType type = NodeType::kProcessor;
  // kSource: the topics it reads; kSink: its one topic, or empty when a TopicNameExtractor chooses the topic
  // per record. Raw names (see above).
  std::vector<std::string> topics;
  std::vector<std::string> stores;      // names of the state stores it uses (StoreSpec::name)
  std::vector<int> predecessors;        // indexes into Topology::nodes(), in creation order
  std::vector<int> successors;
  int subtopology = -1;                 // set by Topology::Create
};

// A factory of one physical node per task, and where its input comes from.
struct PhysicalNodeSpec {
  int logical_node = -1;  // the TopologyNode this node ends at (its name and sub-topology)
  std::function<std::unique_ptr<ProcessorNode>()> create;
  struct Input {
    int parent = -1;  // index into TopologyDefinition::physical_nodes; must be smaller than this node's
    int port = 0;     // the parent's output port
  };
  std::vector<Input> inputs;        // empty for source nodes
  std::vector<std::string> source_topics;  // raw topics, for source nodes only (SourceProcessorNode)
};

// A state store of the topology: how to build one instance per task, and its changelog. Nodes that use the
// same store are in the same sub-topology (as Kafka's node groups; this is what co-locates a stream-table
// join with its table), so a store belongs to one sub-topology; using it on both sides of a repartition
// topic is an error. A store no node uses is never built.
struct StoreSpec {
  std::string name;  // unique; names the changelog "<application.id>-<name>-changelog" and the store's dir
  bool logged = true;  // changes go to the changelog topic (the store restores from it)
  bool persistent = false;  // RocksDB under the task directory (the task needs TaskConfig::task_dir)
  // The configs the changelog topic is created with (StateStore::changelog_config() of the built store:
  // cleanup.policy=compact, plus retention for window and session stores, plus the builder's overrides).
  std::map<std::string, std::string> changelog_config;
  // Returns a new, uninitialised store named `name`; called once per task.
  std::function<absl::StatusOr<std::unique_ptr<StateStore>>()> build;
};

// A changelog topic to create: real name, partition count and configs.
struct ChangelogTopic {
  std::string store;
  std::string name;         // "<application.id>-<store>-changelog"
  int32_t partitions = 0;   // the number of tasks of the store's sub-topology
  std::map<std::string, std::string> configs;
};

// A repartition topic the application owns.
struct InternalTopic {
  std::string name;         // raw: "orders-selectkey-repartition"; real: "<application.id>-" + name
  int32_t partitions = -1;  // -1: as many as the sub-topology that writes it reads (max over its source
                            // topics, as Kafka's default for repartition topics)
};

// Everything Topology::Create needs; produced by the DSL.
struct TopologyDefinition {
  std::vector<TopologyNode> nodes;  // subtopology is ignored (computed)
  std::vector<PhysicalNodeSpec> physical_nodes;
  std::vector<InternalTopic> internal_topics;
  std::vector<StoreSpec> stores;  // the stores TopologyNode::stores refer to
};

struct Subtopology {
  int id = 0;
  std::vector<int> nodes;           // logical nodes, in creation order
  std::vector<int> physical_nodes;  // in creation order (parents before children)
  std::vector<std::string> source_topics;  // raw, in order of appearance
  std::vector<std::string> sink_topics;    // raw fixed sink topics
  std::vector<std::string> stores;         // names of the stores its nodes use, in order of first use
};

class Topology {
 public:
  // An empty topology (no sub-topologies).
  Topology();

  // Create validates `definition` (unique node names, edges in range, each physical node's logical node,
  // internal topics read by exactly one source, a topic read by at most one source node, unique store names
  // with a builder, every store a node uses defined, no sub-topology reading an internal topic it writes) and
  // computes the sub-topologies (connected components of the node graph, where nodes sharing a store are
  // connected), numbered in order of their first node. kInvalidArgument names the problem.
  static absl::StatusOr<Topology> Create(TopologyDefinition definition);

  const std::vector<TopologyNode>& nodes() const;
  const std::vector<PhysicalNodeSpec>& physical_nodes() const;
  const std::vector<Subtopology>& subtopologies() const;
  const std::vector<InternalTopic>& internal_topics() const;
  // Every store of the definition (used or not), and those of one sub-topology (in Subtopology::stores
  // order; empty for a bad index). Pointers valid as long as any copy of this Topology.
  const std::vector<StoreSpec>& stores() const;
  std::vector<const StoreSpec*> StoresOf(int subtopology) const;
  // The store named `name`, or null.
  const StoreSpec* FindStore(absl::string_view name) const;

  bool IsInternalTopic(absl::string_view raw_topic) const;
  // TopicName: the real name of a raw topic ("<application_id>-<raw>" for internal topics).
  std::string TopicName(absl::string_view raw_topic, absl::string_view application_id) const;

  // Real source topics of one sub-topology, and of all of them (sorted, unique): what to subscribe to.
  std::vector<std::string> SourceTopics(int subtopology, absl::string_view application_id) const;
  std::vector<std::string> AllSourceTopics(absl::string_view application_id) const;
  // The sub-topology reading a real topic, or -1.
  int SubtopologyOf(absl::string_view topic, absl::string_view application_id) const;

  // Groups of real topics that must have the same partition count: the source topics of each sub-topology
  // with more than one (they share tasks). Kafka requires this only for joined topics; Eddy requires it
  // for every shared task, so that no task silently lacks an input.
  std::vector<std::vector<std::string>> CopartitionGroups(absl::string_view application_id) const;

  // InternalTopics returns the real internal topic names with their partition counts, resolving
  // partitions = -1 from `partitions_of` (real topic -> partition count, e.g. Admin::DescribeTopic), which is
  // called for user source topics only. Errors: those of partitions_of; kInvalidArgument for cycles.
  using PartitionsOf = std::function<absl::StatusOr<int32_t>(const std::string& topic)>;
  absl::StatusOr<std::vector<std::pair<std::string, int32_t>>> InternalTopics(
      absl::string_view application_id, const PartitionsOf& partitions_of) const;

  // ChangelogTopics returns the changelog topics of the logged stores that a sub-topology uses, sorted by
  // name, each with as many partitions as its sub-topology has tasks (the max partition count over the
  // sub-topology's source topics, internal ones resolved as InternalTopics does). Errors as InternalTopics.
  absl::StatusOr<std::vector<ChangelogTopic>> ChangelogTopics(absl::string_view application_id,
                                                              const PartitionsOf& partitions_of) const;

  // GroupPartitions maps assigned real partitions to tasks: TaskId{sub-topology reading the topic,
  // partition} -> its partitions (sorted). Partitions of topics the topology does not read are ignored.
  std::map<TaskId, std::vector<TopicPartition>> GroupPartitions(const std::vector<TopicPartition>& assigned,
                                                                absl::string_view application_id) const;

  // Describe prints the topology as Kafka's TopologyDescription.toString() does (sub-topologies, then nodes
  // by decreasing sub-tree size, ties by name; "-->" successors, "<--" predecessors).
  std::string Describe() const;
  // DescribeMermaid prints a Mermaid flowchart: one subgraph per sub-topology, topics as cylinders, state
  // stores as subroutine boxes in their sub-topology, linked to the nodes using them by dotted lines.
  std::string DescribeMermaid() const;

 private:
  struct Data;
  explicit Topology(std::shared_ptr<const Data> data) : data_(std::move(data)) {}
  // Partition counts of all internal topics (raw name -> count).
  absl::StatusOr<absl::flat_hash_map<std::string, int32_t>> ResolveInternalPartitions(
      const PartitionsOf& partitions_of) const;
  // Tasks of a sub-topology: max partitions over its sources; 0 if an internal source is not yet known.
  absl::StatusOr<int32_t> SubtopologyPartitions(int subtopology,
                                                const absl::flat_hash_map<std::string, int32_t>& internal,
                                                const PartitionsOf& partitions_of) const;
  std::shared_ptr<const Data> data_;
};

}  // namespace eddy
