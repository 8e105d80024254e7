// StreamsBuilder: the entry point of the DSL (Kafka's StreamsBuilder). Create source streams with Stream(),
// chain KStream operations, then Build() a Topology for eddy::Streams (runtime) or eddy::TestDriver.
//
//   eddy::StreamsBuilder builder;
//   builder.Stream<std::string, Order>("orders", eddy::Consumed(eddy::StringSerde(), eddy::JsonSerde<Order>()))
//       .Filter([](const std::string& id, const Order& o) { return o.amount > 0; })
//       .MapValues([](const Order& o) { return ToShipment(o); })
//       .To("shipments", eddy::Produced(eddy::StringSerde(), eddy::JsonSerde<Shipment>()));
//   absl::StatusOr<eddy::Topology> topology = builder.Build();
//
// Node names (what Topology::Describe prints, and what internal topic names derive from):
//   - a source is "<topic>-source" (topics joined by "-" when it reads several); its children start with
//     "<topic>";
//   - an operator is "<parent>-<op>", op being the lowercase operation name (filter, mapvalues, selectkey,
//     process, split, merge, ...): "orders-filter-mapvalues"; a sink is "<parent>-to-<topic>" (or
//     "<parent>-to" when a TopicNameExtractor chooses the topic);
//   - Repartition writes through "<stem>-sink" to the internal topic <stem> and reads it back with
//     "<stem>-source", where stem is "<parent>-repartition" (or "<name>-repartition" with
//     Repartitioned::WithName); downstream names start with the stem;
//   - a Split is "<parent>-split", its branches "<split>-<branch name>", "<split>-<n>" or
//     "<split>-default";
//   - when two children of one node would get the same default name, the second is "<name>-2", the third
//     "<name>-3", in the order they were created; so adding an operator to one branch renames nothing in
//     another;
//   - Named::As, Consumed/Produced::WithName and Repartitioned::WithName replace the default; a duplicate
//     name makes Build fail.
//
// The builder must outlive the KStreams made from it (they point to it). Not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_join.h"
#include "eddy/dsl/graph.h"
#include "eddy/dsl/kstream.h"
#include "eddy/dsl/named.h"
#include "eddy/dsl/store_spec.h"
#include "eddy/runtime/default_serde.h"
#include "eddy/runtime/topology.h"

namespace eddy {

class StreamsBuilder {
 public:
  StreamsBuilder();
  ~StreamsBuilder();
  StreamsBuilder(const StreamsBuilder&) = delete;
  StreamsBuilder& operator=(const StreamsBuilder&) = delete;

  // Stream reads `topic` with the default serdes of K and V (default_serde.h).
  template <typename K, typename V>
  auto Stream(std::string topic) {
    return Stream<K, V>(std::move(topic), Consumed(DefaultSerdeFor<K>(), DefaultSerdeFor<V>()));
  }
  // Stream reads `topic` with the given serdes; K and V may be given to document the types (they must be
  // the serdes' types).
  template <typename K = void, typename V = void, Serde KS, Serde VS, typename Ex>
  auto Stream(std::string topic, Consumed<KS, VS, Ex> consumed) {
    return Stream<K, V>(std::vector<std::string>{std::move(topic)}, std::move(consumed));
  }
  // Stream reads several topics as one stream (one source node; the topics share tasks, so they must have
  // the same partition count).
  template <typename K = void, typename V = void, Serde KS, Serde VS, typename Ex>
  auto Stream(std::vector<std::string> topics, Consumed<KS, VS, Ex> consumed) {
    static_assert(std::is_void_v<K> || std::is_same_v<K, typename KS::Type>,
                  "Stream<K, V>: the key serde's Type must be K");
    static_assert(std::is_void_v<V> || std::is_same_v<V, typename VS::Type>,
                  "Stream<K, V>: the value serde's Type must be V");
    dsl_internal::NodeSpec spec;
    spec.role = dsl_internal::NodeRole::kSource;
    spec.type = NodeType::kSource;
    spec.op = absl::StrJoin(topics, "-");
    spec.suffix = "-source";
    spec.name = consumed.name;
    spec.topics = std::move(topics);
    int id = graph_->AddNode(std::move(spec));
    using Root = dsl_internal::SourceRoot<KS, VS, Ex>;
    using KT = typename KS::Type;
    using VT = typename VS::Type;
    KStream<KT, VT, Root> out(graph_.get(), id,
                              Root{std::move(consumed.key_serde), std::move(consumed.value_serde),
                                   std::move(consumed.extractor), KT{}, VT{}, graph_->name(id)});
    out.RegisterEmitFactory();
    return out;
  }

  // Table reads `topic` as a table (Kafka's builder.table): each record is the latest value of its key, a
  // null value (tombstone) deletes the key, records with a null key are dropped. The table is kept in a
  // key-value store (Materialized: name, default "<topic>-table-store"; persistent, cached and logged by
  // default) holding the topic's bytes, so the store's serdes are the Consumed ones. Nodes: the source
  // "<topic>-source" and "<topic>-table", which writes the store and emits its updates.
  template <typename K = void, typename V = void, Serde KS, Serde VS, typename Ex>
  auto Table(std::string topic, Consumed<KS, VS, Ex> consumed, const Materialized& materialized = Materialized()) {
    KS ks = consumed.key_serde;
    VS vs = consumed.value_serde;
    auto source = Stream<K, V>(std::move(topic), std::move(consumed));
    using KT = typename KS::Type;
    using VT = typename VS::Type;
    const int id = source.AddChild(dsl_internal::NodeRole::kHard, "table", "");
    const std::string store = materialized.name.empty() ? graph_->name(id) + "-store" : materialized.name;
    dsl_internal::AddMaterializedStore(graph_.get(), id, store, materialized);
    dsl_internal::SetChainFactory(graph_.get(), id, source.chain_, [store, ks, vs] {
      return dsl_internal::TableSourceTerminal<KT, VT, KS, VS>(store, ks, vs);
    });
    return KTable<KT, VT>::MakeStoreTable(graph_.get(), id, store, ks, vs);
  }
  template <typename K, typename V>
  auto Table(std::string topic, const Materialized& materialized = Materialized()) {
    return Table<K, V>(std::move(topic), Consumed(DefaultSerdeFor<K>(), DefaultSerdeFor<V>()), materialized);
  }

  // AddStateStore adds a store for processors to use (Kafka's addStateStore): `builder` is a
  // KeyValueStoreBuilder, WindowStoreBuilder or SessionStoreBuilder (Stores::..., stores.h), and builds one
  // store per task of the sub-topology whose processors connect it by name (KStream::Process(supplier,
  // {"name"})). A bad builder or a duplicate name makes Build fail.
  template <typename B>
  void AddStateStore(const B& builder) {
    AddStore(dsl_internal::MakeStoreSpec(builder));
  }

  // Build compiles what was built so far into a Topology. kInvalidArgument for a duplicate node name, a
  // topic read by two sources, an unfinished Split, or a stream misuse recorded while building.
  absl::StatusOr<Topology> Build() const;

 private:
  void AddStore(absl::StatusOr<StoreSpec> spec);

  std::unique_ptr<dsl_internal::GraphBuilder> graph_;
};

}  // namespace eddy
