#include "examples/order_to_shipment/order_to_shipment.h"

#include <memory>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "eddy/core/status.h"
#include "eddy/dsl/dsl.h"

namespace order_to_shipment {
namespace {

void AssignView(std::string* out, std::string_view v) { out->assign(v.data(), v.size()); }

// Writes the raw order to the dead-letter topic with an "error" header.
class ToDeadLetter : public eddy::Processor<std::string, CheckedOrder, std::string, std::string> {
 public:
  absl::Status Init(eddy::ProcessorContext<std::string, std::string>& context) override {
    context_ = &context;
    return absl::OkStatus();
  }
  absl::Status Process(const eddy::Record<std::string, CheckedOrder>& r) override {
    const eddy::HeaderRef error{kErrorHeader, absl::string_view(r.value().error)};
    context_->Forward(r.WithValue(r.value().raw).WithHeaders(absl::MakeConstSpan(&error, 1)));
    return absl::OkStatus();
  }

 private:
  eddy::ProcessorContext<std::string, std::string>* context_ = nullptr;
};

}  // namespace

void ToJson(eddy::json::Writer& w, const Shipment& s) {
  w.BeginObject();
  w.Key("shipment_id");
  w.String(s.shipment_id);
  w.Key("order_id");
  w.String(s.order_id);
  w.Key("customer_id");
  w.String(s.customer_id);
  w.Key("status");
  w.String(s.status);
  w.Key("created_at");
  w.String(s.created_at);
  w.EndObject();
}

absl::Status FromJson(simdjson::ondemand::value v, Shipment* s) {
  simdjson::ondemand::object obj;
  EDDY_RETURN_IF_ERROR(eddy::json::Get(v.get_object(), &obj));
  for (auto field : obj) {
    std::string_view key;
    EDDY_RETURN_IF_ERROR(eddy::json::Get(field.unescaped_key(), &key));
    std::string* out = key == "shipment_id"   ? &s->shipment_id
                       : key == "order_id"    ? &s->order_id
                       : key == "customer_id" ? &s->customer_id
                       : key == "status"      ? &s->status
                       : key == "created_at"  ? &s->created_at
                                              : nullptr;
    if (out == nullptr) continue;
    std::string_view text;
    EDDY_RETURN_IF_ERROR(eddy::json::Get(field.value().get_string(), &text, absl::string_view(key.data(), key.size())));
    AssignView(out, text);
  }
  return absl::OkStatus();
}

void OrderSerde::Serialize(const CheckedOrder& v, std::string* out) const {
  out->clear();
  eddy::json::Writer w(out);
  w.BeginObject();
  w.Key("order_id");
  w.String(v.order.order_id);
  w.Key("customer_id");
  w.String(v.order.customer_id);
  w.Key("amount");
  w.Double(v.order.amount);
  w.Key("timestamp");
  w.String(v.order.timestamp);
  w.EndObject();
}

absl::Status OrderSerde::Deserialize(absl::string_view in, CheckedOrder* out) const {
  out->error.clear();
  // Every field is visited (not looked up), so a syntax error anywhere in the object is found.
  bool has_order_id = false, has_customer_id = false, has_amount = false, has_timestamp = false;
  bool amount_is_number = true;
  Order& o = out->order;
  absl::Status st = eddy::json::ParseValue(parser_, &scratch_, in, [&](simdjson::ondemand::value v) -> absl::Status {
    simdjson::ondemand::object obj;
    EDDY_RETURN_IF_ERROR(eddy::json::Get(v.get_object(), &obj));
    for (auto field : obj) {
      std::string_view key;
      EDDY_RETURN_IF_ERROR(eddy::json::Get(field.unescaped_key(), &key));
      simdjson::ondemand::value value;
      EDDY_RETURN_IF_ERROR(eddy::json::Get(field.value(), &value));
      std::string* text = nullptr;
      if (key == "order_id") {
        text = &o.order_id;
        has_order_id = true;
      } else if (key == "customer_id") {
        text = &o.customer_id;
        has_customer_id = true;
      } else if (key == "timestamp") {
        text = &o.timestamp;
        has_timestamp = true;
      } else if (key == "amount") {
        has_amount = true;
        simdjson::ondemand::json_type type = simdjson::ondemand::json_type::null;
        EDDY_RETURN_IF_ERROR(eddy::json::Get(value.type(), &type));
        if (type == simdjson::ondemand::json_type::number) {
          EDDY_RETURN_IF_ERROR(eddy::json::Get(value.get_double(), &o.amount));
        } else {
          amount_is_number = false;  // the iteration skips the value
        }
        continue;
      } else {
        continue;  // other fields are skipped
      }
      std::string_view s;
      EDDY_RETURN_IF_ERROR(eddy::json::Get(value.get_string(), &s, absl::string_view(key.data(), key.size())));
      AssignView(text, s);
    }
    return absl::OkStatus();
  });
  if (!st.ok()) {
    // eddy::json errors read "JSON: <why>" (syntax) or "JSON <field>: <why>" (a field of the wrong type).
    absl::string_view why = st.message();
    if (absl::ConsumePrefix(&why, "JSON: ")) {
      out->error = absl::StrCat("invalid JSON: ", why);
    } else if (absl::ConsumePrefix(&why, "JSON ")) {
      out->error = absl::StrCat("invalid ", why);
    } else {
      out->error = absl::StrCat("invalid JSON: ", why);
    }
  } else if (!has_customer_id) {
    out->error = "missing customer_id";
  } else if (!has_order_id) {
    out->error = "missing order_id";
  } else if (!has_timestamp) {
    out->error = "missing timestamp";
  } else if (!has_amount) {
    out->error = "missing amount";
  } else if (!amount_is_number || !(o.amount > 0)) {
    out->error = "amount is not a positive number";
  }
  if (!out->error.empty()) out->raw.assign(in.data(), in.size());
  return absl::OkStatus();
}

void FillShipment(const Order& order, Shipment* s) {
  s->shipment_id.assign("ship-");
  s->shipment_id.append(order.order_id);
  s->order_id.assign(order.order_id);
  s->customer_id.assign(order.customer_id);
  s->status.assign("pending");
  s->created_at.assign(order.timestamp);
}

eddy::Topology BuildTopology() {
  eddy::StreamsBuilder builder;
  auto branches = builder.Stream<std::string, CheckedOrder>(kOrdersTopic, eddy::Consumed(eddy::StringSerde(), OrderSerde()))
                      .Split(eddy::Named::As("route"))
                      .Branch([](const std::string&, const CheckedOrder& c) { return c.valid(); },
                              eddy::Branched::As("valid"))
                      .DefaultBranch(eddy::Branched::As("invalid"));
  branches.at("route-valid")
      .MapValues([shipment = Shipment()](const CheckedOrder& c) mutable -> const Shipment& {
        FillShipment(c.order, &shipment);
        return shipment;
      })
      .To(kShipmentsTopic, eddy::Produced(eddy::StringSerde(), eddy::JsonSerde<Shipment>()));
  branches.at("route-invalid").Process([] { return std::make_unique<ToDeadLetter>(); }).To(kDeadLetterTopic);
  return *builder.Build();
}

}  // namespace order_to_shipment
