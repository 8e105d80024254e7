// KStream<K, V>: a typed stream of key-value records, as Kafka Streams' KStream. Operations return new
// KStreams (or end the stream); a KStream can be used any number of times (each use is a downstream
// branch; the shared upstream runs once per record).
//
//   Operation        Kafka name         stateful  repartitions  returns
//   Filter/FilterNot filter/filterNot   no        no            KStream<K, V>
//   Map              map                no        no (*)        KStream<K2, V2>
//   MapValues        mapValues          no        no            KStream<K, V2>
//   FlatMap          flatMap            no        no (*)        KStream<K2, V2>
//   FlatMapValues    flatMapValues      no        no            KStream<K, V2>
//   SelectKey        selectKey          no        no (*)        KStream<K2, V>
//   Peek             peek               no        no            KStream<K, V>
//   Foreach          foreach            no        no            (ends the stream)
//   Split            split              no        no            BranchedKStream -> map of KStreams
//   Merge            merge              no        no            KStream<K, V>
//   To               to                 no        no            (ends the stream)
//   Repartition      repartition        no        yes           KStream<K, V>
//   Process          process            maybe     no            KStream<KOut, VOut> (stores by name)
//   GroupByKey       groupByKey         -         no            KGroupedStream<K, V> (kgrouped_stream.h)
//   GroupBy          groupBy            -         yes           KGroupedStream<K2, V>
//   Join/LeftJoin    join/leftJoin      yes       no (**)       KStream<K, VR>, with a KTable (ktable.h)
//   (*) a later key-based operation (aggregation, join) would repartition, as in Kafka.
//   (**) the stream and the table must be co-partitioned (same key, same partition count); Eddy does not
//        repartition a stream before a join: Repartition() it first if its key changed.
//
// The third template parameter is the fused chain of stateless operators since the stream's chain root
// (see chain.h); users write `auto`, or KStream<K, V> to hold a stream behind a type-erased boundary
// (converting costs one virtual call per record at that point). Lambdas are copied into every task: give
// them state only through pointers to thread-safe objects.
//
// A KStream refers to its StreamsBuilder, which must outlive it. Not thread-safe (build on one thread).
#pragma once

#include <concepts>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "eddy/core/serde.h"
#include "eddy/dsl/chain.h"
#include "eddy/dsl/concepts.h"
#include "eddy/dsl/graph.h"
#include "eddy/dsl/materialized.h"
#include "eddy/dsl/named.h"
#include "eddy/dsl/nodes.h"
#include "eddy/dsl/table_nodes.h"
#include "eddy/runtime/default_serde.h"

namespace eddy {

class StreamsBuilder;
template <typename K, typename V, typename Chain = dsl_internal::TypedRoot<K, V>>
class KStream;
template <typename K, typename V, typename Chain, typename... Preds>
class BranchedKStream;
template <typename K, typename V>
class KTable;
template <typename K, typename V>
class KGroupedStream;
namespace dsl_internal {
struct WindowAccess;  // suppress.h
}  // namespace dsl_internal

namespace dsl_internal {
// Longer chains are cut (one virtual call) to bound the template instantiations per chain.
inline constexpr int kMaxFusedOps = 16;

template <typename T>
struct IsKStreamT : std::false_type {};
template <typename K, typename V, typename C>
struct IsKStreamT<KStream<K, V, C>> : std::true_type {};
template <typename T>
concept IsKStream = IsKStreamT<std::decay_t<T>>::value;

// Registers, on `node`, the factory of a physical node that runs a suffix of `chain` and ends in a
// terminal made by make_terminal() (called once per task).
template <typename Chain, typename MakeTerminal>
void SetChainFactory(GraphBuilder* graph, int node, const Chain& chain, MakeTerminal make_terminal) {
  graph->SetFactory(
      node,
      [chain, make_terminal](const std::string& name, int start, bool typed_input) -> std::unique_ptr<ProcessorNode> {
        return WithSuffix(chain, start, typed_input, [&](auto suffix) -> std::unique_ptr<ProcessorNode> {
          using Suffix = decltype(suffix);
          using Terminal = std::decay_t<decltype(make_terminal())>;
          return std::make_unique<ChainNode<Suffix, Terminal>>(name, std::move(suffix), make_terminal());
        });
      },
      Chain::kDepth);
}
}  // namespace dsl_internal

template <typename K, typename V, typename Chain>
class KStream {
  static_assert(std::is_same_v<K, typename Chain::KOut> && std::is_same_v<V, typename Chain::VOut>);

 public:
  using Key = K;
  using Value = V;

  // Conversion to the type-erased KStream<K, V>: the current node becomes a physical node.
  template <typename C2>
    requires(std::is_same_v<Chain, dsl_internal::TypedRoot<K, V>> && !std::is_same_v<C2, Chain>)
  KStream(const KStream<K, V, C2>& other) : graph_(other.graph_), tail_(other.tail_) {
    graph_->ForceMaterialize(tail_);
  }

  // The name of the node this stream comes out of.
  const std::string& node_name() const { return graph_->name(tail_); }

  // ---- Filter / FilterNot: keep the records for which pred(key, value) is true (false). ----
  template <typename P>
    requires FilterPredicate<P, K, V>
  auto Filter(P pred, const Named& named = {}) const {
    return Then("filter", named, dsl_internal::FilterOp<K, V, P>{std::move(pred), true});
  }
  template <typename P>
    requires FilterPredicate<P, K, V>
  auto FilterNot(P pred, const Named& named = {}) const {
    return Then("filternot", named, dsl_internal::FilterOp<K, V, P>{std::move(pred), false});
  }

  // ---- MapValues: value -> fn(value) or fn(key, value). ----
  template <typename F>
    requires ValueMapper<F, K, V>
  auto MapValues(F fn, const Named& named = {}) const {
    return Then("mapvalues", named, dsl_internal::MapValuesOp<K, V, F>{std::move(fn)});
  }

  // ---- Map: (key, value) -> fn(key, value), a KeyValue or std::pair. ----
  template <typename F>
    requires KeyValueMapper<F, K, V>
  auto Map(F fn, const Named& named = {}) const {
    return Then("map", named, dsl_internal::MapOp<K, V, F>{std::move(fn)});
  }

  // ---- SelectKey: key -> fn(key, value). ----
  template <typename F>
    requires KeySelector<F, K, V>
  auto SelectKey(F fn, const Named& named = {}) const {
    return Then("selectkey", named, dsl_internal::SelectKeyOp<K, V, F>{std::move(fn)});
  }

  // ---- FlatMap: each record -> every KeyValue/pair of the range fn(key, value) returns. ----
  template <typename F>
    requires FlatKeyValueMapper<F, K, V>
  auto FlatMap(F fn, const Named& named = {}) const {
    return Then("flatmap", named, dsl_internal::FlatMapOp<K, V, F>{std::move(fn)});
  }

  // ---- FlatMapValues: each record -> (key, v) for every v of fn(value) or fn(key, value). ----
  template <typename F>
    requires FlatValueMapper<F, K, V>
  auto FlatMapValues(F fn, const Named& named = {}) const {
    return Then("flatmapvalues", named, dsl_internal::FlatMapValuesOp<K, V, F>{std::move(fn)});
  }

  // ---- Peek: calls fn(key, value), passes the record on unchanged. ----
  template <typename F>
    requires ForeachAction<F, K, V>
  auto Peek(F fn, const Named& named = {}) const {
    return Then("peek", named, dsl_internal::PeekOp<K, V, F>{std::move(fn)});
  }

  // ---- Foreach: calls fn(key, value); ends the stream. ----
  template <typename F>
    requires ForeachAction<F, K, V>
  void Foreach(F fn, const Named& named = {}) const {
    using Op = dsl_internal::PeekOp<K, V, F>;
    using C = dsl_internal::Link<Chain, Op>;
    int id = AddChild(dsl_internal::NodeRole::kTerminal, "foreach", named.name(), NodeType::kProcessor,
                      /*own_op=*/true);
    dsl_internal::SetChainFactory(graph_, id, C{chain_, Op{std::move(fn)}},
                                  [] { return dsl_internal::DropTerminal{}; });
  }

  // ---- To: writes every record to `topic` (or a topic chosen per record); ends the stream. ----
  void To(std::string topic) const { To(std::move(topic), Produced(DefaultSerdeFor<K>(), DefaultSerdeFor<V>())); }
  template <Serde KS, Serde VS>
  void To(std::string topic, Produced<KS, VS> produced) const {
    CheckSerdes<KS, VS>();
    AddSink(std::move(produced), dsl_internal::FixedTopic{topic, false, {}}, {topic}, false, "to-" + topic);
  }
  // `extractor(key, value)` returns the topic's name (anything convertible to absl::string_view).
  template <typename F>
    requires TopicNameExtractor<F, K, V>
  void To(F extractor) const {
    To(std::move(extractor), Produced(DefaultSerdeFor<K>(), DefaultSerdeFor<V>()));
  }
  template <typename F, Serde KS, Serde VS>
    requires TopicNameExtractor<F, K, V>
  void To(F extractor, Produced<KS, VS> produced) const {
    CheckSerdes<KS, VS>();
    AddSink(std::move(produced), dsl_internal::ExtractedTopic<F>{std::move(extractor), {}}, {}, false, "to");
  }

  // ---- Repartition: writes to the internal topic "<application.id>-<name>-repartition" and reads it back:
  // records go to the partition of their (new) key. Starts a new sub-topology. ----
  auto Repartition() const { return Repartition(Repartitioned(DefaultSerdeFor<K>(), DefaultSerdeFor<V>())); }
  template <Serde KS, Serde VS>
  auto Repartition(Repartitioned<KS, VS> repartitioned) const {
    CheckSerdes<KS, VS>();
    std::string stem = repartitioned.name.empty() ? graph_->DefaultStem(tail_, "repartition")
                                                  : repartitioned.name + "-repartition";
    graph_->AddInternalTopic(stem, repartitioned.partitions);
    AddSink(Produced(repartitioned.key_serde, repartitioned.value_serde, stem + "-sink"),
            dsl_internal::FixedTopic{stem, true, {}}, {stem}, true, "repartition");
    dsl_internal::NodeSpec source;
    source.role = dsl_internal::NodeRole::kSource;
    source.type = NodeType::kSource;
    source.name = stem + "-source";
    source.base = stem;
    source.topics = {stem};
    source.internal_topic = true;
    int id = graph_->AddNode(std::move(source));
    using Root = dsl_internal::SourceRoot<KS, VS, RecordTimestampExtractor>;
    KStream<K, V, Root> out(graph_, id, Root{std::move(repartitioned.key_serde), std::move(repartitioned.value_serde),
                                             RecordTimestampExtractor(), K{}, V{}, graph_->name(id)});
    out.RegisterEmitFactory();
    return out;
  }

  // ---- Merge: the records of this stream and `other`, as they arrive. ----
  template <typename C2>
  KStream<K, V> Merge(const KStream<K, V, C2>& other, const Named& named = {}) const {
    if (other.graph_ != graph_) graph_->RecordError("Merge: the two streams come from different StreamsBuilders");
    dsl_internal::NodeSpec spec;
    spec.role = dsl_internal::NodeRole::kMerge;
    spec.op = "merge";
    spec.name = named.name();
    spec.parents = {tail_, other.tail_};
    int id = graph_->AddNode(std::move(spec));
    dsl_internal::SetChainFactory(graph_, id, dsl_internal::TypedRoot<K, V>{},
                                  [] { return dsl_internal::EmitTerminal<K, V>{}; });
    return KStream<K, V>(graph_, id, {});
  }

  // ---- Split: routes each record to the first branch whose predicate holds. ----
  //   auto branches = orders.Split(eddy::Named::As("orders"))
  //                       .Branch(is_valid, eddy::Branched::As("valid"))
  //                       .DefaultBranch(eddy::Branched::As("invalid"));
  //   branches["orders-valid"].To("shipments", ...);
  BranchedKStream<K, V, Chain> Split(const Named& named = {}) const {
    int id = AddChild(dsl_internal::NodeRole::kHard, "split", named.name());
    return BranchedKStream<K, V, Chain>(graph_, id, chain_, std::tuple<>());
  }

  // ---- Process: hands every record to a user Processor (processor.h), one instance per task, created by
  // `supplier()` (which returns std::unique_ptr<P>). Returns the stream of what the processor forwards. ----
  // (N is always Named: a template parameter so that Process(supplier, {"store"}) picks the overload below.)
  template <typename S, std::same_as<Named> N = Named>
    requires ProcessorSupplier<S, K, V>
  auto Process(S supplier, const N& named = N()) const {
    return Process(std::move(supplier), std::vector<std::string>{}, named);
  }
  // The same, connecting the state stores named in `stores` (added with StreamsBuilder::AddStateStore) to
  // the processor, which finds them with ProcessorContext::GetStateStore (Kafka's process(supplier,
  // "store", ...)).
  template <typename S>
    requires ProcessorSupplier<S, K, V>
  auto Process(S supplier, std::vector<std::string> stores, const Named& named = {}) const {
    using P = typename std::invoke_result_t<S&>::element_type;
    using KOut = typename P::KeyOut;
    using VOut = typename P::ValueOut;
    int id = AddChild(dsl_internal::NodeRole::kHard, "process", named.name());
    for (const std::string& store : stores) graph_->ConnectStore(id, store);
    dsl_internal::SetChainFactory(graph_, id, chain_,
                                  [supplier] { return dsl_internal::ProcessTerminal<P>(supplier()); });
    return KStream<KOut, VOut>(graph_, id, {});
  }

  // ---- GroupByKey: groups by the current key for an aggregation (kgrouped_stream.h). Repartitions (through
  // "<application.id>-<name>-repartition") only if an upstream Map, SelectKey, FlatMap or Process may have
  // changed the key since the source, as Kafka. `grouped`: Grouped or Grouped::WithSerdes(...). ----
  template <typename G = Grouped>
  KGroupedStream<K, V> GroupByKey(const G& grouped = G()) const {
    return MakeGrouped(*this, grouped, graph_->key_changed(tail_));
  }
  // ---- GroupBy: groups by selector(key, value); always repartitions by the new key, as Kafka. ----
  template <typename F, typename G = Grouped>
    requires KeySelector<F, K, V>
  auto GroupBy(F selector, const G& grouped = G(), const Named& named = {}) const {
    auto keyed = Then("groupby", named, dsl_internal::SelectKeyOp<K, V, F>{std::move(selector)});
    using K2 = typename decltype(keyed)::Key;
    return KGroupedStream<K2, V>::Make(keyed, grouped, /*repartition=*/true);
  }

  // ---- Join / LeftJoin with a KTable (ktable.h): for each record, the table's current value for its key.
  // Join calls joiner(value, table_value) and drops records whose key is not in the table; LeftJoin calls
  // joiner(value, std::optional<table value>) for every record. The stream and the table must be
  // co-partitioned (their topics have equal partition counts; checked at startup): the join runs in the
  // table's sub-topology. Returns KStream<K, joiner's result>. ----
  template <typename VT, typename J>
    requires std::is_invocable_v<J&, const V&, const VT&>
  auto Join(const KTable<K, VT>& table, J joiner, const Named& named = {}) const {
    using VR = std::decay_t<std::invoke_result_t<J&, const V&, const VT&>>;
    return AddJoin<VT, VR, J, false>(table, std::move(joiner), named);
  }
  template <typename VT, typename J>
    requires std::is_invocable_v<J&, const V&, const std::optional<VT>&>
  auto LeftJoin(const KTable<K, VT>& table, J joiner, const Named& named = {}) const {
    using VR = std::decay_t<std::invoke_result_t<J&, const V&, const std::optional<VT>&>>;
    return AddJoin<VT, VR, J, true>(table, std::move(joiner), named);
  }

  // ---- Fallbacks: a callable of the wrong shape ends here, with a message instead of a wall of errors. --
  template <typename P>
    requires(!FilterPredicate<P, K, V>)
  dsl_internal::InvalidOperation Filter(P, const Named& = {}) const {
    static_assert(dsl_internal::kAlwaysFalse<P>, "Filter: the predicate must be callable as bool(const K&, const V&)");
    return {};
  }
  template <typename P>
    requires(!FilterPredicate<P, K, V>)
  dsl_internal::InvalidOperation FilterNot(P, const Named& = {}) const {
    static_assert(dsl_internal::kAlwaysFalse<P>,
                  "FilterNot: the predicate must be callable as bool(const K&, const V&)");
    return {};
  }
  template <typename F>
    requires(!ValueMapper<F, K, V>)
  dsl_internal::InvalidOperation MapValues(F, const Named& = {}) const {
    static_assert(dsl_internal::kAlwaysFalse<F>,
                  "MapValues: the mapper must be callable as V2(const V&) or V2(const K&, const V&)");
    return {};
  }
  template <typename F>
    requires(!KeyValueMapper<F, K, V>)
  dsl_internal::InvalidOperation Map(F, const Named& = {}) const {
    static_assert(dsl_internal::kAlwaysFalse<F>,
                  "Map: the mapper must be callable as KeyValue<K2, V2>(const K&, const V&) (or return std::pair)");
    return {};
  }
  template <typename F>
    requires(!KeySelector<F, K, V>)
  dsl_internal::InvalidOperation SelectKey(F, const Named& = {}) const {
    static_assert(dsl_internal::kAlwaysFalse<F>, "SelectKey: the selector must be callable as K2(const K&, const V&)");
    return {};
  }
  template <typename F>
    requires(!FlatKeyValueMapper<F, K, V>)
  dsl_internal::InvalidOperation FlatMap(F, const Named& = {}) const {
    static_assert(dsl_internal::kAlwaysFalse<F>,
                  "FlatMap: the mapper must be callable as (const K&, const V&) and return a range of "
                  "KeyValue<K2, V2> or std::pair<K2, V2>");
    return {};
  }
  template <typename F>
    requires(!FlatValueMapper<F, K, V>)
  dsl_internal::InvalidOperation FlatMapValues(F, const Named& = {}) const {
    static_assert(dsl_internal::kAlwaysFalse<F>,
                  "FlatMapValues: the mapper must be callable as (const V&) or (const K&, const V&) and return a "
                  "range of values");
    return {};
  }
  template <typename F>
    requires(!ForeachAction<F, K, V>)
  dsl_internal::InvalidOperation Peek(F, const Named& = {}) const {
    static_assert(dsl_internal::kAlwaysFalse<F>, "Peek: the action must be callable as void(const K&, const V&)");
    return {};
  }
  template <typename F>
    requires(!ForeachAction<F, K, V>)
  dsl_internal::InvalidOperation Foreach(F, const Named& = {}) const {
    static_assert(dsl_internal::kAlwaysFalse<F>, "Foreach: the action must be callable as void(const K&, const V&)");
    return {};
  }
  template <typename S>
    requires(!ProcessorSupplier<S, K, V>)
  dsl_internal::InvalidOperation Process(S, std::vector<std::string>, const Named& = {}) const {
    static_assert(dsl_internal::kAlwaysFalse<S>,
                  "Process: the supplier must be a copyable callable returning std::unique_ptr<P>, where P derives "
                  "from eddy::Processor<K, V, KOut, VOut> with the stream's K and V");
    return {};
  }
  template <typename S, std::same_as<Named> N = Named>
    requires(!ProcessorSupplier<S, K, V>)
  dsl_internal::InvalidOperation Process(S, const N& = N()) const {
    static_assert(dsl_internal::kAlwaysFalse<S>,
                  "Process: the supplier must be a copyable callable returning std::unique_ptr<P>, where P derives "
                  "from eddy::Processor<K, V, KOut, VOut> with the stream's K and V");
    return {};
  }

 private:
  template <typename, typename, typename>
  friend class KStream;
  template <typename, typename, typename, typename...>
  friend class BranchedKStream;
  template <typename, typename>
  friend class KTable;
  template <typename, typename>
  friend class KGroupedStream;
  friend class StreamsBuilder;
  friend struct dsl_internal::WindowAccess;

  template <typename S, typename G>
  static KGroupedStream<K, V> MakeGrouped(const S& stream, const G& grouped, bool repartition) {
    return KGroupedStream<K, V>::Make(stream, grouped, repartition);
  }

  template <typename VT, typename VR, typename J, bool kLeft>
  KStream<K, VR> AddJoin(const KTable<K, VT>& table, J joiner, const Named& named) const {
    int id = AddChild(dsl_internal::NodeRole::kHard, kLeft ? "leftjoin" : "join", named.name());
    for (const std::string& store : table.getter_stores_) graph_->ConnectStore(id, store);
    auto getter = table.getter_;
    dsl_internal::SetChainFactory(graph_, id, chain_, [getter, joiner] {
      return dsl_internal::JoinTerminal<K, V, VT, VR, J, kLeft>(getter(), joiner);
    });
    return KStream<K, VR>(graph_, id, {});
  }

  KStream(dsl_internal::GraphBuilder* graph, int tail, Chain chain)
      : graph_(graph), tail_(tail), chain_(std::move(chain)) {}

  template <typename KS, typename VS>
  static void CheckSerdes() {
    static_assert(std::is_same_v<typename KS::Type, K>, "the key serde's Type must be the stream's key type K");
    static_assert(std::is_same_v<typename VS::Type, V>, "the value serde's Type must be the stream's value type V");
  }

  // Adds a node continuing this stream's chain.
  int AddChild(dsl_internal::NodeRole role, const char* op, const std::string& name,
               NodeType type = NodeType::kProcessor, bool own_op = false) const {
    dsl_internal::NodeSpec spec;
    spec.own_op = own_op;
    spec.role = role;
    spec.type = type;
    spec.op = op;
    spec.name = name;
    spec.parents = {tail_};
    spec.chain_parent = tail_;
    return graph_->AddNode(std::move(spec));
  }

  // A stateless operator: a new node whose stream carries the chain extended by `op`.
  template <typename Op>
  auto Then(const char* op_name, const Named& named, Op op) const {
    int id = AddChild(dsl_internal::NodeRole::kOp, op_name, named.name());
    using KOut = typename Op::KOut;
    using VOut = typename Op::VOut;
    if constexpr (Chain::kDepth >= dsl_internal::kMaxFusedOps) {
      graph_->ForceMaterialize(tail_);
      using C = dsl_internal::Link<dsl_internal::TypedRoot<K, V>, Op>;
      KStream<KOut, VOut, C> out(graph_, id, C{{}, std::move(op)});
      out.RegisterEmitFactory();
      return out;
    } else {
      using C = dsl_internal::Link<Chain, Op>;
      KStream<KOut, VOut, C> out(graph_, id, C{chain_, std::move(op)});
      out.RegisterEmitFactory();
      return out;
    }
  }

  // The factory used if this stream's node turns out to be physical (a fan-out point).
  void RegisterEmitFactory() const {
    dsl_internal::SetChainFactory(graph_, tail_, chain_, [] { return dsl_internal::EmitTerminal<K, V>{}; });
  }

  template <typename KS, typename VS, typename Topic>
  void AddSink(Produced<KS, VS> produced, Topic topic, std::vector<std::string> topics, bool internal,
               const std::string& op) const {
    dsl_internal::NodeSpec spec;
    spec.role = dsl_internal::NodeRole::kTerminal;
    spec.type = NodeType::kSink;
    spec.op = op;
    spec.name = produced.name;
    spec.parents = {tail_};
    spec.chain_parent = tail_;
    spec.topics = std::move(topics);
    spec.internal_topic = internal;
    int id = graph_->AddNode(std::move(spec));
    dsl_internal::SetChainFactory(graph_, id, chain_, [ks = produced.key_serde, vs = produced.value_serde, topic] {
      return dsl_internal::SinkTerminal<KS, VS, Topic>{ks, vs, topic};
    });
  }

  dsl_internal::GraphBuilder* graph_;
  int tail_;
  Chain chain_;
};

}  // namespace eddy

#include "eddy/dsl/branched_kstream.h"
#include "eddy/dsl/ktable.h"
#include "eddy/dsl/kgrouped_stream.h"
