// The order-to-shipment application's types and topology, shared by the binary (main.cc), its tests and
// bench/streams_bench.cc:
//
//   orders (key order id, value JSON)  ->  valid?  -> shipments (key order id, value JSON)
//                                       \-> no     -> orders-dlq (the raw order, header "error": why)
//
// An order is {"order_id":"order-123","customer_id":"cust-456","amount":99.99,"timestamp":"2024-01-15T10:30:00Z"};
// it is invalid when it is not valid JSON, lacks customer_id (or order_id, timestamp), or its amount is not a
// positive number. A shipment is {"shipment_id":"ship-order-123","order_id":"order-123","customer_id":"cust-456",
// "status":"pending","created_at":"2024-01-15T10:30:00Z"}.
//
// The per-record path allocates nothing once warm: orders are parsed into a reused CheckedOrder (strings
// assigned in place), shipments built into a reused Shipment.
#pragma once

#include <string>

#include <simdjson.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "eddy/core/json_serde.h"
#include "eddy/runtime/topology.h"

namespace order_to_shipment {

inline constexpr char kOrdersTopic[] = "orders";
inline constexpr char kShipmentsTopic[] = "shipments";
inline constexpr char kDeadLetterTopic[] = "orders-dlq";
inline constexpr char kErrorHeader[] = "error";
inline constexpr char kApplicationId[] = "order-to-shipment";

struct Order {
  std::string order_id;
  std::string customer_id;
  double amount = 0;
  std::string timestamp;
};

// An order as read: valid (error empty) or the reason it is not, with the raw bytes for the dead-letter topic.
struct CheckedOrder {
  Order order;
  std::string error;  // empty: valid
  std::string raw;    // the record's value, kept only when invalid
  bool valid() const { return error.empty(); }
};

struct Shipment {
  std::string shipment_id;
  std::string order_id;
  std::string customer_id;
  std::string status;
  std::string created_at;
};

// JSON hooks of Shipment (for eddy::JsonSerde<Shipment>).
void ToJson(eddy::json::Writer& w, const Shipment& s);
absl::Status FromJson(simdjson::ondemand::value v, Shipment* s);

// Reads an order; never fails: an invalid order becomes a CheckedOrder with its error, so the topology
// routes it instead of failing the task. The "error" texts:
//   "invalid JSON: <simdjson's message>", "invalid <field>: <simdjson's message>" (order_id, customer_id or
//   timestamp not a string), "missing customer_id", "missing order_id", "missing timestamp", "missing amount",
//   "amount is not a positive number".
// Thread-compatible (one per task, as JsonSerde).
class OrderSerde {
 public:
  using Type = CheckedOrder;
  OrderSerde() = default;
  OrderSerde(const OrderSerde&) : OrderSerde() {}
  OrderSerde& operator=(const OrderSerde&) { return *this; }

  void Serialize(const CheckedOrder& v, std::string* out) const;  // the order as JSON
  absl::Status Deserialize(absl::string_view in, CheckedOrder* out) const;

 private:
  mutable simdjson::ondemand::parser parser_;
  mutable std::string scratch_;
};

// FillShipment makes *s the shipment of `order`, reusing its strings' memory.
void FillShipment(const Order& order, Shipment* s);

// The topology: source orders-source, split "route" into route-valid (-> shipments) and route-invalid
// (-> orders-dlq with the "error" header).
eddy::Topology BuildTopology();

}  // namespace order_to_shipment
