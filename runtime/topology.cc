#include "eddy/runtime/topology.h"

#include <algorithm>
#include <numeric>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "eddy/core/status.h"
#include "runtime/topology_data.h"

namespace eddy {
namespace {

int Find(std::vector<int>& parent, int x) {
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

void AddUnique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

}  // namespace

Topology::Topology() : data_(std::make_shared<Data>()) {}

absl::StatusOr<Topology> Topology::Create(TopologyDefinition def) {
  auto data = std::make_shared<Data>();
  const int n = static_cast<int>(def.nodes.size());
  absl::flat_hash_set<std::string> names;
  absl::flat_hash_map<std::string, std::string> topic_reader;  // raw topic -> source node
  for (const InternalTopic& t : def.internal_topics) data->internal_names.insert(t.name);
  for (int i = 0; i < n; ++i) {
    TopologyNode& node = def.nodes[i];
    if (node.name.empty()) return absl::InvalidArgumentError(absl::StrCat("node ", i, " has no name"));
    if (!names.insert(node.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("two nodes are named \"", node.name, "\"; give one of them another name with Named::As"));
    }
    for (int p : node.predecessors) {
      if (p < 0 || p >= n || p == i) return absl::InvalidArgumentError(absl::StrCat("node ", node.name, ": bad edge"));
    }
    if (node.type == NodeType::kSource) {
      if (node.topics.empty()) return absl::InvalidArgumentError(absl::StrCat("source ", node.name, " reads no topic"));
      for (const std::string& t : node.topics) {
        auto [it, inserted] = topic_reader.emplace(t, node.name);
        if (!inserted) {
          return absl::InvalidArgumentError(absl::StrCat("topic ", t, " is read by two sources, ", it->second, " and ",
                                                         node.name, "; read it once and use the stream twice"));
        }
      }
    }
  }
  absl::flat_hash_set<std::string> store_names;
  for (const StoreSpec& store : def.stores) {
    if (store.name.empty() || !store.build) {
      return absl::InvalidArgumentError(absl::StrCat("store \"", store.name, "\" has no name or no builder"));
    }
    if (!store_names.insert(store.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("two state stores are named \"", store.name, "\""));
    }
  }
  for (const TopologyNode& node : def.nodes) {
    for (const std::string& store : node.stores) {
      if (!store_names.contains(store)) {
        return absl::InvalidArgumentError(absl::StrCat("node ", node.name, " uses state store \"", store,
                                                       "\", which was not added (StreamsBuilder::AddStateStore)"));
      }
    }
  }
  for (const InternalTopic& t : def.internal_topics) {
    if (!topic_reader.contains(t.name)) {
      return absl::InvalidArgumentError(absl::StrCat("internal topic ", t.name, " has no reader"));
    }
  }
  // Successors from predecessors (kept in creation order).
  for (TopologyNode& node : def.nodes) node.successors.clear();
  for (int i = 0; i < n; ++i) {
    for (int p : def.nodes[i].predecessors) def.nodes[p].successors.push_back(i);
  }
  // Sub-topologies: connected components, numbered by their first node.
  std::vector<int> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  for (int i = 0; i < n; ++i) {
    for (int p : def.nodes[i].predecessors) {
      int a = Find(parent, i), b = Find(parent, p);
      if (a != b) parent[std::max(a, b)] = std::min(a, b);
    }
  }
  // Nodes that share a state store are in one sub-topology too (Kafka's node groups): that is what puts a
  // stream-table join next to its table's source, co-partitioned.
  absl::flat_hash_map<std::string, int> first_user;
  for (int i = 0; i < n; ++i) {
    for (const std::string& store : def.nodes[i].stores) {
      auto [it, inserted] = first_user.emplace(store, i);
      int a = Find(parent, i), b = Find(parent, it->second);
      if (a != b) parent[std::max(a, b)] = std::min(a, b);
    }
  }
  absl::flat_hash_map<int, int> component_id;
  for (int i = 0; i < n; ++i) {
    int root = Find(parent, i);
    auto [it, inserted] = component_id.emplace(root, static_cast<int>(data->subtopologies.size()));
    if (inserted) {
      Subtopology s;
      s.id = it->second;
      data->subtopologies.push_back(std::move(s));
    }
    Subtopology& s = data->subtopologies[it->second];
    def.nodes[i].subtopology = s.id;
    s.nodes.push_back(i);
    if (def.nodes[i].type == NodeType::kSource) {
      for (const std::string& t : def.nodes[i].topics) AddUnique(s.source_topics, t);
    } else if (def.nodes[i].type == NodeType::kSink && !def.nodes[i].topics.empty()) {
      AddUnique(s.sink_topics, def.nodes[i].topics[0]);
    }
    for (const std::string& store : def.nodes[i].stores) AddUnique(s.stores, store);
  }
  // A sub-topology cannot read an internal topic it writes: that happens when a store is used on both sides
  // of a repartition topic (sharing the store merges the two sides), which Kafka rejects as well.
  for (const Subtopology& s : data->subtopologies) {
    for (const std::string& t : s.sink_topics) {
      if (data->internal_names.contains(t) &&
          std::find(s.source_topics.begin(), s.source_topics.end(), t) != s.source_topics.end()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "sub-topology ", s.id, " writes and reads internal topic ", t, ": a state store (",
            absl::StrJoin(s.stores, ", "), ") is used on both sides of it, which would make it one sub-topology; "
            "a store can be used by the nodes of one sub-topology only"));
      }
    }
  }
  for (size_t p = 0; p < def.physical_nodes.size(); ++p) {
    const PhysicalNodeSpec& spec = def.physical_nodes[p];
    if (spec.logical_node < 0 || spec.logical_node >= n || !spec.create) {
      return absl::InvalidArgumentError(absl::StrCat("physical node ", p, " is incomplete"));
    }
    const int sub = def.nodes[spec.logical_node].subtopology;
    for (const PhysicalNodeSpec::Input& in : spec.inputs) {
      if (in.parent < 0 || in.parent >= static_cast<int>(p) ||
          def.nodes[def.physical_nodes[in.parent].logical_node].subtopology != sub) {
        return absl::InvalidArgumentError(
            absl::StrCat("physical node of ", def.nodes[spec.logical_node].name, " has a bad input"));
      }
    }
    data->subtopologies[sub].physical_nodes.push_back(static_cast<int>(p));
  }
  data->nodes = std::move(def.nodes);
  data->physical_nodes = std::move(def.physical_nodes);
  data->internal_topics = std::move(def.internal_topics);
  data->stores = std::move(def.stores);
  return Topology(std::move(data));
}

const std::vector<TopologyNode>& Topology::nodes() const { return data_->nodes; }
const std::vector<PhysicalNodeSpec>& Topology::physical_nodes() const { return data_->physical_nodes; }
const std::vector<Subtopology>& Topology::subtopologies() const { return data_->subtopologies; }
const std::vector<InternalTopic>& Topology::internal_topics() const { return data_->internal_topics; }
const std::vector<StoreSpec>& Topology::stores() const { return data_->stores; }

const StoreSpec* Topology::FindStore(absl::string_view name) const {
  for (const StoreSpec& s : data_->stores) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::vector<const StoreSpec*> Topology::StoresOf(int subtopology) const {
  std::vector<const StoreSpec*> out;
  if (subtopology < 0 || subtopology >= static_cast<int>(data_->subtopologies.size())) return out;
  for (const std::string& name : data_->subtopologies[subtopology].stores) out.push_back(FindStore(name));
  return out;
}

bool Topology::IsInternalTopic(absl::string_view raw_topic) const {
  return data_->internal_names.contains(raw_topic);
}

std::string Topology::TopicName(absl::string_view raw_topic, absl::string_view application_id) const {
  if (IsInternalTopic(raw_topic)) return absl::StrCat(application_id, "-", raw_topic);
  return std::string(raw_topic);
}

std::vector<std::string> Topology::SourceTopics(int subtopology, absl::string_view application_id) const {
  std::vector<std::string> out;
  if (subtopology < 0 || subtopology >= static_cast<int>(data_->subtopologies.size())) return out;
  for (const std::string& t : data_->subtopologies[subtopology].source_topics) {
    out.push_back(TopicName(t, application_id));
  }
  return out;
}

std::vector<std::string> Topology::AllSourceTopics(absl::string_view application_id) const {
  std::vector<std::string> out;
  for (const Subtopology& s : data_->subtopologies) {
    for (const std::string& t : s.source_topics) out.push_back(TopicName(t, application_id));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

int Topology::SubtopologyOf(absl::string_view topic, absl::string_view application_id) const {
  for (const Subtopology& s : data_->subtopologies) {
    for (const std::string& t : s.source_topics) {
      if (TopicName(t, application_id) == topic) return s.id;
    }
  }
  return -1;
}

std::vector<std::vector<std::string>> Topology::CopartitionGroups(absl::string_view application_id) const {
  std::vector<std::vector<std::string>> out;
  for (const Subtopology& s : data_->subtopologies) {
    if (s.source_topics.size() > 1) out.push_back(SourceTopics(s.id, application_id));
  }
  return out;
}

absl::StatusOr<absl::flat_hash_map<std::string, int32_t>> Topology::ResolveInternalPartitions(
    const PartitionsOf& partitions_of) const {
  absl::flat_hash_map<std::string, int32_t> known;  // raw topic -> partitions
  for (const InternalTopic& t : data_->internal_topics) {
    if (t.partitions > 0) known[t.name] = t.partitions;
  }
  // The writer sub-topology of each internal topic.
  absl::flat_hash_map<std::string, int> writer;
  for (const TopologyNode& node : data_->nodes) {
    if (node.type == NodeType::kSink && !node.topics.empty() && IsInternalTopic(node.topics[0])) {
      writer[node.topics[0]] = node.subtopology;
    }
  }
  // Fixpoint: a topic's count is the max over its writer's source topics, once all of those are known.
  bool progress = true;
  while (progress) {
    progress = false;
    for (const InternalTopic& t : data_->internal_topics) {
      if (known.contains(t.name)) continue;
      auto w = writer.find(t.name);
      if (w == writer.end()) return absl::InvalidArgumentError(absl::StrCat("internal topic ", t.name, " has no writer"));
      EDDY_ASSIGN_OR_RETURN(int32_t count, SubtopologyPartitions(w->second, known, partitions_of));
      if (count > 0) {
        known[t.name] = count;
        progress = true;
      }
    }
  }
  for (const InternalTopic& t : data_->internal_topics) {
    if (!known.contains(t.name)) {
      return absl::InvalidArgumentError(absl::StrCat("cannot size internal topic ", t.name, ": repartition cycle"));
    }
  }
  return known;
}

absl::StatusOr<int32_t> Topology::SubtopologyPartitions(int subtopology,
                                                        const absl::flat_hash_map<std::string, int32_t>& internal,
                                                        const PartitionsOf& partitions_of) const {
  int32_t count = 0;
  for (const std::string& src : data_->subtopologies[subtopology].source_topics) {
    if (IsInternalTopic(src)) {
      auto k = internal.find(src);
      if (k == internal.end()) return 0;
      count = std::max(count, k->second);
    } else {
      EDDY_ASSIGN_OR_RETURN(int32_t c, partitions_of(src));
      count = std::max(count, c);
    }
  }
  return count;
}

absl::StatusOr<std::vector<std::pair<std::string, int32_t>>> Topology::InternalTopics(
    absl::string_view application_id, const PartitionsOf& partitions_of) const {
  EDDY_ASSIGN_OR_RETURN(auto known, ResolveInternalPartitions(partitions_of));
  std::vector<std::pair<std::string, int32_t>> out;
  for (const InternalTopic& t : data_->internal_topics) out.emplace_back(TopicName(t.name, application_id), known[t.name]);
  return out;
}

absl::StatusOr<std::vector<ChangelogTopic>> Topology::ChangelogTopics(absl::string_view application_id,
                                                                      const PartitionsOf& partitions_of) const {
  EDDY_ASSIGN_OR_RETURN(auto known, ResolveInternalPartitions(partitions_of));
  std::vector<ChangelogTopic> out;
  for (const Subtopology& sub : data_->subtopologies) {
    if (sub.stores.empty()) continue;
    EDDY_ASSIGN_OR_RETURN(int32_t partitions, SubtopologyPartitions(sub.id, known, partitions_of));
    for (const StoreSpec* store : StoresOf(sub.id)) {
      if (!store->logged) continue;
      out.push_back(ChangelogTopic{store->name, ChangelogTopicName(application_id, store->name), partitions,
                                   store->changelog_config});
    }
  }
  std::sort(out.begin(), out.end(), [](const ChangelogTopic& a, const ChangelogTopic& b) { return a.name < b.name; });
  return out;
}

std::map<TaskId, std::vector<TopicPartition>> Topology::GroupPartitions(const std::vector<TopicPartition>& assigned,
                                                                        absl::string_view application_id) const {
  std::map<TaskId, std::vector<TopicPartition>> out;
  for (const TopicPartition& tp : assigned) {
    const int sub = SubtopologyOf(tp.topic, application_id);
    if (sub < 0) continue;
    out[TaskId{sub, tp.partition}].push_back(tp);
  }
  for (auto& [id, tps] : out) std::sort(tps.begin(), tps.end());
  return out;
}

}  // namespace eddy
