// The physical node templates of the DSL: ChainNode<Chain, Terminal> runs a fused chain (chain.h) and
// ends it in a terminal: emit to downstream nodes, write to a sink, drop (Foreach), hand to a user
// Processor, or choose a Split branch. One ChainNode is one ProcessorNode of a task: one virtual call per
// record at its entry, none inside.
//
// Implementation detail of the DSL (namespace dsl_internal); see dsl/README.md.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/record.h"
#include "eddy/core/serde.h"
#include "eddy/dsl/chain.h"
#include "eddy/runtime/processor.h"
#include "eddy/runtime/processor_node.h"
#include "eddy/runtime/task_context.h"

namespace eddy::dsl_internal {

// Terminals implement
//   template <class K, class V> void operator()(const K&, const V&);
//   absl::Status Init(TaskContext*, const std::string& node);
//   absl::Status Connect(const std::string& node, int port, ProcessorNode* child);
//   void Close();

// Emits to the children of port 0.
template <typename K, typename V>
struct EmitTerminal {
  Downstream<K, V> out;
  EDDY_FUSED_INLINE void operator()(const K& k, const V& v) { out.Forward(k, v); }
  absl::Status Init(TaskContext*, const std::string&) { return absl::OkStatus(); }
  absl::Status Connect(const std::string& node, int port, ProcessorNode* child) {
    if (port != 0) return absl::InvalidArgumentError(absl::StrCat("node ", node, " has no output port ", port));
    return out.Add(node, child);
  }
  void Close() {}
};

// Ends a chain (Foreach: the chain's last operator did the work).
struct DropTerminal {
  template <typename K, typename V>
  void operator()(const K&, const V&) {}
  absl::Status Init(TaskContext*, const std::string&) { return absl::OkStatus(); }
  absl::Status Connect(const std::string& node, int port, ProcessorNode*) {
    return absl::InvalidArgumentError(absl::StrCat("node ", node, " has no outputs"));
  }
  void Close() {}
};

// A fixed sink topic.
struct FixedTopic {
  std::string raw;       // as in the topology
  bool internal = false;
  std::string resolved;  // set by Init
  void Init(TaskContext* context) { resolved = internal ? context->InternalTopicName(raw) : raw; }
  template <typename K, typename V>
  absl::string_view operator()(const K&, const V&) { return resolved; }
};

// A topic chosen per record by the user's TopicNameExtractor fn(const K&, const V&) -> string-like.
template <typename F>
struct ExtractedTopic {
  F fn;
  std::string buffer;
  void Init(TaskContext*) {}
  template <typename K, typename V>
  absl::string_view operator()(const K& k, const V& v) {
    const absl::string_view topic(fn(k, v));
    buffer.assign(topic.data(), topic.size());
    return buffer;
  }
};

// Serializes into reusable buffers and hands the record to the task's RecordCollector, with the current
// record's timestamp and headers.
template <typename KS, typename VS, typename Topic>
struct SinkTerminal {
  KS key_serde;
  VS value_serde;
  Topic topic;
  TaskContext* context = nullptr;
  const std::string* node = nullptr;
  std::string key_buffer;
  std::string value_buffer;

  EDDY_FUSED_INLINE void operator()(const typename KS::Type& k, const typename VS::Type& v) {
    ProducerRecord record;
    record.topic = topic(k, v);
    record.timestamp = context->timestamp();
    absl::Status st = SerializeWith(key_serde, k, &key_buffer);
    if (st.ok()) {
      record.key = key_buffer;
      st = SerializeWith(value_serde, v, &value_buffer);
    }
    if (!st.ok()) [[unlikely]] {
      Failed(record, st);
      return;
    }
    record.value = value_buffer;
    record.headers = context->headers();
    context->Send(*node, record);
  }
  [[gnu::noinline, gnu::cold]] void Failed(const ProducerRecord& record, const absl::Status& st) {
    context->ReportSerializationError(*node, record, st);
  }
  absl::Status Init(TaskContext* ctx, const std::string& name) {
    context = ctx;
    node = &name;
    topic.Init(ctx);
    return absl::OkStatus();
  }
  absl::Status Connect(const std::string& name, int, ProcessorNode*) {
    return absl::InvalidArgumentError(absl::StrCat("sink ", name, " has no outputs"));
  }
  void Close() {}
};

// Hands records to a user Processor and is its ProcessorContext.
template <typename P>
class ProcessTerminal final : public ProcessorContext<typename P::KeyOut, typename P::ValueOut> {
 public:
  using KOut = typename P::KeyOut;
  using VOut = typename P::ValueOut;

  explicit ProcessTerminal(std::unique_ptr<P> processor) : processor_(std::move(processor)) {}
  ProcessTerminal(ProcessTerminal&&) = default;

  void operator()(const typename P::KeyIn& k, const typename P::ValueIn& v) {
    TaskContext* ctx = this->task_;
    absl::Status st = processor_->Process(Record<typename P::KeyIn, typename P::ValueIn>(k, v, ctx->timestamp(),
                                                                                         ctx->headers()));
    if (!st.ok()) ctx->Fail(absl::Status(st.code(), absl::StrCat("processor ", *node_, ": ", st.message())));
  }
  void Forward(const Record<KOut, VOut>& record) override {
    TaskContext* ctx = this->task_;
    const int64_t ts = ctx->timestamp();
    const absl::Span<const HeaderRef> headers = ctx->headers();
    ctx->set_timestamp(record.timestamp());
    ctx->set_headers(record.headers());
    out_.Forward(record.key(), record.value());
    ctx->set_timestamp(ts);
    ctx->set_headers(headers);
  }
  absl::Status Init(TaskContext* ctx, const std::string& name) {
    this->set_task_context(ctx);
    node_ = &name;
    absl::Status st = processor_->Init(*this);
    if (!st.ok()) return absl::Status(st.code(), absl::StrCat("processor ", name, " Init: ", st.message()));
    return absl::OkStatus();
  }
  absl::Status Connect(const std::string& name, int port, ProcessorNode* child) {
    if (port != 0) return absl::InvalidArgumentError(absl::StrCat("node ", name, " has no output port ", port));
    return out_.Add(name, child);
  }
  void Close() { processor_->Close(); }

 private:
  std::unique_ptr<P> processor_;
  Downstream<KOut, VOut> out_;
  const std::string* node_ = nullptr;
};

// Sends each record to the first branch whose predicate holds (ports 0..N-1), else to the default branch
// (port N) if there is one, else drops it (as Kafka's BranchedKStream).
template <typename K, typename V, typename... Preds>
struct SplitTerminal {
  static constexpr size_t kBranches = sizeof...(Preds);
  std::tuple<Preds...> preds;
  bool has_default = false;
  std::array<Downstream<K, V>, kBranches + 1> ports;

  void operator()(const K& k, const V& v) {
    Dispatch(k, v, std::index_sequence_for<Preds...>());
  }
  template <size_t... I>
  void Dispatch(const K& k, const V& v, std::index_sequence<I...>) {
    bool done = false;
    ((done = done || (static_cast<bool>(std::get<I>(preds)(k, v)) && (ports[I].Forward(k, v), true))), ...);
    if (!done && has_default) ports[kBranches].Forward(k, v);
  }
  absl::Status Init(TaskContext*, const std::string&) { return absl::OkStatus(); }
  absl::Status Connect(const std::string& node, int port, ProcessorNode* child) {
    if (port < 0 || port > static_cast<int>(kBranches) || (port == static_cast<int>(kBranches) && !has_default)) {
      return absl::InvalidArgumentError(absl::StrCat("split ", node, " has no branch port ", port));
    }
    return ports[port].Add(node, child);
  }
  void Close() {}
};

// The entry of a ChainNode: a source for raw chains, a typed input otherwise.
template <typename Derived, typename Chain, bool kRaw = Chain::kRaw>
class ChainEntry;
template <typename Derived, typename Chain>
class ChainEntry<Derived, Chain, true> : public SourceProcessorNode {
 public:
  using SourceProcessorNode::SourceProcessorNode;
  void Process(const RecordView& record) final { static_cast<Derived*>(this)->Run(record); }
};
template <typename Derived, typename Chain>
class ChainEntry<Derived, Chain, false>
    : public InputNode<typename RootOf<Chain>::KIn, typename RootOf<Chain>::VIn> {
  using KIn = typename RootOf<Chain>::KIn;
  using VIn = typename RootOf<Chain>::VIn;

 public:
  using InputNode<KIn, VIn>::InputNode;
  void Process(const KIn& k, const VIn& v) final {
    static_cast<Derived*>(this)->Run(k, v);
  }
};

template <typename Chain, typename Terminal>
class ChainNode final : public ChainEntry<ChainNode<Chain, Terminal>, Chain> {
  using Base = ChainEntry<ChainNode<Chain, Terminal>, Chain>;

 public:
  ChainNode(std::string name, Chain chain, Terminal terminal)
      : Base(std::move(name)), chain_(std::move(chain)), terminal_(std::move(terminal)) {}

  template <typename... In>
  [[gnu::flatten]] void Run(const In&... in) {
    chain_.Run(env_, terminal_, in...);
  }
  absl::Status Init(TaskContext* context) override {
    this->context_ = context;
    env_ = ChainEnv{context, &this->name()};
    return terminal_.Init(context, this->name());
  }
  absl::Status Connect(int port, ProcessorNode* child) override {
    return terminal_.Connect(this->name(), port, child);
  }
  void Close() override { terminal_.Close(); }

 private:
  Chain chain_;
  Terminal terminal_;
  ChainEnv env_;
};

}  // namespace eddy::dsl_internal
