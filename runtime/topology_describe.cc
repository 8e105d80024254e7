// Topology::Describe (Kafka's TopologyDescription text) and Topology::DescribeMermaid.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "eddy/runtime/topology.h"
#include "runtime/topology_data.h"

namespace eddy {
namespace {

// Kafka's AbstractNode.size: the node plus the sizes of its successors (sub-tree size for trees).
std::vector<int64_t> SubtreeSizes(const std::vector<TopologyNode>& nodes) {
  std::vector<int64_t> size(nodes.size(), -1);
  // Memoized iterative DFS (node indexes need not be topologically ordered).
  std::vector<int> stack;
  for (size_t root = 0; root < nodes.size(); ++root) {
    if (size[root] >= 0) continue;
    stack.push_back(static_cast<int>(root));
    while (!stack.empty()) {
      int n = stack.back();
      bool ready = true;
      for (int s : nodes[n].successors) {
        if (size[s] < 0) {
          stack.push_back(s);
          ready = false;
        }
      }
      if (!ready) continue;
      stack.pop_back();
      if (size[n] >= 0) continue;
      int64_t total = 1;
      for (int s : nodes[n].successors) total += size[s];
      size[n] = total;
    }
  }
  return size;
}

// Kafka's NODE_COMPARATOR: larger sub-tree first, then by name.
std::vector<int> Sorted(std::vector<int> ids, const std::vector<TopologyNode>& nodes, const std::vector<int64_t>& size) {
  std::sort(ids.begin(), ids.end(), [&](int a, int b) {
    if (size[a] != size[b]) return size[a] > size[b];
    return nodes[a].name < nodes[b].name;
  });
  return ids;
}

std::string NodeNames(const std::vector<int>& ids, const std::vector<TopologyNode>& nodes,
                      const std::vector<int64_t>& size) {
  if (ids.empty()) return "none";
  std::vector<std::string> names;
  for (int id : Sorted(ids, nodes, size)) names.push_back(nodes[id].name);
  return absl::StrJoin(names, ", ");
}

std::string MermaidLabel(absl::string_view text) { return absl::StrReplaceAll(text, {{"\"", "#quot;"}}); }

}  // namespace

std::string Topology::Describe() const {
  const std::vector<TopologyNode>& nodes = data_->nodes;
  const std::vector<int64_t> size = SubtreeSizes(nodes);
  std::string out = "Topologies:\n ";
  for (const Subtopology& sub : data_->subtopologies) {
    absl::StrAppend(&out, "  Sub-topology: ", sub.id, "\n");
    for (int id : Sorted(sub.nodes, nodes, size)) {
      const TopologyNode& n = nodes[id];
      switch (n.type) {
        case NodeType::kSource:
          absl::StrAppend(&out, "    Source: ", n.name, " (topics: [", absl::StrJoin(n.topics, ", "), "])\n      --> ",
                          NodeNames(n.successors, nodes, size), "\n");
          break;
        case NodeType::kProcessor:
          absl::StrAppend(&out, "    Processor: ", n.name, " (stores: [", absl::StrJoin(n.stores, ", "),
                          "])\n      --> ", NodeNames(n.successors, nodes, size), "\n      <-- ",
                          NodeNames(n.predecessors, nodes, size), "\n");
          break;
        case NodeType::kSink:
          if (n.topics.empty()) {
            absl::StrAppend(&out, "    Sink: ", n.name, " (extractor class: TopicNameExtractor)\n      <-- ",
                            NodeNames(n.predecessors, nodes, size), "\n");
          } else {
            absl::StrAppend(&out, "    Sink: ", n.name, " (topic: ", n.topics[0], ")\n      <-- ",
                            NodeNames(n.predecessors, nodes, size), "\n");
          }
          break;
      }
    }
    out += "\n";
  }
  return out;
}

std::string Topology::DescribeMermaid() const {
  const std::vector<TopologyNode>& nodes = data_->nodes;
  std::map<std::string, int> topic_ids;  // topic -> t<N>, numbered by first appearance
  std::vector<std::string> topic_order;
  auto topic_id = [&](const std::string& t) {
    auto [it, inserted] = topic_ids.emplace(t, static_cast<int>(topic_order.size()));
    if (inserted) topic_order.push_back(t);
    return absl::StrCat("t", it->second);
  };
  std::map<std::string, int> store_ids;  // store -> s<N>, numbered by first use
  auto store_id = [&](const std::string& s) {
    auto [it, inserted] = store_ids.emplace(s, static_cast<int>(store_ids.size()));
    return absl::StrCat("s", it->second);
  };
  std::string edges;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const TopologyNode& n = nodes[i];
    if (n.type == NodeType::kSource) {
      for (const std::string& t : n.topics) absl::StrAppend(&edges, "    ", topic_id(t), " --> n", i, "\n");
    }
    for (int s : n.successors) absl::StrAppend(&edges, "    n", i, " --> n", s, "\n");
    if (n.type == NodeType::kSink && !n.topics.empty()) {
      absl::StrAppend(&edges, "    n", i, " --> ", topic_id(n.topics[0]), "\n");
    }
    for (const std::string& store : n.stores) absl::StrAppend(&edges, "    n", i, " -.- ", store_id(store), "\n");
  }
  std::string out = "flowchart TD\n";
  for (size_t t = 0; t < topic_order.size(); ++t) {
    absl::StrAppend(&out, "    t", t, "[(\"", MermaidLabel(topic_order[t]), "\")]\n");
  }
  for (const Subtopology& sub : data_->subtopologies) {
    absl::StrAppend(&out, "    subgraph sub", sub.id, "[\"Sub-topology ", sub.id, "\"]\n");
    for (int id : sub.nodes) {
      const TopologyNode& n = nodes[id];
      const std::string label = MermaidLabel(n.name);
      switch (n.type) {
        case NodeType::kSource:
          absl::StrAppend(&out, "        n", id, "([\"", label, "\"])\n");
          break;
        case NodeType::kProcessor:
          absl::StrAppend(&out, "        n", id, "[\"", label, "\"]\n");
          break;
        case NodeType::kSink:
          absl::StrAppend(&out, "        n", id, "[/\"", label, "\"\\]\n");
          break;
      }
    }
    // State stores, drawn inside the sub-topology that owns them, as Kafka's description lists them.
    for (const std::string& store : sub.stores) {
      absl::StrAppend(&out, "        ", store_id(store), "[[\"", MermaidLabel(store), "\"]]\n");
    }
    out += "    end\n";
  }
  out += edges;
  return out;
}

}  // namespace eddy
