// ProcessorNode: one node of a task's physical graph, the type-erased unit a Topology instantiates per
// task. A node is a source (raw records in), or has a typed input (InputNode<K, V>: one virtual call per
// record), and zero or more typed output ports, each connected to the inputs of downstream nodes
// (Downstream<K, V>).
//
// Physical nodes are not the logical nodes that Topology::Describe prints: the DSL fuses each chain of
// stateless operators (filter, mapValues, ...) into the one physical node that ends the chain (a sink, a
// processor, a fan-out point), so that a record crosses one virtual call per physical node, not per
// operator. See dsl/README.md.
//
// Lifecycle, driven by Task: created by PhysicalNodeSpec::create, Connect()ed to its children, Init() once,
// then records, then Close() once. Owned by the Task; runs on the task's thread.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/record.h"
#include "eddy/runtime/task_context.h"

namespace eddy {

class ProcessorNode {
 public:
  explicit ProcessorNode(std::string name) : name_(std::move(name)) {}
  virtual ~ProcessorNode() = default;
  ProcessorNode(const ProcessorNode&) = delete;
  ProcessorNode& operator=(const ProcessorNode&) = delete;

  // The logical node this physical node ends at (for errors and logs).
  const std::string& name() const { return name_; }

  // Connect makes `child` a downstream of output `port`. kInvalidArgument if there is no such port or the
  // child's input type is not the port's output type (a bug in whatever built the topology).
  virtual absl::Status Connect(int port, ProcessorNode* child) {
    return absl::InvalidArgumentError(absl::StrCat("node ", name_, " has no output port ", port));
  }
  // Init is called once before the first record; `context` outlives the node. Nodes that own user
  // processors call their Init here.
  virtual absl::Status Init(TaskContext* context) {
    context_ = context;
    return absl::OkStatus();
  }
  virtual void Close() {}

 protected:
  TaskContext* context() const { return context_; }
  TaskContext* context_ = nullptr;

 private:
  std::string name_;
};

// A node whose input is typed records. Timestamp, headers and origin of the record are in the TaskContext.
template <typename K, typename V>
class InputNode : public ProcessorNode {
 public:
  using ProcessorNode::ProcessorNode;
  // Process handles one record; errors go to context()->Fail() (checked by the task after each record).
  virtual void Process(const K& key, const V& value) = 0;
};

// A node that reads raw records of one or more source topics (deserializes them and forwards them).
class SourceProcessorNode : public ProcessorNode {
 public:
  using ProcessorNode::ProcessorNode;
  // Process handles one raw record; the task has set the record's origin in the TaskContext.
  virtual void Process(const RecordView& record) = 0;
};

// The children of one output port with output type (K, V).
template <typename K, typename V>
class Downstream {
 public:
  // Add connects `child` (owned by the task, outlives this); `owner` names the parent in errors.
  absl::Status Add(const std::string& owner, ProcessorNode* child) {
    auto* input = dynamic_cast<InputNode<K, V>*>(child);
    if (input == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("node ", owner, " cannot feed node ", child->name(), ": record types differ"));
    }
    children_.push_back(input);
    return absl::OkStatus();
  }
  void Forward(const K& key, const V& value) const {
    for (InputNode<K, V>* c : children_) c->Process(key, value);
  }
  size_t size() const { return children_.size(); }

 private:
  std::vector<InputNode<K, V>*> children_;
};

}  // namespace eddy
