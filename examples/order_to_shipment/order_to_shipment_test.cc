// The order-to-shipment topology through the TestDriver: shipments for valid orders, the dead-letter topic
// with the exact "error" header for each kind of invalid order; and docs/dsl.md shows its real drawing.
#include "examples/order_to_shipment/order_to_shipment.h"

#include <fstream>
#include <sstream>
#include <string>

#include "eddy/runtime/test_driver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace order_to_shipment {
namespace {

using ::testing::HasSubstr;

// docs/dsl.md shows this topology's Describe() and DescribeMermaid() output; on a mismatch the test prints
// what the code generates now, to paste into the page.
TEST(OrderToShipmentTest, DocsShowTheTopologysGeneratedDescription) {
  const eddy::Topology topology = BuildTopology();
  std::ifstream doc(EDDY_SOURCE_DIR "/docs/dsl.md");
  ASSERT_TRUE(doc.good()) << "cannot read docs/dsl.md";
  std::stringstream text;
  text << doc.rdbuf();
  const std::string mermaid = topology.DescribeMermaid();
  EXPECT_THAT(text.str(), HasSubstr("```mermaid\n" + mermaid + "```\n")) << "docs/dsl.md is out of date:\n" << mermaid;
  const std::string describe = topology.Describe();
  EXPECT_THAT(text.str(), HasSubstr("```text\n" + describe + "```\n")) << "docs/dsl.md is out of date:\n" << describe;
}

TEST(OrderToShipmentTest, ValidOrdersShipAndInvalidOnesAreDeadLetteredWithTheReason) {
  auto driver = eddy::TestDriver::Create(BuildTopology());
  ASSERT_TRUE(driver.ok()) << driver.status();
  auto orders = (*driver)->CreateInputTopic<std::string, std::string>(kOrdersTopic);
  const std::string order =
      R"({"order_id":"order-123","customer_id":"cust-456","amount":99.99,"timestamp":"2024-01-15T10:30:00Z"})";
  ASSERT_TRUE(orders.PipeInput("order-123", order, 1000).ok());
  ASSERT_TRUE(orders.PipeInput("order-124", "{not json", 1001).ok());
  ASSERT_TRUE(orders.PipeInput("order-125", R"({"order_id":"order-125","amount":5,"timestamp":"t"})", 1002).ok());
  ASSERT_TRUE(
      orders.PipeInput("order-126", R"({"order_id":"order-126","customer_id":"c","amount":-1,"timestamp":"t"})", 1003)
          .ok());
  ASSERT_TRUE(
      orders.PipeInput("order-127", R"({"order_id":"order-127","customer_id":"c","amount":"7","timestamp":"t"})", 1004)
          .ok());
  ASSERT_TRUE(orders.PipeInput("order-128", R"({"order_id":"order-128","customer_id":"c","amount":1)", 1005).ok());

  const auto shipments = (*driver)->TopicRecords(kShipmentsTopic);
  ASSERT_EQ(shipments.size(), 1u);
  EXPECT_EQ(shipments[0].key, "order-123");
  EXPECT_EQ(shipments[0].value,
            R"({"shipment_id":"ship-order-123","order_id":"order-123","customer_id":"cust-456",)"
            R"("status":"pending","created_at":"2024-01-15T10:30:00Z"})");
  EXPECT_EQ(shipments[0].timestamp, 1000);

  const auto dead = (*driver)->TopicRecords(kDeadLetterTopic);
  ASSERT_EQ(dead.size(), 5u);
  const char* const want_errors[] = {
      "invalid JSON: ", "missing customer_id", "amount is not a positive number",
      "amount is not a positive number", "invalid JSON: "};
  for (size_t i = 0; i < dead.size(); ++i) {
    ASSERT_EQ(dead[i].headers.size(), 1u) << i;
    EXPECT_EQ(dead[i].headers[0].key, kErrorHeader);
    const std::string error = dead[i].headers[0].value.value_or("");
    if (std::string(want_errors[i]) == "invalid JSON: ") {
      EXPECT_EQ(error.rfind("invalid JSON: ", 0), 0u) << error;
    } else {
      EXPECT_EQ(error, want_errors[i]);
    }
  }
  EXPECT_EQ(dead[0].value, "{not json");
  EXPECT_EQ(dead[0].headers[0].value,
            "invalid JSON: The JSON document has an improper structure: missing or superfluous commas, braces, "
            "missing keys, etc.");
  EXPECT_EQ(dead[0].key, "order-124");
  EXPECT_EQ(dead[2].timestamp, 1003);
}

TEST(OrderToShipmentTest, OrderSerdeReusesItsValueAndClearsTheError) {
  OrderSerde serde;
  CheckedOrder c;
  ASSERT_TRUE(serde.Deserialize("[]", &c).ok());
  EXPECT_FALSE(c.valid());
  ASSERT_TRUE(serde.Deserialize(R"({"order_id":"o","customer_id":"c","amount":1.5,"timestamp":"t","x":[1]})", &c).ok());
  EXPECT_TRUE(c.valid()) << c.error;
  EXPECT_EQ(c.order.customer_id, "c");
  EXPECT_EQ(c.order.amount, 1.5);
  ASSERT_TRUE(serde.Deserialize(R"({"order_id":7,"customer_id":"c","amount":1,"timestamp":"t"})", &c).ok());
  EXPECT_EQ(c.error, "invalid order_id: The JSON element does not have the requested type.");
}

}  // namespace
}  // namespace order_to_shipment
