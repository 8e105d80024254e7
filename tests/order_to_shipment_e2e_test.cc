// build/bin/order-to-shipment end to end on the embedded broker: valid, malformed and invalid orders; a
// second run over the same data produces nothing new; --threads 2 over 4 partitions processes every order
// exactly once, with both threads holding tasks.
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "tests/example_e2e.h"

namespace eddy {
namespace {

using ::testing::HasSubstr;

std::string OrderJson(int i) {
  return absl::StrCat(R"({"order_id":"order-)", i, R"(","customer_id":"cust-)", i % 7, R"(","amount":)", i + 0.5,
                      R"(,"timestamp":"2024-01-15T10:30:00Z"})");
}

class OrderToShipmentE2eTest : public e2e::ExampleE2eTest {
 protected:
  std::string RunApp(const std::string& flags) {
    return RunBinary("order-to-shipment", absl::StrCat(flags, " --exit-after-idle-ms 500"));
  }
  void Produce(const std::vector<std::pair<std::string, std::string>>& orders) {
    std::unique_ptr<Producer> producer = NewProducer();
    for (const auto& [key, value] : orders) E2E_ASSERT_OK(producer->Send({.topic = "orders", .key = key, .value = value}));
    E2E_ASSERT_OK(producer->Flush());
  }
};

TEST_F(OrderToShipmentE2eTest, ShipsValidOrdersDeadLettersTheRestAndResumesAfterItsCommit) {
  CreateTopic("orders", 4);
  std::vector<std::pair<std::string, std::string>> orders;
  for (int i = 0; i < 100; ++i) orders.push_back({absl::StrCat("order-", i), OrderJson(i)});
  orders.push_back({"bad-1", "{not json"});
  orders.push_back({"bad-2", R"({"order_id":"bad-2","amount":5,"timestamp":"t"})"});
  orders.push_back({"bad-3", R"({"order_id":"bad-3","customer_id":"c","amount":0,"timestamp":"t"})"});
  orders.push_back({"bad-4", R"({"order_id":"bad-4","customer_id":"c","amount":"12","timestamp":"t"})"});
  Produce(orders);

  const std::string output = RunApp("");
  EXPECT_THAT(output, HasSubstr("order-to-shipment-StreamThread-1: processed 104 orders"));
  std::vector<e2e::OwnedRecord> shipments = ReadAll("shipments");
  ASSERT_EQ(shipments.size(), 100u);
  std::map<std::string, std::string> by_key;
  for (const auto& r : shipments) by_key[*r.key] = *r.value;
  EXPECT_EQ(by_key["order-7"],
            R"({"shipment_id":"ship-order-7","order_id":"order-7","customer_id":"cust-0","status":"pending",)"
            R"("created_at":"2024-01-15T10:30:00Z"})");
  std::vector<e2e::OwnedRecord> dead = ReadAll("orders-dlq");
  ASSERT_EQ(dead.size(), 4u);
  std::map<std::string, std::pair<std::string, std::string>> errors;  // key -> (value, error header)
  for (const auto& r : dead) {
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.headers[0].first, "error");
    errors[*r.key] = {*r.value, r.headers[0].second.value_or("")};
  }
  EXPECT_EQ(errors["bad-1"].first, "{not json");
  EXPECT_EQ(errors["bad-1"].second,
            "invalid JSON: The JSON document has an improper structure: missing or superfluous commas, braces, "
            "missing keys, etc.");
  EXPECT_EQ(errors["bad-2"].second, "missing customer_id");
  EXPECT_EQ(errors["bad-3"].second, "amount is not a positive number");
  EXPECT_EQ(errors["bad-4"].second, "amount is not a positive number");

  // Offsets were committed: a second run processes nothing.
  EXPECT_THAT(RunApp(""), HasSubstr("processed 0 orders"));
  EXPECT_EQ(ReadAll("shipments").size(), 100u);
  EXPECT_EQ(ReadAll("orders-dlq").size(), 4u);
}

TEST_F(OrderToShipmentE2eTest, TwoThreadsShareFourPartitionsAndProcessEveryOrderOnce) {
  CreateTopic("orders", 4);
  std::vector<std::pair<std::string, std::string>> orders;
  for (int i = 0; i < 4000; ++i) orders.push_back({absl::StrCat("order-", i), OrderJson(i)});
  Produce(orders);
  const std::string output = RunApp("--threads 2");
  // Both threads held tasks (each owned two partitions once both had joined).
  EXPECT_THAT(output, HasSubstr("order-to-shipment-StreamThread-1: "));
  EXPECT_THAT(output, HasSubstr("order-to-shipment-StreamThread-2: "));
  for (absl::string_view line : absl::StrSplit(output, '\n', absl::SkipEmpty())) {
    EXPECT_THAT(std::string(line), ::testing::Not(HasSubstr("tasks 0"))) << output;
  }
  std::vector<e2e::OwnedRecord> shipments = ReadAll("shipments");
  std::set<std::string> keys;
  for (const auto& r : shipments) keys.insert(*r.key);
  EXPECT_EQ(shipments.size(), 4000u);  // none twice
  EXPECT_EQ(keys.size(), 4000u);       // none missing
  EXPECT_TRUE(ReadAll("orders-dlq").empty());
}

// SIGTERM while running: the application commits and exits 0; a second run processes the rest, and no
// order is shipped twice.
TEST_F(OrderToShipmentE2eTest, SigtermClosesCleanlyAndTheNextRunContinuesWithoutDuplicates) {
  CreateTopic("orders", 4);
  std::vector<std::pair<std::string, std::string>> orders;
  for (int i = 0; i < 20000; ++i) orders.push_back({absl::StrCat("order-", i), OrderJson(i)});
  Produce(orders);
  CloseDataBroker();

  const pid_t pid = StartBinary("order-to-shipment", {});
  ASSERT_GE(pid, 0);
  // Wait until it runs, then stop it.
  ASSERT_TRUE(WaitForStderr("running with")) << e2e::ReadFileText(err_file());
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  OpenDataBroker();
  RunApp("");  // the rest
  std::vector<e2e::OwnedRecord> shipments = ReadAll("shipments");
  std::set<std::string> keys;
  for (const auto& r : shipments) keys.insert(*r.key);
  EXPECT_EQ(keys.size(), 20000u);
  EXPECT_EQ(shipments.size(), 20000u);  // the SIGTERM run committed what it had shipped
}

}  // namespace
}  // namespace eddy
