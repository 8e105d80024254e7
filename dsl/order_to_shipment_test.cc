// The order-to-shipment topology of docs/dsl.md, built with the DSL and run through the TestDriver; its
// Mermaid drawing must be the one in the docs (regenerate: build/bin/dsl_test
// --gtest_filter=OrderToShipmentTopologyTest.* prints it when it differs).
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "eddy/core/json_serde.h"
#include "eddy/core/status.h"
#include "eddy/dsl/dsl.h"
#include "eddy/runtime/test_driver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

using ::testing::HasSubstr;

struct Order {
  std::string order_id;
  std::string customer_id;
  double amount = 0;
  std::string timestamp;
};
absl::Status FromJson(simdjson::ondemand::value v, Order* o) {
  simdjson::ondemand::object obj;
  EDDY_RETURN_IF_ERROR(json::Get(v.get_object(), &obj));
  std::string_view s;
  EDDY_RETURN_IF_ERROR(json::Get(obj["order_id"].get_string(), &s, "order_id"));
  o->order_id = std::string(s);
  EDDY_RETURN_IF_ERROR(json::Get(obj["customer_id"].get_string(), &s, "customer_id"));
  o->customer_id = std::string(s);
  EDDY_RETURN_IF_ERROR(json::Get(obj["amount"].get_double(), &o->amount, "amount"));
  EDDY_RETURN_IF_ERROR(json::Get(obj["timestamp"].get_string(), &s, "timestamp"));
  o->timestamp = std::string(s);
  if (!(o->amount > 0)) return absl::InvalidArgumentError("amount: must be a positive number");
  return absl::OkStatus();
}

struct Shipment {
  std::string shipment_id, order_id, customer_id, status, created_at;
};
void ToJson(json::Writer& w, const Shipment& s) {
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
  std::string_view f;
  EDDY_RETURN_IF_ERROR(json::Get(v["shipment_id"].get_string(), &f));
  s->shipment_id = std::string(f);
  EDDY_RETURN_IF_ERROR(json::Get(v["status"].get_string(), &f));
  s->status = std::string(f);
  return absl::OkStatus();
}

// An order as read: parsed and valid, or the reason it is not, with the raw text for the dead-letter topic.
struct Checked {
  std::optional<Order> order;
  std::string error;
  std::string raw;
};

// Writes the raw order with an "error" header.
class ToDeadLetter : public Processor<std::string, Checked, std::string, std::string> {
 public:
  absl::Status Init(ProcessorContext<std::string, std::string>& context) override {
    context_ = &context;
    return absl::OkStatus();
  }
  absl::Status Process(const Record<std::string, Checked>& r) override {
    const HeaderRef error{"error", absl::string_view(r.value().error)};
    context_->Forward(r.WithValue(r.value().raw).WithHeaders(absl::MakeConstSpan(&error, 1)));
    return absl::OkStatus();
  }

 private:
  ProcessorContext<std::string, std::string>* context_ = nullptr;
};

Topology OrderToShipment() {
  StreamsBuilder builder;
  auto branches =
      builder.Stream<std::string, std::string>("orders")
          .MapValues(
              [serde = JsonSerde<Order>()](const std::string& json) {
                Checked c;
                Order o;
                absl::Status st = serde.Deserialize(json, &o);
                if (st.ok()) c.order = std::move(o); else c.error = std::string(st.message());
                c.raw = json;
                return c;
              },
              Named::As("orders-validate"))
          .Split(Named::As("route"))
          .Branch([](const std::string&, const Checked& c) { return c.order.has_value(); }, Branched::As("valid"))
          .DefaultBranch(Branched::As("invalid"));
  branches.at("route-valid")
      .MapValues([](const Checked& c) {
        const Order& o = *c.order;
        return Shipment{"ship-" + o.order_id, o.order_id, o.customer_id, "pending", o.timestamp};
      })
      .To("shipments", Produced(StringSerde(), JsonSerde<Shipment>()));
  branches.at("route-invalid").Process([] { return std::make_unique<ToDeadLetter>(); }).To("orders-dlq");
  return *builder.Build();
}

const char kExpectedMermaid[] =
    "flowchart TD\n"
    "    t0[(\"orders\")]\n"
    "    t1[(\"shipments\")]\n"
    "    t2[(\"orders-dlq\")]\n"
    "    subgraph sub0[\"Sub-topology 0\"]\n"
    "        n0([\"orders-source\"])\n"
    "        n1[\"orders-validate\"]\n"
    "        n2[\"route\"]\n"
    "        n3[\"route-valid\"]\n"
    "        n4[\"route-invalid\"]\n"
    "        n5[\"route-valid-mapvalues\"]\n"
    "        n6[/\"route-valid-mapvalues-to-shipments\"\\]\n"
    "        n7[\"route-invalid-process\"]\n"
    "        n8[/\"route-invalid-process-to-orders-dlq\"\\]\n"
    "    end\n"
    "    t0 --> n0\n"
    "    n0 --> n1\n"
    "    n1 --> n2\n"
    "    n2 --> n3\n"
    "    n2 --> n4\n"
    "    n3 --> n5\n"
    "    n4 --> n7\n"
    "    n5 --> n6\n"
    "    n6 --> t1\n"
    "    n7 --> n8\n"
    "    n8 --> t2\n";

TEST(OrderToShipmentTopologyTest, MermaidIsTheOneInTheDocs) {
  const std::string mermaid = OrderToShipment().DescribeMermaid();
  EXPECT_EQ(mermaid, kExpectedMermaid) << "generated:\n" << mermaid;
  std::ifstream doc(EDDY_SOURCE_DIR "/docs/dsl.md");
  ASSERT_TRUE(doc.good()) << "cannot read docs/dsl.md";
  std::stringstream text;
  text << doc.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("```mermaid\n" + mermaid + "```\n")) << "docs/dsl.md is out of date";
  const std::string describe = OrderToShipment().Describe();
  EXPECT_THAT(text.str(), HasSubstr("```text\n" + describe + "```\n")) << "docs/dsl.md is out of date:\n" << describe;
}

TEST(OrderToShipmentTopologyTest, ValidOrdersShipAndInvalidOnesGoToTheDeadLetterTopic) {
  auto driver = TestDriver::Create(OrderToShipment());
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto orders = (*driver)->CreateInputTopic<std::string, std::string>("orders");
  auto shipments = (*driver)->CreateOutputTopic("shipments", StringSerde(), JsonSerde<Shipment>());
  auto dlq = (*driver)->CreateOutputTopic<std::string, std::string>("orders-dlq");
  ASSERT_TRUE(orders
                  .PipeInput("order-123",
                             R"({"order_id":"order-123","customer_id":"cust-456","amount":99.99,)"
                             R"("timestamp":"2024-01-15T10:30:00Z"})",
                             1000)
                  .ok());
  ASSERT_TRUE(orders.PipeInput("order-124", "{not json", 1001).ok());
  ASSERT_TRUE(orders.PipeInput("order-125", R"({"order_id":"order-125","amount":5,"timestamp":"t"})", 1002).ok());
  ASSERT_TRUE(orders
                  .PipeInput("order-126",
                             R"({"order_id":"order-126","customer_id":"c","amount":-1,"timestamp":"t"})", 1003)
                  .ok());
  auto shipped = shipments.ReadRecord();
  ASSERT_TRUE(shipped.ok()) << shipped.status();
  EXPECT_EQ(*shipped->key, "order-123");
  EXPECT_EQ(shipped->value->shipment_id, "ship-order-123");
  EXPECT_EQ(shipped->value->status, "pending");
  EXPECT_EQ((*driver)->TopicRecords("shipments")[0].value,
            R"({"shipment_id":"ship-order-123","order_id":"order-123","customer_id":"cust-456",)"
            R"("status":"pending","created_at":"2024-01-15T10:30:00Z"})");
  EXPECT_TRUE(shipments.IsEmpty());
  auto dead = dlq.ReadRecordsToList();
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 3u);
  EXPECT_EQ(*(*dead)[0].value, "{not json");
  ASSERT_EQ((*dead)[0].headers.size(), 1u);
  EXPECT_EQ((*dead)[0].headers[0].key, "error");
  EXPECT_THAT(*(*dead)[1].headers[0].value, HasSubstr("customer_id"));
  EXPECT_EQ(*(*dead)[2].headers[0].value, "amount: must be a positive number");
  EXPECT_EQ((*dead)[2].timestamp, 1003);
}

}  // namespace
}  // namespace eddy
