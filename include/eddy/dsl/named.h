// Small value objects that configure DSL operations, as Kafka Streams' Named, Consumed, Produced,
// Repartitioned and Branched: each operation comes as Op(required) and Op(required, config).
//
//   builder.Stream("orders", eddy::Consumed(eddy::StringSerde(), eddy::JsonSerde<Order>())
//                                .WithName("orders-in")
//                                .WithTimestampExtractor(OrderTime));
//   stream.Filter(pred, eddy::Named::As("valid-orders"));
//   stream.To("shipments", eddy::Produced(eddy::StringSerde(), eddy::JsonSerde<Shipment>()));
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "eddy/core/record.h"
#include "eddy/core/serde.h"

namespace eddy {

// Names one node, replacing its default name (see dsl/README.md for the naming rules). Names must be
// unique in a topology; a duplicate makes StreamsBuilder::Build fail.
class Named {
 public:
  Named() = default;
  static Named As(std::string name) { return Named(std::move(name)); }
  const std::string& name() const { return name_; }
  bool empty() const { return name_.empty(); }

 private:
  explicit Named(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

// The default timestamp extractor: the record's own timestamp (CreateTime or LogAppendTime), as Kafka's
// FailOnInvalidTimestamp (what happens to a negative one is TaskConfig::invalid_timestamp_policy).
struct RecordTimestampExtractor {
  int64_t operator()(const RecordView& record, int64_t /*partition_time*/) const { return record.timestamp(); }
};

// How a source reads its topic(s): key and value serdes, an optional node name and an optional timestamp
// extractor. The extractor is called per record, after deserialization, as one of
//   int64_t(const RecordView& raw, int64_t partition_time)
//   int64_t(const K& key, const V& value, const RecordView& raw, int64_t partition_time)
// (partition_time: the highest timestamp seen so far on the record's partition, -1 if none). A negative
// result is an invalid timestamp (TaskConfig::invalid_timestamp_policy).
template <Serde KS, Serde VS, typename Extractor = RecordTimestampExtractor>
struct Consumed {
  Consumed(KS key, VS value, Extractor extractor = Extractor(), std::string node_name = {})
      : key_serde(std::move(key)), value_serde(std::move(value)), extractor(std::move(extractor)),
        name(std::move(node_name)) {}

  // Names the source node (Kafka's Consumed.as); the default is "<topic>-source".
  Consumed WithName(std::string node_name) && {
    name = std::move(node_name);
    return std::move(*this);
  }
  template <typename F>
  Consumed<KS, VS, F> WithTimestampExtractor(F f) && {
    return Consumed<KS, VS, F>(std::move(key_serde), std::move(value_serde), std::move(f), std::move(name));
  }

  KS key_serde;
  VS value_serde;
  Extractor extractor;
  std::string name;
};

// How a sink writes: key and value serdes and an optional node name.
template <Serde KS, Serde VS>
struct Produced {
  Produced(KS key, VS value, std::string node_name = {})
      : key_serde(std::move(key)), value_serde(std::move(value)), name(std::move(node_name)) {}
  Produced WithName(std::string node_name) && {
    name = std::move(node_name);
    return std::move(*this);
  }

  KS key_serde;
  VS value_serde;
  std::string name;
};

// How Repartition writes and reads its internal topic "<application.id>-<name>-repartition": serdes, the
// name (default: the upstream node's name) and the partition count (default -1: as many as the upstream
// sub-topology's source topics, as Kafka).
template <Serde KS, Serde VS>
struct Repartitioned {
  Repartitioned(KS key, VS value) : key_serde(std::move(key)), value_serde(std::move(value)) {}
  Repartitioned WithName(std::string n) && {
    name = std::move(n);
    return std::move(*this);
  }
  Repartitioned WithNumberOfPartitions(int32_t n) && {
    partitions = n;
    return std::move(*this);
  }

  KS key_serde;
  VS value_serde;
  std::string name;
  int32_t partitions = -1;
};

// Names one branch of Split (Kafka's Branched.as). The branch's node, and its key in the map that
// DefaultBranch/NoDefaultBranch return, is "<split name>-<branch name>".
class Branched {
 public:
  Branched() = default;
  static Branched As(std::string name) { return Branched(std::move(name)); }
  const std::string& name() const { return name_; }

 private:
  explicit Branched(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

}  // namespace eddy
